package validate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirpath"
)

// TestDatatypeNativesAgree checks the native forms of datatype invariants (cpt-2, att-1, rat-1) and the
// prechecks of per-1 and rng-2 against FHIRPath on values typed as their datatype: a native gives
// the FHIRPath answer, and a precheck says "holds" only where FHIRPath does not fail.
func TestDatatypeNativesAgree(t *testing.T) {
	const (
		cpt2 = "value.empty() or system.exists()"
		att1 = "data.empty() or contentType.exists()"
		per1 = "start.hasValue().not() or end.hasValue().not() or (start <= end)"
		rng2 = "low.empty() or high.empty() or (low <= high)"
		rat1 = "(numerator.empty() xor denominator.exists()) and (numerator.exists() or extension.exists())"
	)
	ext := `{"extension":[{"url":"http://example.org/x","valueString":"y"}]}`
	ucum := func(v, code string) string {
		return `{"value":` + v + `,"system":"http://unitsofmeasure.org","code":"` + code + `"}`
	}
	cases := []struct{ expr, typ, json string }{
		{cpt2, "ContactPoint", `{"value":"555"}`},
		{cpt2, "ContactPoint", `{"value":"555","system":"phone"}`},
		{cpt2, "ContactPoint", `{"system":"phone"}`},
		{cpt2, "ContactPoint", `{"use":"home"}`},
		{cpt2, "ContactPoint", `{"_value":` + ext + `}`},
		{cpt2, "ContactPoint", `{"value":"555","_system":` + ext + `}`},
		{att1, "Attachment", `{"data":"AAAA"}`},
		{att1, "Attachment", `{"data":"AAAA","contentType":"text/plain"}`},
		{att1, "Attachment", `{"url":"http://example.org/a"}`},
		{att1, "Attachment", `{"_data":` + ext + `}`},
		{att1, "Attachment", `{"data":"AAAA","_contentType":` + ext + `}`},
		{per1, "Period", `{"start":"2020-01-01"}`},
		{per1, "Period", `{"end":"2020-01-01"}`},
		{per1, "Period", `{"start":"2020-01-01","end":"2020-01-02"}`},
		{per1, "Period", `{"start":"2020-01-02","end":"2020-01-01"}`},
		{per1, "Period", `{"start":"2020-01","end":"2020-02"}`},
		{per1, "Period", `{"start":"2021","end":"2020"}`},
		{per1, "Period", `{"start":"2020","end":"2020-01-01"}`},
		{per1, "Period", `{"start":"2020-01-01T10:00:00+05:00","end":"2020-01-01T06:00:00Z"}`},
		{per1, "Period", `{"start":"2020-01-01T10:00:00Z","end":"2020-01-01T06:00:00Z"}`},
		{per1, "Period", `{"start":"2020-01-02","end":"2020-01-01T10:00:00Z"}`},
		{per1, "Period", `{"_start":` + ext + `,"end":"2020-01-01"}`},
		{rat1, "Ratio", `{"numerator":` + ucum("1", "mg") + `,"denominator":` + ucum("1", "mL") + `}`},
		{rat1, "Ratio", `{"numerator":` + ucum("1", "mg") + `}`},
		{rat1, "Ratio", `{"denominator":` + ucum("1", "mL") + `}`},
		{rat1, "Ratio", `{}`},
		{rat1, "Ratio", ext},
		{rat1, "Ratio", `{"denominator":` + ucum("1", "mL") + `,"extension":[{"url":"http://example.org/x","valueString":"y"}]}`},
		{rng2, "Range", `{"low":` + ucum("1", "mg") + `}`},
		{rng2, "Range", `{"high":` + ucum("1", "mg") + `}`},
		{rng2, "Range", `{"low":` + ucum("1", "mg") + `,"high":` + ucum("2", "mg") + `}`},
		{rng2, "Range", `{"low":` + ucum("3", "mg") + `,"high":` + ucum("2", "mg") + `}`},
		{rng2, "Range", `{"low":` + ucum("3", "mg") + `,"high":` + ucum("2", "g") + `}`},
	}
	v := embedded(t)
	sc, _ := v.scope("")
	w := getWalker(v, sc, context.Background())
	defer putWalker(w)
	root := map[string]any{"resourceType": "Patient"}
	w.frames = append(w.frames, frame{res: root})
	for _, tc := range cases {
		d := json.NewDecoder(strings.NewReader(tc.json))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out, err := fhirpath.MustCompile(tc.expr).Evaluate(context.Background(), fhirpath.Typed(m, tc.typ), &fhirpath.Env{Resource: root})
		if err != nil {
			t.Fatalf("%s on %s: %v", tc.expr, tc.json, err)
		}
		want := true // empty: the invariant holds
		if len(out) == 1 {
			want, _ = out[0].Value().(bool)
		}
		if fn, ok := nativeInvariants[tc.expr]; ok {
			if got := fn(w, m); got != want {
				t.Errorf("%s on %s: native %v, FHIRPath %v", tc.expr, tc.json, got, want)
			}
			continue
		}
		fn, ok := nativePrechecks[tc.expr]
		if !ok {
			t.Fatalf("%s: no native form", tc.expr)
		}
		if fn(w, m) && !want {
			t.Errorf("%s on %s: precheck says it holds, FHIRPath fails it", tc.expr, tc.json)
		}
	}
}
