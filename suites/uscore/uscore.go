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
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Area is the suite area name (framework.Run.Suites).
const Area = "uscore"

// DefaultVersion is tested when the run names none.
const DefaultVersion = "6.1.0"

// TopVersions get a top-level container each, so their spec ids start with uscore-<version>
// (framework.Area: another version a run names is generated from its --package the same way).
var TopVersions = []string{"3.1.1", "6.1.0", "7.0.0"}

var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: TopVersions, Default: DefaultVersion, Build: buildVersion})

// buildVersion generates the specs of one US Core version from its package.
func buildVersion(v string) {
	run := framework.Current()
	set, err := igdata.PackageSet(run)
	var srv *ig.Server
	if err == nil {
		srv, err = ig.Load(set, v)
	}
	if err != nil {
		It("package", framework.Req("uscore.profile.conformance"), func() { framework.Infra(err) })
		return
	}
	for _, res := range srv.Resources {
		for _, p := range res.Profiles {
			if p.Raw == nil {
				continue // a profile of another IG the package set does not hold (e.g. SDC)
			}
			if !strings.HasPrefix(p.URL, "http://hl7.org/fhir/us/core/") && res.Expectation != "SHALL" {
				continue
			}
			pc := &profileCtx{run: run, srv: srv, res: res, prof: p}
			Describe(p.ID, Label("profile:"+p.ID, "resource:"+res.Type), func() { buildProfile(pc) })
		}
	}
}

// profileCtx is what a profile's specs share.
type profileCtx struct {
	run  *framework.Run
	srv  *ig.Server
	res  *ig.Resource
	prof *ig.Profile
}

// optional reports whether the profile's specs are SHOULD level (resource or profile not SHALL).
func (pc *profileCtx) optional() bool {
	return pc.res.Expectation != "SHALL" || pc.prof.Expectation != "SHALL"
}

// ids are the requirement ids a spec of the profile cites, in its labels and its quote alike:
// the given ids, or only uscore.optional-resource for a SHOULD resource type or profile, so such
// specs never fail a SHALL verdict.
func (pc *profileCtx) ids(ids ...string) []string {
	if pc.optional() {
		return []string{"uscore.optional-resource"}
	}
	return ids
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

func buildProfile(pc *profileCtx) {
	res := pc.res
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
		it("search/"+c.Name(), pc.ids(ids...), func() { specSearch(pc, c) })
	}
	for _, sp := range res.SearchParams {
		if sp.MultipleOr != "SHALL" || !inSomeCombo(res, sp.Name) {
			continue
		}
		it("search/multiple-or/"+sp.Name, pc.ids("uscore.search.multiple-or"), func() { specMultipleOr(pc, sp) })
	}
	if first := firstShall(res); first != nil && pc.srv.PatientParam(res) != "" {
		it("search/post", pc.ids("uscore.search.post"), func() { specPost(pc, *first) })
	}
	if pc.srv.PatientParam(res) != "" {
		it("paging", pc.ids("uscore.search.paging", "uscore.search.paging-terminates"), func() { specPaging(pc) })
	}
	if res.Interactions["read"] != "" {
		it("read", pc.ids("uscore.read.matches-search"), func() { specRead(pc) })
	}
	valIDs := []string{"uscore.profile.conformance", "uscore.profile.cardinality", "uscore.profile.binding", "uscore.profile.slicing", "uscore.profile.invariant"}
	valIDs = pc.ids(valIDs...)
	it("validation", valIDs, func() { specValidation(pc, valIDs) })
	it("must-support", pc.ids("uscore.profile.must-support"), func() { specMustSupport(pc) })
	if hasMSReference(pc.prof) {
		it("references", pc.ids("uscore.reference.resolvable"), func() { specReferences(pc) })
	}
	for _, ri := range res.RevIncludes {
		if ri.Value != "Provenance:target" || (ri.Expectation != "SHALL" && ri.Expectation != "SHOULD") || pc.srv.PatientParam(res) == "" {
			continue
		}
		if pc.srv.Version == "3.1.1" && !hasRevincludeExpectation(pc.srv) {
			// 3.1.1 lists the revinclude without an expectation; US Core requires it from 4.0.0 on.
			continue
		}
		ids := pc.ids("uscore.search.revinclude-provenance")
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
			ids = pc.ids("uscore.search.include-medication")
		case in.Expectation == "SHALL":
			ids = pc.ids("uscore.search.include")
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

func skipNoPool(pc *profileCtx, td *igdata.TypeData) {
	GinkgoHelper()
	how := strings.Join(td.Queries, ", ")
	if how == "" {
		how = "no query (no patient id configured, and no reference to " + pc.res.Type + " found)"
	}
	framework.SkipBecause(
		fmt.Sprintf("no %s resource conforming to %s was found for %s (%d %s resource(s) found by %s; none claims the profile in meta.profile%s)",
			pc.res.Type, pc.prof.ID, igdata.DescribePatients(pc.run), len(td.Resources), pc.res.Type, how, discriminatorNote(pc.prof)),
		fmt.Sprintf("a member record holding a %s that claims %s in meta.profile%s", pc.res.Type, pc.prof.URL, discriminatorWant(pc.prof)))
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
