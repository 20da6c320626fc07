package validate

import (
	"context"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

func validateStr(t *testing.T, v *Validator, raw string, vo ValidateOptions) Result {
	t.Helper()
	return v.Validate(context.Background(), []byte(raw), vo)
}

func hasIssue(l issue.List, sev issue.Severity, rule, path string) bool {
	for _, i := range l {
		if i.Severity == sev && (rule == "" || i.Rule == rule) && (path == "" || i.Path == path) {
			return true
		}
	}
	return false
}

const uc6 = "hl7.fhir.us.core#6.1.0"

func TestProfileRules(t *testing.T) {
	v := embedded(t)
	vo := ValidateOptions{IG: uc6}
	cases := []struct {
		name     string
		raw      string
		sev      issue.Severity
		rule     string
		path     string
		noErrors bool
	}{
		{name: "valid patient", raw: patientOK, noErrors: true},
		{name: "missing required name (US Core min 1)", raw: strings.Replace(patientOK, `"name":[{"family":"Doe","given":["Jo"]}],`, "", 1),
			sev: issue.Error, rule: "cardinality", path: "Patient.name"},
		{name: "code outside required binding", raw: strings.Replace(patientOK, `"female"`, `"f"`, 1),
			sev: issue.Error, rule: "binding", path: "Patient.gender"},
		{name: "unknown extension is a warning", raw: strings.Replace(patientOK, `"gender"`, `"extension":[{"url":"http://example.org/x","valueString":"y"}],"gender"`, 1),
			sev: issue.Warning, rule: "extension-unknown", path: "Patient.extension[0]", noErrors: true},
		{name: "known extension checked against its definition (race needs text)", raw: strings.Replace(patientOK, `"gender"`,
			`"extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":"2106-3"}}]}],"gender"`, 1),
			sev: issue.Error, rule: "cardinality", path: "Patient.extension[0].extension"},
		{name: "wrong choice type", raw: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueFoo":1}`,
			sev: issue.Error, rule: "", path: "Observation.valueFoo"},
		{name: "invariant obs-6", raw: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","dataAbsentReason":{"text":"no"}}`,
			sev: issue.Error, rule: "invariant:obs-6", path: "Observation"},
		{name: "contained reference resolves", raw: `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","name":"A"}],"managingOrganization":{"reference":"#o1"}}`,
			noErrors: true},
		{name: "contained reference to nothing", raw: `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","name":"A"}],"managingOrganization":{"reference":"#o2"}}`,
			sev: issue.Error, rule: "invariant:ref-1", path: "Patient.managingOrganization"},
		{name: "reference to the wrong type", raw: `{"resourceType":"Patient","managingOrganization":{"reference":"Practitioner/1"}}`,
			sev: issue.Error, rule: "reference-target", path: "Patient.managingOrganization.reference"},
		{name: "contained resource validated against its base type", raw: `{"resourceType":"Patient","contained":[{"resourceType":"Observation","id":"o1","code":{"text":"x"}}],"generalPractitioner":[{"reference":"#o1"}]}`,
			sev: issue.Error, rule: "cardinality", path: "Patient.contained[0].ofType(Observation).status"},
		{name: "bundle entries validated with paths", raw: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c01","resource":{"resourceType":"Patient"}},{"fullUrl":"urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c02","resource":{"resourceType":"Observation","code":{"text":"x"},"subject":{"reference":"urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c01"}}}]}`,
			sev: issue.Error, rule: "cardinality", path: "Bundle.entry[1].resource.ofType(Observation).status"},
		{name: "bundle entry meta.profile applies", raw: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c01","resource":{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},"gender":"female"}}]}`,
			sev: issue.Error, rule: "cardinality", path: "Bundle.entry[0].resource.ofType(Patient).name"},
		{name: "unknown property", raw: `{"resourceType":"Patient","nmae":[]}`, sev: issue.Error, rule: ruleUnknown, path: "Patient.nmae"},
		{name: "primitive extension", raw: `{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"2020-01-01T10:00:00Z"}]}}`, noErrors: true},
		{name: "primitive extension with bad content", raw: `{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"yesterday"}]}}`,
			sev: issue.Error, rule: ruleFormat, path: "Patient.birthDate.extension[0].valueDateTime"},
		{name: "array expected", raw: `{"resourceType":"Patient","name":{"family":"x"}}`, sev: issue.Error, rule: "type", path: "Patient.name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := validateStr(t, v, tc.raw, vo)
			if tc.noErrors && res.Issues.HasErrors() {
				t.Errorf("unexpected errors: %v", res.Issues.Errors())
			}
			if tc.sev != "" && !hasIssue(res.Issues, tc.sev, tc.rule, tc.path) {
				t.Errorf("want %s %s @ %s; got:\n%v", tc.sev, tc.rule, tc.path, res.Issues)
			}
		})
	}
}

