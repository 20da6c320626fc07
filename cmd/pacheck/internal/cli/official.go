package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/profiles/attest"
	"github.com/pacheck/pacheck/profiles/requirements/official"
)

// officialDefinition says what the columns of `list --requirements --official` count.
const officialDefinition = `Official server requirements (the IGs' numbered ids, as in Inferno's lists) by pacheck coverage:
  tested       mapped to a pacheck requirement that at least one selected spec tests
  attested     mapped to a pacheck attestation the payer's attestations file holds
  explained    not tested, with a specific reason (MAY, documentation only, not observable
               on the wire, not yet tested: what spec would)
  unmapped     no decision yet
  unselected   mapped to pacheck requirements, none tested by a spec of that IG version in this selection
               (or an attestation the attestations file lacks)
`

// officialSet is one row of the coverage table (and, with -v, its ids).
type officialSet struct {
	Set           string         `json:"set"`
	Title         string         `json:"title"`
	Total         int            `json:"serverRows"`
	Tested        int            `json:"tested"`
	Attested      int            `json:"attested"`
	Explained     int            `json:"explained"`
	Unmapped      int            `json:"unmapped"`
	Unselected    int            `json:"unselected"`
	InfernoLinked int            `json:"infernoLinked"`
	Rows          []officialItem `json:"rows,omitempty"`
}

type officialItem struct {
	ID           string   `json:"id"`
	Level        string   `json:"level"`
	Status       string   `json:"status"`
	Requirements []string `json:"requirements,omitempty"`
	Reason       string   `json:"reason,omitempty"`
}

// printOfficial prints coverage of the official requirement ids per IG version, judged against
// the specs of this selection (rep) and the payer's attestations.
func printOfficial(stdout, stderr io.Writer, rep types.Report, format string, atts []attest.Entry, verbose bool) int {
	m, err := official.Load()
	if err != nil {
		errorf(stderr, "list", "%v", err)
		return ExitEnvError
	}
	// selected: requirement id -> the IG versions of the selected specs testing it ("" for a
	// spec of no IG version, such as a capability check, which counts for every version).
	selected := map[string]map[string]bool{}
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped {
			continue
		}
		ig := ""
		for _, l := range s.Labels() {
			if v, ok := strings.CutPrefix(l, "ig:"); ok {
				ig = v
			}
		}
		for _, l := range s.Labels() {
			if id, ok := strings.CutPrefix(l, "req:"); ok {
				if selected[id] == nil {
					selected[id] = map[string]bool{}
				}
				selected[id][ig] = true
			}
		}
	}
	attested := map[string]bool{}
	for _, a := range atts {
		attested[a.ID] = true
	}
	var out []officialSet
	for _, s := range m.Sets {
		cs := officialSet{Set: s.Set, Title: s.Title, Total: len(s.Rows), InfernoLinked: s.InfernoLinked}
		for _, r := range s.Rows {
			it := officialItem{ID: official.FullID(s.Set, r.ID), Level: r.Level, Requirements: r.Requirements}
			switch r.Status() {
			case official.StatusTested:
				if slices.ContainsFunc(r.Requirements, func(q string) bool { return testsSet(selected[q], s.Set) }) {
					it.Status = "tested"
					cs.Tested++
				} else {
					it.Status, it.Reason = "unselected", "no selected spec of this IG version tests "+strings.Join(r.Requirements, ", ")
					cs.Unselected++
				}
			case official.StatusAttested:
				it.Requirements = []string{r.Attestation}
				if attested[r.Attestation] {
					it.Status = "attested"
					cs.Attested++
				} else {
					it.Status, it.Reason = "unselected", "attestation "+r.Attestation+" missing"
					cs.Unselected++
				}
			case official.StatusExplained:
				it.Status, it.Reason = "explained", r.Explained
				cs.Explained++
			default:
				it.Status = "unmapped"
				cs.Unmapped++
			}
			if verbose {
				cs.Rows = append(cs.Rows, it)
			}
		}
		out = append(out, cs)
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return ExitOK
	}
	fmt.Fprint(stdout, officialDefinition)
	fmt.Fprintf(stdout, "%-44s %6s %7s %9s %10s %9s %11s %15s\n", "IG version", "server", "tested", "attested", "explained", "unmapped", "unselected", "Inferno linked")
	for _, s := range out {
		fmt.Fprintf(stdout, "%-44s %6d %7d %9d %10d %9d %11d %15s\n", s.Title, s.Total, s.Tested, s.Attested, s.Explained, s.Unmapped, s.Unselected, infernoCell(s))
	}
	for _, s := range out {
		for _, r := range s.Rows {
			detail := strings.Join(r.Requirements, ",")
			if r.Reason != "" {
				detail = r.Reason
			}
			fmt.Fprintf(stdout, "%-44s %-10s %-10s %s\n", r.ID, r.Level, strings.ToUpper(r.Status), detail)
		}
	}
	return ExitOK
}

// officialArea names the pacheck area (the ig:<area>-<version> labels) of an official
// requirement set's IG ("hl7.fhir.us.core_7.0.0" -> uscore, 7.0.0).
var officialArea = map[string]string{
	"hl7.fhir.us.core":             "uscore",
	"hl7.fhir.uv.smart-app-launch": "smart",
	"hl7.fhir.us.carin-bb":         "carinbb",
	"hl7.fhir.us.davinci-pdex":     "pdex",
}

// testsSet reports whether specs of these IG versions (see selected) test a row of the official
// set: a spec of the same IG counts only in that version (a US Core 6.1.0 spec does not test a
// US Core 7.0.0 row); a spec of another IG, or of none, counts for every version.
func testsSet(igs map[string]bool, set string) bool {
	ig, version, _ := strings.Cut(set, "_")
	area := officialArea[ig]
	for l := range igs {
		a, v, _ := strings.Cut(l, "-")
		if area == "" || l == "" || a != area || v == version {
			return true
		}
	}
	return false
}

func infernoCell(s officialSet) string {
	if s.InfernoLinked == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d/%d", s.InfernoLinked, s.Total)
}
