package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
)

func TestFromGinkgoOutcomes(t *testing.T) {
	r := fixtureResults(t, t.TempDir())
	want := map[string]Outcome{
		"uscore-6.1.0/patient/read":                            Pass,
		"uscore-6.1.0/observation-lab/search/patient+category": Fail,
		"uscore-6.1.0/patient/search/name":                     Fail,
		"uscore-6.1.0/encounter/search/date":                   Skip,
		"smart-2.0.0/pkce/refuses plain":                       Error,
		"smart-2.0.0/pkce/s256 accepted":                       Error,
		"uscore-6.1.0/goal/read":                               Skip,
	}
	if len(r.Specs) != len(want) {
		var ids []string
		for _, s := range r.Specs {
			ids = append(ids, s.ID)
		}
		t.Fatalf("got %d specs %q, want %d (suite nodes that passed are left out)", len(r.Specs), ids, len(want))
	}
	for id, o := range want {
		s, ok := r.Spec(id)
		if !ok {
			t.Errorf("spec %q missing", id)
			continue
		}
		if s.Outcome != o {
			t.Errorf("%s: outcome %s, want %s", id, s.Outcome, o)
		}
	}
	if c := r.Counts; c.Total != 7 || c.Pass != 1 || c.Fail != 2 || c.Skip != 2 || c.Error != 2 || c.Known != 0 {
		t.Errorf("counts %+v", c)
	}
	if r.Verdict != VerdictFail { // spec errors no longer make the run an error; the SHALL failures decide
		t.Errorf("verdict %s, want fail", r.Verdict)
	}
	s, _ := r.Spec("smart-2.0.0/pkce/refuses plain")
	if s.Reason != "dial tcp 10.0.0.1:443: connection refused" {
		t.Errorf("error reason %q", s.Reason)
	}
	if s.Group != "smart-2.0.0" || s.IG != "smart-2.0.0" {
		t.Errorf("group %q ig %q", s.Group, s.IG)
	}
	s, _ = r.Spec("smart-2.0.0/pkce/s256 accepted")
	if !strings.Contains(s.Reason, "panicked") || s.Failure == nil || s.Failure.Panic == "" {
		t.Errorf("panicked spec: reason %q failure %+v", s.Reason, s.Failure)
	}
	s, _ = r.Spec("uscore-6.1.0/encounter/search/date")
	if !strings.HasPrefix(s.Reason, "no Encounter with a period") || s.Failure != nil {
		t.Errorf("skip reason %q failure %+v", s.Reason, s.Failure)
	}
	s, _ = r.Spec("uscore-6.1.0/goal/read")
	if !strings.HasPrefix(s.Reason, "pending") {
		t.Errorf("pending reason %q", s.Reason)
	}
	s, _ = r.Spec("uscore-6.1.0/patient/search/name")
	if s.Failure.Expected != "to equal <int>: 200" || s.Failure.Actual != "<int>: 404" {
		t.Errorf("gomega split: expected %q actual %q", s.Failure.Expected, s.Failure.Actual)
	}
	if s.Level != "SHALL" {
		t.Errorf("level %q not taken from the catalogue", s.Level)
	}
	if len(s.Requirements) != 2 || !s.Requirements[1].Unknown || s.Requirements[0].Statement == "" {
		t.Errorf("requirements %+v", s.Requirements)
	}
	if !strings.Contains(strings.Join(r.Run.Warnings, "\n"), `"not.in.catalogue"`) {
		t.Errorf("no warning for the unknown requirement id: %q", r.Run.Warnings)
	}
	s, _ = r.Spec("uscore-6.1.0/observation-lab/search/patient+category")
	// from the first error issue's Expected/Actual: the failure text says neither
	if s.Failure.Expected != "every Observation to have category laboratory" || !strings.HasPrefix(s.Failure.Actual, "vital-signs") {
		t.Errorf("failure from issue data: expected %q actual %q", s.Failure.Expected, s.Failure.Actual)
	}
	if len(s.Evidence) != 3 || s.Evidence[0].Kind != evidence.KindIssues || len(s.Evidence[0].Issues) != 1 {
		t.Fatalf("JSON-form evidence not decoded: %+v", s.Evidence)
	}
	if s.Evidence[1].MustSupport == nil || len(s.Evidence[1].MustSupport.Missing) != 1 {
		t.Errorf("must-support evidence: %+v", s.Evidence[1])
	}
	if s.Location != "/src/suites/uscore/patient.go:10" || s.Failure.Location != "/src/suites/uscore/patient.go:77" {
		t.Errorf("locations %q %q", s.Location, s.Failure.Location)
	}
	s, _ = r.Spec("uscore-6.1.0/patient/read")
	x := s.Evidence[0].Exchange
	if x == nil || x.RequestHeaders["Authorization"][0] != Mask {
		t.Fatalf("Authorization not masked: %+v", x)
	}
	if len(s.Quotes) != 1 || len(s.Profiles) != 1 || s.Profiles[0] != "us-core-patient" || s.Level != "SHALL" {
		t.Errorf("quotes %q profiles %q level %q", s.Quotes, s.Profiles, s.Level)
	}
	// Requirement coverage.
	cov := map[string]RequirementInfo{}
	for _, q := range r.Requirements {
		cov[q.ID] = q
	}
	if cov["uscore.never.tested"].Status != "untested" || cov["uscore.patient.read"].Status != "fail" || cov["smart.pkce.s256"].Status != "error" {
		t.Errorf("coverage %+v", cov)
	}
	if r.Run.Config["client_secret"] != Mask || r.Run.Config["auth"].(map[string]any)["refreshToken"] != Mask {
		t.Errorf("config not masked: %v", r.Run.Config)
	}
}