func TestMustSupportAndProfiles(t *testing.T) {
	v := embedded(t)
	raw := strings.Replace(patientOK, `"gender":"female"`, `"_gender":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}`, 1)
	res := validateStr(t, v, raw, ValidateOptions{IG: uc6, Profiles: []string{"http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|6.1.0"}})
	if res.ResourceType != "Patient" || len(res.Profiles) != 1 || res.Profiles[0] != "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|6.1.0" {
		t.Fatalf("profiles %v", res.Profiles)
	}
	ms := res.MustSupport[res.Profiles[0]]
	in := func(xs []string, x string) bool {
		for _, y := range xs {
			if y == x {
				return true
			}
		}
		return false
	}
	if !in(ms.Present, "Patient.name") || !in(ms.Present, "Patient.identifier") || !in(ms.Missing, "Patient.gender") || !in(ms.Missing, "Patient.telecom.system") {
		t.Errorf("must-support: %+v", ms)
	}
	// must-support slices: the category slice of US Core lab observations
	obs := `{"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"]},"status":"final",
	  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
	  "code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/1"},"effectiveDateTime":"2020-01-01","valueString":"x"}`
	res = validateStr(t, v, obs, ValidateOptions{IG: uc6})
	if res.Issues.HasErrors() {
		t.Errorf("lab observation: %v", res.Issues.Errors())
	}
	ms = res.MustSupport[res.Profiles[0]]
	if !in(ms.Present, "Observation.category:us-core") {
		t.Errorf("must-support slice category:us-core should be present: %+v", ms)
	}
	// two profiles: meta.profile plus a requested one
	res = validateStr(t, v, patientOK, ValidateOptions{IG: "hl7.fhir.us.core#7.0.0", Profiles: []string{"http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|6.1.0"}})
	if len(res.Profiles) != 2 {
		t.Errorf("want two profiles, got %v", res.Profiles)
	}
}

func TestCarinResolvesUSCore311(t *testing.T) {
	v := embedded(t)
	res := validateStr(t, v, patientOK, ValidateOptions{IG: "hl7.fhir.us.carin-bb#2.0.0"})
	if len(res.Profiles) != 1 || !strings.HasSuffix(res.Profiles[0], "|3.1.1") {
		t.Errorf("CARIN BB 2.0.0 context should resolve US Core 3.1.1, got %v", res.Profiles)
	}
}

func TestDeclaredMissingDependency(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	set.Add(&profiles.Package{ID: "example.test", Version: "1.0.0", Dependencies: map[string]string{
		"hl7.fhir.r4.core": "4.0.1", "hl7.fhir.us.mcode": "3.0.0"}})
	v, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw := `{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-patient"]}}`
	res := validateStr(t, v, raw, ValidateOptions{IG: "example.test#1.0.0"})
	if res.Issues.HasErrors() || !hasIssue(res.Issues, issue.Warning, "profile-unknown", "") {
		t.Errorf("declared-but-missing dependency: want a warning, got %v", res.Issues)
	}
	res = validateStr(t, v, raw, ValidateOptions{})
	if res.Issues.HasErrors() || !hasIssue(res.Issues, issue.Warning, "profile-unknown", "Patient.meta.profile") {
		t.Errorf("unknown meta.profile without a declaring context: want a warning, got %v", res.Issues)
	}
}

func TestTerminologyNotChecked(t *testing.T) {
	v := embedded(t)
	// US Core condition code: extensible/required bindings to SNOMED/ICD value sets cannot be expanded
	raw := `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"0000-0"}]},"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"bogus"}]}]}`
	res := validateStr(t, v, raw, ValidateOptions{})
	if !hasIssue(res.Issues, issue.Error, "code-unknown", "Observation.category[0].coding[0].code") {
		t.Errorf("bogus code of a local code system: want code-unknown, got %v", res.Issues)
	}
	for _, i := range res.Issues {
		if i.Rule == "binding" && i.Severity == issue.Error && strings.Contains(i.Message, "loinc") {
			t.Errorf("LOINC code flagged as error without a terminology server: %v", i)
		}
	}
}

