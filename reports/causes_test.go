package reports

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

// Four faults' failures, spread over nine requirements in three IGs, form four groups.
func TestFailureGroupsFourFaults(t *testing.T) {
	r := faultResults(t)
	groups := FailureGroups(r)
	type want struct {
		title  string
		n      int
		broken []string
	}
	wants := []want{
		{"read returns a resource that differs", 5, []string{"carinbb.read", "uscore.read.matches-search"}},
		{"date search parameters ignored", 5, []string{"carinbb.search.semantics", "uscore.search.date"}},
		{"must-support elements", 2, []string{"carinbb.profile.must-support", "uscore.profile.must-support"}},
		{`GET Patient/p-1 answered Content-Type "text/plain"`, 2, []string{"capability.http.content-type"}},
	}
	if len(groups) != len(wants) {
		for _, g := range groups {
			t.Logf("%s %q %d %s", g.ID, g.Title, len(g.Specs), g.Key)
		}
		t.Fatalf("%d groups, want %d", len(groups), len(wants))
	}
	total := 0
	for i, w := range wants {
		g := groups[i]
		total += len(g.Specs)
		if !strings.HasPrefix(g.Title, w.title) || len(g.Specs) != w.n || !slices.Equal(g.Broken, w.broken) {
			t.Errorf("group %d: %q, %d specs, broken %v; want %q…, %d, %v", i, g.Title, len(g.Specs), g.Broken, w.title, w.n, w.broken)
		}
		if g.ID == "" || g.Example != g.Specs[0] || g.Line == "" {
			t.Errorf("group %d: id %q example %q line %q", i, g.ID, g.Example, g.Line)
		}
		if g.Exchange == nil {
			t.Errorf("group %d has no representative exchange", i)
		}
	}
	if total != r.Counts.Fail {
		t.Errorf("groups hold %d specs, the run has %d failures", total, r.Counts.Fail)
	}
	// The representative exchange is the one the first issue names.
	if x := groups[1].Exchange; x == nil || !strings.HasSuffix(x.URL, "Encounter?patient=m-1&date=ge2024-11-10") {
		t.Errorf("date group exchange %+v, want the Encounter search the issue names", x)
	}
	// The line says what is wrong, not how many errors there were.
	if l := groups[0].Line; !strings.Contains(l, "differs from the resource the search returned") {
		t.Errorf("read group line %q", l)
	}
}

func TestIssueCause(t *testing.T) {
	for _, c := range []struct {
		is   issue.Issue
		want string
	}{
		{issue.Issue{Rule: "search-semantics:date"}, "search-semantics:date"},
		{issue.Issue{Rule: "search-semantics", Message: "GET X?d=ge2024-11-10: X/1 was returned for service-date=ge2024-11-10 but does not match it"}, "search-semantics:date"},
		{issue.Issue{Rule: "search-semantics", Message: "GET X?_lastUpdated=2025-05-29T10:00:00Z: X/1 was returned for _lastUpdated=2025-05-29T10:00:00Z but does not match it"}, "search-semantics:date"},
		{issue.Issue{Rule: "search-semantics", Message: "GET X?name=Smith: X/1 was returned for name=Smith but does not match it"}, "search-semantics"},
		{issue.Issue{Rule: "search-semantics", Message: "GET X?code=2024: X/1 was returned for code=20241 but does not match it"}, "search-semantics"},
		{issue.Issue{Rule: "", Requirement: "uscore.x"}, "uscore.x"},
		{issue.Issue{Rule: " binding "}, "binding"},
	} {
		if got := issueCause(c.is); got != c.want {
			t.Errorf("issueCause(%q, %q) = %q, want %q", c.is.Rule, c.is.Message, got, c.want)
		}
	}
}

func TestNormaliseLine(t *testing.T) {
	same := [][2]string{
		{`GET Patient/p-1 answered "text/plain"`, `GET Observation/o-22 answered "text/html"`},
		{"expected 3 entries at https://a.example/x?y=1, got 4", "expected 10 entries at https://b.example/z, got 0"},
		{"Encounter?date=ge2024-11-10 returned 2 resources", "Observation?date=le2020-01-01&patient=1 returned 7 resources"},
	}
	for _, p := range same {
		if a, b := normaliseLine(p[0]), normaliseLine(p[1]); a != b {
			t.Errorf("%q → %q and %q → %q: want the same shape", p[0], a, p[1], b)
		}
	}
	if normaliseLine("token endpoint accepted plain") == normaliseLine("token endpoint accepted a reused code") {
		t.Error("different behaviours normalised to one line")
	}
}

func TestSpecHeadline(t *testing.T) {
	s := faultSpec("a", "g", "r", "read: 3 error(s)", errIssue("read", "r", "GET X/1 differs"))
	if got := specHeadline(s); got != "GET X/1 differs (at Bundle.entry[0])" {
		t.Errorf("count-only line: headline %q", got)
	}
	s = faultSpec("a", "g", "r", "Encounter?date=ge2024-11-10 returned Encounter/enc-2-2 whose period ends 2024-09-25", errIssue("read", "r", "other"))
	if got := specHeadline(s); !strings.HasPrefix(got, "Encounter?date=") {
		t.Errorf("telling line replaced: %q", got)
	}
	s.Failure.Message = "search: 1 error(s) access_token=SECRET-QUERY-TOKEN"
	s.Evidence = nil
	if got := specHeadline(s); strings.Contains(got, "SECRET") {
		t.Errorf("headline not redacted: %q", got)
	}
}

// The same telling line reaches junit.xml's message, summary.md and results.csv.
func TestHeadlineInEveryOutput(t *testing.T) {
	s := faultSpec("uscore-6.1.0/patient/read", "uscore-6.1.0", "r", "read: 3 error(s)", errIssue("read", "r", "GET Patient/1 differs from the search result"))
	r := &Results{SchemaVersion: SchemaVersion, Verdict: VerdictFail, Specs: []Spec{s}}
	want := "GET Patient/1 differs from the search result"
	for name, write := range map[string]func(io.Writer, *Results) error{"junit": WriteJUnit, "summary": WriteSummary, "csv": WriteCSV} {
		var b bytes.Buffer
		if err := write(&b, r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s lacks the headline %q:\n%s", name, want, b.String())
		}
	}
}
