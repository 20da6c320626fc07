package validate

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

// eobAdjudications is a CARIN BB claim (profile version %V%) with two item adjudication
// categories: denialreason exists only in CARIN BB 1.1.0's C4BBAdjudicationDiscriminator,
// rejectreason only in 2.0.0's.
const eobAdjudications = `{"resourceType":"ExplanationOfBenefit","id":"x",
 "meta":{"profile":["http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Inpatient-Institutional|%V%"]},
 "status":"active","use":"claim","created":"2024-01-01T00:00:00Z","outcome":"complete",
 "item":[{"sequence":1,"productOrService":{"text":"x"},"adjudication":[
  {"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator","code":"denialreason"}]}},
  {"category":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator","code":"rejectreason"}]}}]}]}`

// TestProfileVersionTerminology: a profile of package X#v resolves the code systems and value sets
// it refers to in X#v (and its dependencies), whatever the validation context: a CARIN BB 1.1.0
// claim is checked against 1.1.0's code systems in the US Core 6.1.0 and CARIN BB 2.0.0 contexts,
// and a 2.0.0 claim against 2.0.0's in the 1.1.0 context.
func TestProfileVersionTerminology(t *testing.T) {
	v := embedded(t)
	const (
		denial = "ExplanationOfBenefit.item[0].adjudication[0].category.coding[0].code"
		reject = "ExplanationOfBenefit.item[0].adjudication[1].category.coding[0].code"
	)
	for _, ver := range []string{"1.1.0", "2.0.0"} {
		known, unknown := denial, reject
		if ver == "2.0.0" {
			known, unknown = reject, denial
		}
		raw := strings.ReplaceAll(eobAdjudications, "%V%", ver)
		for _, ig := range []string{uc6, "hl7.fhir.us.core#3.1.1", "hl7.fhir.us.carin-bb#2.0.0", "hl7.fhir.us.carin-bb#1.1.0", ""} {
			res := validateStr(t, v, raw, ValidateOptions{IG: ig})
			if len(res.Profiles) != 1 || !strings.HasSuffix(res.Profiles[0], "|"+ver) {
				t.Fatalf("CARIN BB %s claim [%s]: validated against %v", ver, ig, res.Profiles)
			}
			if hasIssue(res.Issues, issue.Error, "code-unknown", known) {
				t.Errorf("CARIN BB %s claim [%s]: %s is defined in CARIN BB %s but reported unknown:\n%v", ver, ig, known, ver, res.Issues)
			}
			if !hasIssue(res.Issues, issue.Error, "code-unknown", unknown) {
				t.Errorf("CARIN BB %s claim [%s]: want code-unknown at %s (not in CARIN BB %s); got:\n%v", ver, ig, unknown, ver, res.Issues)
			}
		}
	}
}
