package validate

import (
	"encoding/json"
	"testing"
)

// TestSlicedElementCardinality: a sliced element's own min/max apply to all its values, and each
// slice's to the values in it, a re-sliced slice's included. The profile (from the R4 Patient
// snapshot) makes identifier 1..3, sliced by pattern on $this: mrn 0..2 with system S, re-sliced
// into mrn/any 0..*, and other 0..1 with system O.
func TestSlicedElementCardinality(t *testing.T) {
	const (
		url = "http://example.org/StructureDefinition/sliced-identifier"
		ig  = "example.custom#0.1.0"
	)
	slicing := map[string]any{"discriminator": []any{map[string]any{"type": "pattern", "path": "$this"}}, "rules": "open"}
	v := customProfileValidator(t, "Patient", url, func(els []map[string]any) []map[string]any {
		var out []map[string]any
		for _, e := range els {
			id := e["id"].(string)
			if id != "Patient.identifier" {
				out = append(out, e)
				continue
			}
			e["min"], e["max"], e["slicing"] = json.Number("1"), "3", slicing
			out = append(out, e)
			slice := func(name, min, max, system string, resliced bool) {
				sl := cloneElem(t, e)
				delete(sl, "slicing")
				if resliced {
					sl["slicing"] = slicing
				}
				sl["id"], sl["sliceName"] = "Patient.identifier:"+name, name
				sl["min"], sl["max"] = json.Number(min), max
				sl["patternIdentifier"] = map[string]any{"system": system}
				out = append(out, sl)
			}
			slice("mrn", "0", "2", "http://example.org/S", true)
			slice("mrn/any", "0", "*", "http://example.org/S", false)
			slice("other", "0", "1", "http://example.org/O", false)
		}
		return out
	})
	id := func(system string) string { return `{"system":"http://example.org/` + system + `","value":"1"}` }
	pat := func(ids ...string) string {
		if len(ids) == 0 {
			return `{"resourceType":"Patient","gender":"male"}`
		}
		s := `{"resourceType":"Patient","identifier":[`
		for i, x := range ids {
			if i > 0 {
				s += ","
			}
			s += x
		}
		return s + `]}`
	}
	cases := []struct {
		name, raw, elem string // elem: the element id of the one cardinality error, "" for none
	}{
		{"one value", pat(id("S")), ""},
		{"two values in a 0..2 re-sliced slice", pat(id("S"), id("S")), ""},
		{"three values in a 0..2 re-sliced slice", pat(id("S"), id("S"), id("S")), "Patient.identifier:mrn"},
		{"four values, slices within bounds", pat(id("S"), id("O"), id("X"), id("X")), "Patient.identifier"},
		{"no value for a 1..3 element", pat(), "Patient.identifier"},
		{"two values in a 0..1 slice", pat(id("O"), id("O")), "Patient.identifier:other"},
	}
	for _, tc := range cases {
		res := validateStr(t, v, tc.raw, ValidateOptions{Profiles: []string{url}, IG: ig})
		errs := res.Issues.Errors()
		if tc.elem == "" {
			if len(errs) > 0 {
				t.Errorf("%s: unexpected errors: %v", tc.name, errs)
			}
			continue
		}
		if len(errs) != 1 || errs[0].Rule != "cardinality" || errs[0].ElementID != tc.elem || errs[0].Path != "Patient.identifier" {
			t.Errorf("%s: want one cardinality error of %s at Patient.identifier, got:\n%v", tc.name, tc.elem, errs)
		}
	}
}
