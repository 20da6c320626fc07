package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/reports"
)

// Specs the preset or focus did not select are skipped by Ginkgo with no reason; the console must not
// print them as SKIP results (the reports leave them out too), while a Skip with a reason is printed.
func TestProgressIgnoresUnselectedSpecs(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, false)
	spec := func(text string, st types.SpecState, msg string) types.SpecReport {
		r := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: st}
		if msg != "" {
			r.Failure = types.Failure{Message: msg}
		}
		return r
	}
	p.spec(1, spec("unselected", types.SpecStateSkipped, ""))
	p.spec(2, spec("skipped", types.SpecStateSkipped, "no data"))
	p.spec(3, spec("passed", types.SpecStatePassed, ""))
	got := out.String()
	if strings.Contains(got, "unselected") {
		t.Errorf("an unselected spec was printed: %q", got)
	}
	if !strings.Contains(got, "SKIP") || !strings.Contains(got, "skipped") {
		t.Errorf("a skipped spec must be printed as SKIP: %q", got)
	}
	if p.outcome["skip"] != 1 {
		t.Errorf("skip count = %d, want 1", p.outcome["skip"])
	}
}

func TestErrorDigest(t *testing.T) {
	refused := "error: GET http://127.0.0.1:1/fhir/metadata: connection refused"
	res := &reports.Results{Counts: reports.Counts{Total: 4, Error: 3, Pass: 1}, Specs: []reports.Spec{
		{ID: "a", Outcome: reports.Error, Reason: refused},
		{ID: "b", Outcome: reports.Error, Reason: "error: timeout"},
		{ID: "c", Outcome: reports.Error, Reason: refused},
		{ID: "d", Outcome: reports.Pass},
	}}
	want := "most frequent error (2 of 3 errors): GET http://127.0.0.1:1/fhir/metadata: connection refused"
	if got := errorDigest(res); got != want {
		t.Errorf("errorDigest = %q, want %q", got, want)
	}
	if got := errorDigest(&reports.Results{Specs: []reports.Spec{{Outcome: reports.Pass}}}); got != "" {
		t.Errorf("no errors: %q, want empty", got)
	}
}

// Specs blocked by one root cause are counted, not listed: the first names the cause once.
func TestProgressCountsBlockedSpecs(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, false)
	p.total = 5
	blocked := func(text string) types.SpecReport {
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: types.SpecStateFailed,
			Failure: types.Failure{Message: "error: blocked by smart-2.0.0/launch/standalone: login page"},
			ReportEntries: types.ReportEntries{
				{Name: evidence.BlockedEntryName, Value: types.WrapEntryValue(evidence.Blocked{Cause: "smart-2.0.0/launch/standalone", Reason: "the browser could not get past the login page"})},
				{Name: evidence.ErrorEntryName, Value: types.WrapEntryValue("error: blocked")},
			}}
	}
	for i, text := range []string{"first-blocked", "second-blocked", "third-blocked"} {
		p.spec(i+1, blocked(text))
	}
	p.spec(4, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "real-failure", State: types.SpecStateFailed, Failure: types.Failure{Message: "expected 200"}})
	got := out.String()
	if n := strings.Count(got, "BLOCKED by smart-2.0.0/launch/standalone: the browser could not get past the login page"); n != 1 {
		t.Errorf("root cause printed %d times, want once:\n%s", n, got)
	}
	for _, id := range []string{"first-blocked", "second-blocked", "third-blocked"} {
		if strings.Contains(got, id) {
			t.Errorf("blocked spec %s listed one by one:\n%s", id, got)
		}
	}
	if !strings.Contains(got, "FAIL  real-failure") {
		t.Errorf("the unblocked failure is not listed:\n%s", got)
	}
	if p.blocked != 3 || p.failed != 1 || p.outcome["error"] != 3 {
		t.Errorf("blocked %d failed %d errors %d, want 3, 1, 3", p.blocked, p.failed, p.outcome["error"])
	}
}

// On a terminal the live line shows done/total and the blocked counter.
func TestProgressLineShowsTotal(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, false)
	p.tty, p.total, p.blocked, p.done = true, 863, 700, 119
	p.spec(120, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "x\x1b]0;pwned\x07", State: types.SpecStatePassed})
	got := out.String()
	if !strings.Contains(got, "[120/863 done, ETA ") || !strings.Contains(got, ", 0 failed, 700 blocked, ") {
		t.Errorf("progress line %q lacks done/total and blocked", got)
	}
	if strings.ContainsAny(got, "\x1b\x07") {
		t.Errorf("progress line %q carries control characters from the spec id", got)
	}
}

