// Package dataquality judges the member's data as a member sees it, beyond profile conformance:
// duplicates, references that do not resolve, stale claims, completeness of the must-support
// elements per profile, how far back the data goes, codes outside extensible or preferred
// bindings (with the validator's value-set membership), and claim lines against the clinical
// Encounter they name. It runs on what the member's token
// reaches: the data the US Core and payer suites fetched (shared stores), else its own bounded
// fetch of the same patient searches. Findings with a measurable rule fail a SHOULD requirement
// (figures attached; a SHOULD never changes the verdict); figures a person must weigh are
// recorded, and what needs a person's judgement is the outcome review.
// Spec ids: dataquality-1/duplicates.
package dataquality

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Area is the suite area name.
const Area = "dataquality"

// Version of the suite's rules (not an IG version): spec ids start dataquality-1/.
const Version = "1"

// Requirement ids.
const (
	ReqDuplicates     = "dataquality.duplicates"
	ReqReferences     = "dataquality.references-resolve"
	ReqTimeliness     = "dataquality.timeliness"
	ReqCompleteness   = "dataquality.completeness"
	ReqHistory        = "dataquality.history-since-2016"
	ReqCodes          = "dataquality.codes-in-value-set"
	ReqClaimsClinical = "dataquality.claims-match-clinical"
)

// maxPerType bounds the resources of one type the suite keeps (the first ones fetched).
const maxPerType = 2000

// since is the date from which the rule asks for the member's data (CMS FAQ: data with dates of
// service from 2016-01-01).
var since = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)

var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: []string{Version}, Default: Version, Listed: true, Build: build})

func build(string) {
	framework.Spec("duplicates", []string{ReqDuplicates}, specDuplicates)
	framework.Spec("dangling-references", []string{ReqReferences}, specReferences)
	framework.Spec("stale-data", []string{ReqTimeliness}, specStale)
	framework.Spec("completeness", []string{ReqCompleteness}, specCompleteness)
	framework.Spec("oldest-data", []string{ReqHistory}, specOldest)
	framework.Spec("code-quality", []string{ReqCodes}, specCodes)
	framework.Spec("claims-vs-clinical", []string{ReqClaimsClinical}, specClaimsClinical)
	// Only when the payer names reference claims: without them general.one-business-day takes an
	// attestation, and a skipped SHALL spec would make every such run incomplete.
	if run := framework.Current(); run != nil && len(run.ReferenceClaims) > 0 {
		framework.Spec("reference-claims", []string{ReqOneBusinessDay}, specReferenceClaims)
	}
}

// collected is the member's data the suite examines.
type collected struct {
	All    []Resource
	ByType map[string][]Resource
	// PatientOf is the patient whose search or reference found each Type/id: references are read
	// with that patient's client (a member's token opens only that member's data).
	PatientOf map[string]string
	Reused    []string // types taken from another suite's fetch
	Fetched   []string // types this suite searched itself
	Capped    []string // types cut at maxPerType
	Who       string
	USCore    *ig.Server
	Err       error
	Failures  issue.List // server misbehaviour while fetching (judged by the IG suites; noted here)
}

// sharedStores are the stores of the suites whose fetched data is reused (suites/uscore,
// suites/internal/igspec): keys of framework.Run values.
var sharedStores = []string{"uscore.store", "igspec.store"}

func data() *collected {
	run := framework.Current()
	s := igdata.StoreOf(run, "dataquality.store")
	c := igdata.Memo(s, "collected", func() *collected { return collect(run) })
	if c.Err != nil {
		framework.Infra(c.Err)
	}
	if len(c.All) == 0 {
		framework.SkipBecause("the member's token reached no resource of "+c.Who, "test members with data (claims, clinical records)")
	}
	return c
}

