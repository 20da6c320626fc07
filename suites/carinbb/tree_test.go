package carinbb_test

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/suitetest"
	"github.com/pacheck/pacheck/suites/runner"
)

var update = flag.Bool("update", false, "rewrite testdata/spec-counts.txt")

// TestSpecTree lists the payer suites' tree (no run): every spec carries requirement, level, IG,
// profile and resource labels and known requirement ids; spec ids are addressable by section;
// the prior-authorization specs, and only they, carry the prior-auth label, so the
// cms-patient-access preset's filter "!prior-auth" leaves them out; the fault table names
// existing specs. The spec counts per IG are printed and stored in testdata/spec-counts.txt.
func TestSpecTree(t *testing.T) {
	if suitetest.IsChild() {
		t.Skip("child process")
	}
	rep, err := runner.List(runner.Options{Run: &framework.Run{Suites: areas,
		IGs: map[string][]string{"carinbb": {"1.1.0", "2.0.0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if u := framework.UnknownRequirements(); len(u) > 0 {
		t.Errorf("specs name requirement ids missing from the catalogue: %v", u)
	}
	noPA, err := types.ParseLabelFilter("!prior-auth")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	counts := map[string]map[string]int{}
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		id := runner.SpecID(s)
		ids[id] = true
		ig := strings.SplitN(id, "/", 2)[0]
		if counts[ig] == nil {
			counts[ig] = map[string]int{}
		}
		kind := strings.SplitN(strings.SplitN(id, "/", 3)[len(strings.SplitN(id, "/", 3))-1], "/", 2)[0]
		counts[ig][kind]++
		counts[ig]["total"]++
		has := map[string]bool{}
		for _, l := range s.Labels() {
			k, _, _ := strings.Cut(l, ":")
			has[k] = true
		}
		for _, k := range []string{"req", "level", "ig"} {
			if !has[k] {
				t.Errorf("%s: labels %v lack %s:", id, s.Labels(), k)
			}
		}
		if id != ig+"/public-access" && (!has["profile"] || !has["resource"]) {
			t.Errorf("%s: labels %v lack profile: or resource:", id, s.Labels())
		}
		pa := strings.Contains(id, "/priorauthorization/")
		if kept := noPA(s.Labels()); kept == pa {
			t.Errorf("%s: kept by !prior-auth = %v, but prior authorization = %v", id, kept, pa)
		}
	}
	for _, want := range []string{"carinbb-2.0.0/eob-pharmacy/search/patient+type", "carinbb-2.0.0/eob-oral/search/patient+billable-period-start",
		"carinbb-2.0.0/eob-inpatient-institutional/include/ExplanationOfBenefit-payee", "carinbb-1.1.0/eob-pharmacy/rules/adjudication",
		"pdex-2.0.0/priorauthorization/rules/denial-reason", "pdex-2.0.0/device/revinclude/provenance", "formulary-2.0.1/public-access"} {
		if !ids[want] {
			t.Errorf("%s is not in the tree", want)
		}
	}
	if _, ok := ids["carinbb-1.1.0/eob-oral/validation"]; ok {
		t.Error("CARIN BB 1.1.0 has no oral profile, but specs were generated for it")
	}
	var igs []string
	for ig := range counts {
		igs = append(igs, ig)
	}
	sort.Strings(igs)
	var b strings.Builder
	for _, ig := range igs {
		var kinds []string
		for k := range counts[ig] {
			if k != "total" {
				kinds = append(kinds, k)
			}
		}
		sort.Strings(kinds)
		fmt.Fprintf(&b, "%s: %d specs", ig, counts[ig]["total"])
		for _, k := range kinds {
			fmt.Fprintf(&b, ", %s %d", k, counts[ig][k])
		}
		b.WriteString("\n")
	}
	fmt.Print(b.String())
	const golden = "testdata/spec-counts.txt"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestSpecTree -update)", err)
	}
	if string(old) != b.String() {
		t.Errorf("spec counts changed; review and run go test -run TestSpecTree -update:\nstored:\n%s\nnow:\n%s", old, b.String())
	}
}
