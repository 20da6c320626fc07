// Package reports turns a Ginkgo run of pacheck specs into the documents auditors and CI read:
// results.json (versioned, see SCHEMA.md), junit.xml, summary.md, a self-contained index.html and a
// signed evidence bundle. It reads Ginkgo's types.Report plus pacheck's evidence entries and nothing
// else of the run.
package reports

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/profiles/attest"
	"github.com/pacheck/pacheck/profiles/requirements/official"
)

// SchemaVersion is the version of the results.json format documented in SCHEMA.md. Version 2
// changed the meaning of the verdict (incomplete; error only for run errors) and of requirement
// status (per-requirement attribution); ReadJSON still reads version 1.
const SchemaVersion = "2"

// Outcome of one spec.
type Outcome string

const (
	Pass  Outcome = "pass"
	Fail  Outcome = "fail"
	Skip  Outcome = "skip"
	Error Outcome = "error" // tool or environment trouble, not a non-conformance
	// Known is a failure listed in the known-issues file (not expired). The failure itself is
	// kept (Spec.Failure, Spec.Known); CI outputs treat it as skipped.
	Known Outcome = "known"
	// Review is a spec that ran and found nothing wrong, but left something a person must confirm
	// (framework.Review): it is shown apart from pass, counted, and never changes the verdict by
	// itself (a requirement shown only by review specs is not missing, and not failed).
	Review Outcome = "review"
)

// Outcomes lists every outcome in display order.
var Outcomes = []Outcome{Pass, Fail, Error, Skip, Known, Review}

// Verdicts of a run.
const (
	VerdictPass  = "pass"  // CONFORMANT: every selected SHALL requirement ran and passed
	VerdictFail  = "fail"  // NON-CONFORMANT: a selected SHALL requirement failed
	VerdictError = "error" // the run itself failed (Run.Errors): nothing can be concluded
	// VerdictIncomplete: nothing failed, but some selected SHALL requirement did not run or
	// errored (Results.Incomplete says which and what would enable it).
	VerdictIncomplete = "incomplete"
)

// Missing is a selected SHALL requirement that did not run, or errored, in a run that is
// otherwise conformant.
type Missing struct {
	Requirement string `json:"requirement"`
	Status      string `json:"status"`                // skip, error or not-judged
	Reason      string `json:"reason"`                // the first skip or error reason of its specs
	WouldEnable string `json:"wouldEnable,omitempty"` // what data or configuration would run it
	Spec        string `json:"spec,omitempty"`        // the spec the reason is from
}

// RootCause is one failure many specs depended on; those specs end as errors blocked by it.
type RootCause struct {
	Cause   string   `json:"cause"`
	Reason  string   `json:"reason"`
	Blocked int      `json:"blocked"`
	Specs   []string `json:"specs,omitempty"`
}

// RunMeta is what the caller knows about the run that Ginkgo does not.
type RunMeta struct {
	Target         string         // FHIR base URL under test
	PacheckVersion string         // e.g. "v0.3.0" or a commit
	Packages       []PackageInfo  // IG packages the run used
	Config         map[string]any // effective configuration; secret-looking values are masked
	RunID          string         // optional caller-chosen id
	Start, End     time.Time      // optional; default to the Ginkgo report's times
	// Attestations are the payer's statements for requirements no spec can observe
	// (profiles/attest); they make those requirements "attested", never pass.
	Attestations []attest.Entry
}

// PackageInfo identifies one FHIR package the run used.
type PackageInfo struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	SHA256  string `json:"sha256,omitempty"`
}

// Results is the whole outcome of one run; it is what results.json holds.
type Results struct {
	SchemaVersion string            `json:"schemaVersion"`
	Run           Run               `json:"run"`
	Verdict       string            `json:"verdict"`
	Counts        Counts            `json:"counts"`
	Specs         []Spec            `json:"specs"`
	Requirements  []RequirementInfo `json:"requirements"`
	KnownIssues   []KnownIssue      `json:"knownIssues,omitempty"`
	// Attestations are the payer's statements the run was given (config attestations).
	Attestations []attest.Entry `json:"attestations,omitempty"`
	// Incomplete lists the selected SHALL requirements that did not run (verdict incomplete).
	Incomplete []Missing `json:"incomplete,omitempty"`
	// RootCauses groups the specs that were blocked by one failure they depended on.
	RootCauses []RootCause `json:"rootCauses,omitempty"`
	// Seal is what Verify/Extract found of the bundle's signature; nil for results not read
	// from a bundle. It is not part of results.json.
	Seal *Seal `json:"-"`
	// evidenceRedacted: FromGinkgo redacted every evidence entry, so the HTML writer need not
	// again (Redact is idempotent; a second pass over the demo's 30 MB of bodies cost a second).
	// Results read from a file or assembled elsewhere do not have it and are redacted there.
	evidenceRedacted bool
}

