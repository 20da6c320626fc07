package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
)

// FuzzRenderReport: server- and suite-controlled strings anywhere in a run (spec ids, skip and
// error reasons, failure messages, root causes, evidence bodies and headers) never make WriteAll
// fail or panic, never put a <script element of theirs into index.html, never leave a control
// character in summary.md, and keep junit.xml well-formed and results.json readable. Seeds:
// testdata/fuzz/FuzzRenderReport.
func FuzzRenderReport(f *testing.F) {
	f.Add("uscore-6.1.0/patient/read", "no second member; to enable: configure members[1]", `{"resourceType":"Patient"}`, "application/fhir+json")
	f.Add("<script>alert(1)</script>", "</script><script>alert(2)</script>", "<img src=x onerror=alert(1)>", `" onerror=alert(1) x="`)
	f.Fuzz(func(t *testing.T, id, reason, body, header string) {
		rep := fuzzReport(id, reason, body, header)
		r, err := FromGinkgo(rep, RunMeta{Target: "https://fhir.example/" + id, PacheckVersion: reason}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Run.Warnings = append(r.Run.Warnings, reason)
		dir := t.TempDir()
		if err := WriteAll(dir, r, Options{InlineBodyLimit: 64}); err != nil {
			t.Fatalf("WriteAll: %v", err)
		}
		html := readFuzzFile(t, dir, FileHTML)
		// The page itself has exactly two script elements: the JSON data block and the code.
		if n := strings.Count(strings.ToLower(html), "<script"); n != 2 {
			t.Fatalf("index.html has %d <script elements, want 2", n)
		}
		for i, c := range readFuzzFile(t, dir, FileSummary) {
			if (c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f) {
				t.Fatalf("summary.md: control character %U at byte %d", c, i)
			}
		}
		if err := xml.Unmarshal([]byte(readFuzzFile(t, dir, FileJUnit)), new(junitSuites)); err != nil {
			t.Fatalf("junit.xml: %v", err)
		}
		back, err := ReadJSON(strings.NewReader(readFuzzFile(t, dir, FileResults)))
		if err != nil {
			t.Fatalf("results.json: %v", err)
		}
		if back.Counts != r.Counts || len(back.RootCauses) != len(r.RootCauses) {
			t.Fatalf("results.json round trip: %+v vs %+v", back.Counts, r.Counts)
		}
		for _, s := range []string{id, reason, body, header} {
			if out := Redact(s); Redact(out) != out {
				t.Fatalf("Redact not idempotent: %q -> %q -> %q", s, out, Redact(out))
			}
		}
	})
}

func readFuzzFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fuzzReport puts the strings into every outcome of a small Ginkgo report.
func fuzzReport(id, reason, body, header string) types.Report {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	mk := func(leaf string, state types.SpecState, labels ...string) types.SpecReport {
		return types.SpecReport{ContainerHierarchyTexts: []string{id}, LeafNodeType: types.NodeTypeIt, LeafNodeText: leaf,
			LeafNodeLabels: labels, State: state, StartTime: start, RunTime: time.Millisecond}
	}
	ex := &evidence.Exchange{Method: "GET", URL: "https://fhir.example/" + id + "?q=" + reason, Status: 200,
		RequestHeaders:  map[string][]string{"Authorization": {"Bearer " + header}, header: {reason}},
		ResponseHeaders: map[string][]string{"Content-Type": {header}, "X-" + id: {header}},
		RequestBody:     reason, ResponseBody: body, Error: reason}
	pass := mk("pass "+id, types.SpecStatePassed, "req:"+id, "level:SHALL")
	pass.ReportEntries = types.ReportEntries{
		{Name: evidence.EntryName, Value: types.WrapEntryValue(&evidence.Entry{Kind: evidence.KindHTTP, Title: id, Exchange: ex})},
		{Name: evidence.RequirementEntryName, Value: types.WrapEntryValue(reason)},
	}
	pass.CapturedGinkgoWriterOutput = body
	fail := mk(id, types.SpecStateFailed, "req:a.b", "req:c.d")
	fail.Failure = types.Failure{Message: reason + "\n" + body}
	fail.ReportEntries = types.ReportEntries{
		{Name: evidence.BrokenEntryName, Value: types.WrapEntryValue([]string{id})},
		{Name: evidence.EntryName, Value: types.WrapEntryValue(&evidence.Entry{Kind: evidence.KindIssues, Title: reason, Resource: id,
			Issues: []issue.Issue{{Severity: issue.Error, Rule: id, Path: header, Message: reason, Diagnostics: body, Requirement: header}}})},
		{Name: evidence.EntryName, Value: types.WrapEntryValue(&evidence.Entry{Kind: evidence.KindScreenshot, Title: id,
			Screenshot: &evidence.File{Path: header, Media: "image/png", SHA256: id, URL: body}})},
		{Name: evidence.EntryName, Value: types.WrapEntryValue(&evidence.Entry{Kind: evidence.KindMustSupport, Title: id,
			MustSupport: &evidence.MustSupport{Profile: header, Present: []string{id}, Missing: []string{reason}, Searched: []string{body}}})},
	}
	skip := mk("skip", types.SpecStateSkipped, "req:"+header, "level:SHALL")
	skip.Failure = types.Failure{Message: reason}
	blocked := mk("blocked", types.SpecStateFailed, "req:"+id)
	blocked.Failure = types.Failure{Message: "error: " + reason}
	blocked.ReportEntries = types.ReportEntries{
		{Name: evidence.BlockedEntryName, Value: types.WrapEntryValue(evidence.Blocked{Cause: id, Reason: reason})},
		{Name: evidence.ErrorEntryName, Value: types.WrapEntryValue("error: blocked by " + id + ": " + reason)},
	}
	errSpec := mk("error", types.SpecStatePanicked)
	errSpec.Failure = types.Failure{Message: body, ForwardedPanic: reason}
	return types.Report{SuiteDescription: id, StartTime: start, EndTime: start.Add(time.Second),
		SpecReports: types.SpecReports{pass, fail, skip, blocked, errSpec}}
}

// The fuzz seeds are committed; this keeps them parseable as a regular test run does.
func TestFuzzSeedsPresent(t *testing.T) {
	ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzRenderReport"))
	if err != nil || len(ents) < 5 {
		t.Fatalf("seed corpus: %d files, %v", len(ents), err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzRenderReport", e.Name()))
		if err != nil || !bytes.HasPrefix(b, []byte("go test fuzz v1\n")) || bytes.Count(b, []byte("\nstring(")) != 4 {
			t.Errorf("seed %s is not a four-string corpus entry: %v", e.Name(), err)
		}
	}
}
