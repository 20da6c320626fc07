// Package pdex generates the Da Vinci Payer Data Exchange (PDex) specs from the IG package: per
// PDex profile of the pdex-server CapabilityStatement (Device, MedicationDispense, Provenance,
// prior authorization) the searches, read, validation, must-support, _include and
// _revinclude=Provenance:target specs (suites/internal/igspec), the Provenance agents rule, and
// the prior-authorization rules of CMS-0057-F (checks/claims). The prior-authorization specs
// carry the label prior-auth, so a preset can leave them out (!prior-auth) until 2027.
// Spec ids: pdex-2.0.0/priorauthorization/rules/denial-reason.
package pdex

import (
	"fmt"
	"slices"
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
const Area = "pdex"

// DefaultVersion is tested when the run names none.
const DefaultVersion = "2.0.0"

// TopVersions get a top-level container each. 2.1.0 (updated for CMS-0057-F) is generated when a
// run asks for it and its package is loaded (--package; a ci-build is in ../shared/fhir-packages/
// source-builds under the id hl7.fhir.us.davinci-pdex.r4).
var TopVersions = []string{"2.0.0", "2.1.0"}

// Capability is the PDex server CapabilityStatement canonical.
const Capability = "http://hl7.org/fhir/us/davinci-pdex/CapabilityStatement/pdex-server"

// PriorAuthLabel marks the prior-authorization specs (mandatory from 2027-01-01).
const PriorAuthLabel = "prior-auth"

func isPDex(p *ig.Profile) bool { return strings.Contains(p.URL, "/davinci-pdex/") }

func isPriorAuth(p *ig.Profile) bool { return strings.Contains(p.ID, "priorauthorization") }

// NewIGs are the generated-spec descriptions of one PDex version: the PDex clinical profiles,
// and prior authorization (own requirement ids and the prior-auth label).
func NewIGs(v string) []*igspec.IG {
	clinical := &igspec.IG{Short: Area, Version: v, Capability: Capability,
		Reqs: igspec.Reqs{Search: []string{"pdex.search.semantics"}, Read: []string{"pdex.read"}, Validation: []string{"pdex.profile.conformance"},
			MustSupport: []string{"pdex.profile.must-support"}, Include: []string{"pdex.search.semantics"}, Revinclude: []string{"pdex.provenance.revinclude"},
			SearchShould: []string{"pdex.search.should"}, SearchMay: []string{"pdex.search.may"}},
		Keep:  func(_ *ig.Resource, p *ig.Profile) bool { return isPDex(p) && !isPriorAuth(p) },
		Extra: provenanceRules,
	}
	pa := &igspec.IG{Short: Area, Version: v, Capability: Capability, AnyVersion: true,
		Reqs: igspec.Reqs{Search: []string{"pdex.priorauth.searchable"}, Read: []string{"pdex.priorauth.searchable"}, Validation: []string{"pdex.priorauth.conformance"},
			MustSupport: []string{"pdex.priorauth.conformance"}, Include: []string{"pdex.priorauth.searchable"},
			SearchShould: []string{"pdex.search.should"}, SearchMay: []string{"pdex.search.may"}},
		Keep:        func(_ *ig.Resource, p *ig.Profile) bool { return isPriorAuth(p) },
		Extra:       priorAuthRules,
		ExtraLabels: func(*ig.Profile) []string { return []string{PriorAuthLabel} },
	}
	return []*igspec.IG{clinical, pa}
}

func build(v string) {
	for _, g := range NewIGs(v) {
		g.Build()
	}
}

var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: TopVersions, Default: DefaultVersion, Build: build})

// Provenance agent types (PDex ProvenanceAgentType and FHIR provenance-participant-type).
var transmitterCodes = []string{"transmitter"}
var sourceCodes = []string{"author", "source", "informant", "custodian", "assembler", "performer"}

func agentTypes(prov map[string]any) []string {
	var out []string
	ags, _ := prov["agent"].([]any)
	for _, a := range ags {
		am, _ := a.(map[string]any)
		for _, c := range claims.Codings(am["type"]) {
			_, code, _ := strings.Cut(c, "|")
			out = append(out, code)
		}
	}
	return out
}

