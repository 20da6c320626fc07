package claims

import (
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// US Drug Formulary 2.0.1 extension URLs.
const (
	usdf            = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/"
	ExtFormularyRef = usdf + "usdf-FormularyReference-extension"
	ExtDrugTier     = usdf + "usdf-DrugTierID-extension"
)

// Ext returns the values of the extensions with url on r (value[x] objects as any).
func Ext(r R, url string) []any {
	var out []any
	for _, e := range list(r["extension"]) {
		em := obj(e)
		if str(em["url"]) != url {
			continue
		}
		for k, v := range em {
			if strings.HasPrefix(k, "value") {
				out = append(out, v)
			}
		}
	}
	return out
}

// PlanTiers returns the drug-tier codes a payer plan defines cost-sharing for
// (plan.specificCost.benefit.type), keyed by the formulary it references.
func PlanTiers(plan R) map[string]bool {
	out := map[string]bool{}
	for _, pl := range list(plan["plan"]) {
		for _, sc := range list(obj(pl)["specificCost"]) {
			for _, b := range list(obj(sc)["benefit"]) {
				for _, c := range Codings(obj(b)["type"]) {
					_, code, _ := strings.Cut(c, "|")
					out[code] = true
				}
			}
		}
	}
	return out
}

// PlanFormularies returns the formulary references of a payer plan (coverage extensions).
func PlanFormularies(plan R) []string {
	var out []string
	for _, cv := range list(plan["coverage"]) {
		for _, v := range Ext(obj(cv), ExtFormularyRef) {
			if t := RefTarget(v); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// FormularyItem checks one FormularyItem (Basic): its formulary reference (1..1) resolves to an
// InsurancePlan, its subject (1..1, a FormularyDrug) to a MedicationKnowledge, and it carries a
// drug tier (1..1); a tier that no plan using the formulary defines cost-sharing for is a warning. resolve returns the resource of a "Type/id"
// (nil when it does not resolve); tiers maps formulary "InsurancePlan/id" to the tiers the plans
// referencing it define (absent when no plan references it).
func FormularyItem(item R, resolve func(string) R, tiers map[string]map[string]bool) issue.List {
	p := ref(item)
	var out issue.List
	forms := Ext(item, ExtFormularyRef)
	var formRef string
	if len(forms) == 0 {
		out = append(out, errf(RuleFormularyLinks, "Basic.extension:formulary", "%s: no formulary reference", p))
	} else if formRef = RefTarget(forms[0]); formRef == "" || !strings.HasPrefix(formRef, "InsurancePlan/") || resolve(formRef) == nil {
		out = append(out, errf(RuleFormularyLinks, "Basic.extension:formulary", "%s: formulary reference %q does not resolve to an InsurancePlan", p, formRef))
		formRef = ""
	}
	subj := RefTarget(item["subject"])
	if subj == "" || !strings.HasPrefix(subj, "MedicationKnowledge/") || resolve(subj) == nil {
		out = append(out, errf(RuleFormularyLinks, "Basic.subject", "%s: subject %q does not resolve to a MedicationKnowledge", p, subj))
	}
	tierVals := Ext(item, ExtDrugTier)
	if len(tierVals) == 0 {
		out = append(out, errf(RuleFormularyLinks, "Basic.extension:drugTierID", "%s: no drug tier", p))
		return out
	}
	var tier string
	for _, c := range Codings(tierVals[0]) {
		_, tier, _ = strings.Cut(c, "|")
	}
	// A tier without cost-sharing in the plans is a warning: no invariant or cardinality ties the
	// two, and the IG's own example FormularyItem-D1002-1000091 (tier generic) sits in formulary
	// D1002, whose plan defines cost-sharing for brand only.
	if formRef != "" {
		if ts, ok := tiers[formRef]; ok && len(ts) > 0 && !ts[tier] {
			out = append(out, warnf(RuleFormularyLinks, "Basic.extension:drugTierID", "%s: drug tier %q has no cost-sharing in any payer plan using %s", p, tier, formRef))
		}
	}
	return out
}

// PlanLinks checks a payer InsurancePlan's formulary and coverage-area references resolve.
func PlanLinks(plan R, resolve func(string) R) issue.List {
	p := ref(plan)
	var out issue.List
	for _, f := range PlanFormularies(plan) {
		if !strings.HasPrefix(f, "InsurancePlan/") || resolve(f) == nil {
			out = append(out, errf(RuleFormularyLinks, "InsurancePlan.coverage.extension:formularyReference", "%s: formulary %s does not resolve", p, f))
		}
	}
	for _, a := range list(plan["coverageArea"]) {
		if t := RefTarget(a); t != "" && resolve(t) == nil {
			out = append(out, errf(RuleFormularyLinks, "InsurancePlan.coverageArea", "%s: coverage area %s does not resolve", p, t))
		}
	}
	return out
}