func TestFromGinkgoSuiteNodeFailureIsError(t *testing.T) {
	rep := fixtureReport(t, t.TempDir())
	rep.SpecReports[0].State = types.SpecStateFailed
	rep.SpecReports[0].Failure.Message = "could not load profiles"
	r, err := FromGinkgo(rep, RunMeta{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := r.Spec("[BeforeSuite]")
	if !ok || s.Outcome != Error {
		t.Fatalf("failed BeforeSuite not reported as an error spec: %+v", r.Specs)
	}
	if r.Verdict != VerdictError {
		t.Errorf("verdict %s", r.Verdict)
	}
}

// Specs Ginkgo skipped without a message are "not selected" in a complete run and "not run" with
// the reason when the run stopped early.
func TestFromGinkgoNotSelectedAndNotRun(t *testing.T) {
	rep := fixtureReport(t, t.TempDir())
	filtered := spec([]string{"carinbb-2.0.0", "eob"}, "read", types.SpecStateSkipped)
	rep.SpecReports = append(rep.SpecReports, filtered, filtered)
	r, _ := FromGinkgo(rep, RunMeta{}, nil)
	if r.Run.NotSelected != 2 || r.Counts.Total != 7 {
		t.Errorf("not selected %d, total %d; want 2 and 7", r.Run.NotSelected, r.Counts.Total)
	}
	rep.SpecialSuiteFailureReasons = []string{"Interrupted by User"}
	r, _ = FromGinkgo(rep, RunMeta{}, nil)
	s, ok := r.Spec("carinbb-2.0.0/eob/read")
	if !ok || s.Outcome != Skip || s.Reason != "not run: Interrupted by User" || r.Run.NotSelected != 0 {
		t.Errorf("interrupted run: %+v, not selected %d", s, r.Run.NotSelected)
	}
	if r.Verdict != VerdictError || len(r.Run.Errors) != 1 {
		t.Errorf("interrupted run verdict %s errors %q", r.Verdict, r.Run.Errors)
	}
}

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Authorization: Bearer abc.def", "Authorization: ***"},
		{`{"Authorization":"Basic dXNlcjpwYXNz","x":1}`, `{"Authorization":"***","x":1}`},
		{"token is Bearer abcdef123 here", "token is Bearer *** here"},
		{"https://x/cb?code=abc&access_token=T1&state=s", "https://x/cb?code=abc&access_token=***&state=s"},
		{"grant_type=refresh_token&refresh_token=R1&client_secret=S1", "grant_type=refresh_token&refresh_token=***&client_secret=***"},
		{`{"access_token": "A", "id_token":"I\"x", "expires_in": 3600}`, `{"access_token": "***", "id_token":"***", "expires_in": 3600}`},
		{"code_verifier=V&password=P", "code_verifier=***&password=***"},
		{"client_secret: hunter2", "client_secret: ***"},
		{"jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl end", "jwt *** end"},
		{"https://user:pw@host/x", "https://***@host/x"},
		{"Observation?code=1234-5&patient=1", "Observation?code=1234-5&patient=1"},
		{"plain text", "plain text"},
		{"\x1b[31mred\x1b[0m text", "red text"},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, c := range cases {
		got := Redact(c.in)
		if got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
		if again := Redact(got); again != got {
			t.Errorf("Redact not idempotent on %q: %q", got, again)
		}
	}
}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteAllOutputs(t *testing.T) {
	dir := t.TempDir()
	r := fixtureResults(t, dir)
	if err := WriteAll(dir, r, Options{}); err != nil {
		t.Fatal(err)
	}
	files := readAll(t, dir)
	for _, name := range []string{FileResults, FileJUnit, FileSummary, FileHTML} {
		if len(files[name]) == 0 {
			t.Fatalf("%s not written", name)
		}
	}
	for name, b := range files {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains secret %s", name, s)
			}
		}
	}
	// results.json round trip.
	back, err := ReadJSON(bytes.NewReader(files[FileResults]))
	if err != nil {
		t.Fatal(err)
	}
	if back.Counts != r.Counts || len(back.Specs) != len(r.Specs) || back.SchemaVersion != SchemaVersion {
		t.Errorf("round trip: %+v vs %+v", back.Counts, r.Counts)
	}
	// summary.md: hostile text is escaped, counts present.
	sum := string(files[FileSummary])
	if strings.Contains(sum, "<script") || !strings.Contains(sum, "| 7 | 1 | 2 | 2 | 2 | 0 |") {
		t.Errorf("summary.md:\n%s", sum)
	}
}

