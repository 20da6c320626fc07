package igspec

import (
	"slices"
	"testing"
)

func TestReferencesAt(t *testing.T) {
	plan := map[string]any{"resourceType": "InsurancePlan",
		"coverageArea": []any{map[string]any{"reference": "Location/a"}, map[string]any{"display": "no reference"}},
		"plan": []any{
			map[string]any{"coverageArea": []any{map[string]any{"reference": "Location/b"}}},
			map[string]any{"coverageArea": map[string]any{"reference": "Location/c"}},
			map[string]any{},
		},
		"ownedBy": map[string]any{"reference": "Organization/o"},
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"InsurancePlan.coverageArea", []string{"Location/a"}},
		{"InsurancePlan.plan.coverageArea", []string{"Location/b", "Location/c"}},
		{"InsurancePlan.ownedBy", []string{"Organization/o"}},
		{"InsurancePlan.network", nil},
		{"InsurancePlan.plan.missing.deeper", nil},
	} {
		if got := referencesAt(plan, tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("referencesAt(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
