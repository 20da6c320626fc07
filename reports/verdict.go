package reports

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

// WouldEnableSep separates a skip reason from what would enable the spec; framework.SkipBecause
// writes it.
const WouldEnableSep = "; to enable: "

// attribution is one requirement a spec's outcome counts for.
type attribution struct {
	id string
	// notJudged: the spec cites the requirement but failed on another one, so it shows neither
	// that the requirement is met nor that it is broken.
	notJudged bool
}

// attribute says which requirements s's outcome counts for. A pass, skip or error counts for
// every requirement the spec cites. A failure (or known failure) counts only for the
// requirements it broke (Spec.Broken, which may name a requirement the spec does not cite); the
// other cited requirements are "not judged". A failure that names no broken requirement (a spec
// written before issue-level attribution) counts for every requirement it cites.
func attribute(s Spec) []attribution {
	if (s.Outcome != Fail && s.Outcome != Known) || len(s.Broken) == 0 {
		out := make([]attribution, len(s.Requirements))
		for i, q := range s.Requirements {
			out[i] = attribution{id: q.ID}
		}
		return out
	}
	broken := make(map[string]bool, len(s.Broken))
	for _, id := range s.Broken {
		broken[id] = true
	}
	cited := make(map[string]bool, len(s.Requirements))
	out := make([]attribution, 0, len(s.Requirements)+len(s.Broken))
	for _, q := range s.Requirements {
		cited[q.ID] = true
		out = append(out, attribution{id: q.ID, notJudged: !broken[q.ID]})
	}
	for _, id := range s.Broken {
		if !cited[id] {
			out = append(out, attribution{id: id})
		}
	}
	return out
}

