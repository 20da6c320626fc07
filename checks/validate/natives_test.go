package validate

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirpath"
)

// TestNativeInvariantsAgree checks each native invariant against the FHIRPath engine on the
// elements of the example corpus and on crafted cases.
func TestNativeInvariantsAgree(t *testing.T) {
	cases := []map[string]any{
		{"url": "x", "valueString": "a"},
		{"url": "x", "extension": []any{map[string]any{"url": "y", "valueString": "b"}}},
		{"url": "x", "valueString": "a", "extension": []any{map[string]any{"url": "y"}}},
		{"url": "x"},
		{"reference": "#c1"}, {"reference": "#nope"}, {"reference": "Patient/1"}, {"reference": "#"},
		{"code": "mg"}, {"code": "mg", "system": "http://unitsofmeasure.org"}, {"unit": "mg"},
		{"resourceType": "Patient", "text": map[string]any{"div": "<div/>"}},
		{"resourceType": "Observation", "status": "final", "code": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "1-8"}}}},
		{"resourceType": "Observation", "valueString": "x", "dataAbsentReason": map[string]any{"text": "x"}, "code": map[string]any{"text": "a"}},
		{"resourceType": "Observation", "valueQuantity": map[string]any{"value": json.Number("1"), "system": "http://unitsofmeasure.org"}, "code": map[string]any{"text": "a"}},
		{"resourceType": "Observation", "valueQuantity": map[string]any{"value": json.Number("1"), "system": "http://example.org"}, "code": map[string]any{"text": "a"}},
		{"resourceType": "Observation", "hasMember": []any{map[string]any{"reference": "Observation/1"}}, "code": map[string]any{"text": "a"}},
		{"resourceType": "Observation", "valueString": "x", "code": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "1-8"}}},
			"component": []any{map[string]any{"code": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "1-8"}}}}}},
		{"resourceType": "Observation", "valueString": "x", "code": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "1-8"}}},
			"component": []any{map[string]any{"code": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "2-8"}}}}}},
		{"low": map[string]any{"value": json.Number("1")}}, {"text": "x"}, {"comparator": "<"},
		{"code": "mg", "_system": map[string]any{"id": "s"}}, {"_code": map[string]any{"id": "c"}}, {"_comparator": map[string]any{"id": "c"}},
		{"data": "AAAA"}, {"_data": map[string]any{"id": "d"}, "contentType": "text/plain"},
		{"resourceType": "Patient", "contained": []any{map[string]any{"resourceType": "Organization", "id": "c1", "meta": map[string]any{"versionId": "1"}}}},
		{"resourceType": "Patient", "contained": []any{map[string]any{"resourceType": "Organization", "id": "c1", "contained": []any{map[string]any{"resourceType": "Patient"}}}}},
		{"resourceType": "Patient", "contained": []any{map[string]any{"resourceType": "Organization", "id": "c1", "meta": map[string]any{"security": []any{map[string]any{"code": "x"}}}}}},
	}
	root := map[string]any{"resourceType": "Patient", "contained": []any{map[string]any{"resourceType": "Organization", "id": "c1"}}}
	v := embedded(t)
	sc, _ := v.scope("")
	w := getWalker(v, sc, context.Background())
	defer putWalker(w)
	w.frames = append(w.frames, frame{res: root})
	for expr, fn := range nativeInvariants {
		x, err := fhirpath.Compile(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		for _, c := range cases {
			env := w.env
			env.Resource, env.RootResource = root, root
			if _, isRes := c["resourceType"]; isRes {
				env.Resource, env.RootResource = c, c
			}
			out, err := x.Evaluate(context.Background(), choiceAliases(c), &env)
			if err != nil {
				t.Fatalf("%s on %v: %v", expr, c, err)
			}
			want := true
			if len(out) == 1 {
				if b, ok := out[0].Value().(bool); ok {
					want = b
				}
			}
			if _, isRes := c["resourceType"]; isRes {
				w.frames[0].res = c
			}
			got := fn(w, c)
			w.frames[0].res = root
			if got != want {
				t.Errorf("%s on %v: native %v, FHIRPath %v", expr, c, got, want)
			}
		}
	}
}
