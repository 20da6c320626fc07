// Package framework is what every pacheck spec calls: requirement labels checked against the
// catalogue, evidence attachment, the conformance assertion, and the honest outcome helpers
// (fail for non-conformance, skip with the exact reason, error for tool or environment trouble).
// It also holds the run context the specs read while the tree is built and while they run.
package framework

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

var (
	catOnce sync.Once
	cat     *profiles.Catalogue
	catErr  error

	usedMu  sync.Mutex
	usedIDs = map[string]bool{}
)

// Catalogue is the embedded requirements catalogue.
func Catalogue() (*profiles.Catalogue, error) {
	catOnce.Do(func() { cat, catErr = profiles.Requirements() })
	return cat, catErr
}

// Req labels a spec with its requirement ids (req:<id>) and the strongest level among them
// (level:SHALL|SHOULD|MAY). Unknown ids are remembered and reported by UnknownRequirements, which
// the runner and each suite's tests check, so a typo can never produce an untraceable spec.
func Req(ids ...string) Labels {
	c, _ := Catalogue()
	labels := Labels{}
	level := ""
	usedMu.Lock()
	defer usedMu.Unlock()
	for _, id := range ids {
		usedIDs[id] = true
		labels = append(labels, "req:"+id)
		if c == nil {
			continue
		}
		if r, ok := c.Lookup(id); ok && stronger(r.Level, level) {
			level = r.Level
		}
	}
	if level != "" {
		labels = append(labels, "level:"+level)
	}
	return labels
}

func stronger(a, b string) bool {
	rank := map[string]int{"": 0, "MAY": 1, "SHOULD": 2, "SHALL": 3}
	return rank[a] > rank[b]
}