// brokenRequirements is the sorted union of the pacheck.broken entries and the Requirement of
// every error issue in the spec's evidence.
func brokenRequirements(entries []string, ev []evidence.Entry) []string {
	set := map[string]bool{}
	for _, id := range entries {
		if id = strings.TrimSpace(id); id != "" {
			set[id] = true
		}
	}
	for _, e := range ev {
		for _, is := range e.Issues {
			if is.Severity == issue.Error && strings.TrimSpace(is.Requirement) != "" {
				set[strings.TrimSpace(is.Requirement)] = true
			}
		}
	}
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// decodeBroken reads a pacheck.broken value: []string in-process, its JSON form when the report
// was read back from JSON. A value of another shape is ignored (the spec then counts as legacy).
func decodeBroken(v types.ReportEntryValue) []string {
	switch raw := v.GetRawValue().(type) {
	case []string:
		return append([]string(nil), raw...)
	case string:
		return []string{raw}
	case []any:
		var out []string
		for _, x := range raw {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	var out []string
	if v.AsJSON != "" && json.Unmarshal([]byte(v.AsJSON), &out) == nil {
		return out
	}
	return nil
}

// decodeBlocked reads a pacheck.blocked value: evidence.Blocked in-process, its JSON form when
// the report was read back from JSON.
func decodeBlocked(v types.ReportEntryValue) (evidence.Blocked, bool) {
	switch raw := v.GetRawValue().(type) {
	case evidence.Blocked:
		return raw, raw.Cause != ""
	case *evidence.Blocked:
		if raw == nil {
			return evidence.Blocked{}, false
		}
		return *raw, raw.Cause != ""
	}
	var data []byte
	if v.AsJSON != "" {
		data = []byte(v.AsJSON)
	} else if raw := v.GetRawValue(); raw != nil {
		b, err := json.Marshal(raw)
		if err != nil {
			return evidence.Blocked{}, false
		}
		data = b
	}
	var b evidence.Blocked
	if json.Unmarshal(data, &b) != nil || b.Cause == "" {
		return evidence.Blocked{}, false
	}
	return b, true
}

// maxLegacyWarnings bounds the per-spec warnings about failures without attribution; one more
// warning counts the rest.
const maxLegacyWarnings = 20

// legacyFailureWarnings warns about failed specs that name no broken requirement (every cited
// requirement is then counted failed) and about broken ids that are not in the catalogue.
func legacyFailureWarnings(specs []Spec, cat *profiles.Catalogue) []string {
	var out []string
	legacy := 0
	unknown := map[string]bool{}
	for _, s := range specs {
		if s.Outcome != Fail {
			continue
		}
		if len(s.Broken) == 0 && len(s.Requirements) > 0 {
			legacy++
			if legacy <= maxLegacyWarnings {
				out = append(out, fmt.Sprintf("spec %q failed without naming the requirement it breaks (no pacheck.broken entry, no issue requirement): every requirement it cites (%s) is counted failed",
					s.ID, strings.Join(reqIDs(s), ", ")))
			}
		}
		if cat == nil {
			continue
		}
		for _, id := range s.Broken {
			if _, ok := cat.Lookup(id); !ok && !unknown[id] {
				unknown[id] = true
				out = append(out, fmt.Sprintf("spec %q breaks requirement %q, which is not in the catalogue", s.ID, id))
			}
		}
	}
	if legacy > maxLegacyWarnings {
		out = append(out, fmt.Sprintf("%d more failed specs name no broken requirement; each counts every requirement it cites as failed", legacy-maxLegacyWarnings))
	}
	return out
}

// judge fills Incomplete and RootCauses and sets the verdict from the requirement statuses:
// error only for run errors; fail when a SHALL requirement failed; incomplete when a selected
// SHALL requirement (one a spec of the run cites) skipped, errored or was not judged; else pass.
func (r *Results) judge() {
	levels := make(map[string]string, len(r.Requirements))
	shallFailed := false
	for _, q := range r.Requirements {
		levels[q.ID] = q.Level
		if q.Level == profiles.LevelShall && q.Counts.Fail > 0 {
			shallFailed = true
		}
	}
	// A spec whose requirements are not in the catalogue is judged by its own level, as the CLI
	// judges a failure: a failure without a level counts as SHALL.
	uncatalogued := func(s Spec) bool {
		for _, a := range attribute(s) {
			if _, ok := levels[a.id]; ok && !a.notJudged {
				return false
			}
		}
		return true
	}
	var orphans []Missing
	for _, s := range r.Specs {
		switch {
		case s.Outcome == Fail && uncatalogued(s) && (s.Level == "" || s.Level == profiles.LevelShall):
			shallFailed = true
		case s.Outcome == Error && uncatalogued(s) && (s.Level == "" || s.Level == profiles.LevelShall),
			s.Outcome == Skip && uncatalogued(s) && s.Level == profiles.LevelShall:
			m := missingFrom(string(s.Outcome), s)
			if len(s.Requirements) > 0 {
				m.Requirement = s.Requirements[0].ID
			}
			orphans = append(orphans, m)
		}
	}
	r.Incomplete = append(r.missing(), orphans...)
	r.RootCauses = rootCauses(r.Specs)
	switch {
	case len(r.Run.Errors) > 0:
		r.Verdict = VerdictError
	case shallFailed:
		r.Verdict = VerdictFail
	case len(r.Incomplete) > 0:
		r.Verdict = VerdictIncomplete
	default:
		r.Verdict = VerdictPass
	}
}

// missing lists the selected SHALL requirements that are not met although nothing failed on
// them: status skip, error or not-judged. Each names the first spec with that outcome.
func (r *Results) missing() []Missing {
	var out []Missing
	var byID map[string]*Spec
	for _, q := range r.Requirements {
		if q.Level != profiles.LevelShall {
			continue
		}
		switch q.Status {
		case string(Skip), string(Error), StatusNotJudged:
		default:
			continue
		}
		if byID == nil {
			byID = make(map[string]*Spec, len(r.Specs))
			for i := range r.Specs {
				byID[r.Specs[i].ID] = &r.Specs[i]
			}
		}
		m := Missing{Requirement: q.ID, Status: q.Status}
		for _, id := range q.Specs {
			s := byID[id]
			if s == nil {
				continue
			}
			if q.Status == StatusNotJudged && (s.Outcome == Fail || s.Outcome == Known) {
				m = missingFrom(q.Status, *s)
				m.Requirement = q.ID
				break
			}
			if string(s.Outcome) == q.Status {
				m = missingFrom(q.Status, *s)
				m.Requirement = q.ID
				break
			}
		}
		out = append(out, m)
	}
	return out
}

// missingFrom describes why spec s leaves a requirement with status st; the reason's
// "; to enable: …" suffix becomes WouldEnable.
func missingFrom(st string, s Spec) Missing {
	m := Missing{Status: st, Spec: s.ID}
	switch st {
	case StatusNotJudged:
		m.Reason = fmt.Sprintf("its spec failed on %s instead", strings.Join(s.Broken, ", "))
	default:
		m.Reason = s.Reason
	}
	if i := strings.Index(m.Reason, WouldEnableSep); i >= 0 {
		m.Reason, m.WouldEnable = m.Reason[:i], strings.TrimSpace(m.Reason[i+len(WouldEnableSep):])
	}
	return m
}

// rootCauses groups the blocked specs by their root cause, the largest group first.
func rootCauses(specs []Spec) []RootCause {
	var out []RootCause
	idx := map[evidence.Blocked]int{}
	for _, s := range specs {
		if s.Blocked == nil || s.Outcome != Error {
			continue
		}
		i, ok := idx[*s.Blocked]
		if !ok {
			i = len(out)
			idx[*s.Blocked] = i
			out = append(out, RootCause{Cause: s.Blocked.Cause, Reason: s.Blocked.Reason})
		}
		out[i].Blocked++
		out[i].Specs = append(out[i].Specs, s.ID)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Blocked > out[b].Blocked })
	return out
}

// VerdictLabel is the verdict as the banner, summary.md and console print it.
func VerdictLabel(v string) string {
	switch v {
	case VerdictPass:
		return "CONFORMANT"
	case VerdictFail:
		return "NON-CONFORMANT"
	case VerdictIncomplete:
		return "INCOMPLETE"
	case VerdictError:
		return "ERROR"
	}
	return strings.ToUpper(v)
}