// TestStructureEngines checks that both engines of the structural layer (its walker, the default,
// and jsonschema/v5 with Options.JSONSchema) name each finding and its place the same.
func TestStructureEngines(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := New(set, Options{JSONSchema: true})
	if err != nil {
		t.Fatal(err)
	}
	walker := embedded(t)
	for _, tc := range []struct{ raw, rule, path string }{
		{`{"resourceType":"Patient","nmae":[]}`, ruleUnknown, "Patient.nmae"},
		{`{"resourceType":"Patient","birthDate":"1980-13-01"}`, ruleFormat, "Patient.birthDate"},
		{`{"resourceType":"Patient","active":"yes"}`, "type", "Patient.active"},
		{`{"resourceType":"Patient","active":true`, ruleSyntax, ""},
		{`{"resourceType":"Patient","name":[]}`, ruleEmpty, "Patient.name"},
	} {
		for name, v := range map[string]*Validator{"walker": walker, "json schema": schema} {
			res := v.Validate(context.Background(), []byte(tc.raw), ValidateOptions{})
			if !hasIssue(res.Issues, issue.Error, tc.rule, tc.path) {
				t.Errorf("%s: %s: want %s @ %s, got %v", name, tc.raw, tc.rule, tc.path, res.Issues)
			}
		}
	}
}

func TestCodeSyntax(t *testing.T) {
	for _, tc := range []struct {
		sys, code string
		ok        bool
	}{
		{"http://loinc.org", "8480-6", true}, {"http://loinc.org", "LA6576-8", true}, {"http://loinc.org", "8480", false},
		{"http://snomed.info/sct", "38341003", true}, {"http://snomed.info/sct", "abc", false},
		{"http://hl7.org/fhir/sid/icd-10-cm", "E11.9", true}, {"http://hl7.org/fhir/sid/icd-10-cm", "11.9", false},
		{"http://unitsofmeasure.org", "{urine specific gravity}", true}, {"http://unitsofmeasure.org", "mm Hg", false},
		{"http://hl7.org/fhir/sid/ndc", "0069-2587-10", true}, {"http://hl7.org/fhir/sid/ndc", "12", false},
		{"http://www.nlm.nih.gov/research/umls/rxnorm", "1049640", true}, {"http://www.nlm.nih.gov/research/umls/rxnorm", "x1", false},
	} {
		if got := codeSyntax(tc.sys, tc.code) == ""; got != tc.ok {
			t.Errorf("%s#%s: ok=%v, want %v", tc.sys, tc.code, got, tc.ok)
		}
	}
}

func TestReferenceTargetProfile(t *testing.T) {
	v := embedded(t)
	obs := `{"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"]},"status":"final",
	  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
	  "code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c01"},"effectiveDateTime":"2020-01-01","valueString":"x"}`
	bundle := func(patient string) string {
		return `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c01","resource":` + patient +
			`},{"fullUrl":"urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c02","resource":` + obs + `}]}`
	}
	res := validateStr(t, v, bundle(`{"resourceType":"Patient","id":"p"}`), ValidateOptions{IG: uc6})
	if !hasIssue(res.Issues, issue.Error, "reference-target", "Bundle.entry[1].resource.ofType(Observation).subject.reference") {
		t.Errorf("subject is not a US Core Patient: want reference-target, got %v", res.Issues)
	}
	res = validateStr(t, v, bundle(patientOK), ValidateOptions{IG: uc6})
	if hasIssue(res.Issues, issue.Error, "reference-target", "") {
		t.Errorf("subject is a US Core Patient: %v", res.Issues.Errors())
	}
}

func TestDiscriminatorFromAncestorPattern(t *testing.T) {
	parent := &Elem{ID: "Observation.category", Name: "category"}
	slice := &Elem{ID: "Observation.category:x", Name: "category", SliceName: "x",
		Pattern: map[string]any{"coding": []any{map[string]any{"system": "http://s", "code": "c"}}}}
	_ = parent
	for _, tc := range []struct {
		path string
		want any
	}{{"coding.code", "c"}, {"coding.system", "http://s"}} {
		x := expectFor(slice, Discriminator{Type: "value", Path: tc.path})
		if !x.known || x.pattern != tc.want {
			t.Errorf("%s: %+v, want pattern %v", tc.path, x, tc.want)
		}
	}
}

