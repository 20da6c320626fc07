// Package carinbb generates the CARIN Consumer Directed Payer Data Exchange (CARIN Blue Button)
// specs from the IG packages: per version (1.1.0, 2.0.0) and per profile of the c4bb server
// CapabilityStatement (ExplanationOfBenefit per subtype, Coverage, Patient, Organization,
// Practitioner, RelatedPerson) the searches, read, validation, must-support and _include specs
// (suites/internal/igspec), and per ExplanationOfBenefit subtype the business rules the profiles
// cannot express (checks/claims). Spec ids: carinbb-2.0.0/eob-pharmacy/search/patient+type.
package carinbb

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/claims"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/igspec"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Area is the suite area name.
const Area = "carinbb"

// DefaultVersion is tested when the run names none.
const DefaultVersion = "2.0.0"

// TopVersions get a top-level container each (spec ids start with carinbb-<version>).
var TopVersions = []string{"1.1.0", "2.0.0"}

// Capability is the CARIN BB server CapabilityStatement canonical.
const Capability = "http://hl7.org/fhir/us/carin-bb/CapabilityStatement/c4bb"

var reqs = igspec.Reqs{
	Search:       []string{"carinbb.search.semantics"},
	Read:         []string{"carinbb.read"},
	Validation:   []string{"carinbb.profile.conformance"},
	MustSupport:  []string{"carinbb.profile.must-support"},
	Include:      []string{"carinbb.search.include"},
	SearchShould: []string{"carinbb.search.should"},
	Optional:     []string{"carinbb.optional-resource"},
}

// NewIG is the generated-spec description of one CARIN BB version.
func NewIG(v string) *igspec.IG {
	return &igspec.IG{Short: Area, Version: v, Capability: Capability, Reqs: reqs, Extra: rules}
}

var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: TopVersions, Default: DefaultVersion,
	Build: func(v string) { NewIG(v).Build() }})

// claimPool is the profile's adjudicated claims (use claim), or the spec is skipped.
func claimPool(pc *igspec.ProfileCtx) (*igspec.TypeData, []map[string]any) {
	GinkgoHelper()
	td, pool := pc.NeedPool()
	var out []map[string]any
	for _, r := range pool {
		if !claims.IsPriorAuth(r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		framework.SkipBecause(fmt.Sprintf("the %d %s resource(s) of %s are all prior authorizations, no adjudicated claim", len(pool), pc.Prof.ID, pc.Who()),
			"an adjudicated claim (use claim) of the member")
	}
	return td, out
}

func isEOBSubtype(p *ig.Profile) bool {
	return p.Type == "ExplanationOfBenefit" || strings.Contains(p.ID, "ExplanationOfBenefit")
}

// rules adds the business-rule specs to each ExplanationOfBenefit subtype profile.
func rules(pc *igspec.ProfileCtx) {
	if pc.Res.Type != "ExplanationOfBenefit" || !isEOBSubtype(pc.Prof) {
		return
	}
	each := func(name string, ids []string, check func(eob map[string]any) issue.List) {
		framework.Spec("rules/"+name, ids, func() {
			_, pool := claimPool(pc)
			var all issue.List
			for _, r := range pool {
				all = append(all, check(r)...)
			}
			framework.Note("rules", "%d claim(s) of %s checked", len(pool), pc.Prof.ID)
			framework.ExpectConformant(name, all)
		})
	}
	framework.Spec("rules/insurer-matches-coverage", []string{"carinbb.eob.insurer-matches-coverage"}, func() {
		td, pool := claimPool(pc)
		var all issue.List
		for _, r := range pool {
			var cov map[string]any
			if ref := claims.FocalCoverage(r); ref != "" {
				t, id := igdata.SplitRef(ref)
				resp, err := pc.ReadOnce(td.PatientOf[igdata.ID(r)], t, id)
				if err != nil {
					framework.Infra(err)
				}
				if resp.Status == http.StatusOK && resp.ResourceType() == "Coverage" {
					cov = resp.Resource
				}
			}
			all = append(all, claims.InsurerMatchesCoverage(r, cov)...)
		}
		framework.ExpectConformant("insurer matches the focal coverage's payer", all)
	})
	each("outcome-complete", []string{"carinbb.eob.outcome-complete"}, claims.OutcomeComplete)
	framework.Spec("rules/adjudication", []string{"carinbb.eob.adjudication"}, func() {
		// only what the profile's slices and invariants require, read from the profile itself
		rule := claims.AmountRuleOf(pc.Prof.Raw)
		if !rule.PerLine && !rule.HeaderOrLine {
			framework.SkipBecause(fmt.Sprintf("profile %s requires no adjudication amount (no mandatory item.adjudication:adjudicationamounttype slice, no invariant %s), or its StructureDefinition is not loaded", pc.Prof.URL, claims.InvHeaderOrLine),
				"the CARIN BB package that defines the profile (--package)")
		}
		_, pool := claimPool(pc)
		var all issue.List
		for _, r := range pool {
			all = append(all, claims.Adjudication(r, rule)...)
		}
		framework.Note("rules", "%d claim(s) of %s checked against %s", len(pool), pc.Prof.ID, rule.Source)
		framework.ExpectConformant("adjudication", all)
	})
	each("totals-consistent", []string{"carinbb.eob.totals-consistent"}, claims.TotalsConsistent)
	each("type-coded", []string{"carinbb.eob.type-coded"}, claims.TypeCoded)
	framework.Spec("rules/lookback", []string{"carinbb.eob.lookback"}, func() {
		_, pool := claimPool(pc)
		var all issue.List
		dated := 0
		for _, r := range pool {
			if claims.ServiceDates(r) > 0 {
				dated++
			}
			all = append(all, claims.Lookback(r)...)
		}
		if dated == 0 {
			framework.SkipBecause(fmt.Sprintf("none of the %d %s claim(s) of %s carries a date of service", len(pool), pc.Prof.ID, pc.Who()),
				"claims with billablePeriod or item serviced dates")
		}
		framework.ExpectConformant("dates of service from "+claims.LookbackStart, all)
	})
}
