package validate

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/profiles"
)

// countIssues counts the issues with rule at path.
func countIssues(res Result, rule, path string) int {
	n := 0
	for _, is := range res.Issues {
		if is.Rule == rule && is.Path == path {
			n++
		}
	}
	return n
}

// TestProfileChoiceType: a concrete choice property whose type the base allows but the profile
// excludes is a choice-type error at that key (US Core 6.1.0 heart rate effective[x] is dateTime |
// Period; birthsex value[x] is code; race's text sub-extension is string), once, with either
// engine of the structural layer; a type the base excludes stays the structural layer's single finding; the valid twins
// are clean.
func TestProfileChoiceType(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := New(set, Options{JSONSchema: true})
	if err != nil {
		t.Fatal(err)
	}
	const hr = `{"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-heart-rate"]},` +
		`"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],` +
		`"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/1"},EFFECTIVE,` +
		`"valueQuantity":{"value":60,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`
	const pat = `{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},` +
		`"identifier":[{"system":"http://example.org/mrn","value":"1"}],"name":[{"family":"Doe"}],"gender":"male","extension":[EXT]}`
	const birthsex = `{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",VALUE}`
	const race = `{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[` +
		`{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":"2106-3"}},{"url":"text",VALUE}]}`
	cases := []struct {
		name, raw, path string // path "": no choice-type finding and no errors
	}{
		{"heart rate effectiveInstant", strings.Replace(hr, "EFFECTIVE", `"effectiveInstant":"2020-01-01T10:00:00Z"`, 1), "Observation.effectiveInstant"},
		{"heart rate effectiveDateTime", strings.Replace(hr, "EFFECTIVE", `"effectiveDateTime":"2020-01-01T10:00:00Z"`, 1), ""},
		{"heart rate effectivePeriod", strings.Replace(hr, "EFFECTIVE", `"effectivePeriod":{"start":"2020-01-01"}`, 1), ""},
		{"heart rate _effectiveInstant only", strings.Replace(hr, "EFFECTIVE", `"_effectiveInstant":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}`, 1), "Observation.effectiveInstant"},
		{"birthsex valueString", strings.Replace(pat, "EXT", strings.Replace(birthsex, "VALUE", `"valueString":"M"`, 1), 1), "Patient.extension[0].valueString"},
		{"birthsex valueCode", strings.Replace(pat, "EXT", strings.Replace(birthsex, "VALUE", `"valueCode":"M"`, 1), 1), ""},
		{"race text valueCode", strings.Replace(pat, "EXT", strings.Replace(race, "VALUE", `"valueCode":"x"`, 1), 1), "Patient.extension[0].extension[1].valueCode"},
		{"race text valueString", strings.Replace(pat, "EXT", strings.Replace(race, "VALUE", `"valueString":"White"`, 1), 1), ""},
	}
	for _, mode := range []struct {
		name string
		v    *Validator
	}{{"walker engine", embedded(t)}, {"json schema engine", schema}} {
		for _, tc := range cases {
			res := validateStr(t, mode.v, tc.raw, ValidateOptions{IG: uc6})
			if tc.path == "" {
				if res.Issues.HasErrors() {
					t.Errorf("%s, %s: unexpected errors: %v", mode.name, tc.name, res.Issues.Errors())
				}
				continue
			}
			n := countIssues(res, ruleChoice, tc.path)
			if n != 1 {
				t.Errorf("%s, %s: want one %s at %s, got %d:\n%v", mode.name, tc.name, ruleChoice, tc.path, n, res.Issues)
			}
		}
	}
	// a type the base definition excludes too: one finding, from the structural layer
	res := validateStr(t, embedded(t), strings.Replace(hr, "EFFECTIVE", `"effectiveString":"today"`, 1), ValidateOptions{IG: uc6})
	if n := countIssues(res, ruleChoice, "Observation.effectiveString"); n != 1 {
		t.Errorf("effectiveString: want one %s, got %d:\n%v", ruleChoice, n, res.Issues)
	}
}
