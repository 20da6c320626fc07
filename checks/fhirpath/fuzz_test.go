package fhirpath

import (
	"context"
	"encoding/xml"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pacheck/pacheck/internal/shared"
)

// fuzzInputFiles are the official suite's inputs the fuzzer evaluates against.
var fuzzInputFiles = []string{"patient-example.json", "observation-example.json", "questionnaire-example.json",
	"valueset-example-expansion.json", "parameters-example-types.json", "patient-container-example.json",
	"explanationofbenefit-example.json", "patient-name-extensions.json"}

var fuzzInputs = sync.OnceValue(func() []any {
	var out []any
	for _, name := range fuzzInputFiles {
		p, err := shared.Path("fhirpath-tests/json/" + name)
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			if v, err := DecodeJSON(b); err == nil {
				out = append(out, v)
			}
		}
	}
	v, _ := DecodeJSON([]byte(`{"resourceType":"Patient","id":"p","active":true,"birthDate":"1974-12-25",
	"_birthDate":{"extension":[{"url":"http://x","valueDateTime":"1974-12-25T14:35:45-05:00"}]},
	"name":[{"use":"official","family":"Chalmers","given":["Peter","James"]},{"given":["Jim"]}],
	"contained":[{"resourceType":"Organization","id":"o1","name":"Acme"}],
	"managingOrganization":{"reference":"#o1"}}`))
	return append(out, v)
})

func fuzzInput() any { return fuzzInputs()[0] }

// FuzzEvaluate compiles and evaluates arbitrary expressions: nothing may panic or hang.
func FuzzEvaluate(f *testing.F) {
	seeds := []string{"Patient.name.given", "1 + 1", "@2014-01-01T08.lowBoundary(17)", "(1|2).aggregate($this + $total, 0)",
		"descendants().count()", "name.where(given = 'Jim').repeat(given)", "'abc'.matches('a.c')", "4.0 'g' = 4000 'mg'"}
	if p, err := shared.Path("fhirpath-tests/tests-fhir-r4.xml"); err == nil {
		if b, err := os.ReadFile(p); err == nil {
			var suite xmlTests
			if xml.Unmarshal(b, &suite) == nil {
				for _, g := range suite.Groups {
					for _, tc := range g.Tests {
						seeds = append(seeds, tc.Expression.Text)
					}
				}
			}
		}
	}
	for i, s := range seeds {
		f.Add(s, uint8(i))
	}
	inputs := fuzzInputs()
	f.Fuzz(func(t *testing.T, expr string, which uint8) {
		input := inputs[int(which)%len(inputs)]
		e, err := Compile(expr)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Compile(%q) returned %T, want *SyntaxError", expr, err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		env := &Env{Trace: io.Discard, MaxSteps: 200000, MaxItems: 20000, Now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
		start := time.Now()
		res, err := e.evaluate(ctx, input, env)         // without the recover() safety net
		if d := time.Since(start); d > 15*time.Second { // the 5s context must stop it well before
			t.Fatalf("%q took %v", expr, d)
		}
		if err == nil {
			if _, err := FormatJSON(res); err != nil {
				t.Fatalf("FormatJSON for %q: %v", expr, err)
			}
		}
	})
}

// fuzzJSONExprs exercise navigation, typing and the FHIR functions on arbitrary JSON.
var fuzzJSONExprs = []string{
	"descendants().count()",
	"children().type().name",
	"descendants().select($this.toString() & type().namespace)",
	"hasValue() or (children().count() > id.count())",
	"contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical))) or descendants().where(reference = '#').exists()).not()).empty()",
	"text.div.htmlChecks()",
	"descendants().ofType(Reference).resolve().id",
	"descendants().extension('http://x').value",
	"descendants().where($this is Quantity) = descendants().where($this is Quantity)",
	"descendants().where($this is Quantity).select($this > 1 'mg')",
	"descendants().ofType(date) | descendants().ofType(dateTime) | descendants().ofType(instant)",
	"descendants().where($this ~ $this).count()",
	"descendants().sort($this.toString()).first()",
	"value.lowBoundary() | value.highBoundary() | effective.lowBoundary()",
	"Observation.value > 10 'kg' and Observation.value.toString().length() > 0",
	"descendants().distinct().count() <= descendants().count()",
}

// FuzzJSONInput evaluates fixed expressions on arbitrary (mutated) JSON documents.
func FuzzJSONInput(f *testing.F) {
	for _, name := range fuzzInputFiles {
		if p, err := shared.Path("fhirpath-tests/json/" + name); err == nil {
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
				f.Add(b, uint8(0))
			}
		}
	}
	f.Add([]byte(`{"resourceType":"Observation","valueQuantity":{"value":1e400,"code":"mg"},"effectiveDateTime":"2020-13"}`), uint8(9))
	f.Add([]byte(`{"resourceType":"Patient","name":[{"given":[null,"a"],"_given":[{"extension":[{"url":"http://x","valueString":"b"}]}]}]}`), uint8(7))
	exprs := make([]*Expression, len(fuzzJSONExprs))
	for i, s := range fuzzJSONExprs {
		exprs[i] = MustCompile(s)
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		v, err := DecodeJSON(data)
		if err != nil {
			return
		}
		e := exprs[int(which)%len(exprs)]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		env := &Env{Trace: io.Discard, MaxSteps: 200000, MaxItems: 20000}
		res, err := e.evaluate(ctx, v, env)
		if err == nil {
			if _, err := FormatJSON(res); err != nil {
				t.Fatalf("FormatJSON: %v", err)
			}
		}
	})
}
