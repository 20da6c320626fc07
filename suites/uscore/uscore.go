// Package uscore generates the US Core data specs from the IG packages: for every US Core version
// of the run and every profile of that version's server CapabilityStatement, one spec per SHALL
// and SHOULD search (combination), plus multiple-or, POST _search, paging, read, profile
// validation, must-support, reference resolution, _revinclude=Provenance:target and _include
// specs. Spec ids are addressable by section: uscore-6.1.0/<profile-id>/search/patient+category.
// Data is fetched once per resource type and shared by every spec that needs it.
package uscore

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/igspec"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Area is the suite area name (framework.Run.Suites).
const Area = "uscore"

// DefaultVersion is tested when the run names none.
const DefaultVersion = "6.1.0"

// TopVersions get a top-level container each, so their spec ids start with uscore-<version>
// (framework.Area: another version a run names is generated from its --package the same way).
var TopVersions = []string{"3.1.1", "6.1.0", "7.0.0"}

var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: TopVersions, Default: DefaultVersion,
	Build: func(v string) { NewIG(v).Build() }})

// NewIG is the generated-spec description of one US Core version: the generator's loop over the
// server CapabilityStatement's profiles, with US Core's own spec list (buildProfile) and data.
func NewIG(v string) *igspec.IG {
	return &igspec.IG{Short: Area, Version: v, Capability: ig.ServerCS,
		Reqs: igspec.Reqs{
			Package:     []string{"uscore.profile.conformance"},
			Read:        []string{"uscore.read.matches-search"},
			Validation:  []string{"uscore.profile.conformance", "uscore.profile.cardinality", "uscore.profile.binding", "uscore.profile.slicing", "uscore.profile.invariant"},
			Slicing:     "uscore.profile.slicing",
			MustSupport: []string{"uscore.profile.must-support"},
			// a SHOULD resource type or profile cites only this, so its specs never fail a SHALL verdict
			Optional: []string{"uscore.optional-resource"},
		},
		LoadServer: ig.Load,
		Container:  func(p *ig.Profile) string { return p.ID },
		// US Core's profiles, and other IGs' profiles (e.g. SDC) the CapabilityStatement lists
		// for a SHALL resource type
		Keep: func(res *ig.Resource, p *ig.Profile) bool {
			return strings.HasPrefix(p.URL, "http://hl7.org/fhir/us/core/") || res.Expectation == "SHALL"
		},
		// SHOULD level: the resource type or the profile is not SHALL
		Optional: func(pc *igspec.ProfileCtx) bool {
			return pc.Res.Expectation != "SHALL" || pc.Prof.Expectation != "SHALL"
		},
		Specs: buildProfile,
		Data:  data{},
	}
}

// it declares a spec citing ids (framework.Spec: one list labels it and is quoted). Every US Core
// spec is declared at this one site, so Ginkgo orders a profile's specs by name.
func it(name string, ids []string, body func()) { framework.Spec(name, ids, body) }

var typeReq = map[string]string{
	"date":      "uscore.search.date",
	"token":     "uscore.search.token",
	"reference": "uscore.search.reference",
	"string":    "uscore.search.string",
}

