// Package uscore declares the US Core data specs as an instance of the IG-spec generator
// (suites/internal/igspec): for every US Core version of the run and every profile of that
// version's server CapabilityStatement, one spec per SHALL and SHOULD search (combination) with
// its variants, read, profile validation, must-support, _revinclude=Provenance:target and
// _include from the generator, plus US Core's own multiple-or (SHALL and SHOULD), POST _search, paging and reference
// resolution specs. Spec ids are addressable by section: uscore-6.1.0/<profile-id>/search/patient+category.
// Data is fetched once per type and shared by every spec that needs it.
package uscore

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/igspec"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Area is the suite area name (framework.Run.Suites).
const Area = "uscore"

// DefaultVersion is tested when the run names none.
const DefaultVersion = "6.1.0"

// storeKey names the run's store of US Core data: fetched once per run and type for every
// profile and version.
const storeKey = "uscore.store"

// TopVersions get a top-level container each, so their spec ids start with uscore-<version>
// (framework.Area: another version a run names is generated from its --package the same way).
var TopVersions = []string{"3.1.1", "6.1.0", "7.0.0", "8.0.0"}

var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: TopVersions, Default: DefaultVersion,
	Build: func(v string) { NewIG(v).Build() }})

// NewIG is the generated-spec description of one US Core version: the generator's loop over the
// server CapabilityStatement's profiles, its search, include and revinclude specs taken from the
// CapabilityStatement's combinations, with US Core's extras (multiple-or, POST, paging,
// references) and data.
func NewIG(v string) *igspec.IG {
	return &igspec.IG{Short: Area, Version: v, Capability: ig.ServerCS,
		Reqs: igspec.Reqs{
			Package:      []string{"uscore.profile.conformance"},
			Search:       []string{"uscore.search.shall-combination", "uscore.search.semantics"},
			SearchShould: []string{"uscore.search.should-combination"},
			SearchMay:    []string{"uscore.search.should-combination"},
			SearchType: map[string][]string{
				"date":      {"uscore.search.date"},
				"token":     {"uscore.search.token", "uscore.search.token-system"},
				"reference": {"uscore.search.reference"},
				"string":    {"uscore.search.string"},
			},
			// US Core 7.0.0 on: "Servers SHOULD support the _lastUpdated search parameter for US
			// Core Profiles" (its CapabilityStatement lists it in SHOULD combinations only)
			SearchParam: map[string][]string{"_lastUpdated": {"uscore.search.lastupdated"}},
			Read:        []string{"uscore.read.matches-search"},
			Validation:  []string{"uscore.profile.conformance", "uscore.profile.cardinality", "uscore.profile.binding", "uscore.profile.slicing", "uscore.profile.invariant"},
			Slicing:     "uscore.profile.slicing",
			MustSupport: []string{"uscore.profile.must-support"},
			Include:     []string{"uscore.search.include"},
			// _include=...:medication is a SHALL of the medication-list guidance whatever the
			// CapabilityStatement's expectation; other includes follow the CapabilityStatement.
			IncludeParam:     map[string][]string{"medication": {"uscore.search.include-medication"}},
			IncludeShould:    []string{"uscore.search.include-should"},
			Revinclude:       []string{"uscore.search.revinclude-provenance"},
			RevincludeShould: []string{"uscore.search.include-should"},
			// a SHOULD resource type or profile cites only this, so its specs never fail a SHALL verdict
			Optional: []string{"uscore.optional-resource"},
		},
		Combinations: true,
		Variants:     true,
		LoadServer:   ig.Load,
		Container:    func(p *ig.Profile) string { return p.ID },
		// US Core's profiles, and other IGs' profiles (e.g. SDC) the CapabilityStatement lists
		// for a SHALL resource type
		Keep: func(res *ig.Resource, p *ig.Profile) bool {
			return strings.HasPrefix(p.URL, "http://hl7.org/fhir/us/core/") || res.Expectation == "SHALL"
		},
		// SHOULD level: the resource type or the profile is not SHALL
		Optional: func(pc *igspec.ProfileCtx) bool {
			return pc.Res.Expectation != "SHALL" || pc.Prof.Expectation != "SHALL"
		},
		// prior versions' resources count as the profile's (the pool is by profile, not version)
		AnyVersion: true,
		Extra:      extras,
		Store:      storeKey,
		PagingSpec: pagingSpecID,
	}
}

// extras declares US Core's specs beyond the generator's: multiple-or for each parameter of a
// search combination whose SearchParameter marks multipleOr SHALL or SHOULD (the
// capabilitystatement-expectation on multipleOr; SHOULD cites a SHOULD requirement), POST _search and paging for types searched by patient, and the
// resolution of must-support references.
func extras(pc *igspec.ProfileCtx) {
	res := pc.Res
	for _, sp := range res.SearchParams {
		if !inSomeCombo(res, sp.Name) {
			continue
		}
		switch sp.MultipleOr {
		case "SHALL":
			pc.Spec("search/multiple-or/"+sp.Name, pc.ReqIDs("uscore.search.multiple-or"), func() { specMultipleOr(pc, sp) })
		case "SHOULD":
			pc.Spec("search/multiple-or/"+sp.Name, pc.ReqIDs("uscore.search.multiple-or-should"), func() { specMultipleOr(pc, sp) })
		}
	}
	if first := firstShall(res); first != nil && pc.IG.Srv.PatientParam(res) != "" {
		pc.Spec("search/post", pc.ReqIDs("uscore.search.post"), func() { specPost(pc, *first) })
	}
	if pc.IG.Srv.PatientParam(res) != "" {
		pc.Spec("paging", pc.ReqIDs("uscore.search.paging", "uscore.search.paging-terminates"), func() { specPaging(pc) })
	}
	// 6.1.0 flags them too, but only the USCDI-based versions (the uscdi-v4 and uscdi-v5
	// presets) judge them: cms-patient-access tests 6.1.0 as 45 CFR 170.215 adopts it
	if igdata.CompareVersions(pc.IG.Version, uscdiFrom) >= 0 && hasUSCDIRequirements(pc.Prof) {
		pc.Spec("uscdi-requirements", pc.ReqIDs("uscore.uscdi-requirement"), func() { specUSCDIRequirements(pc) })
	}
	if hasMSReference(pc.Prof) {
		pc.Spec("references", pc.ReqIDs("uscore.reference.resolvable"), func() { specReferences(pc) })
	}
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

// uscdiFrom is the first US Core version whose Additional USCDI Requirements get a spec.
const uscdiFrom = "7.0.0"

// hasUSCDIRequirements reports whether the profile flags Additional USCDI Requirements (US Core
// 7.0.0 and later), the only profiles that get a uscdi-requirements spec.
func hasUSCDIRequirements(p *ig.Profile) bool {
	if p.Raw == nil {
		return false
	}
	els, err := p.USCDIRequirements()
	return err != nil || len(els) > 0
}

// specUSCDIRequirements judges the profile's Additional USCDI Requirements over its resources as
// the must-support spec judges must-support elements (igdata.ExpectPopulated): a SHOULD, since
// US Core makes them must-support only for implementers seeking ONC certification.
func specUSCDIRequirements(pc *igspec.ProfileCtx) {
	_, pool := pc.NeedPool()
	els, err := pc.Prof.USCDIRequirements()
	if err != nil {
		framework.Infra(fmt.Errorf("profile %s: %w", pc.Prof.URL, err))
	}
	igdata.ExpectPopulated(pc.Run, igdata.USCDIKind, pc.Prof.URL, pc.Prof.ID, els, pool, igdata.DescribePatients(pc.Run))
}
