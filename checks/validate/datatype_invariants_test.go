package validate

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirpath"
	"github.com/pacheck/pacheck/profiles"
)

// TestDatatypeInvariants: the invariants on the root of an R4 datatype's definition apply to every
// value of that type, without a profile and under one, once per value (SimpleQuantity repeats
// qty-3; an extension element and its definition both carry ext-1), with per-1 comparing date-times
// as FHIRPath does (zones; partial dates that cannot be ordered pass). Each case names the rule and
// path it must report exactly once, or "" for a valid twin without errors.
func TestDatatypeInvariants(t *testing.T) {
	const (
		enc  = `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"period":PERIOD}`
		obs  = `{"resourceType":"Observation","status":"final","code":{"text":"x"},VALUE}`
		ucum = `"system":"http://unitsofmeasure.org"`
		hr   = `{"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-heart-rate"]},` +
			`"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],` +
			`"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/1"},"effectivePeriod":PERIOD,` +
			`"valueQuantity":{"value":60,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`
		docRef = `{"resourceType":"DocumentReference","status":"current","content":[{"attachment":ATT}]}`
		medReq = `{"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"text":"x"},"subject":{"reference":"Patient/1"},` +
			`"dispenseRequest":{"expectedSupplyDuration":DUR}}`
		ext = `{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace",EXT}]}`
	)
	period := func(tmpl, p string) string { return strings.Replace(tmpl, "PERIOD", p, 1) }
	value := func(v string) string { return strings.Replace(obs, "VALUE", v, 1) }
	cases := []struct {
		name, raw, ig, rule, path string
	}{
		{"period ends before it starts", period(enc, `{"start":"2020-01-02","end":"2020-01-01"}`), "", "invariant:per-1", "Encounter.period"},
		{"period in order", period(enc, `{"start":"2020-01-01","end":"2020-01-02"}`), "", "", ""},
		{"period start only", period(enc, `{"start":"2020-01-02"}`), "", "", ""},
		{"period, earlier instant in a later-looking zone", period(enc, `{"start":"2020-01-01T10:00:00+05:00","end":"2020-01-01T06:00:00Z"}`), "", "", ""},
		{"period, times in the wrong order", period(enc, `{"start":"2020-01-01T10:00:00Z","end":"2020-01-01T06:00:00Z"}`), "", "invariant:per-1", "Encounter.period"},
		{"period, partial dates not comparable", period(enc, `{"start":"2020","end":"2020-01-01"}`), "", "", ""},
		{"period, day after a date-time", period(enc, `{"start":"2020-01-02","end":"2020-01-01T10:00:00Z"}`), "", "invariant:per-1", "Encounter.period"},
		{"period under US Core heart rate", period(hr, `{"start":"2020-01-02","end":"2020-01-01"}`), uc6, "invariant:per-1", "Observation.effectivePeriod"},
		{"period under US Core heart rate, in order", period(hr, `{"start":"2020-01-01","end":"2020-01-01"}`), uc6, "", ""},
		{"contact point value without system", `{"resourceType":"Patient","telecom":[{"value":"555-0100"}]}`, "", "invariant:cpt-2", "Patient.telecom[0]"},
		{"contact point with system", `{"resourceType":"Patient","telecom":[{"system":"phone","value":"555-0100"}]}`, "", "", ""},
		{"quantity code without system", value(`"valueQuantity":{"value":1,"code":"mg"}`), "", "invariant:qty-3", "Observation.valueQuantity"},
		{"quantity code with system", value(`"valueQuantity":{"value":1,"code":"mg",` + ucum + `}`), "", "", ""},
		{"simple quantity: qty-3 once", value(`"referenceRange":[{"low":{"value":1,"code":"mg"}}]`), "", "invariant:qty-3", "Observation.referenceRange[0].low"},
		{"simple quantity with a comparator", value(`"referenceRange":[{"low":{"value":1,"comparator":"<"}}]`), "", "invariant:sqty-1", "Observation.referenceRange[0].low"},
		{"range low above high", value(`"valueRange":{"low":{"value":3,"code":"mg",` + ucum + `},"high":{"value":2,"code":"mg",` + ucum + `}}`), "", "invariant:rng-2", "Observation.valueRange"},
		{"range in order across units", value(`"valueRange":{"low":{"value":3,"code":"mg",` + ucum + `},"high":{"value":2,"code":"g",` + ucum + `}}`), "", "", ""},
		{"ratio without denominator", value(`"valueRatio":{"numerator":{"value":1}}`), "", "invariant:rat-1", "Observation.valueRatio"},
		{"ratio", value(`"valueRatio":{"numerator":{"value":1},"denominator":{"value":2}}`), "", "", ""},
		{"age not positive", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetAge":{"value":-1,"code":"a",` + ucum + `}}`, "", "invariant:age-1", "Condition.onsetAge"},
		{"age", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetAge":{"value":40,"code":"a",` + ucum + `}}`, "", "", ""},
		{"duration not in UCUM", strings.Replace(medReq, "DUR", `{"value":30,"code":"d","system":"http://example.org/units"}`, 1), "", "invariant:drt-1", "MedicationRequest.dispenseRequest.expectedSupplyDuration"},
		{"duration", strings.Replace(medReq, "DUR", `{"value":30,"code":"d",`+ucum+`}`, 1), "", "", ""},
		{"attachment data without content type", strings.Replace(docRef, "ATT", `{"data":"aGVsbG8="}`, 1), "", "invariant:att-1", "DocumentReference.content[0].attachment"},
		{"attachment", strings.Replace(docRef, "ATT", `{"contentType":"text/plain","data":"aGVsbG8="}`, 1), "", "", ""},
		{"contained reference to nothing", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","name":"A"}],"managingOrganization":{"reference":"#o2"},"generalPractitioner":[{"reference":"#o1"}]}`, "", "invariant:ref-1", "Patient.managingOrganization"},
		{"contained resource referring to its container", `{"resourceType":"Patient","contained":[{"resourceType":"RelatedPerson","id":"rp1","patient":{"reference":"#"}}],"contact":[{"extension":[{"url":"http://example.org/rp","valueReference":{"reference":"#rp1"}}],"name":{"family":"X"}}]}`, "", "", ""},
		{"extension with value and extensions: ext-1 once", strings.Replace(ext, "EXT", `"valueAddress":{"city":"X"},"extension":[{"url":"http://example.org/a","valueString":"b"}]`, 1), "", "invariant:ext-1", "Patient.extension[0]"},
		{"extension", strings.Replace(ext, "EXT", `"valueAddress":{"city":"X"}`, 1), "", "", ""},
	}
	v := embedded(t)
	for _, tc := range cases {
		res := validateStr(t, v, tc.raw, ValidateOptions{IG: tc.ig})
		for _, is := range res.Issues {
			if is.Rule == "invariant-not-evaluated" {
				t.Errorf("%s: %v", tc.name, is)
			}
		}
		if tc.rule == "" {
			if res.Issues.HasErrors() {
				t.Errorf("%s: unexpected errors: %v", tc.name, res.Issues.Errors())
			}
			continue
		}
		if n := countIssues(res, tc.rule, tc.path); n != 1 {
			t.Errorf("%s: want one %s at %s, got %d:\n%v", tc.name, tc.rule, tc.path, n, res.Issues)
		}
	}

	// NoInvariants turns them off with the rest
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	off, err := New(set, Options{NoInvariants: true})
	if err != nil {
		t.Fatal(err)
	}
	if res := validateStr(t, off, period(enc, `{"start":"2020-01-02","end":"2020-01-01"}`), ValidateOptions{}); res.Issues.HasErrors() {
		t.Errorf("NoInvariants: %v", res.Issues.Errors())
	}
}

// TestDatatypeRootInvariantsEvaluate: every invariant on the root of an R4 datatype definition
// (ele-1 and the narrative rules of skipped-invariants.txt aside) is evaluated, natively or with
// FHIRPath on the value typed as its datatype, without an evaluation error on an empty and on a
// populated value.
func TestDatatypeRootInvariantsEvaluate(t *testing.T) {
	v := embedded(t)
	sc, err := v.scope("")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range v.set.Global().All("StructureDefinition") {
		if r.Kind != "complex-type" || r.Derivation != "specialization" {
			continue
		}
		p := sc.baseType(r.Type)
		if p == nil {
			t.Errorf("%s: no base definition", r.Type)
			continue
		}
		for _, c := range p.Root.Constraints {
			if _, skipped := SkippedInvariants[c.Key]; skipped {
				continue
			}
			n++
			x, ok := c.compiled.(*fhirpath.Expression)
			if !ok {
				t.Errorf("%s %s: not compiled (%s)", r.Type, c.Key, c.skip)
				continue
			}
			for _, m := range []map[string]any{{}, {"value": json.Number("1"), "code": "x", "system": "http://unitsofmeasure.org", "start": "2020"}} {
				if _, err := x.Evaluate(context.Background(), fhirpath.Typed(m, r.Type), &fhirpath.Env{Trace: io.Discard}); err != nil {
					t.Errorf("%s %s on %v: %v", r.Type, c.Key, m, err)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d datatype root invariants found", n)
	}
}
