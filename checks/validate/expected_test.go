package validate

import (
	"strings"
	"testing"
)

// TestExpectedActual: findings carry what the profile wants and what was found as data
// (issue.Issue Expected/Actual): cardinalities and counts, fixed and pattern values, value sets
// against system|code, resource types.
func TestExpectedActual(t *testing.T) {
	v := embedded(t)
	const hr = `{"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-heart-rate"]},` +
		`"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],` +
		`"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/1"},"effectiveDateTime":"2020-01-01",` +
		`"valueQuantity":{"value":60,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`
	cases := []struct {
		name, raw, rule, path, expected, actual string
	}{
		{"cardinality", `{"resourceType":"Observation","code":{"text":"x"}}`, "cardinality", "Observation.status", "1..1", "0"},
		{"required binding, code", `{"resourceType":"Patient","gender":"robot"}`, "binding", "Patient.gender",
			"http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1", "robot"},
		{"extensible binding, CodeableConcept", strings.Replace(hr, `"code":"8867-4"`, `"code":"1234-5"`, 1), "binding", "Observation.code",
			"http://hl7.org/fhir/us/core/ValueSet/us-core-vital-signs", "http://loinc.org|1234-5"},
		{"pattern", strings.Replace(hr, `"code":"8867-4"`, `"code":"1234-5"`, 1), "pattern", "Observation.code",
			"{coding:[{code:8867-4,system:http://loinc.org}]}", "http://loinc.org|1234-5"},
		{"fixed code", strings.Replace(hr, `"code":"/min"`, `"code":"kg"`, 1), "fixed", "Observation.valueQuantity.code", "/min", "kg"},
		{"reference target", strings.Replace(hr, `"Patient/1"`, `"Group/1"`, 1), "reference-target", "Observation.subject.reference", "Patient", "Group"},
		{"profile type", `{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns"]}}`,
			"profile-type", "Patient", "Condition", "Patient"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := validateStr(t, v, tc.raw, ValidateOptions{IG: uc6})
			for _, i := range res.Issues {
				if i.Rule == tc.rule && i.Path == tc.path {
					if i.Expected != tc.expected || i.Actual != tc.actual {
						t.Errorf("expected %q actual %q, want %q and %q (%s)", i.Expected, i.Actual, tc.expected, tc.actual, i)
					}
					return
				}
			}
			t.Fatalf("no %s finding at %s: %v", tc.rule, tc.path, res.Issues)
		})
	}
}

// TestActualIsPHIFree: a value that may be a patient's data (free text, a date, an id, a number,
// a coded type's other content) is never an Actual; codes, booleans and URIs are.
func TestActualIsPHIFree(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		v    any
		want string
	}{
		{"string", "Jane Doe", ""}, {"markdown", "notes", ""}, {"date", "1970-01-01", ""}, {"dateTime", "1970-01-01T10:00:00Z", ""},
		{"id", "mrn-123", ""}, {"decimal", "98.6", ""}, {"code", "final", "final"}, {"boolean", true, "true"},
		{"uri", "http://loinc.org", "http://loinc.org"},
	} {
		if got := codeLike(tc.typ, tc.v); got != tc.want {
			t.Errorf("codeLike(%s, %v) = %q, want %q", tc.typ, tc.v, got, tc.want)
		}
	}
	name := map[string]any{"family": "Doe", "given": []any{"Jane"}}
	ident := map[string]any{"system": "http://hospital.example/mrn", "value": "123456"}
	for typ, v := range map[string]map[string]any{"HumanName": name, "Identifier": ident} {
		if got := codings(v, typ); got != "" {
			t.Errorf("codings(%s) = %q, want nothing", typ, got)
		}
	}
	cc := map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "38341003", "display": "Hypertension"}}, "text": "high blood pressure since 2001"}
	if got := codings(cc, "CodeableConcept"); got != "http://snomed.info/sct|38341003" {
		t.Errorf("codings(CodeableConcept) = %q: want system|code only, no display or text", got)
	}
}
