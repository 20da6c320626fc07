package claims

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

func parse(t *testing.T, s string) R {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m R
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

const goodEOB = `{"resourceType":"ExplanationOfBenefit","id":"e1","use":"claim","outcome":"complete",
 "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"pharmacy"}]},
 "insurer":{"reference":"Organization/payer"},
 "insurance":[{"focal":true,"coverage":{"reference":"Coverage/c1"}}],
 "billablePeriod":{"start":"2024-01-02","end":"2024-01-02"},
 "item":[
  {"sequence":1,"servicedDate":"2024-01-02","adjudication":[
   {"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication","code":"paidtoprovider"}]},"amount":{"value":10.5}},
   {"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication","code":"memberliability"}]},"amount":{"value":2}}]},
  {"sequence":2,"adjudication":[
   {"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication","code":"paidtoprovider"}]},"amount":{"value":4.5}},
   {"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication","code":"memberliability"}]},"amount":{"value":1}}]}],
 "total":[{"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication","code":"paidtoprovider"}]},"amount":{"value":15}}]}`

func rules(l issue.List) []string {
	var out []string
	for _, i := range l {
		if i.Severity == issue.Error {
			out = append(out, i.Rule)
		}
	}
	return out
}

func TestClaimRules(t *testing.T) {
	cov := parse(t, `{"resourceType":"Coverage","id":"c1","payor":[{"reference":"Organization/payer"}]}`)
	edit := func(f func(R)) R { e := parse(t, goodEOB); f(e); return e }
	cases := []struct {
		name  string
		eob   R
		check func(R) issue.List
		want  string // rule expected ("" = none)
	}{
		{"insurer ok", parse(t, goodEOB), func(e R) issue.List { return InsurerMatchesCoverage(e, cov) }, ""},
		{"insurer is a provider", edit(func(e R) { e["insurer"] = R{"reference": "Organization/hospital"} }), func(e R) issue.List { return InsurerMatchesCoverage(e, cov) }, RuleInsurer},
		{"coverage unreadable", parse(t, goodEOB), func(e R) issue.List { return InsurerMatchesCoverage(e, nil) }, RuleInsurer},
		{"outcome complete", parse(t, goodEOB), OutcomeComplete, ""},
		{"outcome queued", edit(func(e R) { e["outcome"] = "queued" }), OutcomeComplete, RuleOutcome},
		{"adjudication ok", parse(t, goodEOB), Adjudication, ""},
		{"no adjudication", edit(func(e R) {
			for _, it := range e["item"].([]any) {
				delete(it.(R), "adjudication")
			}
		}), Adjudication, RuleAdjudication},
		{"totals ok", parse(t, goodEOB), TotalsConsistent, ""},
		{"totals off", edit(func(e R) { e["total"].([]any)[0].(R)["amount"] = R{"value": json.Number("16")} }), TotalsConsistent, RuleTotals},
		{"type coded", parse(t, goodEOB), TypeCoded, ""},
		{"type data-absent", edit(func(e R) {
			e["type"] = R{"coding": []any{R{"system": SysDataAbsent, "code": "unknown"}}}
		}), TypeCoded, RuleType},
		{"lookback ok", parse(t, goodEOB), Lookback, ""},
		{"lookback before 2016", edit(func(e R) { e["billablePeriod"] = R{"start": "2015-12-31"} }), Lookback, RuleLookback},
	}
	for _, c := range cases {
		got := rules(c.check(c.eob))
		if c.want == "" && len(got) > 0 || c.want != "" && (len(got) == 0 || got[0] != c.want) {
			t.Errorf("%s: got %v, want %q", c.name, got, c.want)
		}
	}
}

func pa(t *testing.T, action, extra string) R {
	return parse(t, `{"resourceType":"ExplanationOfBenefit","id":"pa","use":"preauthorization","status":"active","outcome":"complete","created":"2025-01-01",
 "preAuthRefPeriod":[{"start":"2025-01-01","end":"2025-03-01"}],
 "item":[{"sequence":1,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"97110"}]},"quantity":{"value":6},
  "adjudication":[{"category":{"coding":[{"code":"submitted"}]},"amount":{"value":1},
    "extension":[{"url":"`+ExtReviewAction+`","extension":[{"url":"`+ExtReviewActionCode+`","valueCodeableConcept":{"coding":[{"system":"https://codesystem.x12.org/005010/306","code":"`+action+`"}]}}]}]}`+extra+`]}]}`)
}

const units = `,{"category":{"coding":[{"system":"` + SysPDexAdjudication + `","code":"allowedunits"}]},"value":6},{"category":{"coding":[{"system":"` + SysPDexAdjudication + `","code":"consumedunits"}]},"value":2}`
const reason = `,{"category":{"coding":[{"system":"` + SysPDexAdjudication + `","code":"denialreason"}]},"reason":{"coding":[{"system":"https://x12.org/codes/claim-adjustment-reason-codes","code":"50"}]}}`

func TestPriorAuthRules(t *testing.T) {
	cases := []struct {
		name     string
		eob      R
		check    func(R) issue.List
		want     string
		decision string
	}{
		{"approved", pa(t, ActionCertified, units), ReviewStatus, "", "approved"},
		{"approved details", pa(t, ActionCertified, units), DecisionDetails, "", "approved"},
		{"approved without quantities", pa(t, ActionCertified, ""), DecisionDetails, RuleDecision, "approved"},
		{"no review action", pa(t, "", ""), ReviewStatus, RuleReviewAction, "unknown"},
		{"denied with reason", pa(t, ActionNotCertified, reason), DenialReason, "", "denied"},
		{"denied without reason", pa(t, ActionNotCertified, ""), DenialReason, RuleDenialReason, "denied"},
		{"pended but complete", pa(t, ActionPended, ""), DecisionDetails, RuleDecision, "pended"},
	}
	for _, c := range cases {
		got := rules(c.check(c.eob))
		if c.want == "" && len(got) > 0 || c.want != "" && (len(got) == 0 || got[0] != c.want) {
			t.Errorf("%s: got %v, want %q", c.name, got, c.want)
		}
		if d := Decision(c.eob); d != c.decision {
			t.Errorf("%s: decision %q, want %q", c.name, d, c.decision)
		}
	}
}

func TestFormularyLinks(t *testing.T) {
	item := parse(t, `{"resourceType":"Basic","id":"i1","subject":{"reference":"MedicationKnowledge/m1"},"extension":[
 {"url":"`+ExtFormularyRef+`","valueReference":{"reference":"InsurancePlan/f1"}},
 {"url":"`+ExtDrugTier+`","valueCodeableConcept":{"coding":[{"code":"generic"}]}}]}`)
	known := map[string]R{"InsurancePlan/f1": {}, "MedicationKnowledge/m1": {}}
	resolve := func(r string) R { return known[r] }
	if got := rules(FormularyItem(item, resolve, map[string]map[string]bool{"InsurancePlan/f1": {"generic": true}})); len(got) > 0 {
		t.Errorf("good item: %v", got)
	}
	if got := rules(FormularyItem(item, resolve, map[string]map[string]bool{"InsurancePlan/f1": {"brand": true}})); len(got) != 1 {
		t.Errorf("tier without cost-sharing: %v", got)
	}
	delete(known, "MedicationKnowledge/m1")
	if got := rules(FormularyItem(item, resolve, nil)); len(got) != 1 {
		t.Errorf("unresolvable subject: %v", got)
	}
}
