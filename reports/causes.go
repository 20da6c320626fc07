package reports

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
)

// FailureGroup is a set of failed specs with one cause: the same issue rules (the validator's and
// the checks' classification of what the server did wrong) or, for a failure without issues, the
// same broken requirements and the same failure line once ids, numbers and URLs are set aside.
type FailureGroup struct {
	ID      string   // stable within one report: "cause-1", "cause-2", ... largest first
	Key     string   // what the specs share (rules, or broken ids + normalised line)
	Title   string   // plain words: "date search parameters ignored"
	Rules   []string // the issue rules (causes) of the group, sorted; empty for message groups
	Broken  []string // union of the requirements the specs break, sorted
	Specs   []string // spec ids, in report order
	Example string   // the representative spec (the first)
	Line    string   // the representative's most telling line: its first error issue, else its failure's first line
	// Exchange is the representative's HTTP exchange the first issue is about (else its first
	// exchange), redacted; nil when it recorded none.
	Exchange *evidence.Exchange
}

// FailureGroups groups the failed specs of r by cause, the largest group first (ties: first
// occurrence). Known failures and errors are not grouped here (errors have RootCauses).
func FailureGroups(r *Results) []FailureGroup {
	var out []FailureGroup
	idx := map[string]int{}
	for i := range r.Specs {
		s := &r.Specs[i]
		if s.Outcome != Fail {
			continue
		}
		key, rules := causeKey(*s)
		g, ok := idx[key]
		if !ok {
			g = len(out)
			idx[key] = g
			fg := FailureGroup{Key: key, Rules: rules, Example: s.ID, Line: specHeadline(*s)}
			fg.Exchange = representativeExchange(*s)
			fg.Title = causeTitle(rules, fg.Line)
			out = append(out, fg)
		}
		out[g].Specs = append(out[g].Specs, s.ID)
		out[g].Broken = mergeSorted(out[g].Broken, s.Broken)
	}
	sort.SliceStable(out, func(a, b int) bool { return len(out[a].Specs) > len(out[b].Specs) })
	for i := range out {
		out[i].ID = "cause-" + strconv.Itoa(i+1)
	}
	return out
}

// errorIssues are the error-severity issues in a spec's evidence, in order.
func errorIssues(s Spec) []issue.Issue {
	var out []issue.Issue
	for _, e := range s.Evidence {
		if e.Kind != evidence.KindIssues {
			continue
		}
		for _, is := range e.Issues {
			if is.Severity == issue.Error {
				out = append(out, is)
			}
		}
	}
	return out
}

// causeKey is what a failed spec's cause is compared by: the sorted set of its error issues'
// causes (issueCause), else its broken requirements and normalised first failure line.
func causeKey(s Spec) (key string, rules []string) {
	set := map[string]bool{}
	for _, is := range errorIssues(s) {
		if c := issueCause(is); c != "" {
			set[c] = true
		}
	}
	if len(set) > 0 {
		for c := range set {
			rules = append(rules, c)
		}
		sort.Strings(rules)
		return "rules:" + strings.Join(rules, ","), rules
	}
	line := ""
	if s.Failure != nil {
		line = firstLine(s.Failure.Message)
	}
	return "msg:" + strings.Join(s.Broken, ",") + "|" + normaliseLine(line), nil
}

// searchDateValue finds the value of a search-semantics issue message ("… was returned for
// date=ge2024-11-10 but does not match it …"); a value shaped like a FHIR date (with an
// optional prefix) shows the parameter is a date parameter.
var searchDateValue = regexp.MustCompile(`was returned for [^=\s]+=(?:eq|ne|gt|lt|ge|le|sa|eb|ap)?[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?(?:T[0-9:.+\-Z]*)?(?:[\s,:&]|$)`)

// issueCause is an issue's rule, refined where the rule alone mixes server behaviours: a bare
// search-semantics issue (suites that do not add the parameter type, as US Core's does with
// "search-semantics:date") becomes search-semantics:date when the value searched for is a date.
func issueCause(is issue.Issue) string {
	rule := strings.TrimSpace(is.Rule)
	if rule == "" {
		rule = strings.TrimSpace(is.Requirement)
	}
	if rule == searchRule && searchDateValue.MatchString(is.Message) {
		return searchRule + ":date"
	}
	return rule
}

// searchRule is checks/search.Rule (not imported: reports stays a leaf of the checks).
const searchRule = "search-semantics"

