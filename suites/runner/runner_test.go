package runner

import (
	"errors"
	"regexp"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
)

// A tiny tree with one spec per outcome, to prove outcomes and exit codes are classified honestly.
var _ = Describe("selftest", func() {
	It("passes", framework.Req("general.fhir-api"), func() {})
	It("fails", func() {
		framework.ExpectConformant("validation", issue.List{{Severity: issue.Error, Rule: "cardinality", Path: "Patient.name", Message: "min 1, found 0"}})
	})
	It("skips", func() { framework.SkipBecause("no Observation for patient member-1", "a record with an Observation") })
	It("errors", func() { framework.Infra(errors.New("target unreachable")) })
	It("should-level", Label("level:SHOULD"), func() { Fail("x") })
})

func TestListAndRun(t *testing.T) {
	lr, err := List(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(lr.SpecReports); n < 5 {
		t.Fatalf("List found %d specs, want at least 5", n)
	}
	r, err := Run(Options{Run: &framework.Run{Target: "http://127.0.0.1:1/fhir"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range r.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt {
			got[SpecID(s)] = Outcome(s)
		}
	}
	want := map[string]string{"selftest/passes": "pass", "selftest/fails": "fail", "selftest/skips": "skip",
		"selftest/errors": "error", "selftest/should-level": "fail"}
	for id, o := range want {
		if got[id] != o {
			t.Errorf("%s: outcome %q, want %q", id, got[id], o)
		}
	}
	if c := ExitCode(r, false); c != 3 {
		t.Errorf("ExitCode = %d, want 3 (an error outcome dominates)", c)
	}
	if _, err := Run(Options{Run: &framework.Run{}}); err == nil {
		t.Error("a second Run in one process was accepted")
	}
	for _, s := range r.SpecReports {
		if SpecID(s) == "selftest/fails" && s.Failure.Message == "" {
			t.Error("failure message empty")
		}
	}
}

func TestExitCodeLevels(t *testing.T) {
	fail := func(labels ...string) types.SpecReport {
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, State: types.SpecStateFailed, LeafNodeLabels: labels}
	}
	r := types.Report{SpecReports: types.SpecReports{fail("level:SHOULD")}}
	if ExitCode(r, false) != 0 || ExitCode(r, true) != 1 {
		t.Error("SHOULD failures must fail the run only when strict")
	}
	r.SpecReports = append(r.SpecReports, fail("level:SHALL"))
	if ExitCode(r, false) != 1 {
		t.Error("a SHALL failure must give exit 1")
	}
}

func TestFocusBySpecID(t *testing.T) {
	got := specIDPatterns([]string{"uscore-6.1.0/us-core-patient/search", "^smart"})
	if got[0] != "uscore-6.1.0[ /]us-core-patient[ /]search" || got[1] != "^pacheck +smart" {
		t.Fatalf("specIDPatterns = %q", got)
	}
	// an anchored id matches the full text of a spec in a top-level version container and in the
	// unnamed group of versions a run adds (an extra space), and its id leaves the group out
	re := regexp.MustCompile(specIDPatterns([]string{"^uscore-5.0.1/us-core-patient/read"})[0])
	for _, text := range []string{"pacheck uscore-5.0.1 us-core-patient read", "pacheck  uscore-5.0.1 us-core-patient read"} {
		if !re.MatchString(text) {
			t.Errorf("%q does not match %q", re, text)
		}
	}
	sr := types.SpecReport{ContainerHierarchyTexts: []string{"", "uscore-5.0.1", "us-core-patient"}, LeafNodeText: "read"}
	if id := SpecID(sr); id != "uscore-5.0.1/us-core-patient/read" {
		t.Errorf("SpecID = %q", id)
	}
}
