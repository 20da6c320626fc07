package plannet

import (
	"slices"
	"testing"
)

func TestReferencesAt(t *testing.T) {
	role := map[string]any{
		"resourceType": "PractitionerRole",
		"extension": []any{
			map[string]any{"url": extNetwork, "valueReference": map[string]any{"reference": "Organization/n1"}},
			map[string]any{"url": "http://other", "valueReference": map[string]any{"reference": "Organization/x"}},
		},
		"location":     []any{map[string]any{"reference": "Location/l1"}, map[string]any{"reference": "https://elsewhere/Location/l2"}, map[string]any{"display": "no reference"}},
		"practitioner": map[string]any{"reference": "Practitioner/p1"},
		"organization": "not an object",
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"extension(" + extNetwork + ")", []string{"Organization/n1"}},
		{"PractitionerRole.location", []string{"Location/l1"}}, // absolute URLs are not judged
		{"PractitionerRole.practitioner", []string{"Practitioner/p1"}},
		{"PractitionerRole.organization", nil}, // malformed: no reference, no panic
		{"PractitionerRole.healthcareService", nil},
	} {
		if got := referencesAt(role, tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("referencesAt(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
