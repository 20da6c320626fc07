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
		res, err := e.evaluate(ctx, input, env) // without the recover() safety net
		if d := time.Since(start); d > 4*time.Second {
			t.Fatalf("%q took %v", expr, d)
		}
		if err == nil {
			if _, err := FormatJSON(res); err != nil {
				t.Fatalf("FormatJSON for %q: %v", expr, err)
			}
		}
	})
}
