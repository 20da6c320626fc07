package fhirpath

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestTyped: a datatype value evaluated as Typed compares its children by their FHIR types
// (Period.start as dateTime, Range.low as Quantity), not as strings or JSON objects.
func TestTyped(t *testing.T) {
	cases := []struct {
		typ, json, expr string
		want            any // bool, or nil for empty
	}{
		{"Period", `{"start":"2020-01-01T10:00:00+05:00","end":"2020-01-01T06:00:00Z"}`, "start <= end", true},
		{"Period", `{"start":"2020-01-02","end":"2020-01-01T10:00:00Z"}`, "start <= end", false},
		{"Period", `{"start":"2020","end":"2020-01-01"}`, "start <= end", nil},
		{"Range", `{"low":{"value":2,"system":"http://unitsofmeasure.org","code":"mg"},"high":{"value":1,"system":"http://unitsofmeasure.org","code":"g"}}`, "low <= high", true},
		{"Range", `{"low":{"value":2,"system":"http://unitsofmeasure.org","code":"mg"},"high":{"value":1,"system":"http://unitsofmeasure.org","code":"mg"}}`, "low <= high", false},
	}
	for _, tc := range cases {
		d := json.NewDecoder(strings.NewReader(tc.json))
		d.UseNumber()
		var v map[string]any
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out, err := MustCompile(tc.expr).Evaluate(context.Background(), Typed(v, tc.typ), nil)
		if err != nil {
			t.Errorf("%s on %s: %v", tc.expr, tc.json, err)
			continue
		}
		var got any
		if len(out) == 1 {
			got = out[0].Value()
		}
		if got != tc.want {
			t.Errorf("%s on %s %s: got %v, want %v", tc.expr, tc.typ, tc.json, got, tc.want)
		}
	}
}