// UsedRequirements lists every requirement id a spec in the built tree named, sorted.
func UsedRequirements() []string {
	usedMu.Lock()
	defer usedMu.Unlock()
	out := make([]string, 0, len(usedIDs))
	for id := range usedIDs {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// UnknownRequirements lists ids named by specs that the catalogue does not hold.
func UnknownRequirements() []string {
	c, err := Catalogue()
	if err != nil {
		return []string{"catalogue: " + err.Error()}
	}
	var out []string
	for _, id := range UsedRequirements() {
		if _, ok := c.Lookup(id); !ok {
			out = append(out, id)
		}
	}
	return out
}

// Evidence attaches one piece of evidence to the running spec. It is shown with failures and in
// verbose output, and always reaches the reports.
func Evidence(e *evidence.Entry) {
	AddReportEntry(evidence.EntryName, e, ReportEntryVisibilityFailureOrVerbose)
}

// Note attaches a short text to the running spec (what was searched, which value was used...).
func Note(title, format string, args ...any) {
	Evidence(&evidence.Entry{Kind: evidence.KindNote, Title: title, Text: fmt.Sprintf(format, args...)})
}

// Quote attaches the requirement statements of ids as the spec's quoted requirement.
func Quote(ids ...string) {
	c, err := Catalogue()
	if err != nil {
		return
	}
	var b strings.Builder
	for _, id := range ids {
		if r, ok := c.Lookup(id); ok {
			fmt.Fprintf(&b, "%s [%s] %s", id, r.Level, r.Statement)
			if r.Section != "" {
				fmt.Fprintf(&b, " (%s)", r.Section)
			}
			b.WriteString("\n")
		}
	}
	if b.Len() > 0 {
		AddReportEntry(evidence.RequirementEntryName, strings.TrimSpace(b.String()), ReportEntryVisibilityNever)
	}
}

// ExpectConformant attaches the issues as evidence and fails the spec when any is an error,
// quoting each as "rule: message @ path". Warnings and information never fail a spec. Before it
// fails, each error issue is attributed to the one requirement it breaks (see Attribute) and the
// spec records those ids (evidence.BrokenEntryName), so only they are marked failed.
func ExpectConformant(title string, issues issue.List) {
	GinkgoHelper()
	errs := issues.Errors()
	if len(errs) == 0 {
		if len(issues) > 0 {
			Evidence(&evidence.Entry{Kind: evidence.KindIssues, Title: title, Issues: issues})
		}
		return
	}
	attributed := slices.Clone(issues)
	broken := attributeRunning(attributed)
	Evidence(&evidence.Entry{Kind: evidence.KindIssues, Title: title, Issues: attributed})
	AddReportEntry(evidence.BrokenEntryName, broken, ReportEntryVisibilityNever)
	Fail(FormatFailure(title, errs))
}

// CitedRequirements are the requirement ids the running spec cites (its req:<id> labels), in
// label order. Outside a running spec it is empty.
func CitedRequirements() []string {
	var out []string
	for _, l := range CurrentSpecReport().Labels() {
		if id, ok := strings.CutPrefix(l, "req:"); ok && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// attributeRunning attributes the error issues in place for the running spec, notes each rule
// the map could not place, and returns the broken requirement ids.
func attributeRunning(issues issue.List) []string {
	broken, unmapped := Attribute(issues, CitedRequirements())
	for _, u := range unmapped {
		Note("attribution", "unmapped rule %s: it names no requirement this spec cites; attributed to %s (fix the spec's requirements or profiles/requirements/rules)", u.Rule, u.To)
	}
	return broken
}

// Unmapped is a rule that named no requirement its spec cites, and where its issues went.
type Unmapped struct {
	Rule string
	To   string // the spec's first SHALL requirement (else its first)
}

// Attribute sets Requirement on each error issue that has none: the one requirement the spec
// citing cited breaks, from the rule map (profiles.Rules) — the only cited id when the spec
// cites one, else the rule's candidate the spec cites. An issue whose rule names no cited
// requirement goes to the spec's first SHALL requirement and is listed in unmapped: a bug in the
// spec or the map, made visible instead of guessed. It returns the broken ids in first-seen
// order; an issue a check attributed itself keeps its requirement.
func Attribute(issues issue.List, cited []string) (broken []string, unmapped []Unmapped) {
	m, _ := profiles.Rules()
	for i := range issues {
		is := &issues[i]
		if is.Severity != issue.Error {
			continue
		}
		if is.Requirement == "" && len(cited) > 0 {
			id, ok := m.Attribute(is.Rule, cited)
			if !ok {
				id = firstShall(cited)
				if !slices.ContainsFunc(unmapped, func(u Unmapped) bool { return u.Rule == is.Rule }) {
					unmapped = append(unmapped, Unmapped{Rule: is.Rule, To: id})
				}
			}
			is.Requirement = id
		}
		if is.Requirement != "" && !slices.Contains(broken, is.Requirement) {
			broken = append(broken, is.Requirement)
		}
	}
	return broken, unmapped
}

// firstShall is the first SHALL requirement among ids, else the first id.
func firstShall(ids []string) string {
	c, _ := Catalogue()
	for _, id := range ids {
		if r, ok := c.Lookup(id); ok && r.Level == profiles.LevelShall {
			return id
		}
	}
	return ids[0]
}

// FormatFailure renders error issues the way a failed spec shows them: at most 20 lines, the
// rest counted.
func FormatFailure(title string, errs issue.List) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d error(s)", title, len(errs))
	for i, e := range errs {
		if i == 20 {
			fmt.Fprintf(&b, "\n  ... and %d more (see evidence)", len(errs)-20)
			break
		}
		fmt.Fprintf(&b, "\n  %s: %s", e.Rule, e.Message)
		if e.Path != "" {
			fmt.Fprintf(&b, " @ %s", e.Path)
		}
	}
	return b.String()
}

// Expectf fails the spec with "rule: expected ..., got ..." when ok is false. The finding is
// attributed and recorded like an ExpectConformant issue.
func Expectf(ok bool, rule, expected, actual string) {
	GinkgoHelper()
	if ok {
		return
	}
	msg := fmt.Sprintf("expected %s, got %s", expected, actual)
	l := issue.List{{Severity: issue.Error, Rule: rule, Message: msg, Expected: expected, Actual: actual}}
	broken := attributeRunning(l)
	Evidence(&evidence.Entry{Kind: evidence.KindIssues, Title: rule, Issues: l})
	AddReportEntry(evidence.BrokenEntryName, broken, ReportEntryVisibilityNever)
	Fail(rule + ": " + msg)
}

// Infra ends the spec as an ERROR: the tool or the environment failed (target unreachable,
// browser missing, timeout), so nothing is known about conformance.
func Infra(err error) {
	GinkgoHelper()
	if b, ok := blockedBy(err); ok {
		Block(b)
		return
	}
	msg := "error: " + err.Error()
	AddReportEntry(evidence.ErrorEntryName, msg, ReportEntryVisibilityAlways)
	Fail(msg)
}

// Review marks the running spec as needing a person's confirmation: it found nothing wrong but
// leaves a judgement the tool cannot make (whether consent text is understandable, whether a
// figure is acceptable). The spec still passes in Ginkgo; the reports show it as the outcome
// "review", apart from pass, and it never changes the verdict by itself. Several calls join.
func Review(format string, args ...any) {
	AddReportEntry(evidence.ReviewEntryName, fmt.Sprintf(format, args...), ReportEntryVisibilityNever)
}

// SkipBecause skips the spec with the exact reason and what data would have enabled it.
func SkipBecause(reason, wouldEnable string) {
	GinkgoHelper()
	msg := reason
	if wouldEnable != "" {
		msg += "; to enable: " + wouldEnable
	}
	Skip(msg)
}

// Spec declares a spec citing the requirement ids: the one list labels it (Req) and is quoted
// when it runs (Quote), so a spec's labels and its quoted statements cannot disagree. The spec
// takes the caller's code location (Ginkgo orders specs by it); a helper that declares specs for
// its callers passes its caller's location (types.NewCodeLocation(1)) among the decorators.
func Spec(text string, ids []string, body func(), decorators ...any) bool {
	args := append([]any{types.NewCodeLocation(1), Req(ids...)}, decorators...)
	return It(text, append(args, func() {
		Quote(ids...)
		body()
	})...)
}
