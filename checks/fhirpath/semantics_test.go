package fhirpath

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

const semanticsPatient = `{
  "resourceType": "Patient", "id": "p1",
  "active": true,
  "birthDate": "1974-12-25",
  "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
  "name": [
    {"use": "official", "family": "Chalmers", "given": ["Peter", "James"],
     "_given": [null, {"extension": [{"url": "http://example.org/nick", "valueString": "Jim"}]}]},
    {"use": "usual", "given": [null, "Jimmy"], "_given": [{"id": "g1", "extension": [{"url": "http://example.org/absent", "valueCode": "masked"}]}, null]}
  ],
  "deceasedBoolean": false,
  "contained": [{"resourceType": "Organization", "id": "org1", "name": "Acme"}],
  "managingOrganization": {"reference": "#org1"},
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Peter <b>Chalmers</b></p></div>"}
}`

const semanticsObservation = `{
  "resourceType": "Observation", "id": "o1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
  "valueQuantity": {"value": 185.0, "unit": "lbs", "system": "http://unitsofmeasure.org", "code": "[lb_av]"},
  "effectiveDateTime": "2016-03-28T09:30:00+10:00",
  "component": [{"code": {"text": "a"}, "valueString": "x"}, {"code": {"text": "b"}, "valueInteger": 3}]
}`

