// Package formulary generates the Da Vinci US Drug Formulary specs from the IG package: per
// profile of the usdf-server CapabilityStatement (payer InsurancePlan, Formulary, FormularyItem,
// FormularyDrug, InsurancePlanLocation) the searches, read, validation, must-support and _include
// specs with no token (suites/internal/igspec, public client), the public-access spec, and the
// link rules (drug tiers and plan links resolve, checks/claims).
// Spec ids: formulary-2.0.1/formularyitem/search/drug-tier.
package formulary

import (
	"fmt"
	"net/http"

	"github.com/pacheck/pacheck/checks/claims"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/igspec"
)

// Area is the suite area name.
const Area = "formulary"

// DefaultVersion is tested when the run names none.
const DefaultVersion = "2.0.1"

// TopVersions get a top-level container each.
var TopVersions = []string{"2.0.1"}

// Capability is the US Drug Formulary server CapabilityStatement canonical.
const Capability = "http://hl7.org/fhir/us/davinci-drug-formulary/CapabilityStatement/usdf-server"

// NewIG is the generated-spec description of one US Drug Formulary version.
func NewIG(v string) *igspec.IG {
	return &igspec.IG{Short: Area, Version: v, Capability: Capability, Public: true,
		Reqs: igspec.Reqs{PublicAccess: []string{"formulary.public-access"}, Search: []string{"formulary.search.semantics"}, Read: []string{"formulary.read"}, Validation: []string{"formulary.profile.conformance"},
			MustSupport: []string{"formulary.profile.must-support"}, Include: []string{"formulary.search.semantics"}},
		PublicAccess: Area + "-" + v + "/public-access", PublicWhat: "formulary",
		Extra: links}
}

func build(v string) { NewIG(v).Build() }

var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: TopVersions, Default: DefaultVersion, Build: build})

// links adds the link rules: FormularyItem formulary/subject/tier, payer plan formulary/area.
func links(pc *igspec.ProfileCtx) {
	resolve := func(ref string) map[string]any {
		t, id := igdata.SplitRef(ref)
		if t == "" {
			return nil
		}
		resp, err := pc.ReadOnce("", t, id)
		if err != nil || resp.Status != http.StatusOK || resp.ResourceType() != t {
			return nil
		}
		return resp.Resource
	}
	switch pc.Prof.ID {
	case "usdf-FormularyItem":
		framework.Spec("rules/links", []string{"formulary.links-resolve"}, func() {
			_, pool := pc.NeedPool()
			plans := pc.Fetch("InsurancePlan")
			if plans.Err != nil {
				framework.Infra(plans.Err)
			}
			tiers := map[string]map[string]bool{}
			for _, p := range plans.Resources {
				for _, f := range claims.PlanFormularies(p) {
					if tiers[f] == nil {
						tiers[f] = map[string]bool{}
					}
					for t := range claims.PlanTiers(p) {
						tiers[f][t] = true
					}
				}
			}
			var all issue.List
			for _, r := range pool {
				all = append(all, claims.FormularyItem(r, resolve, tiers)...)
			}
			framework.Note("links", "%d formulary item(s) checked against %d plan formulary link(s)", len(pool), len(tiers))
			framework.ExpectConformant("formulary item links and drug tiers", all)
		})
	case "usdf-PayerInsurancePlan":
		framework.Spec("rules/links", []string{"formulary.links-resolve"}, func() {
			_, pool := pc.NeedPool()
			var all issue.List
			n := 0
			for _, r := range pool {
				n += len(claims.PlanFormularies(r))
				all = append(all, claims.PlanLinks(r, resolve)...)
			}
			if n == 0 {
				all = append(all, issue.Issue{Severity: issue.Error, Rule: claims.RuleFormularyLinks, Path: "InsurancePlan.coverage.extension:formularyReference",
					Message: fmt.Sprintf("none of the %d payer plan(s) links a formulary", len(pool))})
			}
			framework.ExpectConformant("payer plan links", all)
		})
	}
}
