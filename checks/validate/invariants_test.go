package validate

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

// TestCorrectedInvariantPD1: US Core's pd-1 "telecom or endpoint" is evaluated as its xpath and US
// Core 7.0.0 mean it (telecom.exists() or endpoint.exists()): evaluated with two telecoms (the strict
// expression is a FHIRPath error there), and failed with neither telecom nor endpoint (the strict
// expression is empty there, which is no failure).
func TestCorrectedInvariantPD1(t *testing.T) {
	v := embedded(t)
	const head = `{"resourceType":"PractitionerRole","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitionerrole"]},"practitioner":{"reference":"Practitioner/1"},"organization":{"reference":"Organization/1"}`
	cases := []struct {
		name, body string
		fail       bool
	}{
		{"two telecoms", `,"telecom":[{"system":"phone","value":"555-0100"},{"system":"email","value":"a@example.org"}]}`, false},
		{"one telecom", `,"telecom":[{"system":"phone","value":"555-0100"}]}`, false},
		{"endpoint only", `,"endpoint":[{"reference":"Endpoint/1"}]}`, false},
		{"neither", `}`, true},
	}
	for _, ig := range []string{"hl7.fhir.us.core#3.1.1", uc6} {
		for _, tc := range cases {
			res := validateStr(t, v, head+tc.body, ValidateOptions{IG: ig})
			for _, is := range res.Issues {
				if is.Rule == "invariant-not-evaluated" && strings.Contains(is.Message, "pd-1") {
					t.Errorf("%s [%s]: %s", tc.name, ig, is.Message)
				}
			}
			if got := hasIssue(res.Issues, issue.Error, "invariant:pd-1", "PractitionerRole"); got != tc.fail {
				t.Errorf("%s [%s]: pd-1 failed = %v, want %v; issues:\n%v", tc.name, ig, got, tc.fail, res.Issues)
			}
		}
	}
}
