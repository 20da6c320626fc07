package reports

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pacheck/pacheck/internal/safefile"
)

// KnownIssue is an accepted deviation: a spec whose failure is known, why, and until when.
//
//   - spec: uscore-6.1.0/observation-lab/search/patient+category
//     reason: vendor ticket ABC-123, fix scheduled for the March release
//     expires: 2026-03-31
type KnownIssue struct {
	Spec    string `yaml:"spec" json:"spec"`
	Reason  string `yaml:"reason" json:"reason"`
	Expires string `yaml:"expires" json:"expires"`    // YYYY-MM-DD; the entry applies through that day (UTC)
	Source  string `yaml:"-" json:"source,omitempty"` // file:line
}

// ExpiresAt is the first instant the entry no longer applies (the day after Expires, UTC).
func (k KnownIssue) ExpiresAt() (time.Time, error) {
	d, err := time.Parse(time.DateOnly, k.Expires)
	if err != nil {
		return time.Time{}, err
	}
	return d.AddDate(0, 0, 1), nil
}

const maxKnownIssuesFile = safefile.SmallLimit

// LoadKnownIssues reads a YAML list of known issues (keys spec, reason, expires; all required).
// Unknown keys, a missing field, a malformed date or a duplicate spec id are errors naming
// file:line.
func LoadKnownIssues(path string) ([]KnownIssue, error) {
	// Only a regular file, at most 1 MiB: a FIFO or device fails at once.
	data, err := safefile.ReadFile(path, maxKnownIssuesFile)
	if err != nil {
		var tl *safefile.TooLargeError
		if errors.As(err, &tl) {
			return nil, fmt.Errorf("known issues %v; a known-issues list is a few KiB: check the path", err)
		}
		return nil, fmt.Errorf("known issues: %w", err)
	}
	return ParseKnownIssues(path, data)
}

// ParseKnownIssues is LoadKnownIssues on bytes; name is used in errors.
func ParseKnownIssues(name string, data []byte) ([]KnownIssue, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("known issues %s: %w", name, err)
	}
	if doc.Kind == 0 || (len(doc.Content) == 1 && doc.Content[0].Tag == "!!null") { // comments only
		return nil, nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("known issues %s:%d: expected a list of {spec, reason, expires}", name, doc.Line)
	}
	var out []KnownIssue
	first := map[string]string{}
	for _, item := range doc.Content[0].Content {
		at := fmt.Sprintf("%s:%d", name, item.Line)
		if item.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("known issues %s: expected a mapping with spec, reason, expires", at)
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k := item.Content[i]
			switch k.Value {
			case "spec", "reason", "expires":
			default:
				return nil, fmt.Errorf("known issues %s:%d: unknown key %q; allowed: spec, reason, expires", name, k.Line, k.Value)
			}
			if seen[k.Value] {
				return nil, fmt.Errorf("known issues %s:%d: key %q given twice", name, k.Line, k.Value)
			}
			seen[k.Value] = true
		}
		var k KnownIssue
		if err := item.Decode(&k); err != nil {
			return nil, fmt.Errorf("known issues %s: %w", at, err)
		}
		k.Source = at
		switch {
		case strings.TrimSpace(k.Spec) == "":
			return nil, fmt.Errorf("known issues %s: missing spec (the spec id, e.g. uscore-6.1.0/patient/read)", at)
		case strings.TrimSpace(k.Reason) == "":
			return nil, fmt.Errorf("known issues %s: spec %q: missing reason", at, k.Spec)
		case k.Expires == "":
			return nil, fmt.Errorf("known issues %s: spec %q: missing expires (YYYY-MM-DD); every deviation needs an end date", at, k.Spec)
		}
		if _, err := time.Parse(time.DateOnly, k.Expires); err != nil {
			return nil, fmt.Errorf("known issues %s: spec %q: expires %q is not a date YYYY-MM-DD", at, k.Spec, k.Expires)
		}
		if prev, dup := first[k.Spec]; dup {
			return nil, fmt.Errorf("known issues %s: spec %q listed twice (first at %s)", at, k.Spec, prev)
		}
		first[k.Spec] = at
		out = append(out, k)
	}
	return out, nil
}

// KnownResult tells the caller what ApplyKnownIssues did.
type KnownResult struct {
	Applied []KnownIssue // turned a failure into "known"
	Expired []KnownIssue // past their date: not applied, and an error of the run
	Unused  []KnownIssue // matched no failing spec (fixed? renamed?): a warning
}

// Err is non-nil when an expired entry makes the run fail.
func (k KnownResult) Err() error {
	if len(k.Expired) == 0 {
		return nil
	}
	var ids []string
	for _, e := range k.Expired {
		ids = append(ids, fmt.Sprintf("%s (expired %s, %s)", e.Spec, e.Expires, e.Source))
	}
	return fmt.Errorf("%d known issue(s) expired; fix them or renew the entries: %s", len(k.Expired), strings.Join(ids, "; "))
}

// ApplyKnownIssues turns failing specs listed in issues (not expired at now) into outcome Known,
// keeping their Failure and attaching the entry. Only Fail outcomes are eligible: errors, skips
// and passes are never hidden. Expired entries are not applied and become run errors (the verdict
// becomes "error"); unused entries become warnings. Counts and verdict are recomputed.
func ApplyKnownIssues(r *Results, issues []KnownIssue, now time.Time) KnownResult {
	var res KnownResult
	r.KnownIssues = append([]KnownIssue(nil), issues...)
	for _, k := range issues {
		until, err := k.ExpiresAt()
		if err != nil || !now.Before(until) {
			res.Expired = append(res.Expired, k)
			r.Run.Errors = append(r.Run.Errors, fmt.Sprintf("known issue for %q expired on %s (%s): fix the failure or renew the entry", k.Spec, k.Expires, k.Source))
			continue
		}
		s, ok := r.Spec(k.Spec)
		if !ok || s.Outcome != Fail {
			res.Unused = append(res.Unused, k)
			state := "is not in this run"
			if ok {
				state = "did not fail (" + string(s.Outcome) + ")"
			}
			r.Run.Warnings = append(r.Run.Warnings, fmt.Sprintf("known issue for %q (%s) unused: the spec %s", k.Spec, k.Source, state))
			continue
		}
		kk := k
		s.Outcome = Known
		s.Known = &kk
		res.Applied = append(res.Applied, k)
	}
	r.Recount(nil)
	return res
}
