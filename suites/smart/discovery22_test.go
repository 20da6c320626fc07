package smart

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver/auth"
)

// faultTable22 maps the reference server's SMART 2.2-only faults to the smart-2.2.0 specs they
// must make fail. The discovery ones need no sign-in, so a token-mode run judges them
// (TestDiscovery22).
var faultTable22 = map[string][]string{
	auth.FaultBrandIdentifierUnmatched:     {"smart-2.2.0/discovery/user-access-brand"},
	auth.FaultAssociatedEndpointsMalformed: {"smart-2.2.0/discovery/associated-endpoints"},
	auth.FaultIntrospectionBearerRefused:   {"smart-2.2.0/introspection/bearer-accepted"}, // TestIntrospectionBearer
}

// TestDiscovery22: the SMART 2.2 smart-configuration specs against the reference server, clean
// (its Brand Bundle passes; it has no associated endpoint, so that spec skips) and with both
// faults at once (their requirements are disjoint). Token mode: no sign-in.
func TestDiscovery22(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child runs")
	}
	t.Parallel()
	const brand, assoc = "smart-2.2.0/discovery/user-access-brand", "smart-2.2.0/discovery/associated-endpoints"
	for _, c := range []struct {
		name   string
		faults []string
		want   map[string]string
	}{
		{"clean", nil, map[string]string{brand: "pass", assoc: "skip"}},
		{"faults", []string{auth.FaultBrandIdentifierUnmatched, auth.FaultAssociatedEndpointsMalformed}, map[string]string{brand: "fail", assoc: "fail"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, _ := runChild(t, childJob{Variant: "token", SMART: "2.2.0", Faults: c.faults, Focus: focusFor([]string{brand, assoc, "smart-2.2.0/discovery/well-known", "smart-2.2.0/discovery/required-fields"})})
			if res.PrepareErr != "" {
				t.Fatalf("prepare: %s", res.PrepareErr)
			}
			t.Logf("outcomes: %v", res.Outcomes)
			for id, w := range c.want {
				if res.Outcomes[id] != w {
					t.Errorf("%s: outcome %q, want %q (%s)", id, res.Outcomes[id], w, firstLine(res.Failures[id]))
				}
			}
			for _, id := range []string{"smart-2.2.0/discovery/well-known", "smart-2.2.0/discovery/required-fields"} {
				if res.Outcomes[id] != "pass" {
					t.Errorf("%s: outcome %q, want pass: the faults break only their own specs (%s)", id, res.Outcomes[id], firstLine(res.Failures[id]))
				}
			}
		})
	}
}

// TestIntrospectionBearer: SMART 2.2's bearer authentication of the introspection caller. The
// reference server accepts the main launch's token as bearer (pass); under
// introspection-bearer-refused the suite's calls get through with the confidential client's
// credentials, and that client's own token is refused as bearer (fail).
func TestIntrospectionBearer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	const id = "smart-2.2.0/introspection/bearer-accepted"
	for _, c := range []struct {
		name   string
		faults []string
		want   string
	}{
		{"clean", nil, "pass"},
		{"bearer-refused", []string{auth.FaultIntrospectionBearerRefused}, "fail"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, _ := runChild(t, childJob{Variant: "faults", SMART: "2.2.0", Faults: c.faults, Focus: focusFor([]string{id, "smart-2.2.0/introspection/active"})})
			if res.PrepareErr != "" {
				t.Fatalf("prepare: %s", res.PrepareErr)
			}
			if res.Outcomes[id] != c.want {
				t.Errorf("%s: %q, want %q (%s)", id, res.Outcomes[id], c.want, firstLine(res.Failures[id]))
			}
			if c.want == "fail" && !strings.Contains(res.Failures[id], "its access token in the Authorization header must be accepted too") {
				t.Errorf("%s fails for another reason: %s", id, res.Failures[id])
			}
			if o := res.Outcomes["smart-2.2.0/introspection/active"]; o != "pass" {
				t.Errorf("introspection/active: %q, want pass (the suite falls back to client credentials): %s", o, firstLine(res.Failures["smart-2.2.0/introspection/active"]))
			}
		})
	}
}
