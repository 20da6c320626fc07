package smart

import (
	"testing"

	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
)

func TestAdvertisedCategoryScopes(t *testing.T) {
	cfg := &oauth.SMARTConfig{ScopesSupported: []string{
		"openid", "patient/*.rs", granularScope, // the granular spec's own: left out
		"patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis",
		"patient/DocumentReference.r?category=clinical-note",      // no system
		"patient/Observation.cud?category=x|vital-signs",          // no read or search access
		"patient/Observation.rs?code=http://loinc.org|1234-5",     // not a category restriction
		"patient/Condition.rs?category=a|b&clinical-status=c|d",   // two restrictions
		"user/Condition.rs?category=http://x|encounter-diagnosis", // not patient-level
		"patient/Condition.rs?category=http%3A%2F%2Fx%7Cproblem",  // escaped
	}}
	got := advertisedCategoryScopes(cfg)
	want := []categoryScope{
		{typ: "Condition", system: "http://terminology.hl7.org/CodeSystem/condition-category", code: "encounter-diagnosis"},
		{typ: "DocumentReference", code: "clinical-note"},
		{typ: "Condition", system: "http://x", code: "problem"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d scopes %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].typ != w.typ || got[i].system != w.system || got[i].code != w.code {
			t.Errorf("%d: got %+v, want %+v", i, got[i], w)
		}
	}
	res := map[string]any{"resourceType": "Condition", "category": []any{map[string]any{"coding": []any{
		map[string]any{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis"}}}}}
	if !got[0].matches(res) {
		t.Error("an encounter-diagnosis Condition does not match its scope")
	}
	if got[2].matches(res) {
		t.Error("an encounter-diagnosis Condition matches the problem scope")
	}
	if advertisedCategoryScopes(nil) != nil {
		t.Error("no configuration: want no scopes")
	}
}

// TestGranularAdvertised: the reference server advertises a Condition category scope; the spec
// passes against it and fails when granular restrictions hold on Observation only.
func TestGranularAdvertised(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	id := p + "scopes/granular-advertised"
	for _, c := range []struct {
		name   string
		faults []string
		want   string
	}{
		{"clean", nil, "pass"},
		{auth.FaultGranularOtherTypesIgnored, []string{auth.FaultGranularOtherTypesIgnored}, "fail"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, _ := runChild(t, childJob{Variant: "faults", Faults: c.faults, Focus: focusFor([]string{id})})
			if res.PrepareErr != "" {
				t.Errorf("prepare: %s", res.PrepareErr)
			}
			if res.Outcomes[id] != c.want {
				t.Errorf("%s: %q, want %q (%s)", id, res.Outcomes[id], c.want, firstLine(res.Failures[id]))
			}
		})
	}
}
