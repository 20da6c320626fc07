package validate

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

func TestExtensionRules(t *testing.T) {
	v := embedded(t)
	const race = `{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"text","valueString":"t"}]}`
	const birthTime = `{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"2020-01-01T10:00:00Z"}`
	obs := func(ext string) string {
		return `{"resourceType":"Observation","status":"final","code":{"text":"x"},"extension":[` + ext + `]}`
	}
	pat := func(ext string) string { return `{"resourceType":"Patient","extension":[` + ext + `]}` }
	strict := ValidateOptions{IG: uc6, RejectUnknownExtensions: true}
	lenient := ValidateOptions{IG: uc6}
	withDomains := func(d ...string) ValidateOptions {
		o := strict
		o.AllowedExtensionDomains = d
		return o
	}
	cases := []struct {
		name string
		raw  string
		vo   ValidateOptions
		sev  issue.Severity // "" = no finding of rule
		rule string
		path string
	}{
		{"context: race on Patient", pat(race), lenient, "", "extension-context", ""},
		{"context: race on Observation", obs(race), lenient, issue.Error, "extension-context", "Observation.extension[0]"},
		{"context: birthTime on Patient.birthDate", `{"resourceType":"Patient","birthDate":"2020-01-01","_birthDate":{"extension":[` + birthTime + `]}}`, lenient, "", "extension-context", ""},
		{"context: birthTime on Patient (R4 core definition only: a warning)", pat(birthTime), lenient, issue.Warning, "extension-context", "Patient.extension[0]"},
		{"context: a core extension the extensions package also forbids there", obs(`{"url":"http://hl7.org/fhir/StructureDefinition/condition-assertedDate","valueDateTime":"2020-01-01"}`), lenient, issue.Error, "extension-context", "Observation.extension[0]"},
		{"context: birthTime on a contained Patient.birthDate", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"#p"},"contained":[{"resourceType":"Patient","id":"p","birthDate":"2020-01-01","_birthDate":{"extension":[` + birthTime + `]}}]}`, lenient, "", "extension-context", ""},
		{"context: race through the us-core-patient slice", `{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},"identifier":[{"system":"a:b","value":"1"}],"name":[{"family":"x"}],"gender":"male","extension":[` + race + `]}`, lenient, "", "extension-context", ""},
		{"context: a profile's slice placing it outside its context is a warning", `{"resourceType":"ExplanationOfBenefit","meta":{"profile":["http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/pdex-priorauthorization"]},"adjudication":[{"category":{"text":"x"},"extension":[{"url":"http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/extension-reviewAction","extension":[{"url":"number","valueString":"1"}]}]}]}`, ValidateOptions{IG: "hl7.fhir.us.davinci-pdex#2.0.0"}, issue.Warning, "extension-context", "ExplanationOfBenefit.adjudication[0].extension[0]"},
		{"url absolute", pat(`{"url":"http://example.org/x","valueString":"y"}`), lenient, "", "extension-url", ""},
		{"url relative", pat(`{"url":"myext","valueString":"y"}`), lenient, issue.Error, "extension-url", "Patient.extension[0].url"},
		{"url relative in a complex extension's slice", pat(race), lenient, "", "extension-url", ""},
		{"sub-extension not defined by its complex extension", pat(`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"text","valueString":"t"},{"url":"bogus","valueString":"u"}]}`), lenient, issue.Warning, "extension-unknown", "Patient.extension[0].extension[1]"},
		{"complex extension with value[x] (0..0)", pat(`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","valueString":"x","extension":[{"url":"text","valueString":"t"}]}`), lenient, issue.Error, "cardinality", "Patient.extension[0].valueString"},
		{"complex extension sub-extension cardinality", pat(`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"text","valueString":"t"},{"url":"text","valueString":"u"}]}`), lenient, issue.Error, "cardinality", "Patient.extension[0].extension"},
		{"unknown: warning by default", pat(`{"url":"http://fhir.acme-payer.com/ext/x","valueString":"y"}`), lenient, issue.Warning, "extension-unknown", "Patient.extension[0]"},
		{"unknown: error when rejected", pat(`{"url":"http://fhir.acme-payer.com/ext/x","valueString":"y"}`), strict, issue.Error, "extension-unknown", "Patient.extension[0]"},
		{"unknown: example domain is a warning", pat(`{"url":"http://example.org/fhir/ext/x","valueString":"y"}`), strict, issue.Warning, "extension-unknown", "Patient.extension[0]"},
		{"unknown: allowed host", pat(`{"url":"http://fhir.acme-payer.com/ext/x","valueString":"y"}`), withDomains("acme-payer.com"), issue.Warning, "extension-unknown", "Patient.extension[0]"},
		{"unknown: allowed URL prefix", pat(`{"url":"http://fhir.acme-payer.com/ext/x","valueString":"y"}`), withDomains("http://fhir.acme-payer.com/ext/"), issue.Warning, "extension-unknown", "Patient.extension[0]"},
		{"unknown: other host not allowed", pat(`{"url":"http://fhir.acme-payer.com.evil.net/x","valueString":"y"}`), withDomains("acme-payer.com"), issue.Error, "extension-unknown", "Patient.extension[0]"},
		{"unknown: any", pat(`{"url":"http://fhir.acme-payer.com/ext/x","valueString":"y"}`), withDomains("any"), issue.Warning, "extension-unknown", "Patient.extension[0]"},
		{"unknown modifier extension is an error", `{"resourceType":"Patient","modifierExtension":[{"url":"http://example.org/m","valueBoolean":true}]}`, lenient, issue.Error, "extension-unknown", "Patient.modifierExtension[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := validateStr(t, v, tc.raw, tc.vo)
			if tc.sev == "" {
				for _, is := range res.Issues {
					if is.Rule == tc.rule || is.Severity == issue.Error {
						t.Errorf("want no %s and no error, got %v", tc.rule, is)
					}
				}
				return
			}
			if !hasIssue(res.Issues, tc.sev, tc.rule, tc.path) {
				t.Errorf("want %s %s @ %s; got:\n%v", tc.sev, tc.rule, tc.path, res.Issues)
			}
			if tc.sev == issue.Warning && hasIssue(res.Issues, issue.Error, tc.rule, "") {
				t.Errorf("want no %s error, got %v", tc.rule, res.Issues.Errors())
			}
		})
	}
}

func TestContainerPath(t *testing.T) {
	for in, want := range map[string]string{
		"Patient.extension[0]":                                          "Patient",
		"Patient.birthDate.extension[1]":                                "Patient.birthDate",
		"Bundle.entry[3].resource.ofType(Patient).name[0].extension[0]": "Patient.name",
		"Patient.contained[0].ofType(Observation).modifierExtension[0]": "Observation",
		"Patient.name": "",
	} {
		if got := containerPath(in); got != want {
			t.Errorf("containerPath(%q) = %q, want %q", in, got, want)
		}
	}
	if strings.Contains(containerPath("x.ofType(P.extension"), ")") {
		t.Error("unterminated ofType")
	}
}