func collect(run *framework.Run) *collected {
	c := &collected{ByType: map[string][]Resource{}, PatientOf: map[string]string{}, Who: igdata.DescribePatients(run)}
	set, err := igdata.PackageSet(run)
	if err != nil {
		c.Err = err
		return c
	}
	v := run.Versions("uscore", "6.1.0")[0]
	if c.USCore, err = ig.Load(set, v); err != nil {
		c.Err = err
		return c
	}
	// the patient-searched types: US Core's, and the claims and coverage of CARIN BB
	params := map[string]string{"ExplanationOfBenefit": "patient", "Coverage": "patient"}
	for _, r := range c.USCore.Resources {
		if pp := c.USCore.PatientParam(r); pp != "" {
			params[r.Type] = pp
		}
	}
	types := map[string]bool{}
	for t := range params {
		types[t] = true
	}
	var stores []*igdata.Store
	for _, k := range sharedStores {
		if st := igdata.ExistingStore(run, k); st != nil {
			stores = append(stores, st)
			for _, t := range st.Types() {
				types[t] = true // referenced types the IG suites read (Organization, Practitioner...)
			}
		}
	}
	names := make([]string, 0, len(types))
	for t := range types {
		names = append(names, t)
	}
	sort.Strings(names)
	ctx, cancel := context.WithTimeout(run.Context(), igdata.Budget(run))
	defer cancel()
	for _, t := range names {
		seen := map[string]bool{}
		var rs []Resource
		reused := false
		for _, st := range stores {
			if td, ok := st.Fetched(t); ok && td.Err == nil {
				reused = true
				for _, r := range td.Resources {
					if id := igdata.ID(r); !seen[id] {
						seen[id] = true
						rs = append(rs, r)
						c.PatientOf[t+"/"+id] = td.PatientOf[id]
					}
				}
			}
		}
		if !reused {
			pp := params[t]
			if pp == "" {
				continue // a referenced type no suite read: its references are checked by the dangling-references spec
			}
			td := igdata.NewTypeData(t)
			for _, pid := range igdata.Patients(run) {
				cl := run.PatientClient(pid)
				if cl == nil {
					c.Err = run.NoAccess(pid)
					return c
				}
				if td.SearchPatient(ctx, cl, pid, pp, false); td.Err != nil {
					c.Err = fmt.Errorf("dataquality: %s: %w", t, td.Err)
					return c
				}
			}
			c.Failures = append(c.Failures, td.Fail...)
			rs = td.Resources
			for id, pid := range td.PatientOf {
				c.PatientOf[t+"/"+id] = pid
			}
			c.Fetched = append(c.Fetched, t)
		} else {
			c.Reused = append(c.Reused, t)
		}
		if len(rs) > maxPerType {
			rs = rs[:maxPerType]
			c.Capped = append(c.Capped, t)
		}
		if len(rs) > 0 {
			c.ByType[t] = rs
			c.All = append(c.All, rs...)
		}
	}
	return c
}

// note states what the spec looked at.
func (c *collected) note() {
	s := fmt.Sprintf("%d resource(s) of %d type(s) of %s; %d type(s) reused from the IG suites' fetch, %d searched by this suite",
		len(c.All), len(c.ByType), c.Who, len(c.Reused), len(c.Fetched))
	if len(c.Fetched) > 0 {
		s += " (" + strings.Join(c.Fetched, ", ") + ")"
	}
	if len(c.Capped) > 0 {
		s += fmt.Sprintf("; cut at the first %d of type %s", maxPerType, strings.Join(c.Capped, ", "))
	}
	if len(c.Failures) > 0 {
		s += fmt.Sprintf("; %d search failure(s) while fetching, judged by the IG suites' search specs (first: %s)", len(c.Failures), c.Failures[0].Message)
	}
	framework.Note("data examined", "%s", s)
}

func figures(title string, dq *evidence.DataQuality) {
	framework.Evidence(&evidence.Entry{Kind: evidence.KindDataQuality, Title: title, DataQuality: dq})
}

func specDuplicates() {
	c := data()
	c.note()
	groups := Duplicates(c.All)
	var l issue.List
	var content []string
	nIdent, nContent := 0, 0
	for _, g := range groups {
		switch g.Kind {
		case "identifier":
			nIdent++
			l = append(l, issue.Issue{Severity: issue.Error, Rule: ReqDuplicates, Requirement: ReqDuplicates, Path: g.Type + ".identifier",
				Message:     fmt.Sprintf("%d %s resources share the business identifier %s: one record served under %d ids", len(g.IDs), g.Type, g.Key, len(g.IDs)),
				Diagnostics: strings.Join(g.IDs, ", ")})
		case "content":
			nContent++
			content = append(content, strings.Join(g.IDs, " = "))
		}
	}
	figures("duplicates", &evidence.DataQuality{Counts: map[string]int{"resources": len(c.All), "same identifier": nIdent, "same content": nContent}})
	if len(content) > 0 {
		framework.Note("same content under different ids", "%s", strings.Join(content, "\n"))
	}
	framework.ExpectConformant("duplicates", l)
	if nContent > 0 {
		framework.Review("%d group(s) of %s resources hold the same content under different ids and different (or no) identifiers: confirm whether they are one record served twice (listed in the evidence)", nContent, strings.Join(contentTypes(groups), ", "))
	}
}

func contentTypes(gs []DupGroup) []string {
	var out []string
	for _, g := range gs {
		if g.Kind == "content" && !slices.Contains(out, g.Type) {
			out = append(out, g.Type)
		}
	}
	return out
}