// JUnit structure, checked with encoding/xml always and against testdata/junit-10.xsd with
// xmllint when it is installed.
func TestJUnit(t *testing.T) {
	dir := t.TempDir()
	r := fixtureResults(t, dir)
	res := ApplyKnownIssues(r, []KnownIssue{{Spec: "uscore-6.1.0/patient/search/name", Reason: "vendor ticket 1", Expires: "2999-01-01"}}, r.Run.Start)
	if len(res.Applied) != 1 {
		t.Fatalf("known issue not applied: %+v", res)
	}
	if err := WriteAll(dir, r, Options{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, FileJUnit))
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	type tally struct{ tests, failures, errors, skipped int }
	var total tally
	suites := map[string]bool{}
	for _, s := range doc.Suites {
		suites[s.Name] = true
		var got tally
		for _, c := range s.Cases {
			got.tests++
			n := 0
			if c.Failure != nil {
				got.failures++
				n++
			}
			if c.Error != nil {
				got.errors++
				n++
			}
			if c.Skipped != nil {
				got.skipped++
				n++
			}
			if n > 1 {
				t.Errorf("testcase %q has %d result elements", c.Name, n)
			}
		}
		if got.tests != s.Tests || got.failures != s.Failures || got.errors != s.Errors || got.skipped != s.Skipped {
			t.Errorf("suite %s attributes %d/%d/%d/%d, children %+v", s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, got)
		}
		total.tests += got.tests
		total.failures += got.failures
		total.errors += got.errors
	}
	if !suites["uscore-6.1.0/patient"] || !suites["smart-2.0.0/pkce"] {
		t.Errorf("suites %v, want one per IG version and profile", suites)
	}
	// How CI tools read a case (Jenkins, GitLab, Azure DevOps): the classname split at its last
	// dot is package and class; package.class + name identifies the case. The IG version's dots
	// must not split the package, and no two cases may share an identity.
	seen := map[string]bool{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			i := strings.LastIndex(c.Classname, ".")
			if i < 0 {
				t.Errorf("classname %q has no package", c.Classname)
				continue
			}
			pkg, class := c.Classname[:i], c.Classname[i+1:]
			if strings.Contains(pkg, ".") || pkg != s.Package {
				t.Errorf("classname %q: package %q (suite package %q)", c.Classname, pkg, s.Package)
			}
			if s.Name != strings.ReplaceAll(pkg, "_", ".")+"/"+class && s.Name != strings.ReplaceAll(pkg, "_", ".") {
				t.Errorf("case %s.%s in suite %s", c.Classname, c.Name, s.Name)
			}
			if strings.HasPrefix(c.Name, "uscore-") || strings.HasPrefix(c.Name, class+"/") {
				t.Errorf("name %q repeats its classname %q", c.Name, c.Classname)
			}
			id := c.Classname + "#" + c.Name
			if seen[id] {
				t.Errorf("two cases are %s", id)
			}
			seen[id] = true
		}
	}
	if !bytes.Contains(data, []byte(`classname="uscore-6_1_0.patient" time=`)) || !bytes.Contains(data, []byte("spec: uscore-6.1.0/patient/search/name")) {
		t.Errorf("want classname uscore-6_1_0.patient and the spec id in the case text:\n%s", data)
	}
	if doc.Tests != 7 || doc.Failures != 1 || doc.Errors != 2 || total.tests != 7 {
		t.Errorf("testsuites tests=%d failures=%d errors=%d", doc.Tests, doc.Failures, doc.Errors)
	}
	if !bytes.Contains(data, []byte(`<skipped message="known issue (expires 2999-01-01): vendor ticket 1" type="known">`)) {
		t.Errorf("known issue not shown as skipped with its reason:\n%s", data)
	}
	if bytes.Contains(data, []byte("<script")) {
		t.Error("junit.xml carries unescaped markup")
	}
	if !regexp.MustCompile(`time="[0-9]+\.[0-9]{3}"`).Match(data) {
		t.Error("time attributes not in seconds")
	}

	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian: apt-get install libxml2-utils); junit.xml was checked structurally only")
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit-10.xsd", filepath.Join(dir, FileJUnit)).CombinedOutput()
	if err != nil {
		t.Fatalf("junit.xml does not validate against testdata/junit-10.xsd: %v\n%s", err, out)
	}
	// The schema is not a rubber stamp: a testsuite without its required attributes fails.
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(`<testsuites><testsuite name="x"><testcase name="a"/></testsuite></testsuites>`), 0o644)
	if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit-10.xsd", bad).CombinedOutput(); err == nil {
		t.Errorf("the XSD accepted a testsuite without tests/failures/errors:\n%s", out)
	}
}

