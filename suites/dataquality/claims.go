package dataquality

import (
	"fmt"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
)

// LineMismatch is a claim line that disagrees with the Encounter it references.
type LineMismatch struct {
	Line      string // ExplanationOfBenefit/id item n
	Encounter string // Encounter/id
	Reason    string
}

// ClaimComparison is what CompareClaimEncounters found.
type ClaimComparison struct {
	Compared   int // claim lines compared with the Encounter they reference
	Unresolved int // lines whose Encounter is not among the resources (not reached, or absolute)
	Mismatches []LineMismatch
}

// CompareClaimEncounters compares each line of a claim (ExplanationOfBenefit with use claim) that
// names its clinical counterpart, item.encounter ("Encounters related to this billed item"), with
// that Encounter when rs hold it: the Encounter's subject is the claim's patient, and the line's
// date of service (item.servicedDate or servicedPeriod, else the claim's billablePeriod) lies
// within the Encounter's period, by calendar day (an open end does not limit). A line without a
// date, or an Encounter without a period, is compared on the patient only.
func CompareClaimEncounters(rs []Resource) ClaimComparison {
	enc := map[string]Resource{}
	for _, r := range rs {
		if r["resourceType"] == "Encounter" && igdata.ID(r) != "" {
			enc["Encounter/"+igdata.ID(r)] = r
		}
	}
	var out ClaimComparison
	for _, r := range rs {
		if r["resourceType"] != "ExplanationOfBenefit" || r["use"] != "claim" {
			continue
		}
		eob := "ExplanationOfBenefit/" + igdata.ID(r)
		patient := refOf(r["patient"])
		for i, it := range asList(r["item"]) {
			im, _ := it.(map[string]any)
			line := fmt.Sprintf("%s item %v", eob, cmpOr(im["sequence"], i+1))
			from, to, dated := serviceDays(im, r)
			for _, e := range asList(im["encounter"]) {
				ref := refOf(e)
				t, id := igdata.SplitRef(ref)
				er, ok := enc[t+"/"+id]
				if t != "Encounter" || !ok || strings.Contains(ref, "://") {
					out.Unresolved++
					continue
				}
				out.Compared++
				key := "Encounter/" + id
				if subj := refOf(er["subject"]); patient != "" && subj != "" && subj != patient {
					out.Mismatches = append(out.Mismatches, LineMismatch{line, key, fmt.Sprintf("the claim's patient is %s, the Encounter's subject %s", patient, subj)})
					continue
				}
				if !dated {
					continue
				}
				pm, _ := er["period"].(map[string]any)
				start, okS := parseDate(pm["start"])
				end, okE := parseDate(pm["end"])
				switch {
				case okS && from.Before(day(start)), okE && to.After(day(end)):
					out.Mismatches = append(out.Mismatches, LineMismatch{line, key, fmt.Sprintf("the line's date of service %s is outside the Encounter's period %s",
						span(from, to), span2(pm["start"], pm["end"]))})
				}
			}
		}
	}
	return out
}

// serviceDays is the line's date of service as calendar days: servicedDate, servicedPeriod, else
// the claim's billablePeriod.
func serviceDays(item, eob map[string]any) (from, to time.Time, ok bool) {
	if d, ok := parseDate(item["servicedDate"]); ok {
		return day(d), day(d), true
	}
	for _, p := range []any{item["servicedPeriod"], eob["billablePeriod"]} {
		pm, _ := p.(map[string]any)
		s, okS := parseDate(pm["start"])
		e, okE := parseDate(pm["end"])
		switch {
		case okS && okE:
			return day(s), day(e), true
		case okS:
			return day(s), day(s), true
		case okE:
			return day(e), day(e), true
		}
	}
	return time.Time{}, time.Time{}, false
}

func span(a, b time.Time) string {
	if a.Equal(b) {
		return a.Format("2006-01-02")
	}
	return a.Format("2006-01-02") + " to " + b.Format("2006-01-02")
}

func span2(a, b any) string {
	s, _ := a.(string)
	e, _ := b.(string)
	return fmt.Sprintf("%s to %s", cmpOr(s, "(open)"), cmpOr(e, "(open)"))
}

func refOf(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["reference"].(string)
	return s
}

func cmpOr(v any, d any) any {
	if v == nil || v == "" {
		return d
	}
	return v
}

// specClaimsClinical compares the claims' lines with the clinical Encounters they name.
func specClaimsClinical() {
	c := data()
	c.note()
	cc := CompareClaimEncounters(c.All)
	figures("claims vs clinical records", &evidence.DataQuality{Counts: map[string]int{
		"claim lines linked to an Encounter": cc.Compared, "disagreeing with it": len(cc.Mismatches), "linked Encounter not reached": cc.Unresolved}})
	framework.Note("claims vs clinical records", "%d claim line(s) compared with the Encounter they reference (ExplanationOfBenefit.item.encounter): patient and date of service; %d disagree; %d reference an Encounter the member's Encounter search did not return (not compared)",
		cc.Compared, len(cc.Mismatches), cc.Unresolved)
	if cc.Compared == 0 {
		framework.SkipBecause(fmt.Sprintf("no claim line of %s references an Encounter the member's token reached (ExplanationOfBenefit.item.encounter)", c.Who),
			"claims whose lines name their Encounter (item.encounter), and the member's US Core Encounters")
	}
	var l issue.List
	for _, m := range cc.Mismatches {
		l = append(l, issue.Issue{Severity: issue.Error, Rule: ReqClaimsClinical, Requirement: ReqClaimsClinical, Path: m.Line,
			Message: fmt.Sprintf("%s references %s, but %s", m.Line, m.Encounter, m.Reason)})
	}
	framework.ExpectConformant("claims vs clinical records", l)
}
