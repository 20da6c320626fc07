package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

// verdictCatalogue: four SHALL requirements and one SHOULD.
func verdictCatalogue(t testing.TB) *profiles.Catalogue {
	t.Helper()
	var b strings.Builder
	for _, id := range []string{"a", "b", "c", "d"} {
		fmt.Fprintf(&b, "- id: t.%s\n  statement: Requirement %s.\n  level: SHALL\n", id, id)
	}
	b.WriteString("- id: t.should\n  statement: A SHOULD.\n  level: SHOULD\n")
	cat, err := profiles.LoadRequirements(fstest.MapFS{"t.yaml": {Data: []byte(b.String())}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// vspec is a spec of a hand-built Ginkgo report: its outcome and the requirements it cites.
type vspec struct {
	id      string
	outcome Outcome
	reqs    []string
	level   string            // level: label; "" for none
	reason  string            // skip reason, error reason or failure message
	broken  []string          // pacheck.broken entry (fail)
	issues  []issue.Issue     // issues evidence (fail)
	blocked *evidence.Blocked // pacheck.blocked entry (error)
	asJSON  bool              // entries in their JSON form (a report read back from --json-report)
}

func (v vspec) report(t testing.TB) types.SpecReport {
	var labels []string
	for _, q := range v.reqs {
		labels = append(labels, "req:"+q)
	}
	if v.level != "" {
		labels = append(labels, "level:"+v.level)
	}
	entry := func(name string, val any) types.ReportEntry {
		if v.asJSON {
			return jsonForm(t, name, val)
		}
		return types.ReportEntry{Name: name, Value: wrap(val)}
	}
	state := map[Outcome]types.SpecState{Pass: types.SpecStatePassed, Fail: types.SpecStateFailed, Error: types.SpecStateFailed, Skip: types.SpecStateSkipped}[v.outcome]
	sr := spec([]string{"t"}, v.id, state, labels...)
	sr.ContainerHierarchyLabels = nil
	switch v.outcome {
	case Fail:
		sr.Failure = types.Failure{Message: v.reason}
		if v.broken != nil {
			sr.ReportEntries = append(sr.ReportEntries, entry(evidence.BrokenEntryName, v.broken))
		}
		if v.issues != nil {
			sr.ReportEntries = append(sr.ReportEntries, entry(evidence.EntryName, &evidence.Entry{Kind: evidence.KindIssues, Title: "validation", Issues: v.issues}))
		}
	case Skip:
		sr.Failure = types.Failure{Message: v.reason}
	case Error:
		sr.Failure = types.Failure{Message: v.reason}
		if v.blocked != nil {
			sr.ReportEntries = append(sr.ReportEntries, entry(evidence.BlockedEntryName, *v.blocked))
		}
		sr.ReportEntries = append(sr.ReportEntries, entry(evidence.ErrorEntryName, v.reason))
	}
	return sr
}

func verdictResults(t testing.TB, cat *profiles.Catalogue, specs ...vspec) *Results {
	t.Helper()
	rep := types.Report{SuiteDescription: "t", StartTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	for _, v := range specs {
		rep.SpecReports = append(rep.SpecReports, v.report(t))
	}
	r, err := FromGinkgo(rep, RunMeta{Target: "https://fhir.example"}, cat)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func statuses(r *Results) map[string]string {
	out := map[string]string{}
	for _, q := range r.Requirements {
		out[q.ID] = q.Status
	}
	return out
}

// A failed spec citing three requirements marks failed only the one it broke; the others are
// not judged by it (and pass when another spec passes them).
func TestAttribution(t *testing.T) {
	cat := verdictCatalogue(t)
	passC := vspec{id: "pass c", outcome: Pass, reqs: []string{"t.c"}}
	cases := []struct {
		name     string
		specs    []vspec
		want     map[string]string // requirement statuses
		broken   []string          // Spec.Broken of the first spec
		warnSpec bool              // a run warning names the first spec
	}{
		{"pacheck.broken entry", []vspec{{id: "f", outcome: Fail, reqs: []string{"t.a", "t.b", "t.c"}, broken: []string{"t.b"}, reason: "x"}, passC},
			map[string]string{"t.a": StatusNotJudged, "t.b": "fail", "t.c": "pass", "t.d": StatusUntested}, []string{"t.b"}, false},
		{"pacheck.broken entry, JSON form", []vspec{{id: "f", outcome: Fail, reqs: []string{"t.a", "t.b", "t.c"}, broken: []string{"t.b"}, reason: "x", asJSON: true}, passC},
			map[string]string{"t.a": StatusNotJudged, "t.b": "fail", "t.c": "pass"}, []string{"t.b"}, false},
		{"error issue's requirement", []vspec{{id: "f", outcome: Fail, reqs: []string{"t.a", "t.b", "t.c"}, reason: "x", issues: []issue.Issue{
			{Severity: issue.Error, Rule: "r", Message: "m", Requirement: "t.a"},
			{Severity: issue.Warning, Rule: "w", Message: "m", Requirement: "t.c"}, // a warning breaks nothing
		}}, passC}, map[string]string{"t.a": "fail", "t.b": StatusNotJudged, "t.c": "pass"}, []string{"t.a"}, false},
		{"issue requirement in JSON form plus entry", []vspec{{id: "f", outcome: Fail, reqs: []string{"t.a", "t.b"}, reason: "x", asJSON: true, broken: []string{"t.b"},
			issues: []issue.Issue{{Severity: issue.Error, Rule: "r", Message: "m", Requirement: "t.a"}}}},
			map[string]string{"t.a": "fail", "t.b": "fail"}, []string{"t.a", "t.b"}, false},
		{"broken requirement the spec does not cite", []vspec{{id: "f", outcome: Fail, reqs: []string{"t.a"}, broken: []string{"t.d"}, reason: "x"}},
			map[string]string{"t.a": StatusNotJudged, "t.d": "fail"}, []string{"t.d"}, false},
		{"legacy: no attribution fails every cited requirement", []vspec{{id: "f", outcome: Fail, reqs: []string{"t.a", "t.b"}, reason: "x"}},
			map[string]string{"t.a": "fail", "t.b": "fail", "t.c": StatusUntested}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := verdictResults(t, cat, c.specs...)
			got := statuses(r)
			for id, st := range c.want {
				if got[id] != st {
					t.Errorf("%s: status %q, want %q", id, got[id], st)
				}
			}
			s, _ := r.Spec("t/" + c.specs[0].id)
			if !reflect.DeepEqual(s.Broken, c.broken) {
				t.Errorf("Broken %q, want %q", s.Broken, c.broken)
			}
			warned := strings.Contains(strings.Join(r.Run.Warnings, "\n"), `spec "t/f" failed without naming`)
			if warned != c.warnSpec {
				t.Errorf("legacy warning %v, want %v: %q", warned, c.warnSpec, r.Run.Warnings)
			}
			if r.Verdict != VerdictFail {
				t.Errorf("verdict %s, want fail", r.Verdict)
			}
		})
	}
}

// A failed spec's not-judged requirements count in Counts.NotJudged and Total, never in Fail.
func TestAttributionCounts(t *testing.T) {
	r := verdictResults(t, verdictCatalogue(t), vspec{id: "f", outcome: Fail, reqs: []string{"t.a", "t.b"}, broken: []string{"t.b"}, reason: "x"})
	for _, q := range r.Requirements {
		switch q.ID {
		case "t.a":
			if q.Counts != (Counts{Total: 1, NotJudged: 1}) || len(q.Specs) != 1 {
				t.Errorf("t.a counts %+v specs %q", q.Counts, q.Specs)
			}
		case "t.b":
			if q.Counts != (Counts{Total: 1, Fail: 1}) {
				t.Errorf("t.b counts %+v", q.Counts)
			}
		}
	}
	// The known-issue path keeps the attribution: t.b becomes known, t.a stays not judged.
	ApplyKnownIssues(r, []KnownIssue{{Spec: "t/f", Reason: "ticket", Expires: "2099-01-01"}}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if st := statuses(r); st["t.a"] != StatusNotJudged || st["t.b"] != "known" {
		t.Errorf("after known issue: %v", st)
	}
}

func TestVerdictMatrix(t *testing.T) {
	cat := verdictCatalogue(t)
	pass := func(id string, reqs ...string) vspec { return vspec{id: id, outcome: Pass, reqs: reqs} }
	cases := []struct {
		name    string
		specs   []vspec
		runErr  bool
		verdict string
		missing []string // Incomplete requirement ids
	}{
		{"all selected SHALL pass", []vspec{pass("p1", "t.a"), pass("p2", "t.b")}, false, VerdictPass, nil},
		{"SHALL failure", []vspec{pass("p1", "t.a"), {id: "f", outcome: Fail, reqs: []string{"t.b"}, broken: []string{"t.b"}, reason: "x"}}, false, VerdictFail, nil},
		{"SHOULD failure only", []vspec{pass("p1", "t.a"), {id: "f", outcome: Fail, reqs: []string{"t.should"}, broken: []string{"t.should"}, reason: "x"}}, false, VerdictPass, nil},
		{"SHALL skipped", []vspec{pass("p1", "t.a"), {id: "s", outcome: Skip, reqs: []string{"t.b"}, reason: "no second member; to enable: configure two members"}}, false, VerdictIncomplete, []string{"t.b"}},
		{"SHALL errored", []vspec{pass("p1", "t.a"), {id: "e", outcome: Error, reqs: []string{"t.b"}, reason: "error: connection refused"}}, false, VerdictIncomplete, []string{"t.b"}},
		{"skip beside a pass of the same requirement", []vspec{pass("p1", "t.a"), {id: "s", outcome: Skip, reqs: []string{"t.a"}, reason: "r"}}, false, VerdictPass, nil},
		{"error beside a pass of the same requirement", []vspec{pass("p1", "t.a"), {id: "e", outcome: Error, reqs: []string{"t.a"}, reason: "r"}}, false, VerdictIncomplete, []string{"t.a"}},
		{"SHOULD skipped", []vspec{pass("p1", "t.a"), {id: "s", outcome: Skip, reqs: []string{"t.should"}, reason: "r"}}, false, VerdictPass, nil},
		{"not judged SHALL beside a SHOULD failure", []vspec{pass("p1", "t.b"), {id: "f", outcome: Fail, reqs: []string{"t.a", "t.should"}, broken: []string{"t.should"}, reason: "x"}}, false, VerdictIncomplete, []string{"t.a"}},
		{"failure and skip: fail wins, skip still listed", []vspec{{id: "f", outcome: Fail, reqs: []string{"t.a"}, broken: []string{"t.a"}, reason: "x"}, {id: "s", outcome: Skip, reqs: []string{"t.b"}, reason: "r"}}, false, VerdictFail, []string{"t.b"}},
		{"run error wins", []vspec{{id: "f", outcome: Fail, reqs: []string{"t.a"}, broken: []string{"t.a"}, reason: "x"}}, true, VerdictError, nil},
		{"failure without catalogued requirement and no level", []vspec{pass("p1", "t.a"), {id: "f", outcome: Fail, reason: "x"}}, false, VerdictFail, nil},
		{"failure without catalogued requirement at level SHOULD", []vspec{pass("p1", "t.a"), {id: "f", outcome: Fail, level: "SHOULD", reason: "x"}}, false, VerdictPass, nil},
		{"error without catalogued requirement", []vspec{pass("p1", "t.a"), {id: "e", outcome: Error, reason: "boom"}}, false, VerdictIncomplete, []string{""}},
		{"skip without requirement or level", []vspec{pass("p1", "t.a"), {id: "s", outcome: Skip, reason: "r"}}, false, VerdictPass, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := verdictResults(t, cat, c.specs...)
			if c.runErr {
				r.Run.Errors = append(r.Run.Errors, "known issue expired")
				r.Recount(nil)
			}
			if r.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s (statuses %v)", r.Verdict, c.verdict, statuses(r))
			}
			var got []string
			for _, m := range r.Incomplete {
				got = append(got, m.Requirement)
			}
			if !reflect.DeepEqual(got, c.missing) {
				t.Errorf("incomplete %q, want %q", got, c.missing)
			}
		})
	}
}

// The issue's case: one member and no confidential client. Each skipped SHALL requirement is
// listed with its reason and what would enable it, from framework.SkipBecause's suffix.
func TestIncompleteList(t *testing.T) {
	r := verdictResults(t, verdictCatalogue(t),
		vspec{id: "read", outcome: Pass, reqs: []string{"t.a"}},
		vspec{id: "cross-member", outcome: Skip, reqs: []string{"t.b"}, reason: "only one member is configured; to enable: configure a second member (members[1])"},
		vspec{id: "confidential", outcome: Skip, reqs: []string{"t.c"}, reason: "no confidential client"},
		vspec{id: "expired", outcome: Error, reqs: []string{"t.d"}, reason: "error: blocked by t/login: login page not passed", blocked: &evidence.Blocked{Cause: "t/login", Reason: "login page not passed"}},
	)
	if r.Verdict != VerdictIncomplete {
		t.Fatalf("verdict %s, want incomplete", r.Verdict)
	}
	want := []Missing{
		{Requirement: "t.b", Status: "skip", Reason: "only one member is configured", WouldEnable: "configure a second member (members[1])", Spec: "t/cross-member"},
		{Requirement: "t.c", Status: "skip", Reason: "no confidential client", Spec: "t/confidential"},
		{Requirement: "t.d", Status: "error", Reason: "error: blocked by t/login: login page not passed", Spec: "t/expired"},
	}
	if !reflect.DeepEqual(r.Incomplete, want) {
		t.Errorf("incomplete\n%+v\nwant\n%+v", r.Incomplete, want)
	}
	var sum bytes.Buffer
	if err := WriteSummary(&sum, r); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"pacheck: INCOMPLETE", "`t.b` (skip): only one member is configured — **to enable:** configure a second member (members\\[1\\])", "`t.c` (skip): no confidential client"} {
		if !strings.Contains(sum.String(), s) {
			t.Errorf("summary.md lacks %q:\n%s", s, sum.String())
		}
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, r, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`data-verdict="incomplete"`, `>INCOMPLETE</strong>`, `<b>to enable:</b> configure a second member (members[1])`} {
		if !strings.Contains(html.String(), s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
}

func TestRootCauses(t *testing.T) {
	login := evidence.Blocked{Cause: "smart/launch/standalone", Reason: "the login page did not accept the member"}
	disc := evidence.Blocked{Cause: "smart/discovery", Reason: "404 from .well-known/smart-configuration"}
	var specs []vspec
	for i := range 250 {
		b := login
		specs = append(specs, vspec{id: fmt.Sprintf("blocked %d", i), outcome: Error, reqs: []string{"t.a"}, reason: "error: " + b.Cause, blocked: &b, asJSON: i%2 == 1})
	}
	specs = append(specs,
		vspec{id: "disc 1", outcome: Error, reqs: []string{"t.b"}, reason: "error: d", blocked: &disc},
		vspec{id: "plain error", outcome: Error, reqs: []string{"t.c"}, reason: "error: connection reset"},
		vspec{id: "passes with a stray blocked entry", outcome: Pass, reqs: []string{"t.d"}})
	r := verdictResults(t, verdictCatalogue(t), specs...)
	if len(r.RootCauses) != 2 {
		t.Fatalf("root causes %+v", r.RootCauses)
	}
	rc := r.RootCauses[0]
	if rc.Cause != login.Cause || rc.Reason != login.Reason || rc.Blocked != 250 || len(rc.Specs) != 250 || rc.Specs[0] != "t/blocked 0" {
		t.Errorf("first root cause %s %q %d %d", rc.Cause, rc.Reason, rc.Blocked, len(rc.Specs))
	}
	if rc := r.RootCauses[1]; rc.Cause != disc.Cause || rc.Blocked != 1 {
		t.Errorf("second root cause %+v", rc)
	}
	if s, _ := r.Spec("t/plain error"); s.Blocked != nil {
		t.Errorf("unblocked error has Blocked %+v", s.Blocked)
	}
	var sum bytes.Buffer
	if err := WriteSummary(&sum, r); err != nil {
		t.Fatal(err)
	}
	md := sum.String()
	if n := strings.Count(md, "\n- `t/blocked "); n != maxRootCauseSpecs {
		t.Errorf("summary.md lists %d blocked specs, want them under the root cause, at most %d", n, maxRootCauseSpecs)
	}
	for _, s := range []string{"| `smart/launch/standalone` | the login page did not accept the member | 250 |", "<details><summary>250 specs blocked by smart/launch/standalone</summary>",
		"- … 150 more", "`t/plain error` t.c — error: connection reset"} {
		if !strings.Contains(md, s) {
			t.Errorf("summary.md lacks %q:\n%s", s, md)
		}
	}
	if strings.Contains(md, "`t/blocked 0` t.a") {
		t.Error("a blocked spec is listed as a single error")
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, r, Options{}); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	if !strings.Contains(h, `<details><summary>250 blocked specs</summary>`) || !strings.Contains(h, `"blk":{"cause":"smart/launch/standalone"`) {
		t.Error("index.html lacks the root-cause group")
	}
	// results.json round trip keeps them.
	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&js)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.RootCauses, r.RootCauses) || !reflect.DeepEqual(back.Incomplete, r.Incomplete) {
		t.Error("rootCauses or incomplete lost in results.json")
	}
	back.Recount(nil)
	if !reflect.DeepEqual(back.RootCauses, r.RootCauses) || back.Verdict != r.Verdict {
		t.Error("Recount of read-back results differs")
	}
}

// Server text reaches summary.md and junit.xml without control characters or escape sequences.
func TestControlCharactersStripped(t *testing.T) {
	hostile := "title\x1b]0;pwned\x07 clear\x1b[2J\x1b[H bell\x07 nul\x00 del\x7f c1\u0085\u009b31m osc8\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\ cr\rend\ttab"
	r := verdictResults(t, verdictCatalogue(t),
		vspec{id: "f " + hostile, outcome: Fail, reqs: []string{"t.a"}, broken: []string{"t.a"}, reason: "expected 200, got 500: " + hostile},
		vspec{id: "s", outcome: Skip, reqs: []string{"t.b"}, reason: "skip " + hostile + "; to enable: " + hostile},
		vspec{id: "e", outcome: Error, reqs: []string{"t.c"}, reason: "error " + hostile, blocked: &evidence.Blocked{Cause: "cause " + hostile, Reason: hostile}},
	)
	r.Run.Warnings = append(r.Run.Warnings, hostile)
	r.Run.Target = "https://fhir.example/" + hostile
	var sum, ju bytes.Buffer
	if err := WriteSummary(&sum, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteJUnit(&ju, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"summary.md": sum.String(), "junit.xml": ju.String()} {
		for i, c := range []rune(out) {
			if (c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f) {
				t.Errorf("%s: control character %U at rune %d", name, c, i)
				break
			}
		}
		for _, gone := range []string{"pwned", "2J", "31m", "http://evil/"} {
			if strings.Contains(out, gone) {
				t.Errorf("%s keeps %q of an escape sequence", name, gone)
			}
		}
		if !strings.Contains(out, "clear") || !strings.Contains(out, "link") || !strings.Contains(out, "tab") {
			t.Errorf("%s lost the readable text", name)
		}
	}
	if err := xml.Unmarshal(ju.Bytes(), new(junitSuites)); err != nil {
		t.Errorf("junit.xml is not well-formed: %v", err)
	}
}

func TestPlainText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text\nwith tab\t", "plain text\nwith tab\t"},
		{"\x1b[31mred\x1b[0m", "red"},
		{"a\x1b]0;title\x07b", "ab"},
		{"a\x1b]52;c;Y2xpcA==\x1b\\b", "ab"},      // clipboard write
		{"a\x1b]0;unterminated\nnext", "a\nnext"}, // stops at the line end
		{"a\x1b(Bb\x1bcc", "abc"},
		{"a\u009b2Jb\u009d0;t\u009cc", "abc"},
		{"x\x00\x01\x08\x7f\ry", "xy"},
		{"bad \xff", "bad \uFFFD"},
		{"é ü 日本 \u00a0", "é ü 日本 \u00a0"},
		{"trailing esc\x1b", "trailing esc"},
	}
	for _, c := range cases {
		if got := PlainText(c.in); got != c.want {
			t.Errorf("PlainText(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := PlainText(c.want); got != c.want {
			t.Errorf("PlainText not idempotent on %q: %q", c.want, got)
		}
	}
}

func TestVerdictLabels(t *testing.T) {
	for v, want := range map[string]string{VerdictPass: "CONFORMANT", VerdictFail: "NON-CONFORMANT", VerdictIncomplete: "INCOMPLETE", VerdictError: "ERROR"} {
		if got := VerdictLabel(v); got != want {
			t.Errorf("VerdictLabel(%q) = %q, want %q", v, got, want)
		}
		r := &Results{Verdict: v, Incomplete: []Missing{{Requirement: "t.a"}}, Counts: Counts{Pass: 1}}
		var sum bytes.Buffer
		if err := WriteSummary(&sum, r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sum.String(), "pacheck: "+want+"\n") {
			t.Errorf("summary.md heading for %s:\n%s", v, sum.String())
		}
	}
}

// The issue's run (#13): one member, no confidential client, against the real catalogue and the
// requirement ids the SMART specs cite (suites/smart/specs.go). The cross-member probe, the
// confidential-client specs and the expired-token probe must each leave a SHALL requirement
// listed, and so must consent-decline (its own requirement, so scope-granted's pass cannot hide
// its skip).
func TestIncompleteOneMemberNoConfidentialClient(t *testing.T) {
	cat, err := profiles.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	skip := func(id, reason string, reqs ...string) vspec {
		return vspec{id: id, outcome: Skip, reqs: reqs, reason: reason}
	}
	r := verdictResults(t, cat,
		vspec{id: "token/patient-context", outcome: Pass, reqs: []string{"smart.token.patient-context"}},
		vspec{id: "token/scope-granted", outcome: Pass, reqs: []string{"smart.authorize.consent"}},
		skip("probes/other-member-data", "neither a second member's login nor another patient id is configured; to enable: smart second_member (username/password or steps) or other_patient in the run configuration",
			"smart.token.patient-context", "uscore.access.patient-compartment"),
		skip("launch/confidential-symmetric-basic", "no client with token_endpoint_auth client_secret_basic is configured; to enable: a registered client_secret_basic client", "smart.client.symmetric-auth"),
		skip("probes/bad-client-secret", "no confidential symmetric client (client_secret_basic/post) is configured; to enable: a client with a client_secret", "smart.client.symmetric-auth"),
		skip("launch/confidential-asymmetric", "no client with token_endpoint_auth private_key_jwt is configured; to enable: a registered private_key_jwt client", "smart.client.asymmetric-auth"),
		skip("probes/expired-token", "no expired access token is available; to enable: smart expired_token", "smart.access.expired-token"),
		skip("probes/consent-decline", "no consent steps are configured; to enable: smart consent settings", "smart.authorize.consent-decline"),
	)
	if r.Verdict != VerdictIncomplete {
		t.Fatalf("verdict %s, want incomplete", r.Verdict)
	}
	got := map[string]Missing{}
	for _, m := range r.Incomplete {
		got[m.Requirement] = m
	}
	for _, id := range []string{"uscore.access.patient-compartment", "smart.client.symmetric-auth", "smart.client.asymmetric-auth", "smart.access.expired-token", "smart.authorize.consent-decline"} {
		if m, ok := got[id]; !ok || m.WouldEnable == "" {
			t.Errorf("%s not listed with what would enable it: %+v", id, m)
		}
	}
	if _, ok := got["smart.token.patient-context"]; ok {
		t.Error("smart.token.patient-context listed although token/patient-context passed")
	}
	if _, ok := got["smart.authorize.consent"]; ok {
		t.Error("smart.authorize.consent listed although token/scope-granted passed")
	}
}

// In the browser, the specs one root cause blocked share one row that expands to them, and a
// failed spec marks its requirements broken or not judged.
func TestHTMLRootCauseRowInChromium(t *testing.T) {
	ctx, ev := newBrowser(t)
	b := evidence.Blocked{Cause: "smart/launch/standalone", Reason: "the login page <b>did not</b> accept the member"}
	specs := []vspec{
		{id: "fail", outcome: Fail, reqs: []string{"t.a", "t.b", "t.c"}, broken: []string{"t.b"}, reason: "x: expected 1, got 2"},
		{id: "pass", outcome: Pass, reqs: []string{"t.a"}},
	}
	for i := range 300 {
		specs = append(specs, vspec{id: fmt.Sprintf("blocked %03d", i), outcome: Error, reqs: []string{"t.d"}, reason: "error: blocked", blocked: &b})
	}
	r := verdictResults(t, verdictCatalogue(t), specs...)
	dir := t.TempDir()
	if err := WriteAll(dir, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := do(ctx, 30*time.Second, chromedp.Navigate("file://"+dir+"/"+FileHTML), chromedp.WaitVisible(chromedp.CSS(`#spec-list details.rcgroup`))); err != nil {
		t.Fatalf("load report: %v", err)
	}
	rows, err := run(ctx, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll('#spec-list > details').length`))
	if err != nil || rows != 3 {
		t.Errorf("%d top-level rows (%v), want 3: two specs and one root cause", rows, err)
	}
	sum, err := run(ctx, 10*time.Second, chromedp.Text(chromedp.CSS(`#spec-list details.rcgroup > summary`)))
	if err != nil || !strings.Contains(sum, "blocked by smart/launch/standalone") || !strings.Contains(sum, "300 specs") {
		t.Errorf("root-cause row %q (%v)", sum, err)
	}
	if err := do(ctx, 30*time.Second, chromedp.Click(chromedp.CSS(`#spec-list details.rcgroup > summary`)), chromedp.WaitVisible(chromedp.CSS(`.rc-list details.spec`))); err != nil {
		t.Fatalf("open root-cause row: %v", err)
	}
	if n, err := countSpecs(ctx); err != nil || n != 302 {
		t.Errorf("%d spec rows after opening the root cause (%v), want 302", n, err)
	}
	if err := do(ctx, 30*time.Second, chromedp.Click(chromedp.CSS(`#spec-list > details.o-fail > summary`)), chromedp.WaitVisible(chromedp.CSS(`#spec-list > details.o-fail .req`))); err != nil {
		t.Fatalf("open failed spec: %v", err)
	}
	marks, err := run(ctx, 10*time.Second, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#spec-list > details.o-fail .req')).map(e => e.textContent.split(' (')[0])`))
	if want := []string{"not judged t.a", "broken t.b", "not judged t.c"}; err != nil || !reflect.DeepEqual(marks, want) {
		t.Errorf("requirement marks %q (%v), want %q", marks, err, want)
	}
	banner, err := run(ctx, 10*time.Second, chromedp.Text(chromedp.CSS(`#verdict-text`)))
	if err != nil || banner != "NON-CONFORMANT" {
		t.Errorf("banner %q (%v)", banner, err)
	}
	if d, c, _ := ev.snapshot(); len(d) > 0 || len(c) > 0 {
		t.Errorf("dialogs %q, console %q", d, c)
	}
}