func specReferences() {
	c := data()
	run := framework.Current()
	c.note()
	targets, absolute := LiteralTargets(c.All)
	n := run.Limits.MaxReferenceReads
	if n <= 0 {
		n = framework.DefaultMaxReferenceReads
	}
	sample := Sample(targets, n)
	framework.Note("references", "%d distinct literal reference(s) point outside the fetched data; %d read (limits.max_reference_reads: %d, spread over the sorted list); %d absolute reference(s) not read (another server may hold them)",
		len(targets), len(sample), n, absolute)
	if len(targets) == 0 {
		figures("references", &evidence.DataQuality{Counts: map[string]int{"references read": 0, "dangling references": 0}})
		return
	}
	var l issue.List
	refused := 0
	for _, t := range sample {
		typ, id, _ := strings.Cut(t.Ref, "/")
		pid := c.PatientOf[t.From]
		cl := run.PatientClient(pid)
		if cl == nil {
			framework.Infra(run.NoAccess(pid))
		}
		ctx, cancel := run.Ctx()
		resp, err := cl.Read(ctx, typ, id)
		cancel()
		if err != nil {
			framework.Infra(fmt.Errorf("read %s (referenced by %s): %w", t.Ref, t.From, err))
		}
		switch {
		case resp.Status == http.StatusOK:
		case resp.Status == http.StatusNotFound || resp.Status == http.StatusGone:
			l = append(l, issue.Issue{Severity: issue.Error, Rule: ReqReferences, Requirement: ReqReferences, Path: t.From,
				Message: fmt.Sprintf("%s references %s, which the server answers %d", t.From, t.Ref, resp.Status)})
		case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
			refused++ // access control is allowed to keep it: not a dangling reference
		default:
			framework.Infra(fmt.Errorf("read %s (referenced by %s): HTTP %d%s", t.Ref, t.From, resp.Status, igdata.OutcomeText(resp)))
		}
	}
	if refused > 0 {
		framework.Note("references refused", "%d referenced resource(s) answered 401/403 to the member's token: not counted as dangling (access control may keep them)", refused)
	}
	figures("references", &evidence.DataQuality{Counts: map[string]int{"references read": len(sample), "dangling references": len(l), "refused": refused}})
	framework.ExpectConformant("dangling references", l)
}

func specStale() {
	c := data()
	c.note()
	now := time.Now().UTC()
	var lines []string
	for _, s := range Spans(c.All) {
		if s.LastUpdated.IsZero() {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s: newest meta.lastUpdated %s (%d days before the run)", s.Type, s.LastUpdated.UTC().Format("2006-01-02"), int(now.Sub(s.LastUpdated).Hours()/24)))
	}
	framework.Note("last updated per type", "%s", strings.Join(lines, "\n"))
	stale := StaleRecords(c.All, now)
	var l issue.List
	for _, s := range stale {
		typ, _, _ := strings.Cut(s.Ref, "/")
		l = append(l, issue.Issue{Severity: issue.Error, Rule: ReqTimeliness, Requirement: ReqTimeliness, Path: typ + ".meta.lastUpdated",
			Message: s.Ref + ": " + s.Reason})
	}
	figures("stale data", &evidence.DataQuality{Counts: map[string]int{"stale records": len(stale), "claims": len(c.ByType["ExplanationOfBenefit"])}})
	framework.ExpectConformant("stale data", l)
}

func specCompleteness() {
	c := data()
	c.note()
	dq := &evidence.DataQuality{}
	var lines []string
	for _, res := range c.USCore.Resources {
		rs := c.ByType[res.Type]
		if len(rs) == 0 {
			continue
		}
		for _, p := range res.Profiles {
			if p.Raw == nil {
				continue
			}
			pool := igdata.ProfileRule(p, c.USCore.Version).Place(rs).Pool
			if len(pool) == 0 {
				continue
			}
			ms, err := p.MustSupport()
			if err != nil {
				framework.Infra(fmt.Errorf("profile %s: %w", p.URL, err))
			}
			pc := evidence.ProfileCompleteness{Profile: p.ID, Resources: len(pool)}
			full := 0
			for _, m := range ms {
				n := 0
				for _, r := range pool {
					if m.Present(r) {
						n++
					}
				}
				if n == len(pool) {
					full++
				}
				pc.Elements = append(pc.Elements, evidence.ElementShare{Element: m.ID, Present: n})
			}
			dq.Completeness = append(dq.Completeness, pc)
			lines = append(lines, fmt.Sprintf("%s: %d resource(s); %d of %d must-support element(s) in every one", p.ID, len(pool), full, len(ms)))
		}
	}
	if len(dq.Completeness) == 0 {
		framework.SkipBecause("no fetched resource falls in the pool of a US Core profile", "test members with clinical data")
	}
	framework.Note("completeness", "%s", strings.Join(lines, "\n"))
	figures("completeness per profile", dq)
}

func specOldest() {
	c := data()
	c.note()
	dq := &evidence.DataQuality{}
	var oldest time.Time
	oldestType := ""
	for _, s := range Spans(c.All) {
		tl := evidence.TypeTimeline{Type: s.Type, Count: s.Count}
		if s.Dated > 0 {
			tl.First, tl.Last = s.First.Format("2006-01-02"), s.Last.Format("2006-01-02")
			if oldest.IsZero() || s.First.Before(oldest) {
				oldest, oldestType = s.First, s.Type
			}
		}
		dq.Timeline = append(dq.Timeline, tl)
	}
	figures("timeline of the member's data", dq)
	if oldest.IsZero() {
		framework.SkipBecause("no fetched resource carries a care or claim date", "test members with dated claims or clinical records")
	}
	framework.Note("oldest data", "the oldest dated resource is a %s of %s", oldestType, oldest.Format("2006-01-02"))
	if oldest.After(since) {
		framework.Review("the member's oldest data is a %s of %s, after 2016-01-01: confirm the member's enrollment began then (the rule asks for data with dates of service from 2016-01-01 for members enrolled since)", oldestType, oldest.Format("2006-01-02"))
	}
}