func mustDecode(t testing.TB, s string) any {
	t.Helper()
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSemantics(t *testing.T) {
	patient := mustDecode(t, semanticsPatient)
	obs := mustDecode(t, semanticsObservation)
	tests := []struct {
		group, expr string
		input       any
		want        string // describeResult form, or "error"
	}{
		// decimal precision and arithmetic
		{"precision", "1.10 = 1.1", nil, "[boolean:true]"},
		{"precision", "1.10 ~ 1.1", nil, "[boolean:true]"},
		{"precision", "0.1 + 0.2 = 0.3", nil, "[boolean:true]"},
		{"precision", "1.0.precision()", nil, "[integer:1]"},
		{"precision", "(1 / 3)", nil, "[decimal:0.33333333]"},
		{"precision", "(2 / 3) ~ 0.67", nil, "[boolean:true]"},
		{"precision", "1.005.round(2)", nil, "[decimal:1.01]"},
		{"precision", "(-1.5).round()", nil, "[decimal:-2]"},
		{"precision", "1.50 * 2", nil, "[decimal:3.00]"},
		{"precision", "1.587.lowBoundary(2)", nil, "[decimal:1.58]"},
		{"precision", "9223372036854775807 + 1", nil, "error"},
		{"precision", "7 div 2 + 7 mod 2", nil, "[integer:4]"},
		// partial dates
		{"dates", "@2012 = @2012-01", nil, "[]"},
		{"dates", "@2012 < @2013-01", nil, "[boolean:true]"},
		{"dates", "@2012-01 ~ @2012-01-01", nil, "[boolean:false]"},
		{"dates", "@2012-01-01T10:00 < @2012-01-01T10:00:30", nil, "[]"},
		{"dates", "@2012-01-01T10:00:00Z = @2012-01-01T12:00:00+02:00", nil, "[boolean:true]"},
		{"dates", "@2012-01-31 + 1 month", nil, "[date:@2012-02-29]"},
		{"dates", "@2012-03-01T10:00:00.000Z - 1 day", nil, "[dateTime:@2012-02-29T10:00:00.000Z]"},
		{"dates", "@2012 + 18 months", nil, "[date:@2013]"},
		{"dates", "@T23:00 + 2 hours", nil, "[time:@T01:00]"},
		{"dates", "Patient.birthDate < @1975", patient, "[boolean:true]"},
		{"dates", "Patient.birthDate = @1974-12-25T10:00:00", patient, "[]"},
		{"dates", "'2014-01'.toDate() = @2014-01", nil, "[boolean:true]"},
		{"dates", "@2014-01-01T08.highBoundary(12)", nil, "[dateTime:@2014-01-01T08:59-12:00]"},
		// equivalence
		{"equivalence", "'Hello  World' ~ 'hello world'", nil, "[boolean:true]"},
		{"equivalence", "{} ~ {}", nil, "[boolean:true]"},
		{"equivalence", "{} = {}", nil, "[]"},
		{"equivalence", "(1 | 2) ~ (2 | 1)", nil, "[boolean:true]"},
		{"equivalence", "(1 | 2) = (2 | 1)", nil, "[boolean:false]"},
		{"equivalence", "Patient.name[0] ~ Patient.name[0]", patient, "[boolean:true]"},
		// quantities
		{"quantity", "1 'kg' = 1000 'g'", nil, "[boolean:true]"},
		{"quantity", "1 'kg' > 999 'g'", nil, "[boolean:true]"},
		{"quantity", "1 'kg' = 1 'm'", nil, "[]"},
		{"quantity", "1 year = 1 'a'", nil, "[]"},
		{"quantity", "1 week = 7 'd'", nil, "[boolean:true]"},
		{"quantity", "2 'cm' + 1 'm'", nil, "[Quantity:102 'cm']"},
		{"quantity", "Observation.value > 80 'kg'", obs, "[boolean:true]"},
		{"quantity", "Observation.value < 90 'kg'", obs, "[boolean:true]"},
		{"quantity", "Observation.value.value", obs, "[decimal:185.0]"},
		{"quantity", "100 'mg/dL' = 1 'g/L'", nil, "[boolean:true]"},
		{"quantity", "'5.5 \\'mg\\''.toQuantity('g')", nil, "[Quantity:0.0055 'g']"},
		// empty propagation and three-valued logic
		{"empty", "{} + 1", nil, "[]"},
		{"empty", "{}.substring(1)", nil, "[]"},
		{"empty", "Patient.foo.bar.exists()", patient, "[boolean:false]"},
		{"empty", "{} and false", nil, "[boolean:false]"},
		{"empty", "{} and true", nil, "[]"},
		{"empty", "{} or true", nil, "[boolean:true]"},
		{"empty", "{} implies false", nil, "[]"},
		{"empty", "false implies {}", nil, "[boolean:true]"},
		{"empty", "{} xor true", nil, "[]"},
		{"empty", "({} | {}).count()", nil, "[integer:0]"},
		{"empty", "(1 | 2) + 1", nil, "error"},
		// singleton evaluation of collections where a Boolean is expected (FHIRPath §4.5): one
		// non-Boolean item is true, none is empty, several are an error (US Core pd-1 "telecom or
		// endpoint" relies on the contrary; checks/validate evaluates its corrected text)
		{"singleton", "Patient.name.first() or false", patient, "[boolean:true]"},
		{"singleton", "Patient.foo or false", patient, "[]"},
		{"singleton", "Patient.name or false", patient, "error"},
		{"singleton", "Patient.name or true", patient, "error"},
		{"singleton", "Patient.name.exists() or false", patient, "[boolean:true]"},
		// choice types
		{"choice", "Observation.value.unit", obs, "[string:lbs]"},
		{"choice", "Observation.valueQuantity.unit", obs, "[string:lbs]"},
		{"choice", "Observation.value.ofType(Quantity).code", obs, "[code:[lb_av]]"},
		{"choice", "Observation.value is Quantity", obs, "[boolean:true]"},
		{"choice", "Observation.effective.type().name", obs, "[string:dateTime]"},
		{"choice", "Observation.component.value.type().name", obs, "[string:string, string:integer]"},
		{"choice", "Observation.component.value.ofType(integer) + 1", obs, "[integer:4]"},
		{"choice", "Patient.deceased", patient, "[boolean:false]"},
		{"choice", "Patient.deceasedDateTime.exists()", patient, "[boolean:false]"},
		// primitive extensions (_element)
		{"ext", "Patient.birthDate.extension('http://hl7.org/fhir/StructureDefinition/patient-birthTime').value", patient, "[dateTime:@1974-12-25T14:35:45-05:00]"},
		{"ext", "Patient.name[0].given.extension.value", patient, "[string:Jim]"},
		{"ext", "Patient.name[1].given.count()", patient, "[integer:2]"},
		{"ext", "Patient.name[1].given.select(hasValue())", patient, "[boolean:false, boolean:true]"},
		{"ext", "Patient.name[1].given.first().id", patient, "[string:g1]"},
		{"ext", "Patient.name.given.where(hasValue()).count()", patient, "[integer:3]"},
		{"ext", "Patient.name[1].given.first().children().count() > 0", patient, "[boolean:true]"},
		// FHIR functions and variables
		{"fhir", "Patient.managingOrganization.resolve().name", patient, "[string:Acme]"},
		{"fhir", "Patient.text.div.htmlChecks()", patient, "[boolean:true]"},
		{"fhir", "'<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x</script></div>'.htmlChecks()", nil, "[boolean:false]"},
		{"fhir", "'<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"javascript:x()\">x</a></div>'.htmlChecks()", nil, "[boolean:false]"},
		{"fhir", "'<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">x</p></div>'.htmlChecks()", nil, "[boolean:false]"},
		{"fhir", "%resource.id", patient, "[id:p1]"},
		{"fhir", "%`ext-patient-birthTime`", nil, "[string:http://hl7.org/fhir/StructureDefinition/patient-birthTime]"},
		{"fhir", "Patient.is(DomainResource)", patient, "[boolean:true]"},
		{"fhir", "Patient.contained.ofType(Organization).name", patient, "[string:Acme]"},
		{"fhir", "Patient.name.type().name", patient, "[string:HumanName, string:HumanName]"},
		{"fhir", "Patient.active.getValue().type().namespace", patient, "[string:System]"},
		{"fhir", "%undefinedVariable", nil, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.group+"/"+tc.expr, func(t *testing.T) {
			e, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			res, err := e.Evaluate(context.Background(), tc.input, &Env{Now: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)})
			if tc.want == "error" {
				if err == nil {
					t.Fatalf("want an error, got %s", describeResult(res))
				}
				return
			}
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if got := describeResult(res); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, tc := range []struct{ expr, wantMsg string }{
		{"Patient.name.", "expected identifier"},
		{"1 +", "expected expression term"},
		{"'abc", "unterminated"},
		{"name.foo(", "expected"},
		{"name.undefinedFunction()", "unknown function"},
		{"name.where()", "takes 1 argument"},
		{strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000), "nested deeper"},
		{strings.Repeat("-", 5000) + "1", "nested deeper"},
		{"1 +\n  * 2", "line 2 col 3"},
	} {
		_, err := Compile(tc.expr)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Compile(%.40q): got %v, want *SyntaxError", tc.expr, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("Compile(%.40q): %v, want it to mention %q", tc.expr, err, tc.wantMsg)
		}
	}
}

func TestLimits(t *testing.T) {
	patient := mustDecode(t, semanticsPatient)
	for _, expr := range []string{
		"(1|2|3|4|5|6|7|8|9|10).repeat($this + 1)",
		"(1|2|3|4|5|6|7|8|9|10|11|12).aggregate($total & $total & $total & $total, 'abcdefgh')",
		"(1|2|3|4|5|6|7|8|9|10).select((1|2|3|4|5|6|7|8|9|10).select((1|2|3|4|5|6|7|8|9|10).select((1|2|3|4|5|6|7|8|9|10).select(1|2|3|4|5|6|7|8|9|10)))).count()",
	} {
		e := MustCompile(expr)
		_, err := e.Evaluate(context.Background(), patient, &Env{MaxSteps: 100000, MaxItems: 10000})
		if err == nil {
			t.Errorf("%s: want a limit error", expr)
		} else if !errors.Is(err, ErrBudget) && !strings.Contains(err.Error(), "too long") {
			t.Errorf("%s: %v, want ErrBudget", expr, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := MustCompile("(1|2|3|4|5|6|7|8|9|10).repeat($this + 1)").Evaluate(ctx, nil, nil); err == nil {
		t.Error("cancelled context: want an error")
	}
}

func TestTraceWriter(t *testing.T) {
	var buf bytes.Buffer
	res, err := MustCompile("(1 | 2).trace('nums').count()").Evaluate(context.Background(), nil, &Env{Trace: &buf})
	if err != nil || describeResult(res) != "[integer:2]" {
		t.Fatalf("got %v %v", describeResult(res), err)
	}
	if got := buf.String(); got != "trace nums: 1 2\n" {
		t.Errorf("trace output %q", got)
	}
}

func TestEnvHooks(t *testing.T) {
	obs := mustDecode(t, semanticsObservation)
	var asked string
	env := &Env{
		MemberOf: func(_ context.Context, v any, vs string) (bool, error) {
			asked = vs
			return vs == "http://example.org/vs", nil
		},
		ConformsTo: func(_ context.Context, r any, p string) (bool, error) { return p == "http://example.org/p", nil },
		Resolver: func(_ context.Context, ref string) (any, error) {
			if ref == "Patient/1" {
				return map[string]any{"resourceType": "Patient", "id": "1"}, nil
			}
			return nil, nil
		},
		Vars: map[string]any{"limit": Integer(3), "names": Collection{String("a"), String("b")}},
	}
	for expr, want := range map[string]string{
		"Observation.code.memberOf('http://example.org/vs')": "[boolean:true]",
		"conformsTo('http://example.org/p')":                 "[boolean:true]",
		"'Patient/1'.resolve().id":                           "[id:1]",
		"%limit + 1":                                         "[integer:4]",
		"%names.count()":                                     "[integer:2]",
	} {
		res, err := MustCompile(expr).Evaluate(context.Background(), obs, env)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if got := describeResult(res); got != want {
			t.Errorf("%s: got %s, want %s", expr, got, want)
		}
	}
	if asked != "http://example.org/vs" {
		t.Errorf("MemberOf asked for %q", asked)
	}
}

func TestBoolAndFormat(t *testing.T) {
	res, _ := MustCompile("true").Evaluate(context.Background(), nil, nil)
	if b, ok, err := res.Bool(); !b || !ok || err != nil {
		t.Errorf("Bool() = %v %v %v", b, ok, err)
	}
	res, _ = MustCompile("{}").Evaluate(context.Background(), nil, nil)
	if _, ok, err := res.Bool(); ok || err != nil {
		t.Errorf("empty Bool() ok=%v err=%v", ok, err)
	}
	res, _ = MustCompile("(1 | 2)").Evaluate(context.Background(), nil, nil)
	if _, _, err := res.Bool(); err == nil {
		t.Error("Bool() of two items: want error")
	}
	patient := mustDecode(t, semanticsPatient)
	res, err := MustCompile("Patient.birthDate | Patient.name[0].family | 4 'g' | Patient.name[1] | 1.50").Evaluate(context.Background(), patient, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FormatJSON(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"type":"date","value":"@1974-12-25"},{"type":"string","value":"Chalmers"},{"type":"Quantity","value":"4 'g'"},{"type":"HumanName","value":{"_given":[{"extension":[{"url":"http://example.org/absent","valueCode":"masked"}],"id":"g1"},null],"given":[null,"Jimmy"],"use":"usual"}},{"type":"decimal","value":"1.50"}]`
	if string(b) != want {
		t.Errorf("FormatJSON:\n got %s\nwant %s", b, want)
	}
}

func TestCacheConcurrent(t *testing.T) {
	var c Cache
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				e, err := c.Compile("name.given.count() > 0")
				if err != nil || e == nil {
					t.Error(err)
				}
				if _, err := c.Compile("1 +"); err == nil {
					t.Error("want cached syntax error")
				}
			}
			done <- true
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
}

func TestEdgeCases(t *testing.T) {
	for expr, want := range map[string]string{
		"'abc'.substring(1, 9223372036854775807)": "[string:bc]",
		"(-1).power(101)":                         "[integer:-1]",
		"2.power(62)":                             "[integer:4611686018427387904]",
		"2.power(64)":                             "error",
		"2.0.power(64)":                           "[decimal:18446744073709551616.0]",
		"1.5.power(2)":                            "[decimal:2.25]",
		"(-9223372036854775807 - 1) div -1":       "error",
		"'abc'[5]":                                "[]",
		"(1|2|3)[-1]":                             "[]",
		"@2012-02-29 + 1 year":                    "[date:@2013-02-28]",
		"@9999-12-31 + 1 day":                     "error",
		"'x'.matches('(')":                        "error",
		"1.0e5":                                   "error",
	} {
		e, err := Compile(expr)
		if err != nil {
			if want != "error" {
				t.Errorf("%s: %v", expr, err)
			}
			continue
		}
		res, err := e.Evaluate(context.Background(), nil, nil)
		got := describeResult(res)
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("%s: got %s (%v), want %s", expr, got, err, want)
		}
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	patient := mustDecode(t, semanticsPatient)
	exprs := []*Expression{
		MustCompile("Patient.name.where(use = 'official').given.first()"),
		MustCompile("descendants().count() > 5 and name.given.distinct().count() = 4"),
		MustCompile("(1 | 2 | 3).select($this * 2).sort(-$this).first()"),
	}
	want := make([]string, len(exprs))
	for i, e := range exprs {
		r, err := e.Evaluate(context.Background(), patient, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = describeResult(r)
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 50; i++ {
				for j, e := range exprs {
					r, err := e.Evaluate(context.Background(), patient, nil)
					if err != nil || describeResult(r) != want[j] {
						t.Errorf("%s: got %s %v, want %s", e, describeResult(r), err, want[j])
						return
					}
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

func TestResolveInBundle(t *testing.T) {
	bundle := mustDecode(t, `{"resourceType":"Bundle","type":"collection","entry":[
	  {"fullUrl":"http://example.org/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1","name":[{"family":"A"}]}},
	  {"fullUrl":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"resourceType":"Observation","id":"o","status":"final",
	    "subject":{"reference":"Patient/1"},"performer":[{"reference":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"}]}}]}`)
	for expr, want := range map[string]string{
		"Bundle.entry[1].resource.subject.resolve().name.family": "[string:A]",
		"Bundle.entry[1].resource.performer.resolve().id":        "[id:o]",
		"Bundle.entry.resource.ofType(Observation).status":       "[code:final]",
	} {
		res, err := MustCompile(expr).Evaluate(context.Background(), bundle, nil)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if got := describeResult(res); got != want {
			t.Errorf("%s: got %s, want %s", expr, got, want)
		}
	}
}

func TestLongChains(t *testing.T) {
	for _, expr := range []string{
		"name" + strings.Repeat(".given", 5000),
		"1" + strings.Repeat(" + 1", 5000),
		"1" + strings.Repeat("[0]", 5000),
		strings.Repeat("first().", 5000) + "first()",
	} {
		_, err := Compile(expr)
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "nested deeper") {
			t.Errorf("%.30q…: got %v, want a nesting SyntaxError", expr, err)
		}
	}
	// a long but acceptable chain evaluates
	e := MustCompile("1" + strings.Repeat(" + 1", 500))
	res, err := e.Evaluate(context.Background(), nil, nil)
	if err != nil || describeResult(res) != "[integer:501]" {
		t.Errorf("got %s %v", describeResult(res), err)
	}
}