func provenanceRules(pc *igspec.ProfileCtx) {
	if pc.Res.Type != "Provenance" {
		return
	}
	framework.Spec("rules/agents", []string{"pdex.provenance.agents"}, func() {
		_, pool := pc.NeedPool()
		var all issue.List
		for _, r := range pool {
			ts := agentTypes(r)
			ref := "Provenance/" + igdata.ID(r)
			if !slices.ContainsFunc(ts, func(c string) bool { return slices.Contains(transmitterCodes, c) }) {
				all = append(all, issue.Issue{Severity: issue.Error, Rule: "pdex.provenance.agents", Path: "Provenance.agent",
					Message: fmt.Sprintf("%s: no transmitter agent (the payer that sent the data); agent types: %s", ref, strings.Join(ts, ", "))})
			}
			if !slices.ContainsFunc(ts, func(c string) bool { return slices.Contains(sourceCodes, c) }) {
				all = append(all, issue.Issue{Severity: issue.Warning, Rule: "pdex.provenance.agents", Path: "Provenance.agent",
					Message: fmt.Sprintf("%s: no author or source agent (where the payer got the data); agent types: %s", ref, strings.Join(ts, ", "))})
			}
		}
		framework.Note("agents", "%d Provenance resource(s) checked", len(pool))
		framework.ExpectConformant("Provenance agents", all)
	})
}

// paPool is the member's prior authorizations, or the spec is skipped with the searches made.
func paPool(pc *igspec.ProfileCtx) []map[string]any {
	GinkgoHelper()
	td, pool := pc.NeedPool()
	var out []map[string]any
	for _, r := range pool {
		if claims.IsPriorAuth(r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		framework.SkipBecause(fmt.Sprintf("no ExplanationOfBenefit with use preauthorization was found for %s (%s)", pc.Who(), strings.Join(td.Queries, ", ")),
			"a member with prior authorizations (required in the Patient Access API from 2027-01-01)")
	}
	return out
}

func priorAuthRules(pc *igspec.ProfileCtx) {
	if !isPriorAuth(pc.Prof) {
		return
	}
	framework.Spec("rules/review-status", []string{"pdex.priorauth.review-status"}, func() {
		pool := paPool(pc)
		var all issue.List
		decisions := map[string]int{}
		for _, r := range pool {
			all = append(all, claims.ReviewStatus(r)...)
			decisions[claims.Decision(r)]++
		}
		framework.Note("decisions", "%d prior authorization(s): %v", len(pool), decisions)
		framework.ExpectConformant("prior-authorization status and review action", all)
	})
	framework.Spec("rules/denial-reason", []string{"pdex.priorauth.denial-reason"}, func() {
		pool := paPool(pc)
		var all issue.List
		denied := 0
		for _, r := range pool {
			for _, a := range claims.ItemActions(r) {
				if a == claims.ActionNotCertified {
					denied++
					break
				}
			}
			all = append(all, claims.DenialReason(r)...)
		}
		if denied == 0 {
			framework.SkipBecause(fmt.Sprintf("none of the %d prior authorization(s) of %s has a denied (not certified, X12 306 A3) item", len(pool), pc.Who()),
				"a member with a denied prior authorization")
		}
		framework.Note("denied", "%d denied prior authorization(s) checked", denied)
		framework.ExpectConformant("denial reason", all)
	})
	framework.Spec("rules/decision", []string{"pdex.priorauth.decision"}, func() {
		pool := paPool(pc)
		var all issue.List
		for _, r := range pool {
			all = append(all, claims.DecisionDetails(r)...)
		}
		framework.ExpectConformant("decision dates, items and quantities", all)
	})
	for _, d := range []string{"pended", "cancelled"} {
		framework.Spec("rules/"+d+"-handled", []string{"pdex.priorauth.decision"}, func() {
			pool := paPool(pc)
			var found []map[string]any
			for _, r := range pool {
				if claims.Decision(r) == d {
					found = append(found, r)
				}
			}
			if len(found) == 0 {
				framework.SkipBecause(fmt.Sprintf("none of the %d prior authorization(s) of %s is %s", len(pool), pc.Who(), d),
					"a member with a "+d+" prior authorization")
			}
			var all issue.List
			for _, r := range found {
				all = append(all, claims.ReviewStatus(r)...)
				all = append(all, claims.DecisionDetails(r)...)
			}
			framework.Note(d, "%d %s prior authorization(s) checked", len(found), d)
			framework.ExpectConformant(d+" prior authorizations", all)
		})
	}
}
