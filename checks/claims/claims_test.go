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

var (
	perLine      = func(e R) issue.List { return Adjudication(e, AmountRule{PerLine: true, Source: "test"}) }
	headerOrLine = func(e R) issue.List { return Adjudication(e, AmountRule{HeaderOrLine: true, Source: "test"}) }
)

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
		{"outcome partial is legal", edit(func(e R) { e["outcome"] = "partial" }), OutcomeComplete, ""},
		{"outcome queued", edit(func(e R) { e["outcome"] = "queued" }), OutcomeComplete, RuleOutcome},
		{"outcome error", edit(func(e R) { e["outcome"] = "error" }), OutcomeComplete, RuleOutcome},
		{"outcome absent", edit(func(e R) { delete(e, "outcome") }), OutcomeComplete, RuleOutcome},
		{"per-line amounts ok", parse(t, goodEOB), perLine, ""},
		{"per-line: amounts without payment or member categories", edit(func(e R) {
			for _, it := range e["item"].([]any) {
				it.(R)["adjudication"] = []any{R{"category": R{"coding": []any{R{"system": SysAdjudication, "code": "submitted"}}}, "amount": R{"value": json.Number("3")}}}
			}
		}), perLine, ""},
		{"per-line: no adjudication", edit(func(e R) {
			for _, it := range e["item"].([]any) {
				delete(it.(R), "adjudication")
			}
		}), perLine, RuleAdjudication},
		{"per-line: one line without an amount", edit(func(e R) {
			e["item"].([]any)[1].(R)["adjudication"] = []any{R{"category": R{"coding": []any{R{"code": "benefitpaymentstatus"}}}, "reason": R{"text": "x"}}}
		}), perLine, RuleAdjudication},
		{"per-line: header amounts do not stand for lines", edit(func(e R) {
			e["adjudication"] = e["item"].([]any)[0].(R)["adjudication"]
			for _, it := range e["item"].([]any) {
				delete(it.(R), "adjudication")
			}
		}), perLine, RuleAdjudication},
		{"header-or-line: line amounts", parse(t, goodEOB), headerOrLine, ""},
		{"header-or-line: header amounts only", edit(func(e R) {
			e["adjudication"] = e["item"].([]any)[0].(R)["adjudication"]
			for _, it := range e["item"].([]any) {
				delete(it.(R), "adjudication")
			}
		}), headerOrLine, ""},
		{"header-or-line: none", edit(func(e R) {
			for _, it := range e["item"].([]any) {
				delete(it.(R), "adjudication")
			}
		}), headerOrLine, RuleAdjudication},
		{"no amount rule: nothing demanded", edit(func(e R) {
			for _, it := range e["item"].([]any) {
				delete(it.(R), "adjudication")
			}
		}), func(e R) issue.List { return Adjudication(e, AmountRule{}) }, ""},
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

const consumed = `,{"category":{"coding":[{"system":"` + SysPDexAdjudication + `","code":"consumedunits"}]},"value":2}`
const units = `,{"category":{"coding":[{"system":"` + SysPDexAdjudication + `","code":"allowedunits"}]},"value":6},{"category":{"coding":[{"system":"` + SysPDexAdjudication + `","code":"consumedunits"}]},"value":2}`
const reason = `,{"category":{"coding":[{"system":"` + SysPDexAdjudication + `","code":"denialreason"}]},"reason":{"coding":[{"system":"https://x12.org/codes/claim-adjustment-reason-codes","code":"50"}]}}`

func edit(e R, f func(R)) R { f(e); return e }

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
		{"approved, quantity used, no approved or requested quantity", edit(pa(t, ActionCertified, consumed), func(e R) {
			delete(e["item"].([]any)[0].(R), "quantity")
		}), DecisionDetails, "", "approved"},
		{"decision at header level only", edit(pa(t, "", ""), func(e R) {
			e["adjudication"] = []any{R{"category": R{"coding": []any{R{"code": "submitted"}}}, "extension": []any{R{"url": ExtReviewAction,
				"extension": []any{R{"url": ExtReviewActionCode, "valueCodeableConcept": R{"coding": []any{R{"code": ActionNotCertified}}}}}}}}}
		}), ReviewStatus, "", "denied"},
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
	if l := FormularyItem(item, resolve, map[string]map[string]bool{"InsurancePlan/f1": {"brand": true}}); len(rules(l)) != 0 || len(l.Warnings()) != 1 {
		t.Errorf("tier without cost-sharing (as in the IG's own example): %v, want one warning", l)
	}
	delete(known, "MedicationKnowledge/m1")
	if got := rules(FormularyItem(item, resolve, nil)); len(got) != 1 {
		t.Errorf("unresolvable subject: %v", got)
	}
}
