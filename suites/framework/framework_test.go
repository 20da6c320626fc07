package framework

import (
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
)

func TestReqLabelsAndUnknownIDs(t *testing.T) {
	labels := Req("general.fhir-api", "no.such-requirement")
	if !slices.Contains(labels, "req:general.fhir-api") || !slices.Contains(labels, "level:SHALL") {
		t.Fatalf("labels %v lack the requirement or its level", labels)
	}
	unk := UnknownRequirements()
	if !slices.Contains(unk, "no.such-requirement") || slices.Contains(unk, "general.fhir-api") {
		t.Fatalf("UnknownRequirements() = %v, want exactly the unknown id", unk)
	}
}

func TestRunWantsAndVersions(t *testing.T) {
	var none *Run
	if !none.Wants("uscore") {
		t.Error("a nil run wants every area (listing with defaults)")
	}
	r := &Run{Suites: []string{"smart"}, IGs: map[string][]string{"uscore": {"3.1.1"}}}
	if r.Wants("uscore") || !r.Wants("smart") {
		t.Error("Wants ignores Suites")
	}
	if v := r.Versions("uscore", "6.1.0"); len(v) != 1 || v[0] != "3.1.1" {
		t.Errorf("Versions = %v", v)
	}
	if v := r.Versions("carinbb", "2.0.0"); v[0] != "2.0.0" {
		t.Errorf("default version not used: %v", v)
	}
}

func TestAttribute(t *testing.T) {
	validation := []string{"uscore.profile.conformance", "uscore.profile.cardinality", "uscore.profile.binding"}
	for _, tc := range []struct {
		name     string
		cited    []string
		issues   issue.List
		want     []string // Requirement of each issue, in order
		broken   []string
		unmapped []Unmapped
	}{
		{"by rule among the cited", validation,
			issue.List{{Severity: issue.Error, Rule: "binding"}, {Severity: issue.Error, Rule: "cardinality"}, {Severity: issue.Error, Rule: "binding"}},
			[]string{"uscore.profile.binding", "uscore.profile.cardinality", "uscore.profile.binding"},
			[]string{"uscore.profile.binding", "uscore.profile.cardinality"}, nil},
		{"generic validator rule", validation, issue.List{{Severity: issue.Error, Rule: "type"}},
			[]string{"uscore.profile.conformance"}, []string{"uscore.profile.conformance"}, nil},
		{"warnings are not attributed", validation, issue.List{{Severity: issue.Warning, Rule: "binding"}, {Severity: issue.Error, Rule: "slicing"}},
			[]string{"", "uscore.profile.conformance"}, []string{"uscore.profile.conformance"}, nil},
		{"one cited requirement takes every rule", []string{"smart.pkce.verifier"}, issue.List{{Severity: issue.Error, Rule: "probe.accepted"}},
			[]string{"smart.pkce.verifier"}, []string{"smart.pkce.verifier"}, nil},
		{"a check's own attribution is kept", validation, issue.List{{Severity: issue.Error, Rule: "binding", Requirement: "uscore.profile.invariant"}},
			[]string{"uscore.profile.invariant"}, []string{"uscore.profile.invariant"}, nil},
		{"unmapped goes to the first SHALL and is reported", []string{"uscore.search.include-should", "uscore.search.shall-combination", "uscore.search.semantics"},
			issue.List{{Severity: issue.Error, Rule: "search.paging.loop"}, {Severity: issue.Error, Rule: "search.paging.loop"}},
			[]string{"uscore.search.shall-combination", "uscore.search.shall-combination"}, []string{"uscore.search.shall-combination"},
			[]Unmapped{{Rule: "search.paging.loop", To: "uscore.search.shall-combination"}}},
		{"no cited requirement: nothing to attribute", nil, issue.List{{Severity: issue.Error, Rule: "binding"}}, []string{""}, nil, nil},
	} {
		l := slices.Clone(tc.issues)
		broken, unmapped := Attribute(l, tc.cited)
		for i, is := range l {
			if is.Requirement != tc.want[i] {
				t.Errorf("%s: issue %d (%s) attributed to %q, want %q", tc.name, i, is.Rule, is.Requirement, tc.want[i])
			}
		}
		if !slices.Equal(broken, tc.broken) || !slices.Equal(unmapped, tc.unmapped) {
			t.Errorf("%s: broken %v unmapped %v, want %v %v", tc.name, broken, unmapped, tc.broken, tc.unmapped)
		}
	}
}

