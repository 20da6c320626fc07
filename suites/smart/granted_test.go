package smart

import (
	"testing"

	"github.com/pacheck/pacheck/checks/oauth"
)

// TestScopeNotGranted: the granular-scope probe judges the restriction only when the scope was
// granted. oidc-provider (interop harness) answers "scope": "" for a granular scope it does not
// know; pacheck used to take the empty scope as "as requested" and fail the 403 that followed.
func TestScopeNotGranted(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  map[string]any
		want bool
	}{
		{"empty scope stated", map[string]any{"scope": ""}, true},
		{"other scopes stated", map[string]any{"scope": "launch/patient patient/Observation.rs"}, true},
		{"granted", map[string]any{"scope": "launch/patient " + granularScope}, false},
		{"scope omitted: as requested", map[string]any{"access_token": "x"}, false},
		{"not JSON", nil, false},
	} {
		if _, got := scopeNotGranted(&oauth.TokenResponse{Raw: tc.raw}, granularScope); got != tc.want {
			t.Errorf("%s: not granted = %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, got := scopeNotGranted(nil, granularScope); got {
		t.Error("nil token: not granted = true")
	}
}