func TestResultsJSONShape(t *testing.T) {
	r := fixtureResults(t, t.TempDir())
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schemaVersion", "run", "verdict", "counts", "specs", "requirements"} {
		if _, ok := m[k]; !ok {
			t.Errorf("results.json lacks %q", k)
		}
	}
	run := m["run"].(map[string]any)
	for _, k := range []string{"target", "start", "end", "durationMs", "pacheckVersion", "packages"} {
		if _, ok := run[k]; !ok {
			t.Errorf("run lacks %q", k)
		}
	}
	sp := m["specs"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "outcome", "requirements", "labels", "group", "durationMs", "evidence"} {
		if _, ok := sp[k]; !ok {
			t.Errorf("spec lacks %q", k)
		}
	}
	for v, ok := range map[string]bool{"1": true, SchemaVersion: true, "3": false, "": false} {
		_, err := ReadJSON(strings.NewReader(`{"schemaVersion":"` + v + `"}`))
		if (err == nil) != ok {
			t.Errorf("schemaVersion %q: err %v, want accepted %v", v, err, ok)
		}
	}
}

// A report read back from Ginkgo's JSON (--json-report) carries evidence in its JSON form; the
// results are the same as in-process.
func TestFromGinkgoJSONRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rep := fixtureReport(t, dir)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back types.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	cat := testCatalogue(t)
	a, _ := FromGinkgo(rep, fixtureMeta(), cat)
	z, _ := FromGinkgo(back, fixtureMeta(), cat)
	if a.Counts != z.Counts || a.Verdict != z.Verdict {
		t.Fatalf("counts %+v vs %+v", a.Counts, z.Counts)
	}
	for i := range a.Specs {
		x, y := a.Specs[i], z.Specs[i]
		if x.ID != y.ID || x.Outcome != y.Outcome || x.Reason != y.Reason || len(x.Evidence) != len(y.Evidence) || len(x.Quotes) != len(y.Quotes) {
			t.Errorf("spec %d differs:\n%+v\n%+v", i, x, y)
			continue
		}
		for j := range x.Evidence {
			ej, _ := json.Marshal(x.Evidence[j])
			fj, _ := json.Marshal(y.Evidence[j])
			if string(ej) != string(fj) {
				t.Errorf("%s evidence %d differs:\n%s\n%s", x.ID, j, ej, fj)
			}
		}
	}
}