func TestTermSafe(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		keepNL         bool
	}{
		{"plain", "GET /fhir/Patient/123: HTTP 200 — ok ✓", "GET /fhir/Patient/123: HTTP 200 — ok ✓", false},
		{"window title OSC 0 with BEL", "id\x1b]0;owned\x07end", `id\x1b]0;owned\x07end`, false},
		{"screen clear", "a\x1b[2Jb\x1b[H", `a\x1b[2Jb\x1b[H`, false},
		{"OSC 52 clipboard write", "\x1b]52;c;Y3VybCBldmlsLnNofHNo\x1b\\", `\x1b]52;c;Y3VybCBldmlsLnNofHNo\x1b\`, false},
		{"carriage return overwrite", "FAIL\rPASS", `FAIL\x0dPASS`, false},
		{"C1 CSI as a character", "a\u009b2Jb\u0085", `a\u009b2Jb\u0085`, false},
		{"C1 CSI as a raw byte", "a\x9b2Jb", `a\x9b2Jb`, false},
		{"DEL and NUL", "a\x7fb\x00c", `a\x7fb\x00c`, false},
		{"bidi override", "admin\u202egnp.exe", `admin\u202egnp.exe`, false},
		{"newline escaped in a one-line message", "line1\nline2", `line1\x0aline2`, false},
		{"newline kept in a stream", "line1\nline2\tx\x1b[31m", "line1\nline2\tx\\x1b[31m", true},
	} {
		got := termSafe(c.in, c.keepNL)
		if got != c.want {
			t.Errorf("%s: termSafe(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
		for _, r := range got {
			if (r < 0x20 && r != '\t' && !(r == '\n' && c.keepNL)) || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
				t.Errorf("%s: control character %U left in %q", c.name, r, got)
			}
		}
	}
}

// The verbose stream is escaped even when an escape sequence or a UTF-8 character is split
// across writes.
func TestTermWriterSplitWrites(t *testing.T) {
	var out bytes.Buffer
	w := &termWriter{w: &out}
	in := "ok ✓\n\x1b]0;title\x07 é\n"
	for i := 0; i < len(in); i++ { // one byte a write: splits ✓ and é
		if n, err := w.Write([]byte{in[i]}); n != 1 || err != nil {
			t.Fatalf("Write: %d %v", n, err)
		}
	}
	w.Flush()
	if want := "ok ✓\n\\x1b]0;title\\x07 é\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	out.Reset()
	w.Write([]byte("cut \xe2\x9c")) // a rune that never completes
	w.Flush()
	if got := out.String(); got != `cut \xe2\x9c` {
		t.Errorf("unfinished rune: %q", got)
	}
}

// After the verdict the console lists each missing SHALL requirement with what would enable it
// and each root cause once with its count, never the blocked specs one by one.
func TestPrintVerdictIncompleteAndRootCauses(t *testing.T) {
	res := &reports.Results{Verdict: reports.VerdictIncomplete,
		Counts: reports.Counts{Total: 715, Pass: 1, Skip: 2, Error: 712},
		Incomplete: []reports.Missing{
			{Requirement: "smart.isolation.cross-member", Status: "skip", Reason: "no second member configured", WouldEnable: "auth.second_member in the config"},
			{Requirement: "smart.client.confidential", Status: "error", Reason: "token endpoint: \x1b[2Jconnection reset\nsecond line"},
			{Requirement: "smart.pkce.s256", Status: "error", Reason: "error: blocked by smart-2.0.0/launch/standalone: the browser could not get past the login page"},
		},
		RootCauses: []reports.RootCause{{Cause: "smart-2.0.0/launch/standalone", Reason: "the browser could not get past the login page", Blocked: 712}},
	}
	for i := 0; i < 712; i++ {
		res.Specs = append(res.Specs, reports.Spec{ID: fmt.Sprintf("uscore/spec-%d", i), Outcome: reports.Error,
			Reason: "error: blocked by smart-2.0.0/launch/standalone: login", Blocked: &evidence.Blocked{Cause: "smart-2.0.0/launch/standalone"}})
	}
	for _, c := range []struct {
		name    string
		code    int
		quiet   bool
		want    []string
		notWant []string
	}{
		{"incomplete", ExitIncomplete, false, []string{
			"INCOMPLETE: 715 specs, 1 passed, 0 failed, 2 skipped, 712 errors, 0 known\n",
			"3 selected SHALL requirements did not run:\n",
			// a blocked requirement names its root cause; the cause's reason is printed once
			"  smart.pkce.s256 (error): blocked by smart-2.0.0/launch/standalone (root cause below)\n",
			"  smart.isolation.cross-member (skip): no second member configured; would run with: auth.second_member in the config\n",
			`  smart.client.confidential (error): token endpoint: \x1b[2Jconnection reset …` + "\n",
			"root cause: smart-2.0.0/launch/standalone — the browser could not get past the login page: 712 specs blocked\n",
		}, []string{"most frequent error", "uscore/spec-", "\x1b", "second line"}},
		{"allowed", ExitOK, false, []string{"INCOMPLETE: 715 specs", "(exit 0: incomplete allowed)", "root cause: "}, nil},
		{"quiet", ExitIncomplete, true, []string{"INCOMPLETE: 715 specs"}, []string{"root cause", "did not run"}},
	} {
		res.Run.Errors = nil
		var out bytes.Buffer
		printVerdict(&out, res, c.code, c.quiet)
		got := out.String()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, w, got)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(got, w) {
				t.Errorf("%s: output has %q:\n%s", c.name, w, got)
			}
		}
		if n := strings.Count(got, "\n"); n > 10 {
			t.Errorf("%s: %d lines for one root cause and three requirements", c.name, n)
		}
		if n := strings.Count(got, "could not get past the login page"); n > 1 {
			t.Errorf("%s: the root cause's reason printed %d times", c.name, n)
		}
	}
}

// The list of missing requirements is bounded; the report has them all.
func TestPrintVerdictBoundsTheList(t *testing.T) {
	res := &reports.Results{Verdict: reports.VerdictIncomplete}
	for i := 0; i < 50; i++ {
		res.Incomplete = append(res.Incomplete, reports.Missing{Requirement: fmt.Sprintf("req.%d", i), Status: "skip", Reason: "r"})
	}
	var out bytes.Buffer
	printVerdict(&out, res, ExitIncomplete, false)
	if got := out.String(); !strings.Contains(got, "… and 30 more") || strings.Contains(got, "req.20 ") {
		t.Errorf("50 missing requirements not bounded to %d lines:\n%s", maxListed, got)
	}
}

// After the deadline or an interrupt the runner ends every remaining spec at once: one line says
// why, the rest are counted.
func TestProgressCountsSpecsNotRun(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, false)
	for i := 0; i < 300; i++ {
		p.spec(i+1, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: fmt.Sprintf("spec-%d", i), State: types.SpecStateFailed,
			Failure:       types.Failure{Message: "error: not run: the run's deadline passed (5s; raise limits.deadline or --deadline)"},
			ReportEntries: types.ReportEntries{{Name: evidence.ErrorEntryName, Value: types.WrapEntryValue("x")}}})
	}
	got := out.String()
	if strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "NOT RUN: the run's deadline passed (5s; raise limits.deadline or --deadline)") {
		t.Errorf("300 specs not run printed as:\n%s", got)
	}
	if p.notRun != 300 || p.failed != 0 {
		t.Errorf("notRun %d failed %d, want 300 and 0", p.notRun, p.failed)
	}
}

// An ERROR run prints its run errors (bounded, escaped) and not the list of requirements it missed.
func TestPrintVerdictRunErrors(t *testing.T) {
	res := &reports.Results{Verdict: reports.VerdictError, Counts: reports.Counts{Total: 2, Pass: 1, Skip: 1},
		Incomplete: []reports.Missing{{Requirement: "uscore.read", Status: "skip", Reason: "not run: Suite Timeout Elapsed"}}}
	res.Run.Errors = []string{"known issue for \"x\" expired on 2026-01-01 (k.yaml:3)", "Interrupted by User\x1b[2J"}
	for i := 0; i < 10; i++ {
		res.Run.Errors = append(res.Run.Errors, fmt.Sprintf("suite node %d failed", i))
	}
	var out bytes.Buffer
	printVerdict(&out, res, ExitEnvError, false)
	got := out.String()
	for _, want := range []string{"ERROR: 2 specs", "run error: known issue for \"x\" expired on 2026-01-01 (k.yaml:3)\n",
		`run error: Interrupted by User\x1b[2J`, "… and 7 more run errors"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "did not run") || strings.Contains(got, "\x1b[") {
		t.Errorf("an ERROR run lists missing requirements or prints an escape sequence:\n%s", got)
	}
}

// The number of selected specs is read from the line Ginkgo prints when the suite starts, in
// either verbosity, even when it arrives in pieces; the output still reaches the next writer.
func TestSelectionSniffer(t *testing.T) {
	for _, c := range []struct {
		name   string
		writes []string
		want   int
	}{
		{"succinct", []string{"[1] pacheck - 863/885 specs ", "•••"}, 863},
		{"verbose", []string{"Running Suite: pacheck - /work\n=====\nRandom Seed: 1\n\nWill run 74 of 885 specs\n"}, 74},
		{"split", []string{"[1] pacheck - 12", "0/885 sp", "ecs "}, 120},
		{"none selected", []string{"[1] pacheck - 0/885 specs "}, 0},
		{"no banner", []string{"something else\n"}, -2},
	} {
		var out bytes.Buffer
		got := -2
		s := &selectionSniffer{next: &out, found: func(n int) { got = n }}
		for _, w := range c.writes {
			if n, err := s.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("%s: Write: %d %v", c.name, n, err)
			}
		}
		if got != c.want || out.String() != strings.Join(c.writes, "") {
			t.Errorf("%s: found %d (want %d), passed on %q", c.name, got, c.want, out.String())
		}
	}
}

// The live line counts only selected specs against the selection's total, with an ETA once
// enough specs ended to estimate it.
func TestProgressCounterAndETA(t *testing.T) {
	p := newProgress(&bytes.Buffer{}, false, false)
	p.total = 100
	for i := 0; i < 150; i++ { // unselected specs Ginkgo reports: not counted
		p.spec(i+1, types.SpecReport{LeafNodeType: types.NodeTypeIt, State: types.SpecStateSkipped})
	}
	if got := p.counter(p.start.Add(time.Second)); got != "0/100 done" {
		t.Errorf("after unselected specs: %q, want 0/100 done", got)
	}
	for i := 0; i < 5; i++ {
		p.spec(0, types.SpecReport{LeafNodeType: types.NodeTypeIt, State: types.SpecStatePassed})
	}
	if got := p.counter(p.start.Add(5 * time.Second)); got != "5/100 done" {
		t.Errorf("too few for an ETA: %q", got)
	}
	for i := 0; i < 15; i++ {
		p.spec(0, types.SpecReport{LeafNodeType: types.NodeTypeIt, State: types.SpecStatePassed})
	}
	// 20 specs in 40 s: 2 s each, 80 left
	if got := p.counter(p.start.Add(40 * time.Second)); got != "20/100 done, ETA 2m40s" {
		t.Errorf("%q, want 20/100 done, ETA 2m40s", got)
	}
	p.total = 0
	if got := p.counter(p.start); got != "20 done" {
		t.Errorf("unknown total: %q", got)
	}
}

// A failure, error or skip line says why, on one line, redacted like the reports.
func TestProgressLineSaysWhy(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, false)
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZW1iZXItMSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
	p.spec(1, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "search/date", State: types.SpecStateFailed,
		Failure: types.Failure{Message: "Encounter?date=ge2024-11-10 returned Encounter/enc-2-2 whose period ends 2024-09-25\nexpected …"}})
	p.spec(2, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "read", State: types.SpecStateFailed,
		Failure: types.Failure{Message: "error: GET Patient/1 with Authorization: Bearer " + jwt + " refused"}})
	p.spec(3, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "paging", State: types.SpecStateSkipped,
		Failure: types.Failure{Message: "a member's token opens one Patient: nothing to page"}})
	got := out.String()
	for _, want := range []string{
		"FAIL  search/date: Encounter?date=ge2024-11-10 returned Encounter/enc-2-2 whose period ends 2024-09-25\n",
		"SKIP  paging: a member's token opens one Patient: nothing to page\n",
		"read: GET Patient/1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, jwt) || strings.Contains(got, "expected …") {
		t.Errorf("console shows a token or a second line:\n%s", got)
	}
}

// A failure whose own first line only counts errors is printed with its first error issue, the
// line the report, JUnit, summary.md and results.csv show.
func TestProgressLineUsesHeadline(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, false)
	ent := &evidence.Entry{Kind: evidence.KindIssues, Issues: []issue.Issue{{Severity: issue.Error, Rule: "cardinality",
		Path: "Patient.name", Message: "Patient.name: minimum 1, found 0"}}}
	p.spec(1, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "validation", State: types.SpecStateFailed,
		Failure:       types.Failure{Message: "validation: 1 error(s)"},
		ReportEntries: types.ReportEntries{{Name: evidence.EntryName, Value: types.WrapEntryValue(ent)}}})
	if got := out.String(); !strings.Contains(got, "FAIL  validation: Patient.name: minimum 1, found 0") {
		t.Errorf("console line %q: want the first error issue, not the count", got)
	}
}

// Specs for a person to review are counted on the verdict line only when there are some.
func TestPrintVerdictReview(t *testing.T) {
	for _, c := range []struct {
		review int
		want   string
	}{
		{0, "CONFORMANT: 3 specs, 2 passed, 0 failed, 0 skipped, 0 errors, 0 known\n"},
		{1, "CONFORMANT: 3 specs, 2 passed, 0 failed, 0 skipped, 0 errors, 0 known, 1 for a person to review\n"},
	} {
		res := &reports.Results{Verdict: reports.VerdictPass, Counts: reports.Counts{Total: 3, Pass: 2, Review: c.review}}
		var out bytes.Buffer
		printVerdict(&out, res, ExitOK, true)
		if out.String() != c.want {
			t.Errorf("review %d: %q, want %q", c.review, out.String(), c.want)
		}
	}
}
