package validate

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BoundValues judges each coded value at an extensibly or preferably bound element as the binding
// rule does: in when a coding is in, out when every coding is decidably out, undecided when a
// large external system leaves it open; required bindings and text-only values are left out.
func TestBoundValues(t *testing.T) {
	v := embedded(t)
	const prof = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns"
	const ig = "hl7.fhir.us.core#6.1.0"
	cond := func(code string) map[string]any {
		return decodeT(t, []byte(`{"resourceType":"Condition","id":"c",
			"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"ongoing"}]},
			"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],
			"subject":{"reference":"Patient/p"},"code":`+code+`}`)).(map[string]any)
	}
	cases := []struct {
		name, code string
		want       string // Element Member Codings of the Condition.code value; "" none
	}{
		{"made-up system: out", `{"coding":[{"system":"http://example.org/local","code":"X1"}]}`,
			"Condition.code 0 [http://example.org/local|X1]"},
		{"SNOMED CT: undecided locally", `{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]}`,
			"Condition.code 2 [http://snomed.info/sct|44054006]"},
		{"one undecided coding beside an outside one: undecided", `{"coding":[{"system":"http://example.org/local","code":"X1"},{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11.9"}]}`,
			"Condition.code 2 [http://example.org/local|X1 http://hl7.org/fhir/sid/icd-10-cm|E11.9]"},
		{"text only: nothing to judge", `{"text":"a problem"}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bvs, err := v.BoundValues(context.Background(), cond(c.code), prof, ig, "extensible", "preferred")
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, bv := range bvs {
				if strings.HasPrefix(bv.Element, "Condition.clinicalStatus") {
					t.Errorf("required binding listed: %+v", bv)
				}
				if bv.Element == "Condition.code" {
					got = fmt.Sprintf("%s %d %v", bv.Element, bv.Member, bv.Codings)
					if bv.Strength != "extensible" || bv.ValueSet == "" || (bv.Member == MemberUndecided) != (bv.Why != "") {
						t.Errorf("binding %+v", bv)
					}
				}
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	// an element inside a backbone and a bare code: the R4 Condition's evidence.code is
	// example-bound, so asking for example finds it; its category preferred
	bvs, err := v.BoundValues(context.Background(), decodeT(t, []byte(`{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"},
		"evidence":[{"code":[{"coding":[{"system":"http://example.org/local","code":"E1"}]}]}]}`)).(map[string]any), prof, ig, "example")
	if err != nil || len(bvs) != 1 || bvs[0].Element != "Condition.evidence.code" || len(bvs[0].Codings) != 1 {
		t.Errorf("backbone element: %+v, %v", bvs, err)
	}
	// a value matched to a slice is judged by the slice's binding, as Validate does: the health
	// concern category is in the us-core slice (required), not judged against the sliced
	// element's extensible condition-category
	bvs, err = v.BoundValues(context.Background(), decodeT(t, []byte(`{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"},
		"category":[{"coding":[{"system":"http://hl7.org/fhir/us/core/CodeSystem/condition-category","code":"health-concern"}]}],
		"code":{"text":"x"}}`)).(map[string]any), prof, ig, "extensible", "preferred")
	for _, bv := range bvs {
		if bv.Element == "Condition.category" && bv.Member == MemberOut {
			t.Errorf("a sliced value judged against the sliced element: %+v (%v)", bv, err)
		}
	}
	if _, err := v.BoundValues(context.Background(), cond(`{}`), "http://example.org/no-such-profile", ig, "extensible"); err == nil {
		t.Error("an unknown profile gave no error")
	}
}