// causeTitles says in plain words what a server did for the issue rules seen most; other
// rules fall back to the representative's line.
var causeTitles = map[string]string{
	"search-semantics":              "search parameters ignored: searches return resources that do not match",
	"search-semantics:date":         "date search parameters ignored: searches return resources outside the date asked for",
	"search-semantics:string":       "string search parameters ignored: searches return resources that do not match the text",
	"search-semantics:token":        "token search parameters ignored: searches return resources with other codes",
	"search-semantics:token-system": "the system of system|code token searches is ignored",
	"search-semantics:reference":    "reference search parameters ignored: searches return resources of other references",
	"read":                          "read returns a resource that differs from the one the search returned",
	"must-support":                  "must-support elements are never populated",
	"binding":                       "codes outside a required value set",
	"cardinality":                   "required elements missing or repeated too often",
	"slicing":                       "required slices missing",
	"search.include":                "_include ignored",
	"search.revinclude":             "_revinclude ignored",
	"search.paging.loop":            "paging never ends (next links loop)",
}

func causeTitle(rules []string, line string) string {
	if len(rules) == 1 {
		if t, ok := causeTitles[rules[0]]; ok {
			return t
		}
		if strings.HasPrefix(rules[0], "invariant") {
			return "a profile invariant is broken (" + rules[0] + ")"
		}
	}
	var parts []string
	for _, r := range rules {
		if t, ok := causeTitles[r]; ok {
			parts = append(parts, t)
		}
	}
	if len(parts) == len(rules) && len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	return line
}

// lineNoise is what differs between two failures of one cause: URLs, resource references,
// quoted values, dates and numbers.
var lineNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[a-z][a-z0-9+.-]*://\S+`), "<url>"},
	{regexp.MustCompile(`"[^"]*"|'[^']*'`), "<q>"},
	{regexp.MustCompile(`\b[A-Z][A-Za-z]+/[A-Za-z0-9.\-]+`), "<ref>"},
	{regexp.MustCompile(`\b[A-Z][A-Za-z]+\?\S*`), "<search>"},
	{regexp.MustCompile(`[0-9]+`), "#"},
}

// normaliseLine keeps the shape of a failure line: ids, values and numbers become placeholders.
func normaliseLine(s string) string {
	s = strings.TrimSpace(PlainText(s))
	for _, n := range lineNoise {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// countLine matches a failure line that only counts ("read: 3 error(s)"): the first error issue
// says more.
var countLine = regexp.MustCompile(`:\s*[0-9]+ error\(s\)$`)

// specHeadline is the most telling line of a failed spec: the first line of its failure,
// unless that line only counts errors; then its first error issue's message (with the path when
// the message lacks it).
func specHeadline(s Spec) string {
	line := ""
	if s.Failure != nil {
		line = firstLine(s.Failure.Message)
	}
	if line != "" && !countLine.MatchString(line) {
		return Redact(line)
	}
	if is := errorIssues(s); len(is) > 0 {
		m := strings.TrimSpace(is[0].Message)
		if m == "" {
			m = is[0].Rule
		}
		if is[0].Path != "" && !strings.Contains(m, is[0].Path) {
			m += " (at " + is[0].Path + ")"
		}
		return Redact(firstLine(m))
	}
	return Redact(line)
}

// representativeExchange is the redacted HTTP exchange of s the first error issue is about: the
// exchange whose URL ends with the "GET <path>" the message names, else the spec's first.
func representativeExchange(s Spec) *evidence.Exchange {
	var first *evidence.Exchange
	want := ""
	if is := errorIssues(s); len(is) > 0 {
		if rest, ok := strings.CutPrefix(is[0].Message, "GET "); ok {
			want, _, _ = strings.Cut(rest, ":")
			want, _, _ = strings.Cut(want, " ")
		}
	}
	for _, e := range s.Evidence {
		if e.Exchange == nil {
			continue
		}
		if first == nil {
			first = e.Exchange
		}
		if want != "" && strings.HasSuffix(e.Exchange.URL, want) {
			x := RedactEntry(evidence.Entry{Exchange: e.Exchange}).Exchange
			return x
		}
	}
	if first == nil {
		return nil
	}
	return RedactEntry(evidence.Entry{Exchange: first}).Exchange
}

// mergeSorted adds ids to a sorted set.
func mergeSorted(set, ids []string) []string {
	for _, id := range ids {
		i := sort.SearchStrings(set, id)
		if i < len(set) && set[i] == id {
			continue
		}
		set = append(set, "")
		copy(set[i+1:], set[i:])
		set[i] = id
	}
	return set
}

// Headline is the one line that says what is wrong with a failed spec, as every output shows
// it (failHeadline), for the console, which prints specs from Ginkgo's report as they end; ""
// for a spec that did not fail or whose failure's own first line is the headline.
func Headline(sr types.SpecReport) string {
	if line := firstLine(sr.Failure.Message); line != "" && !countLine.MatchString(line) {
		return "" // the failure's own first line says it: no need to decode the evidence
	}
	s, ok := specFromGinkgo(sr, nil, "")
	if !ok || s.Outcome != Fail {
		return ""
	}
	return failHeadline(s)
}