// The fake spec tree TestAttributionInSpecs runs (Ginkgo allows one run per process; this test
// binary has no other).
var _ = Describe("attribution", func() {
	It("validation", Req("uscore.profile.conformance", "uscore.profile.cardinality", "uscore.profile.binding"), func() {
		ExpectConformant("validation", issue.List{
			{Severity: issue.Error, Rule: "binding", Message: "code outside the value set"},
			{Severity: issue.Warning, Rule: "cardinality", Message: "only a warning"},
			{Severity: issue.Error, Rule: "cardinality", Message: "min 1, found 0"}})
	})
	It("unmapped", Req("uscore.search.shall-combination", "uscore.search.semantics"), func() {
		ExpectConformant("search", issue.List{{Severity: issue.Error, Rule: "search.paging.loop", Message: "next link loops"}})
	})
	It("expectf", Req("capability.format-json", "capability.http.content-type"), func() {
		Expectf(false, "capability.http.content-type", "application/fhir+json", "text/plain")
	})
	It("passes", Req("capability.format-json"), func() {
		ExpectConformant("clean", issue.List{{Severity: issue.Warning, Rule: "binding"}})
		Expectf(true, "capability.format-json", "json", "json")
	})
})

type fakeT struct{ failed bool }

func (f *fakeT) Fail() { f.failed = true }

func TestAttributionInSpecs(t *testing.T) {
	var report types.Report
	ReportAfterSuite("capture", func(r types.Report) { report = r })
	sc, rc := GinkgoConfiguration()
	sc.RandomizeAllSpecs = false
	rc.Succinct, rc.SilenceSkips = true, true
	RunSpecs(&fakeT{}, "attribution", sc, rc)
	type got struct {
		state  types.SpecState
		broken []string
		issues []string // rule=requirement of the attached issues
		notes  []string
	}
	specs := map[string]got{}
	for _, s := range report.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		g := got{state: s.State}
		for _, e := range s.ReportEntries {
			switch e.Name {
			case evidence.BrokenEntryName:
				g.broken, _ = e.GetRawValue().([]string)
			case evidence.EntryName:
				ev, _ := e.GetRawValue().(*evidence.Entry)
				if ev == nil {
					continue
				}
				for _, is := range ev.Issues {
					g.issues = append(g.issues, is.Rule+"="+is.Requirement)
				}
				if ev.Kind == evidence.KindNote {
					g.notes = append(g.notes, ev.Text)
				}
			}
		}
		specs[s.LeafNodeText] = g
	}
	for _, tc := range []struct {
		spec   string
		state  types.SpecState
		broken []string
		issues []string
		note   string
	}{
		{"validation", types.SpecStateFailed, []string{"uscore.profile.binding", "uscore.profile.cardinality"},
			[]string{"binding=uscore.profile.binding", "cardinality=", "cardinality=uscore.profile.cardinality"}, ""},
		{"unmapped", types.SpecStateFailed, []string{"uscore.search.shall-combination"},
			[]string{"search.paging.loop=uscore.search.shall-combination"}, "unmapped rule search.paging.loop"},
		{"expectf", types.SpecStateFailed, []string{"capability.http.content-type"},
			[]string{"capability.http.content-type=capability.http.content-type"}, ""},
		{"passes", types.SpecStatePassed, nil, []string{"binding="}, ""},
	} {
		g, ok := specs[tc.spec]
		if !ok {
			t.Errorf("%s did not run", tc.spec)
			continue
		}
		if g.state != tc.state || !slices.Equal(g.broken, tc.broken) || !slices.Equal(g.issues, tc.issues) {
			t.Errorf("%s: %s broken %v issues %v; want %s %v %v", tc.spec, g.state, g.broken, g.issues, tc.state, tc.broken, tc.issues)
		}
		if tc.note != "" && !slices.ContainsFunc(g.notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
			t.Errorf("%s: notes %q lack %q", tc.spec, g.notes, tc.note)
		}
	}
}