// buildProfile declares a profile's US Core specs: one search per SHALL and SHOULD combination
// of the CapabilityStatement, multiple-or, POST, paging, read, validation, must-support,
// references, _revinclude=Provenance:target and _include.
func buildProfile(pc *igspec.ProfileCtx) {
	g, res := pc.IG, pc.Res
	for _, c := range res.Combos {
		ids := []string{"uscore.search.should-combination"}
		if c.Expectation == "SHALL" {
			ids = []string{"uscore.search.shall-combination", "uscore.search.semantics"}
			for _, name := range c.Params {
				if sp := res.Param(name); sp != nil {
					if id := typeReq[sp.Param.Type]; id != "" && !slices.Contains(ids, id) {
						ids = append(ids, id)
					}
					if sp.Param.Type == "token" && !slices.Contains(ids, "uscore.search.token-system") {
						ids = append(ids, "uscore.search.token-system")
					}
				}
			}
		}
		it("search/"+c.Name(), pc.ReqIDs(ids...), func() { specSearch(pc, c) })
	}
	for _, sp := range res.SearchParams {
		if sp.MultipleOr != "SHALL" || !inSomeCombo(res, sp.Name) {
			continue
		}
		it("search/multiple-or/"+sp.Name, pc.ReqIDs("uscore.search.multiple-or"), func() { specMultipleOr(pc, sp) })
	}
	if first := firstShall(res); first != nil && pc.IG.Srv.PatientParam(res) != "" {
		it("search/post", pc.ReqIDs("uscore.search.post"), func() { specPost(pc, *first) })
	}
	if pc.IG.Srv.PatientParam(res) != "" {
		it("paging", pc.ReqIDs("uscore.search.paging", "uscore.search.paging-terminates"), func() { specPaging(pc) })
	}
	if res.Interactions["read"] != "" {
		it("read", pc.ReqIDs(g.Reqs.Read...), pc.SpecRead)
	}
	it("validation", pc.ReqIDs(g.Reqs.Validation...), pc.SpecValidation)
	it("must-support", pc.ReqIDs(g.Reqs.MustSupport...), pc.SpecMustSupport)
	if hasMSReference(pc.Prof) {
		it("references", pc.ReqIDs("uscore.reference.resolvable"), func() { specReferences(pc) })
	}
	for _, ri := range res.RevIncludes {
		if ri.Value != "Provenance:target" || (ri.Expectation != "SHALL" && ri.Expectation != "SHOULD") || pc.IG.Srv.PatientParam(res) == "" {
			continue
		}
		if pc.IG.Srv.Version == "3.1.1" && !hasRevincludeExpectation(pc.IG.Srv) {
			// 3.1.1 lists the revinclude without an expectation; US Core requires it from 4.0.0 on.
			continue
		}
		ids := pc.ReqIDs("uscore.search.revinclude-provenance")
		if ri.Expectation != "SHALL" {
			ids = []string{"uscore.search.include-should"}
		}
		it("revinclude/provenance", ids, func() { specRevinclude(pc) })
	}
	for _, in := range res.Includes {
		if in.Expectation != "SHALL" && in.Expectation != "SHOULD" {
			continue
		}
		// _include=...:medication is a SHALL of the medication-list guidance whatever the
		// CapabilityStatement's expectation; other includes follow the CapabilityStatement.
		var ids []string
		switch {
		case strings.HasSuffix(in.Value, ":medication"):
			ids = pc.ReqIDs("uscore.search.include-medication")
		case in.Expectation == "SHALL":
			ids = pc.ReqIDs("uscore.search.include")
		default:
			ids = []string{"uscore.search.include-should"}
		}
		it("include/"+strings.ReplaceAll(in.Value, ":", "-"), ids, func() { specInclude(pc, in.Value) })
	}
}

// hasRevincludeExpectation reports whether the version's CapabilityStatement states an
// expectation on searchRevInclude (6.1.0 does; 3.1.1 does not).
func hasRevincludeExpectation(srv *ig.Server) bool {
	rests, _ := srv.CS["rest"].([]any)
	for _, r := range rests {
		rm, _ := r.(map[string]any)
		rs, _ := rm["resource"].([]any)
		for _, x := range rs {
			xm, _ := x.(map[string]any)
			if _, ok := xm["_searchRevInclude"]; ok {
				return true
			}
		}
	}
	return false
}

func inSomeCombo(res *ig.Resource, name string) bool {
	for _, c := range res.Combos {
		if slices.Contains(c.Params, name) {
			return true
		}
	}
	return false
}

func firstShall(res *ig.Resource) *ig.Combo {
	for i, c := range res.Combos {
		if c.Expectation == "SHALL" {
			return &res.Combos[i]
		}
	}
	return nil
}

func skipNoPool(pc *igspec.ProfileCtx, td *igdata.TypeData) {
	GinkgoHelper()
	how := strings.Join(td.Queries, ", ")
	if how == "" {
		how = "no query (no patient id configured, and no reference to " + pc.Res.Type + " found)"
	}
	framework.SkipBecause(
		fmt.Sprintf("no %s resource conforming to %s was found for %s (%d %s resource(s) found by %s; none claims the profile in meta.profile%s)",
			pc.Res.Type, pc.Prof.ID, igdata.DescribePatients(pc.Run), len(td.Resources), pc.Res.Type, how, discriminatorNote(pc.Prof)),
		fmt.Sprintf("a member record holding a %s that claims %s in meta.profile%s", pc.Res.Type, pc.Prof.URL, discriminatorWant(pc.Prof)))
}

// discriminatorNote says what a resource claiming no US Core profile must carry to be taken for
// the profile, for skip messages.
func discriminatorNote(p *ig.Profile) string {
	if ls := discriminatorLabels(p); ls != "" {
		return ", or claims no US Core profile and carries " + ls
	}
	return ""
}

func discriminatorWant(p *ig.Profile) string {
	if ls := discriminatorLabels(p); ls != "" {
		return ", or claims none and carries " + ls
	}
	return ""
}

func discriminatorLabels(p *ig.Profile) string {
	var ls []string
	for _, d := range p.Discriminators() {
		ls = append(ls, d.Label)
	}
	return strings.Join(ls, ", ")
}

// hasMSReference reports whether the profile has a must-support Reference element, the only
// thing the references spec resolves (a profile such as us-core-patient has none: no spec).
// A profile whose must-support list cannot be computed keeps the spec, which reports why.
func hasMSReference(p *ig.Profile) bool {
	ms, err := p.MustSupport()
	if err != nil {
		return true
	}
	for _, m := range ms {
		if m.IsRef {
			return true
		}
	}
	return false
}
