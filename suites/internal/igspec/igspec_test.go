package igspec

import (
	"slices"
	"testing"

	"github.com/pacheck/pacheck/checks/search"
	"github.com/pacheck/pacheck/suites/uscore/ig"
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

func TestIncludeParts(t *testing.T) {
	pc := &ProfileCtx{IG: &IG{}, Res: &ig.Resource{Type: "MedicationRequest"}}
	for _, tc := range []struct{ in, value, param, target string }{
		{"medication", "MedicationRequest:medication", "medication", ""},
		{"MedicationRequest:medication", "MedicationRequest:medication", "medication", ""},
		{"MedicationRequest:requester:Practitioner", "MedicationRequest:requester:Practitioner", "requester", "Practitioner"},
		{"MedicationRequest:*", "MedicationRequest:*", "*", ""},
	} {
		v, p, tg := pc.includeParts(tc.in)
		if v != tc.value || p != tc.param || tg != tc.target {
			t.Errorf("includeParts(%q) = %q, %q, %q; want %q, %q, %q", tc.in, v, p, tg, tc.value, tc.param, tc.target)
		}
	}
}

// TestSearchIDs: a search cites its expectation's ids, a SHALL one also its parameters' types'
// (once each), and a type below SHALL the optional ids.
func TestSearchIDs(t *testing.T) {
	res := &ig.Resource{Type: "Observation", Expectation: "SHALL", SearchParams: []*ig.SearchParam{
		{Name: "patient", Param: search.Param{Code: "patient", Type: "reference"}},
		{Name: "code", Param: search.Param{Code: "code", Type: "token"}},
		{Name: "category", Param: search.Param{Code: "category", Type: "token"}},
	}}
	reqs := Reqs{Search: []string{"shall"}, SearchShould: []string{"should"},
		SearchType: map[string][]string{"token": {"tok", "tok-sys"}, "reference": {"ref"}}, Optional: []string{"opt"}}
	pc := &ProfileCtx{IG: &IG{Reqs: reqs}, Res: res}
	for _, tc := range []struct {
		s    Search
		want []string
	}{
		{Search{Params: []string{"patient", "code", "category"}, Expectation: "SHALL"}, []string{"shall", "ref", "tok", "tok-sys"}},
		{Search{Params: []string{"patient", "code"}, Expectation: "SHOULD"}, []string{"should"}},
		{Search{Params: []string{"code"}, Expectation: "MAY"}, []string{"shall"}}, // no SearchMay: the Search ids, no type ids
	} {
		if got := pc.SearchIDs(tc.s); !slices.Equal(got, tc.want) {
			t.Errorf("SearchIDs(%s %s) = %v, want %v", tc.s.Expectation, tc.s.Name(), got, tc.want)
		}
	}
	res.Expectation = "SHOULD"
	if got := pc.SearchIDs(Search{Params: []string{"code"}, Expectation: "SHALL"}); !slices.Equal(got, []string{"opt"}) {
		t.Errorf("SearchIDs on a SHOULD type = %v, want [opt]", got)
	}
}