// Seal says whether an evidence bundle carried a signature and whether it was checked.
type Seal struct {
	Signed           bool // manifest.sig is present
	SignatureChecked bool // and it was verified with a public key (Verify fails otherwise)
}

// Run is the run metadata.
type Run struct {
	ID             string         `json:"id,omitempty"`
	Target         string         `json:"target"`
	Suite          string         `json:"suite"`
	Start          time.Time      `json:"start"`
	End            time.Time      `json:"end"`
	DurationMS     int64          `json:"durationMs"`
	PacheckVersion string         `json:"pacheckVersion"`
	Packages       []PackageInfo  `json:"packages"`
	Config         map[string]any `json:"config,omitempty"`
	// Errors are run-level errors: a failed suite node, an expired known issue, an interrupted run.
	Errors []string `json:"errors,omitempty"`
	// Warnings do not change the verdict: unknown requirement ids, duplicate spec ids, unused
	// known issues.
	Warnings []string `json:"warnings,omitempty"`
	// NotSelected counts specs the run's label filter or focus left out; they are not in Specs.
	NotSelected int `json:"notSelected,omitempty"`
}

// Counts of specs per outcome.
type Counts struct {
	Total int `json:"total"`
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Skip  int `json:"skip"`
	Error int `json:"error"`
	Known int `json:"known"`
	// Review: specs that need a person's confirmation (omitted when none, as before the outcome).
	Review int `json:"review,omitempty"`
	// NotJudged (requirement counts only): specs that cite the requirement and failed (or are
	// known failures) on another requirement; they ran but did not show this one met or broken.
	NotJudged int `json:"notJudged,omitempty"`
}

// Add counts one outcome.
func (c *Counts) Add(o Outcome) {
	c.Total++
	switch o {
	case Pass:
		c.Pass++
	case Fail:
		c.Fail++
	case Skip:
		c.Skip++
	case Error:
		c.Error++
	case Known:
		c.Known++
	case Review:
		c.Review++
	}
}

// Of returns the count of one outcome.
func (c Counts) Of(o Outcome) int {
	switch o {
	case Pass:
		return c.Pass
	case Fail:
		return c.Fail
	case Skip:
		return c.Skip
	case Error:
		return c.Error
	case Known:
		return c.Known
	case Review:
		return c.Review
	}
	return 0
}

// Spec is one executed (or skipped) Ginkgo spec.
type Spec struct {
	ID      string  `json:"id"`
	Outcome Outcome `json:"outcome"`
	// State is Ginkgo's state (passed, failed, skipped, pending, panicked, interrupted, aborted,
	// timedout) or, for a suite-level node, its state prefixed by the node type.
	State string `json:"state"`
	// Reason is the one-line reason for skip and error outcomes, and what a person must confirm
	// for review.
	Reason       string    `json:"reason,omitempty"`
	Requirements []SpecReq `json:"requirements,omitempty"`
	Level        string    `json:"level,omitempty"`
	IG           string    `json:"ig,omitempty"` // from the ig: label, e.g. uscore-6.1.0
	Group        string    `json:"group"`        // IG, else requirement area, else first id segment
	Profiles     []string  `json:"profiles,omitempty"`
	Resources    []string  `json:"resources,omitempty"`
	Labels       []string  `json:"labels,omitempty"`
	Failure      *Failure  `json:"failure,omitempty"`
	// Broken are the requirement ids the failure breaks (from its issues); empty on a failed spec
	// means every requirement it cites.
	Broken     []string          `json:"broken,omitempty"`
	Blocked    *evidence.Blocked `json:"blocked,omitempty"` // the root cause that kept an error spec from running
	Known      *KnownIssue       `json:"known,omitempty"`
	Location   string            `json:"location,omitempty"` // file:line of the spec
	Start      time.Time         `json:"start"`
	DurationMS int64             `json:"durationMs"`
	Quotes     []string          `json:"quotes,omitempty"` // pacheck.requirement entries
	Evidence   []evidence.Entry  `json:"evidence,omitempty"`
	Output     string            `json:"output,omitempty"` // captured GinkgoWriter output, redacted, bounded
}

