package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

// Hostile server text the report must show as text and never run.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileAttr   = `" onerror=alert(1) x="`
	hostileJS     = `javascript:alert(1)`
	hostileImg    = `<img src=x onerror=alert(1)>`
	hostileClose  = `</script><script>alert(2)</script>`
)

// Secrets that must never appear in any output.
var secrets = []string{"SECRET-QUERY-TOKEN", "SECRET-BEARER", "SECRET-JSON-TOKEN", "SECRET-CLIENT", "SECRET-REFRESH", "SECRET-VERIFIER"}

func testCatalogue(t testing.TB) *profiles.Catalogue {
	t.Helper()
	fsys := fstest.MapFS{
		"uscore.yaml": {Data: []byte(`
- id: uscore.patient.read
  statement: The server returns a Patient conforming to US Core Patient.
  level: SHALL
  ig: hl7.fhir.us.core
  versions: ["6.1.0"]
  cfr: ["42 CFR 422.119", "45 CFR 170.215"]
- id: uscore.search.semantics
  statement: Every resource a search returns matches the search parameters.
  level: SHALL
  cfr: ["42 CFR 422.119(c)(1)"]
- id: uscore.never.tested
  statement: Nobody tests this.
  level: SHOULD
  untested_reason: needs seeded data
`)},
		"smart.yaml": {Data: []byte(`
- id: smart.pkce.s256
  statement: The authorization server supports PKCE with S256 and refuses plain.
  level: SHALL
  cfr: ["45 CFR 170.215", "42 CFR 422.119(c)(1)"]
`)},
	}
	cat, err := profiles.LoadRequirements(fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func wrap(v any) types.ReportEntryValue { return types.WrapEntryValue(v) }

// jsonForm returns an entry as Ginkgo gives it back after a JSON round trip (raw value decoded
// into map[string]any, AsJSON set).
func jsonForm(t testing.TB, name string, v any) types.ReportEntry {
	t.Helper()
	b, err := json.Marshal(types.ReportEntry{Name: name, Value: wrap(v)})
	if err != nil {
		t.Fatal(err)
	}
	var e types.ReportEntry
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func loc(line int) types.CodeLocation {
	return types.CodeLocation{FileName: "/src/suites/uscore/patient.go", LineNumber: line}
}

func spec(containers []string, leaf string, state types.SpecState, labels ...string) types.SpecReport {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	return types.SpecReport{
		ContainerHierarchyTexts:  containers,
		ContainerHierarchyLabels: [][]string{{"ig:uscore-6.1.0"}},
		LeafNodeType:             types.NodeTypeIt,
		LeafNodeText:             leaf,
		LeafNodeLabels:           labels,
		LeafNodeLocation:         loc(10),
		State:                    state,
		StartTime:                start,
		EndTime:                  start.Add(1500 * time.Millisecond),
		RunTime:                  1500 * time.Millisecond,
	}
}

// writePNG writes a tiny PNG into dir and returns its evidence.File.
func writePNG(t testing.TB, dir, rel string) *evidence.File {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{200, 0, 0, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(buf.Bytes())
	return &evidence.File{Path: rel, SHA256: hex.EncodeToString(h[:]), Media: "image/png", URL: "https://auth.example/login?x=" + hostileJS}
}

// hostileExchange is an HTTP exchange full of server-controlled attack text and secrets the
// client failed to redact.
func hostileExchange() *evidence.Exchange {
	return &evidence.Exchange{
		Time:   time.Date(2026, 11, 27, 10, 0, 1, 0, time.UTC),
		Method: "GET",
		URL:    "https://fhir.example/Patient?name=" + hostileScript + "&access_token=SECRET-QUERY-TOKEN",
		Status: 200,
		RequestHeaders: map[string][]string{
			"Authorization": {"Bearer SECRET-BEARER"},
			"Accept":        {"application/fhir+json"},
		},
		ResponseHeaders: map[string][]string{
			"X-Evil":       {hostileAttr},
			"Location":     {hostileJS},
			"Content-Type": {"application/fhir+json"},
		},
		ResponseBody: `{"resourceType":"OperationOutcome","issue":[{"severity":"error","diagnostics":"` + hostileImg +
			`","details":{"text":"` + hostileJS + `"}}],"access_token":"SECRET-JSON-TOKEN","refresh_token":"SECRET-REFRESH"}` + hostileClose,
		DurationMS: 42,
	}
}

// fixtureReport is a Ginkgo report with every outcome, both evidence forms and hostile text.
// dir receives the screenshot file.
func fixtureReport(t testing.TB, dir string) types.Report {
	t.Helper()
	shot := writePNG(t, dir, "evidence/shot-1.png")

	pass := spec([]string{"uscore-6.1.0", "patient"}, "read", types.SpecStatePassed,
		"req:uscore.patient.read", "level:SHALL", "profile:us-core-patient", "resource:Patient")
	pass.ReportEntries = types.ReportEntries{
		{Name: evidence.EntryName, Value: wrap(&evidence.Entry{Kind: evidence.KindHTTP, Title: "read " + hostileJS, Exchange: hostileExchange()})},
		{Name: evidence.RequirementEntryName, Value: wrap("SHALL: The server returns a Patient " + hostileScript)},
		{Name: "unrelated", Value: wrap("ignored")},
	}

	fail := spec([]string{"uscore-6.1.0", "observation-lab", "search"}, "patient+category", types.SpecStateFailed,
		"req:uscore.search.semantics", "level:SHALL", "profile:us-core-observation-lab", "resource:Observation")
	fail.Failure = types.Failure{
		Message:  "search: 1 error(s)\n  search: a result is outside the search " + hostileClose + " @ Observation.category",
		Location: loc(77),
	}
	fail.ReportEntries = types.ReportEntries{
		jsonForm(t, evidence.EntryName, &evidence.Entry{Kind: evidence.KindIssues, Title: "validation", Resource: "Observation/" + hostileImg,
			Issues: []issue.Issue{{Severity: issue.Error, Rule: "binding", Path: "Observation.category[0]", Message: "code not in value set",
				Expected: "every Observation to have category laboratory", Actual: "vital-signs " + hostileClose,
				Diagnostics: hostileScript + " client_secret=SECRET-CLIENT"}}}),
		{Name: evidence.EntryName, Value: wrap(&evidence.Entry{Kind: evidence.KindMustSupport, Title: "must-support",
			MustSupport: &evidence.MustSupport{Profile: "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab",
				Present: []string{"Observation.status", "Observation.code"}, Missing: []string{"Observation.value[x]"}, Searched: []string{"Patient/" + hostileAttr}}})},
		{Name: evidence.EntryName, Value: wrap(&evidence.Entry{Kind: evidence.KindNote, Title: "note", Text: "code_verifier=SECRET-VERIFIER " + hostileJS})},
	}

	gomegaFail := spec([]string{"uscore-6.1.0", "patient"}, "search/name", types.SpecStateFailed, "req:uscore.patient.read", "req:not.in.catalogue")
	gomegaFail.Failure = types.Failure{Message: "Expected\n    <int>: 404\nto equal\n    <int>: 200", Location: loc(88)}

	skip := spec([]string{"uscore-6.1.0", "encounter"}, "search/date", types.SpecStateSkipped, "req:uscore.search.semantics")
	skip.Failure = types.Failure{Message: "no Encounter with a period for the test patients; add one to enable this spec " + hostileClose +
		" \x1b[31mcolour\x1b[0m \x00nul \xff\xfe bad UTF-8", Location: loc(99)}

	errSpec := spec([]string{"smart-2.0.0", "pkce"}, "refuses plain", types.SpecStateFailed, "req:smart.pkce.s256")
	errSpec.ContainerHierarchyLabels = [][]string{{"ig:smart-2.0.0"}}
	errSpec.Failure = types.Failure{Message: "token endpoint unreachable", Location: loc(12)}
	errSpec.ReportEntries = types.ReportEntries{
		{Name: evidence.ErrorEntryName, Value: wrap("dial tcp 10.0.0.1:443: connection refused")},
		{Name: evidence.EntryName, Value: wrap(&evidence.Entry{Kind: evidence.KindScreenshot, Title: "login page", Screenshot: shot})},
	}

	panicked := spec([]string{"smart-2.0.0", "pkce"}, "s256 accepted", types.SpecStatePanicked, "req:smart.pkce.s256")
	panicked.ContainerHierarchyLabels = [][]string{{"ig:smart-2.0.0"}}
	panicked.Failure = types.Failure{Message: "Test Panicked", ForwardedPanic: "runtime error: index out of range", Location: loc(13)}

	pending := spec([]string{"uscore-6.1.0", "goal"}, "read", types.SpecStatePending)

	bs := types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed}
	ras := types.SpecReport{LeafNodeType: types.NodeTypeReportAfterSuite, LeafNodeText: "write reports", State: types.SpecStatePassed}

	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	return types.Report{
		SuiteDescription: "pacheck",
		SuiteSucceeded:   false,
		StartTime:        start,
		EndTime:          start.Add(9 * time.Second),
		RunTime:          9 * time.Second,
		SpecReports:      types.SpecReports{bs, pass, fail, gomegaFail, skip, errSpec, panicked, pending, ras},
	}
}

func fixtureMeta() RunMeta {
	return RunMeta{
		Target:         "https://fhir.example/r4?access_token=SECRET-QUERY-TOKEN",
		PacheckVersion: "v0.0.0-test",
		Packages:       []PackageInfo{{ID: "hl7.fhir.us.core", Version: "6.1.0", SHA256: "ab12"}},
		Config: map[string]any{
			"target":        "https://fhir.example/r4",
			"client_secret": "SECRET-CLIENT",
			"auth":          map[string]any{"refreshToken": "SECRET-REFRESH", "scopes": []any{"patient/*.rs", hostileScript}},
		},
	}
}

func fixtureResults(t testing.TB, dir string) *Results {
	t.Helper()
	r, err := FromGinkgo(fixtureReport(t, dir), fixtureMeta(), testCatalogue(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// bigResults builds n specs with one HTTP exchange of about bodyBytes each, for the
// lazy-rendering test and the benchmark.
func bigResults(t testing.TB, n, bodyBytes int) *Results {
	t.Helper()
	rep := types.Report{SuiteDescription: "big", StartTime: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	states := []types.SpecState{types.SpecStatePassed, types.SpecStateFailed, types.SpecStateSkipped, types.SpecStatePassed}
	for i := range n {
		s := spec([]string{fmt.Sprintf("uscore-6.1.0/r%d", i%50)}, fmt.Sprintf("spec %d", i), states[i%len(states)], "req:uscore.patient.read")
		if s.State == types.SpecStateFailed {
			s.Failure = types.Failure{Message: fmt.Sprintf("expected a, got b%d", i)}
		}
		if s.State == types.SpecStateSkipped {
			s.Failure = types.Failure{Message: "no data"}
		}
		s.ReportEntries = types.ReportEntries{{Name: evidence.EntryName, Value: wrap(&evidence.Entry{Kind: evidence.KindHTTP, Title: "search",
			Exchange: &evidence.Exchange{Method: "GET", URL: "https://fhir.example/Observation?patient=1", Status: 200,
				ResponseBody: string(bytes.Repeat([]byte(`{"resourceType":"Bundle"}`), bodyBytes/25))}})}}
		rep.SpecReports = append(rep.SpecReports, s)
	}
	r, err := FromGinkgo(rep, RunMeta{Target: "https://fhir.example"}, testCatalogue(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}
