// Package ginkgoe2e runs a tiny in-process Ginkgo suite, the way pacheck's runner does, and
// checks what package reports makes of the real report: in-process (raw *evidence.Entry values)
// and read back from Ginkgo's own JSON report.
package ginkgoe2e

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/reports"
)

var _ = Describe("uscore-6.1.0", Label("ig:uscore-6.1.0"), func() {
	Describe("patient", Label("profile:us-core-patient", "resource:Patient"), func() {
		It("read", Label("req:general.uscdi-data", "level:SHALL"), func() {
			AddReportEntry(evidence.EntryName, &evidence.Entry{Kind: evidence.KindHTTP, Title: "GET Patient/1",
				Exchange: &evidence.Exchange{Method: "GET", URL: "https://fhir.example/Patient/1", Status: 200,
					RequestHeaders: map[string][]string{"Authorization": {"Bearer SECRET-E2E"}},
					ResponseBody:   `{"resourceType":"Patient","name":[{"text":"<script>alert(1)</script>"}]}`}})
			AddReportEntry(evidence.RequirementEntryName, "general.uscdi-data [SHALL] ...", ReportEntryVisibilityNever)
		})
		It("search/name", Label("req:general.uscdi-data"), func() {
			AddReportEntry(evidence.EntryName, &evidence.Entry{Kind: evidence.KindIssues, Title: "validate",
				Issues: []issue.Issue{{Severity: issue.Error, Rule: "cardinality", Path: "Patient.name", Message: "min 1, got 0"}}})
			Expect(404).To(Equal(200))
		})
		It("search/birthdate", Label("req:general.uscdi-data"), func() {
			Skip("no Patient with a birthDate; to enable: seed one")
		})
		It("vread", Label("req:general.uscdi-data"), func() {
			msg := "error: " + errors.New("dial tcp: connection refused").Error()
			AddReportEntry(evidence.ErrorEntryName, msg, ReportEntryVisibilityAlways)
			Fail(msg)
		})
		It("history", func() {
			var m map[string]int
			m["x"] = 1 // panics
		})
		It("not selected", Label("excluded"), func() {})
		PIt("pending")
	})
})

var captured types.Report

var _ = ReportAfterSuite("capture", func(r Report) { captured = r })

type fakeT struct{ failed bool }

func (f *fakeT) Fail() { f.failed = true }

func TestReportsFromARealGinkgoRun(t *testing.T) {
	RegisterFailHandler(Fail)
	suiteCfg, repCfg := GinkgoConfiguration()
	suiteCfg.LabelFilter = "!excluded"
	repCfg.Succinct = true
	repCfg.NoColor = true
	jsonPath := filepath.Join(t.TempDir(), "ginkgo.json")
	repCfg.JSONReport = jsonPath
	ft := &fakeT{}
	RunSpecs(ft, "reports e2e", suiteCfg, repCfg)
	if !ft.failed {
		t.Fatal("the suite has failing specs but RunSpecs did not fail")
	}

	check := func(name string, rep types.Report) *reports.Results {
		r, err := reports.FromGinkgo(rep, reports.RunMeta{Target: "https://fhir.example"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]reports.Outcome{
			"uscore-6.1.0/patient/read":             reports.Pass,
			"uscore-6.1.0/patient/search/name":      reports.Fail,
			"uscore-6.1.0/patient/search/birthdate": reports.Skip,
			"uscore-6.1.0/patient/vread":            reports.Error,
			"uscore-6.1.0/patient/history":          reports.Error,
			"uscore-6.1.0/patient/pending":          reports.Skip,
		}
		if len(r.Specs) != len(want) || r.Run.NotSelected != 1 {
			var ids []string
			for _, s := range r.Specs {
				ids = append(ids, s.ID+"="+string(s.Outcome))
			}
			t.Fatalf("%s: specs %q, not selected %d", name, ids, r.Run.NotSelected)
		}
		for id, o := range want {
			s, ok := r.Spec(id)
			if !ok || s.Outcome != o {
				t.Errorf("%s: %s outcome %v, want %s", name, id, s, o)
			}
		}
		s, _ := r.Spec("uscore-6.1.0/patient/read")
		if s.IG != "uscore-6.1.0" || s.Level != "SHALL" || len(s.Profiles) != 1 || len(s.Evidence) != 1 || len(s.Quotes) != 1 {
			t.Errorf("%s: read spec %+v", name, s)
		}
		if h := s.Evidence[0].Exchange.RequestHeaders["Authorization"]; len(h) != 1 || h[0] != reports.Mask {
			t.Errorf("%s: Authorization %q", name, h)
		}
		s, _ = r.Spec("uscore-6.1.0/patient/search/name")
		if s.Failure == nil || s.Failure.Actual != "<int>: 404" || !strings.Contains(s.Failure.Location, "e2e_test.go") || len(s.Evidence[0].Issues) != 1 {
			t.Errorf("%s: failing spec %+v", name, s)
		}
		s, _ = r.Spec("uscore-6.1.0/patient/search/birthdate")
		if s.Reason != "no Patient with a birthDate; to enable: seed one" {
			t.Errorf("%s: skip reason %q", name, s.Reason)
		}
		s, _ = r.Spec("uscore-6.1.0/patient/vread")
		if s.Reason != "error: dial tcp: connection refused" {
			t.Errorf("%s: error reason %q", name, s.Reason)
		}
		s, _ = r.Spec("uscore-6.1.0/patient/history")
		if s.State != "panicked" || s.Failure == nil || !strings.Contains(s.Failure.Panic, "nil map") {
			t.Errorf("%s: panicked spec %+v", name, s)
		}
		return r
	}
	inproc := check("in-process", captured)

	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON []types.Report
	if err := json.Unmarshal(data, &fromJSON); err != nil || len(fromJSON) != 1 {
		t.Fatalf("ginkgo JSON report: %v (%d reports)", err, len(fromJSON))
	}
	back := check("from JSON", fromJSON[0])
	if inproc.Counts != back.Counts {
		t.Errorf("counts differ: %+v vs %+v", inproc.Counts, back.Counts)
	}

	dir := t.TempDir()
	if err := reports.WriteAll(dir, inproc, reports.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{reports.FileResults, reports.FileJUnit, reports.FileSummary, reports.FileHTML} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "SECRET-E2E") {
			t.Errorf("%s leaks the bearer token", f)
		}
	}
}