// SpecReq is a requirement a spec tests, copied from the catalogue.
type SpecReq struct {
	ID        string   `json:"id"`
	Statement string   `json:"statement,omitempty"`
	Level     string   `json:"level,omitempty"`
	CFR       []string `json:"cfr,omitempty"`
	Section   string   `json:"section,omitempty"`
	Unknown   bool     `json:"unknown,omitempty"` // not in the catalogue (false when there was none)
}

// Failure is why a spec failed (or errored) and where it happened. Expected and Actual are the
// first failing issue's (issue.Issue Expected/Actual) when the spec's evidence has one, else
// Ginkgo's message split when it has Gomega's shape.
type Failure struct {
	Message  string `json:"message"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	Location string `json:"location,omitempty"`
	Panic    string `json:"panic,omitempty"`
}

// RequirementInfo is one catalogue requirement with the outcomes of the specs that test it.
type RequirementInfo struct {
	profiles.Requirement
	Counts Counts   `json:"counts"`
	Specs  []string `json:"specs,omitempty"`
	Status string   `json:"status"` // pass, fail, error, skip, known, review, not-judged, untested, attested
	// Attested is the payer's attestation of a requirement that takes one; MissingAttestation
	// says which entry an attestable requirement without one lacks.
	Attested           *attest.Entry `json:"attested,omitempty"`
	MissingAttestation string        `json:"missingAttestation,omitempty"`
	// OfficialIDs are the IGs' numbered requirement ids (e.g. hl7.fhir.us.core_6.1.0@51) this
	// requirement tests or attests, from profiles/requirements/official.
	OfficialIDs []string `json:"officialIds,omitempty"`
}

// Limits for what goes into results.
const (
	maxOutput = 64 << 10
)

// FromGinkgo builds Results from a Ginkgo report. cat may be nil (requirement texts are then
// missing and every id is reported unknown).
func FromGinkgo(report types.Report, meta RunMeta, cat *profiles.Catalogue) (*Results, error) {
	r := &Results{SchemaVersion: SchemaVersion}
	start, end := report.StartTime, report.EndTime
	if !meta.Start.IsZero() {
		start = meta.Start
	}
	if !meta.End.IsZero() {
		end = meta.End
	}
	dur := report.RunTime
	if dur == 0 && !end.IsZero() && !start.IsZero() {
		dur = end.Sub(start)
	}
	r.Run = Run{
		ID:             meta.RunID,
		Target:         Redact(meta.Target),
		Suite:          report.SuiteDescription,
		Start:          start.UTC(),
		End:            end.UTC(),
		DurationMS:     dur.Milliseconds(),
		PacheckVersion: meta.PacheckVersion,
		Packages:       append([]PackageInfo{}, meta.Packages...),
		Config:         MaskConfig(meta.Config),
	}
	if r.Run.Packages == nil {
		r.Run.Packages = []PackageInfo{}
	}
	for _, reason := range report.SpecialSuiteFailureReasons {
		r.Run.Errors = append(r.Run.Errors, Redact(reason))
	}
	notRun := notRunReason(report)
	seen := map[string]int{}
	unknown := map[string]bool{}
	for _, sr := range report.SpecReports {
		if sr.LeafNodeType.Is(types.NodeTypeIt) && sr.State.Is(types.SpecStateSkipped) && sr.Failure.IsZero() && notRun == "" {
			// Skipped by Ginkgo itself without a reason in a run that went to its end: the
			// label filter or focus did not select it.
			r.Run.NotSelected++
			continue
		}
		s, ok := specFromGinkgo(sr, cat, notRun)
		if !ok {
			continue
		}
		if n := seen[s.ID]; n > 0 {
			r.Run.Warnings = append(r.Run.Warnings, fmt.Sprintf("duplicate spec id %q (occurrence %d renamed %q)", s.ID, n+1, fmt.Sprintf("%s#%d", s.ID, n+1)))
			seen[s.ID] = n + 1
			s.ID = fmt.Sprintf("%s#%d", s.ID, n+1)
		} else {
			seen[s.ID] = 1
		}
		for _, q := range s.Requirements {
			if q.Unknown && !unknown[q.ID] {
				unknown[q.ID] = true
				r.Run.Warnings = append(r.Run.Warnings, fmt.Sprintf("spec %q names requirement %q, which is not in the catalogue", s.ID, q.ID))
			}
		}
		if sr.LeafNodeType.Is(suiteNodes) && s.Outcome == Error {
			// A failed suite node ([BeforeSuite] ...) breaks the run itself, not one requirement.
			r.Run.Errors = append(r.Run.Errors, fmt.Sprintf("%s failed: %s", s.ID, s.Reason))
		}
		r.Specs = append(r.Specs, s)
	}
	if r.Specs == nil {
		r.Specs = []Spec{}
	}
	r.Run.Warnings = append(r.Run.Warnings, legacyFailureWarnings(r.Specs, cat)...)
	r.Attestations = append([]attest.Entry(nil), meta.Attestations...)
	r.Recount(cat)
	if r.Counts.Total > 0 && r.Counts.Pass == 0 {
		r.Run.Warnings = append(r.Run.Warnings, "no spec passed: the run shows nothing about conformance")
	}
	r.evidenceRedacted = true
	return r, nil
}

// Recount recomputes counts, requirement coverage and the verdict after specs changed (for
// example after ApplyKnownIssues). cat may be nil: the requirement list then keeps its catalogue
// entries (read from results.json) and only their counts change.
func (r *Results) Recount(cat *profiles.Catalogue) {
	r.Counts = Counts{}
	for _, s := range r.Specs {
		r.Counts.Add(s.Outcome)
	}
	var reqs []profiles.Requirement
	if cat != nil {
		reqs = cat.All()
	} else {
		for _, ri := range r.Requirements {
			reqs = append(reqs, ri.Requirement)
		}
	}
	idx := map[string]int{}
	r.Requirements = r.Requirements[:0]
	officialIDs := officialByRequirement()
	for _, q := range reqs {
		idx[q.ID] = len(r.Requirements)
		r.Requirements = append(r.Requirements, RequirementInfo{Requirement: q, OfficialIDs: officialIDs[q.ID]})
	}
	for _, s := range r.Specs {
		for _, a := range attribute(s) {
			i, ok := idx[a.id]
			if !ok {
				continue
			}
			c := &r.Requirements[i].Counts
			if a.notJudged {
				c.Total++
				c.NotJudged++
			} else {
				c.Add(s.Outcome)
			}
			r.Requirements[i].Specs = append(r.Requirements[i].Specs, s.ID)
		}
	}
	attested := make(map[string]*attest.Entry, len(r.Attestations))
	for i := range r.Attestations {
		attested[r.Attestations[i].ID] = &r.Attestations[i]
	}
	for i := range r.Requirements {
		q := &r.Requirements[i]
		q.Status = requirementStatus(q.Counts)
		q.Attested, q.MissingAttestation = nil, ""
		if q.Attestation == "" {
			continue
		}
		// The payer's claim stands only where no spec judged the requirement: it is shown as
		// attested, never as pass, and does not enter the verdict (README: attestations).
		q.Attested = attested[q.ID]
		switch {
		case q.Attested != nil && q.Status == StatusUntested:
			q.Status = StatusAttested
		case q.Attested == nil:
			q.MissingAttestation = attest.Missing(q.Requirement)
		}
	}
	if r.Requirements == nil {
		r.Requirements = []RequirementInfo{}
	}
	r.judge()
}

// Requirement statuses beyond the outcomes.
const (
	StatusUntested  = "untested"   // no spec of the run cites it
	StatusNotJudged = "not-judged" // its only specs failed on other requirements
	StatusAttested  = "attested"   // no spec tests it; the payer attests it (profiles/attest)
)

func requirementStatus(c Counts) string {
	switch {
	case c.Total == 0:
		return StatusUntested
	case c.Fail > 0:
		return string(Fail)
	case c.Error > 0:
		return string(Error)
	case c.Known > 0:
		return string(Known)
	case c.Review > 0:
		return string(Review)
	case c.Pass > 0:
		return string(Pass)
	case c.Skip > 0:
		return string(Skip)
	case c.NotJudged > 0:
		return StatusNotJudged
	}
	return string(Skip)
}

const suiteNodes = types.NodeTypeBeforeSuite | types.NodeTypeSynchronizedBeforeSuite | types.NodeTypeAfterSuite |
	types.NodeTypeSynchronizedAfterSuite | types.NodeTypeReportBeforeSuite | types.NodeTypeReportAfterSuite |
	types.NodeTypeCleanupAfterSuite | types.NodeTypeOnFailureSuite

// SpecID is the pacheck id of a spec: container texts and leaf text joined with "/".
func SpecID(sr types.SpecReport) string {
	var parts []string
	for _, t := range sr.ContainerHierarchyTexts {
		if t != "" {
			parts = append(parts, t)
		}
	}
	if sr.LeafNodeText != "" {
		parts = append(parts, sr.LeafNodeText)
	}
	return strings.Join(parts, "/")
}

// notRunReason says why Ginkgo skipped specs without a message when the run did not go to its
// end (interrupt, timeout, failed suite node, fail-fast); "" for a run that did.
func notRunReason(report types.Report) string {
	if len(report.SpecialSuiteFailureReasons) > 0 {
		return "not run: " + Redact(strings.Join(report.SpecialSuiteFailureReasons, "; "))
	}
	failed := false
	for _, sr := range report.SpecReports {
		if sr.LeafNodeType.Is(suiteNodes) && sr.State.Is(types.SpecStateFailureStates) {
			return "not run: " + sr.LeafNodeType.String() + " failed"
		}
		failed = failed || sr.State.Is(types.SpecStateFailureStates)
	}
	if failed && report.SuiteConfig.FailFast {
		return "not run: fail-fast stopped the run after the first failure"
	}
	return ""
}

func specFromGinkgo(sr types.SpecReport, cat *profiles.Catalogue, notRun string) (Spec, bool) {
	s := Spec{
		ID:         SpecID(sr),
		State:      sr.State.String(),
		Start:      sr.StartTime.UTC(),
		DurationMS: sr.RunTime.Milliseconds(),
		Labels:     sr.Labels(),
	}
	if sr.LeafNodeLocation.FileName != "" {
		s.Location = fmt.Sprintf("%s:%d", sr.LeafNodeLocation.FileName, sr.LeafNodeLocation.LineNumber)
	}
	suiteNode := sr.LeafNodeType.Is(suiteNodes)
	if suiteNode {
		// Suite-level nodes are reported only when they went wrong; then the whole run is suspect.
		if !sr.State.Is(types.SpecStateFailureStates) {
			return Spec{}, false
		}
		s.ID = "[" + sr.LeafNodeType.String() + "]"
		if sr.LeafNodeText != "" {
			s.ID += " " + sr.LeafNodeText
		}
		s.State = sr.LeafNodeType.String() + " " + sr.State.String()
	} else if !sr.LeafNodeType.Is(types.NodeTypeIt) && sr.LeafNodeType != types.NodeTypeInvalid {
		return Spec{}, false
	}
	if s.ID == "" {
		s.ID = "(unnamed spec)"
	}
	var errReason, review string
	var broken []string
	for _, e := range sr.ReportEntries {
		switch e.Name {
		case evidence.EntryName:
			if ent, err := decodeEntry(e.Value); err == nil {
				s.Evidence = append(s.Evidence, RedactEntry(ent))
			} else {
				s.Evidence = append(s.Evidence, evidence.Entry{Kind: evidence.KindNote, Title: "undecodable evidence entry",
					Text: Redact(fmt.Sprintf("%v: %s", err, e.Value.String()))})
			}
		case evidence.ErrorEntryName:
			errReason = Redact(entryText(e.Value))
		case evidence.ReviewEntryName:
			if t := Redact(entryText(e.Value)); review == "" {
				review = t
			} else {
				review += "; " + t
			}
		case evidence.RequirementEntryName:
			s.Quotes = append(s.Quotes, Redact(entryText(e.Value)))
		case evidence.BrokenEntryName:
			broken = append(broken, decodeBroken(e.Value)...)
		case evidence.BlockedEntryName:
			if b, ok := decodeBlocked(e.Value); ok {
				s.Blocked = &b
			}
		}
	}
	for _, l := range s.Labels {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch k {
		case "req":
			q := SpecReq{ID: v}
			if req, found := cat.Lookup(v); found {
				q.Statement, q.Level, q.CFR, q.Section = req.Statement, req.Level, req.CFR, req.Section
			} else if cat != nil {
				q.Unknown = true
			}
			s.Requirements = append(s.Requirements, q)
		case "level":
			s.Level = v
		case "ig":
			s.IG = v
		case "profile":
			s.Profiles = append(s.Profiles, v)
		case "resource":
			s.Resources = append(s.Resources, v)
		}
	}
	if s.Level == "" { // no level: label; take the strongest level of the named requirements
		for _, q := range s.Requirements {
			if levelRank(q.Level) > levelRank(s.Level) {
				s.Level = q.Level
			}
		}
	}
	s.Group = specGroup(s)
	if sr.CapturedGinkgoWriterOutput != "" || sr.CapturedStdOutErr != "" {
		s.Output = Redact(clip(sr.CapturedGinkgoWriterOutput+sr.CapturedStdOutErr, maxOutput))
	}
	if !sr.Failure.IsZero() || sr.Failure.ForwardedPanic != "" {
		f := &Failure{Message: Redact(sr.Failure.Message), Panic: Redact(sr.Failure.ForwardedPanic)}
		if loc := sr.Failure.Location; loc.FileName != "" {
			f.Location = fmt.Sprintf("%s:%d", loc.FileName, loc.LineNumber)
		}
		f.Expected, f.Actual = failureExpectedActual(s.Evidence, f.Message)
		s.Failure = f
	}
	switch {
	case sr.State.Is(types.SpecStatePassed) && review != "":
		s.Outcome = Review
		s.Reason = review
	case sr.State.Is(types.SpecStatePassed):
		s.Outcome = Pass
	case sr.State.Is(types.SpecStateSkipped):
		s.Outcome = Skip
		s.Reason = "skipped"
		if s.Failure != nil && s.Failure.Message != "" {
			s.Reason = s.Failure.Message
		} else if notRun != "" {
			s.Reason = notRun
		}
		s.Failure = nil
	case sr.State.Is(types.SpecStatePending):
		s.Outcome = Skip
		s.Reason = "pending: the spec is marked pending in the suite and was not run"
	case sr.State.Is(types.SpecStateFailed) && errReason == "" && !suiteNode:
		s.Outcome = Fail
		s.Broken = brokenRequirements(broken, s.Evidence)
	default: // failed with a pacheck.error entry, a failed suite node, panicked, interrupted, aborted, timed out, invalid
		s.Outcome = Error
		switch {
		case errReason != "":
			s.Reason = errReason
		case s.Failure != nil && s.Failure.Message != "":
			s.Reason = fmt.Sprintf("%s: %s", sr.State, firstLine(s.Failure.Message))
		default:
			s.Reason = sr.State.String()
		}
	}
	if s.Outcome != Error {
		s.Blocked = nil // only an error can be "blocked by" a root cause
	} else if s.Blocked != nil {
		s.Blocked.Cause, s.Blocked.Reason = Redact(s.Blocked.Cause), Redact(s.Blocked.Reason)
	}
	return s, true
}

func levelRank(l string) int {
	switch l {
	case profiles.LevelShall:
		return 3
	case profiles.LevelShould:
		return 2
	case profiles.LevelMay:
		return 1
	}
	return 0
}

func specGroup(s Spec) string {
	if s.IG != "" {
		return s.IG
	}
	for _, q := range s.Requirements {
		if a, _, ok := strings.Cut(q.ID, "."); ok {
			return a
		}
	}
	if strings.HasPrefix(s.ID, "[") {
		return "suite"
	}
	first, _, _ := strings.Cut(s.ID, "/")
	if first == "" {
		return "other"
	}
	return first
}

// decodeEntry reads a pacheck.evidence value: *evidence.Entry in-process, its JSON form when the
// report was read back from JSON.
func decodeEntry(v types.ReportEntryValue) (evidence.Entry, error) {
	switch raw := v.GetRawValue().(type) {
	case *evidence.Entry:
		if raw == nil {
			return evidence.Entry{}, fmt.Errorf("nil evidence entry")
		}
		return *raw, nil
	case evidence.Entry:
		return raw, nil
	}
	var data []byte
	if v.AsJSON != "" {
		data = []byte(v.AsJSON)
	} else if raw := v.GetRawValue(); raw != nil {
		b, err := json.Marshal(raw)
		if err != nil {
			return evidence.Entry{}, fmt.Errorf("evidence entry: %w", err)
		}
		data = b
	} else {
		return evidence.Entry{}, fmt.Errorf("empty evidence entry")
	}
	var e evidence.Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return evidence.Entry{}, fmt.Errorf("evidence entry is not an evidence.Entry: %w", err)
	}
	return e, nil
}

func entryText(v types.ReportEntryValue) string {
	if s, ok := v.GetRawValue().(string); ok {
		return s
	}
	if v.GetRawValue() == nil && v.AsJSON != "" {
		var s string
		if json.Unmarshal([]byte(v.AsJSON), &s) == nil {
			return s
		}
	}
	return v.String()
}

// failureExpectedActual is what a failure shows as expected and actual: the first error issue in
// the evidence that carries them as data, else Gomega's message split (gomegaExpectedActual).
func failureExpectedActual(ev []evidence.Entry, msg string) (expected, actual string) {
	for _, e := range ev {
		for _, is := range e.Issues {
			if is.Severity == issue.Error && (is.Expected != "" || is.Actual != "") {
				return is.Expected, is.Actual
			}
		}
	}
	return gomegaExpectedActual(msg)
}

// gomegaExpectedActual splits Gomega's "Expected\n    <actual>\n<matcher words>\n    <expected>"
// into expected and actual; "" "" for any other message.
func gomegaExpectedActual(msg string) (expected, actual string) {
	rest, ok := strings.CutPrefix(msg, "Expected\n")
	if !ok {
		return "", ""
	}
	lines := strings.Split(rest, "\n")
	i := 0
	var act []string
	for ; i < len(lines) && (strings.HasPrefix(lines[i], " ") || strings.HasPrefix(lines[i], "\t")); i++ {
		act = append(act, strings.TrimSpace(lines[i]))
	}
	if i >= len(lines) || len(act) == 0 {
		return "", ""
	}
	matcher := strings.TrimSpace(lines[i])
	var exp []string
	for _, l := range lines[i+1:] {
		exp = append(exp, strings.TrimSpace(l))
	}
	e := strings.TrimSpace(strings.Join(exp, "\n"))
	if e != "" {
		e = matcher + " " + e
	} else {
		e = matcher
	}
	return e, strings.Join(act, "\n")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n… (cut at " + fmt.Sprint(n) + " bytes)"
}

// MaskConfig copies a configuration map, replacing the values of secret-looking keys (token,
// secret, password, key, credential, authorization, cookie, verifier) with "***" and redacting
// every string value.
func MaskConfig(cfg map[string]any) map[string]any {
	if cfg == nil {
		return nil
	}
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		if secretKey(k) {
			out[k] = "***"
			continue
		}
		out[k] = maskValue(v)
	}
	return out
}

func maskValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return MaskConfig(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskValue(e)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = Redact(e)
		}
		return out
	case string:
		return Redact(x)
	}
	return v
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"token", "secret", "password", "passwd", "key", "credential", "authorization", "cookie", "verifier", "assertion"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// Groups returns the distinct spec groups (IG or area), sorted.
func (r *Results) Groups() []string {
	set := map[string]bool{}
	for _, s := range r.Specs {
		set[s.Group] = true
	}
	var out []string
	for g := range set {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// Spec returns the spec with the id.
func (r *Results) Spec(id string) (*Spec, bool) {
	for i := range r.Specs {
		if r.Specs[i].ID == id {
			return &r.Specs[i], true
		}
	}
	return nil, false
}

// safeRel reports whether p is a clean relative slash path inside the report folder.
func safeRel(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.Contains(p, ":") {
		return false
	}
	c := path.Clean(p)
	return c == p && c != "." && c != ".." && !strings.HasPrefix(c, "../")
}

// officialByRequirement maps our requirement ids to the official ids they cover; an unreadable
// embedded mapping (a build defect the official package's tests catch) leaves them out.
func officialByRequirement() map[string][]string {
	m, err := official.Load()
	if err != nil {
		return nil
	}
	return m.ByRequirement()
}