func BenchmarkFromGinkgoAndWriteAll10k(b *testing.B) {
	r := bigResults(b, 10_000, 10_000) // 100 MB of evidence
	dir := b.TempDir()
	b.ResetTimer()
	for range b.N {
		if err := WriteAll(dir, r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	body := strings.Repeat(`{"resourceType":"Observation","status":"final","code":{"text":"x"}},`, 10_000)
	b.SetBytes(int64(len(body)))
	for range b.N {
		Redact(body)
	}
}

func TestCFRRowsPartial(t *testing.T) {
	req := func(id string, c Counts, cfr ...string) RequirementInfo {
		q := RequirementInfo{Counts: c}
		q.ID, q.CFR = id, cfr
		return q
	}
	rows, untested := cfrRows([]RequirementInfo{
		req("a", Counts{Total: 2, Pass: 2}, "P-all-pass", "P-with-untested", "P-with-skip", "P-with-fail"),
		req("b", Counts{}, "P-with-untested"),
		req("c", Counts{Total: 2, Pass: 1, Skip: 1}, "P-with-skip"),
		req("d", Counts{Total: 1, Fail: 1}, "P-with-fail"),
		req("e", Counts{}, "P-only-untested"),
		req("a2", Counts{Total: 1, Pass: 1}, "P-with-not-judged"),
		func() RequirementInfo {
			q := req("f", Counts{Total: 1, NotJudged: 1}, "P-with-not-judged")
			q.Status = StatusNotJudged
			return q
		}(),
	})
	want := map[string]string{"P-all-pass": "pass", "P-with-untested": "partial", "P-with-skip": "partial", "P-with-fail": "fail", "P-only-untested": "untested",
		"P-with-not-judged": "partial"}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		if r.Status != want[r.Citation] {
			t.Errorf("%s: status %q, want %q", r.Citation, r.Status, want[r.Citation])
		}
	}
	if len(untested) != 2 {
		t.Errorf("untested %v, want b and e", untested)
	}
}

// TestFailureExpectedActual: a failure's expected/actual come from the first error issue that
// carries them as data (warnings and issues without them are passed over); only Gomega's own
// "Expected\n…" message is split as text, and pacheck's prose is never parsed.
func TestFailureExpectedActual(t *testing.T) {
	ev := []evidence.Entry{
		{Kind: evidence.KindNote, Text: "note"},
		{Kind: evidence.KindIssues, Issues: []issue.Issue{
			{Severity: issue.Warning, Rule: "binding", Expected: "warning's", Actual: "not the failure"},
			{Severity: issue.Error, Rule: "invariant:x", Message: "no data"},
			{Severity: issue.Error, Rule: "cardinality", Expected: "1..*", Actual: "0"},
			{Severity: issue.Error, Rule: "binding", Expected: "second", Actual: "second"},
		}},
	}
	for _, tc := range []struct {
		name     string
		ev       []evidence.Entry
		msg      string
		exp, act string
	}{
		{"issue data", ev, "search: 2 error(s)\n  cardinality: … expected 9, got 8", "1..*", "0"},
		{"gomega", nil, "Expected\n    <int>: 404\nto equal\n    <int>: 200", "to equal <int>: 200", "<int>: 404"},
		{"prose is not parsed", nil, "token.status: expected HTTP 200, got 401", "", ""},
	} {
		if e, a := failureExpectedActual(tc.ev, tc.msg); e != tc.exp || a != tc.act {
			t.Errorf("%s: got %q %q, want %q %q", tc.name, e, a, tc.exp, tc.act)
		}
	}
}
