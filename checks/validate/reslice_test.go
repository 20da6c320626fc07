package validate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/profiles"
)

const (
	reslURL = "http://example.org/StructureDefinition/resliced-observation"
	reslSys = "http://example.org/cs"
)

// reslicedValidator builds a package with one Observation profile whose components are sliced
// three levels deep, from the R4 Observation snapshot:
//
//	component           sliced by pattern code (open)
//	component:ex        code {system S}, 0..*; re-sliced by pattern code (closed)
//	component:ex/a      code S#a, 1..*; re-sliced by exists dataAbsentReason (closed)
//	component:ex/a/v    dataAbsentReason 0..0, 0..1
//	component:ex/a/d    dataAbsentReason 1..1, 0..1
//	component:ex/b      code S#b, 0..1
func reslicedValidator(t *testing.T) *Validator {
	t.Helper()
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	base, ok := set.Global().ResolveType("StructureDefinition", "http://hl7.org/fhir/StructureDefinition/Observation")
	if !ok {
		t.Fatal("no R4 Observation")
	}
	dec := json.NewDecoder(bytes.NewReader(base.Raw))
	dec.UseNumber()
	var sd map[string]any
	if err := dec.Decode(&sd); err != nil {
		t.Fatal(err)
	}
	snap := sd["snapshot"].(map[string]any)
	var before, comp, after []map[string]any
	for _, x := range snap["element"].([]any) {
		e := x.(map[string]any)
		id := e["id"].(string)
		switch {
		case id == "Observation.component" || strings.HasPrefix(id, "Observation.component."):
			comp = append(comp, e)
		case len(comp) == 0:
			before = append(before, e)
		default:
			after = append(after, e)
		}
	}
	cc := func(code string) map[string]any {
		c := map[string]any{"system": reslSys}
		if code != "" {
			c["code"] = code
		}
		return map[string]any{"coding": []any{c}}
	}
	slicing := func(typ, path, rules string) map[string]any {
		return map[string]any{"discriminator": []any{map[string]any{"type": typ, "path": path}}, "rules": rules}
	}
	// clone copies the component subtree as slice name, applying edits by child name ("" = the slice).
	clone := func(name string, min int, max string, edits map[string]map[string]any) []map[string]any {
		var out []map[string]any
		for _, e := range comp {
			raw, _ := json.Marshal(e)
			var c map[string]any
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&c); err != nil {
				t.Fatal(err)
			}
			id := c["id"].(string)
			c["id"] = "Observation.component:" + name + strings.TrimPrefix(id, "Observation.component")
			child := strings.TrimPrefix(strings.TrimPrefix(id, "Observation.component"), ".")
			if child == "" {
				c["sliceName"] = name
				c["min"] = json.Number(string(rune('0' + min)))
				c["max"] = max
				delete(c, "slicing")
			}
			for k, v := range edits[child] {
				c[k] = v
			}
			out = append(out, c)
		}
		return out
	}
	comp[0]["slicing"] = slicing("pattern", "code", "open")
	els := append([]map[string]any{}, before...)
	els = append(els, comp...)
	els = append(els, clone("ex", 0, "*", map[string]map[string]any{
		"":     {"slicing": slicing("pattern", "code", "closed")},
		"code": {"patternCodeableConcept": cc("")},
	})...)
	els = append(els, clone("ex/a", 1, "*", map[string]map[string]any{
		"":     {"slicing": slicing("exists", "dataAbsentReason", "closed")},
		"code": {"patternCodeableConcept": cc("a")},
	})...)
	els = append(els, clone("ex/a/v", 0, "1", map[string]map[string]any{
		"code":             {"patternCodeableConcept": cc("a")},
		"dataAbsentReason": {"max": "0"},
	})...)
	els = append(els, clone("ex/a/d", 0, "1", map[string]map[string]any{
		"code":             {"patternCodeableConcept": cc("a")},
		"dataAbsentReason": {"min": json.Number("1")},
	})...)
	els = append(els, clone("ex/b", 0, "1", map[string]map[string]any{
		"code": {"patternCodeableConcept": cc("b")},
	})...)
	els = append(els, after...)
	list := make([]any, len(els))
	for i, e := range els {
		list[i] = e
	}
	prof := map[string]any{"resourceType": "StructureDefinition", "id": "resliced-observation", "url": reslURL,
		"version": "0.1.0", "name": "ReslicedObservation", "status": "draft", "kind": "resource", "abstract": false,
		"type": "Observation", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
		"derivation": "constraint", "snapshot": map[string]any{"element": list}}
	return validatorWithPackage(t, set, "example.reslice", "resliced-observation", prof)
}

// TestResliceDepth: values are sliced among re-slices at every depth (component:ex/a/d), and the
// re-slices' cardinality and the re-slicings' closed rules apply among the values of their slice.
func TestResliceDepth(t *testing.T) {
	v := reslicedValidator(t)
	comp := func(code, rest string) string {
		return `{"code":{"coding":[{"system":"` + reslSys + `","code":"` + code + `"}]},` + rest + `}`
	}
	const (
		qty = `"valueQuantity":{"value":1}`
		str = `"valueString":"x"`
		dar = `"dataAbsentReason":{"text":"n/a"}`
	)
	obs := func(comps ...string) string {
		return `{"resourceType":"Observation","status":"final","code":{"text":"x"},"component":[` + strings.Join(comps, ",") + `]}`
	}
	type want struct{ rule, path, elem string }
	cases := []struct {
		name string
		raw  string
		want []want
	}{
		{"valid", obs(comp("a", qty), comp("b", str)), nil},
		{"valid, a absent with its reason", obs(comp("a", dar), comp("a", qty)), nil},
		{"ex without its required re-slice a", obs(comp("b", str)),
			[]want{{"cardinality", "Observation.component", "Observation.component:ex/a"}}},
		{"closed re-slicing of ex", obs(comp("a", qty), comp("c", str)),
			[]want{{"slicing", "Observation.component[1]", "Observation.component:ex"}}},
		{"third level: two values with a data absent reason", obs(comp("a", dar), comp("a", dar)),
			[]want{{"cardinality", "Observation.component", "Observation.component:ex/a/d"}}},
		{"third level: two values", obs(comp("x", str), comp("a", qty), comp("a", str)),
			[]want{{"cardinality", "Observation.component", "Observation.component:ex/a/v"}, {"slicing", "Observation.component[0]", "Observation.component:ex"}}},
	}
	for _, tc := range cases {
		res := validateStr(t, v, tc.raw, ValidateOptions{Profiles: []string{reslURL}, IG: "example.reslice#0.1.0"})
		errs := res.Issues.Errors()
		for _, w := range tc.want {
			found := false
			for _, e := range errs {
				found = found || (e.Rule == w.rule && e.Path == w.path && e.ElementID == w.elem)
			}
			if !found {
				t.Errorf("%s: want %s at %s (%s); got:\n%v", tc.name, w.rule, w.path, w.elem, errs)
			}
		}
		if len(errs) != len(tc.want) {
			t.Errorf("%s: want %d errors, got %d:\n%v", tc.name, len(tc.want), len(errs), errs)
		}
	}
}
