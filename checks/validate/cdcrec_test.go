package validate

import (
	"context"
	"fmt"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

// TestCDCRaceEthnicity: CDC Race & Ethnicity (urn:oid:2.16.840.1.113883.6.238) is a complete
// CodeSystem in US Core 3.1.1, so the required bindings nested in the race and ethnicity extensions
// (ombCategory: omb-race-category / omb-ethnicity-category; detailed: detailed-race, is-a 1000-9
// minus the OMB categories) are checked, and a code the system does not define is code-unknown in
// any context.
func TestCDCRaceEthnicity(t *testing.T) {
	v := embedded(t)
	const cdc = "urn:oid:2.16.840.1.113883.6.238"
	patient := func(ext, sub, code string) string {
		return fmt.Sprintf(`{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Jo Doe</div>"},
"identifier":[{"system":"http://example.org/mrn","value":"1"}],"name":[{"family":"Doe"}],"gender":"female",
"extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-%s","extension":[{"url":"%s","valueCoding":{"system":"%s","code":"%s"}},{"url":"text","valueString":"x"}]}]}`, ext, sub, cdc, code)
	}
	const at = "Patient.extension[0].extension[0].valueCoding"
	for _, tc := range []struct {
		name, ig, ext, sub, code string
		rule, path               string // the error wanted; "" for a clean resource
	}{
		{"race ombCategory right", "hl7.fhir.us.core#3.1.1", "race", "ombCategory", "2106-3", "", ""},
		{"race ombCategory not an OMB category", "hl7.fhir.us.core#3.1.1", "race", "ombCategory", "2108-9", "binding", at},
		{"race ombCategory an ethnicity code", "hl7.fhir.us.core#3.1.1", "race", "ombCategory", "2135-2", "binding", at},
		{"race detailed right", "hl7.fhir.us.core#3.1.1", "race", "detailed", "2108-9", "", ""},
		{"race detailed an OMB category (excluded)", "hl7.fhir.us.core#3.1.1", "race", "detailed", "2106-3", "binding", at},
		{"race detailed an ethnicity code", "hl7.fhir.us.core#3.1.1", "race", "detailed", "2137-8", "binding", at},
		{"ethnicity ombCategory right", "hl7.fhir.us.core#3.1.1", "ethnicity", "ombCategory", "2186-5", "", ""},
		{"ethnicity ombCategory a race code", "hl7.fhir.us.core#3.1.1", "ethnicity", "ombCategory", "2106-3", "binding", at},
		{"ethnicity detailed right", "hl7.fhir.us.core#3.1.1", "ethnicity", "detailed", "2137-8", "", ""},
		{"race ombCategory undefined code", "hl7.fhir.us.core#3.1.1", "race", "ombCategory", "9999-9", "code-unknown", at + ".code"},
		// US Core 6.1.0 binds to VSAC value sets (not loaded): the code system still says
		// whether the code exists.
		{"6.1.0 ombCategory undefined code", "hl7.fhir.us.core#6.1.0", "race", "ombCategory", "9999-9", "code-unknown", at + ".code"},
		{"6.1.0 ombCategory right", "hl7.fhir.us.core#6.1.0", "race", "ombCategory", "2106-3", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := v.Validate(context.Background(), []byte(patient(tc.ext, tc.sub, tc.code)), ValidateOptions{IG: tc.ig})
			if tc.rule == "" {
				if res.Issues.HasErrors() {
					t.Fatalf("want no errors, got %v", res.Issues.Errors())
				}
				return
			}
			if !hasIssue(res.Issues, issue.Error, tc.rule, tc.path) {
				t.Fatalf("want error %s at %s, got %v", tc.rule, tc.path, res.Issues)
			}
		})
	}
}