func TestValidateValueChecksStructure(t *testing.T) {
	v := embedded(t)
	root := map[string]any{"resourceType": "Patient", "nmae": "x", "active": "yes"}
	res := v.ValidateValue(context.Background(), root, ValidateOptions{})
	if !hasIssue(res.Issues, issue.Error, ruleUnknown, "Patient.nmae") || !hasIssue(res.Issues, issue.Error, "type", "Patient.active") {
		t.Errorf("ValidateValue must run the structural checks: %v", res.Issues)
	}
}

// The R4 bp profile discriminates component:SystolicBP by code.coding.code, whose fixed value sits
// in the nested coding slice SBPCode: the slice must still be recognised.
func TestDiscriminatorThroughNestedSlice(t *testing.T) {
	v := embedded(t)
	comp := func(code string) string {
		return `{"code":{"coding":[{"system":"http://loinc.org","code":"` + code + `"}]},"valueQuantity":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`
	}
	obs := func(comps ...string) string {
		return `{"resourceType":"Observation","status":"final",
		  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
		  "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/p"},"effectiveDateTime":"2020-01-01",
		  "component":[` + strings.Join(comps, ",") + `]}`
	}
	opts := ValidateOptions{IG: "hl7.fhir.r4.core#4.0.1", Profiles: []string{"http://hl7.org/fhir/StructureDefinition/bp"}}
	res := validateStr(t, v, obs(comp("8480-6"), comp("8462-4")), opts)
	if errs := res.Issues.Errors(); len(errs) > 0 {
		t.Errorf("both components present: %v", errs)
	}
	res = validateStr(t, v, obs(comp("8480-6")), opts)
	found := false
	for _, e := range res.Issues.Errors() {
		if e.Rule == "cardinality" && strings.Contains(e.Message, "DiastolicBP") {
			found = true
		} else if strings.Contains(e.Message, "SystolicBP") {
			t.Errorf("systolic present but reported: %s", e.Message)
		}
	}
	if !found {
		t.Errorf("diastolic missing: want a cardinality error naming DiastolicBP, got %v", res.Issues)
	}
}

// TestMustSupportThroughSlices: a value in a slice is a value of the sliced element, so it populates
// the must-support children of the unsliced element too (component.code through
// component:systolic.code), also when the snapshot lists no children for the slice
// (Organization.identifier.system through identifier:NPI).
func TestMustSupportThroughSlices(t *testing.T) {
	v := embedded(t)
	in := func(xs []string, x string) bool {
		for _, y := range xs {
			if y == x {
				return true
			}
		}
		return false
	}
	comp := func(code, val string) string {
		return `{"code":{"coding":[{"system":"http://loinc.org","code":"` + code + `"}]},"valueQuantity":{"value":` + val + `,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`
	}
	bp := `{"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-blood-pressure"]},"status":"final",
	  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
	  "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/1"},"effectiveDateTime":"2020-01-01",
	  "component":[` + comp("8480-6", "120") + `,` + comp("8462-4", "80") + `]}`
	org := `{"resourceType":"Organization","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-organization"]},"active":true,"name":"A",
	  "identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1063494177"}]}`
	for _, tc := range []struct {
		raw     string
		present []string
	}{
		{bp, []string{"Observation.component", "Observation.component.code", "Observation.component.value[x]", "Observation.component:systolic", "Observation.component:systolic.code"}},
		{org, []string{"Organization.identifier", "Organization.identifier.system", "Organization.identifier.value", "Organization.identifier:NPI"}},
	} {
		res := validateStr(t, v, tc.raw, ValidateOptions{IG: uc6})
		if res.Issues.HasErrors() {
			t.Errorf("%s: %v", res.ResourceType, res.Issues.Errors())
		}
		if len(res.Profiles) != 1 {
			t.Fatalf("%s: profiles %v", res.ResourceType, res.Profiles)
		}
		ms := res.MustSupport[res.Profiles[0]]
		for _, id := range tc.present {
			if !in(ms.Present, id) {
				t.Errorf("%s: must-support %s should be present: %+v", res.ResourceType, id, ms)
			}
		}
		if res.ResourceType == "Observation" && !in(ms.Missing, "Observation.component.dataAbsentReason") {
			t.Errorf("component.dataAbsentReason is not populated but not listed missing: %+v", ms)
		}
	}
}
