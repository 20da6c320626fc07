package igspec_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igspec"
	"github.com/pacheck/pacheck/suites/runner"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// toy is an IG area declared from data only: a name, a version, a server CapabilityStatement
// canonical, the requirement ids of each kind of spec and which resource types to take. Adding
// an IG area is this much; every spec body is the generator's.
var toy = framework.DescribeArea(framework.Area{Name: "toy", Versions: []string{"2.0.0"}, Default: "2.0.0", Listed: true,
	Build: func(v string) {
		(&igspec.IG{Short: "toy", Version: v, Capability: "http://hl7.org/fhir/us/carin-bb/CapabilityStatement/c4bb",
			Reqs: igspec.Reqs{
				Search:      []string{"carinbb.search.semantics"},
				Read:        []string{"carinbb.read"},
				Validation:  []string{"carinbb.profile.conformance"},
				MustSupport: []string{"carinbb.profile.must-support"},
				Include:     []string{"carinbb.search.include"},
			},
			Keep: func(res *ig.Resource, _ *ig.Profile) bool { return res.Type == "Coverage" || res.Type == "Patient" },
		}).Build()
	}})

// TestToyArea lists the toy area's specs: the generator instantiated from data alone yields the
// searches, read, validation, must-support and _include of each kept profile, labelled with the
// area's requirement ids.
func TestToyArea(t *testing.T) {
	rep, err := runner.List(runner.Options{Run: &framework.Run{Suites: []string{"toy"}, IGs: map[string][]string{"toy": {"2.0.0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	labels := map[string][]string{}
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		id := runner.SpecID(s)
		ids = append(ids, id)
		labels[id] = s.Labels()
	}
	slices.Sort(ids)
	t.Logf("toy area specs:\n%s", strings.Join(ids, "\n"))
	want := []string{
		"toy-2.0.0/coverage/include/Coverage-payor",
		"toy-2.0.0/coverage/must-support",
		"toy-2.0.0/coverage/read",
		"toy-2.0.0/coverage/search/_id",
		"toy-2.0.0/coverage/search/_lastUpdated",
		"toy-2.0.0/coverage/validation",
		"toy-2.0.0/patient/must-support",
		"toy-2.0.0/patient/read",
		"toy-2.0.0/patient/search/_id",
		"toy-2.0.0/patient/search/_lastUpdated",
		"toy-2.0.0/patient/validation",
	}
	if !slices.Equal(ids, want) {
		t.Errorf("toy area specs:\n%s\nwant:\n%s", strings.Join(ids, "\n"), strings.Join(want, "\n"))
	}
	for id, ls := range labels {
		if !slices.Contains(ls, "ig:toy-2.0.0") {
			t.Errorf("%s: labels %v lack ig:toy-2.0.0", id, ls)
		}
		if strings.Contains(id, "/include/") && !slices.Contains(ls, "req:carinbb.search.include") {
			t.Errorf("%s: labels %v lack the area's include requirement", id, ls)
		}
	}
}
