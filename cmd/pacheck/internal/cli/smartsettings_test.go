package cli

import (
	"testing"

	"github.com/pacheck/pacheck/cmd/pacheck/internal/config"
)

func TestSmartSettingsParallelSignIns(t *testing.T) {
	for _, n := range []int{0, 3} {
		s, err := smartSettings(config.Auth{Mode: "browser", ClientID: "app", RedirectURI: "http://127.0.0.1:9/cb", ParallelSignIns: n,
			Login: config.Login{Username: "member", Password: "pw"}})
		if err != nil {
			t.Fatal(err)
		}
		if s.Browser.Parallel != n {
			t.Errorf("parallel_sign_ins %d: Browser.Parallel = %d", n, s.Browser.Parallel)
		}
	}
}

// TestSmartSettingsDeny: auth.deny's steps reach the suite's deny probe; without it the probe
// has nothing to run (and skips saying so).
func TestSmartSettingsDeny(t *testing.T) {
	base := config.Auth{Mode: "browser", ClientID: "app", RedirectURI: "http://127.0.0.1:9/cb", Login: config.Login{Username: "member", Password: "pw"}}
	withDeny := base
	withDeny.Deny = &config.Deny{Steps: []config.Step{{URL: "/consent", Actions: []config.Action{{Click: "#deny"}}}}}
	for _, tc := range []struct {
		name  string
		auth  config.Auth
		steps int
	}{{"no deny", base, 0}, {"deny steps", withDeny, 1}} {
		s, err := smartSettings(tc.auth)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := 0
		if s.Deny != nil {
			got = len(s.Deny.Steps)
			if s.Deny.Steps[0].Actions[0].Click != "#deny" {
				t.Errorf("%s: deny action %+v", tc.name, s.Deny.Steps[0].Actions[0])
			}
		}
		if got != tc.steps {
			t.Errorf("%s: %d deny steps, want %d", tc.name, got, tc.steps)
		}
	}
}

// TestSmartSettingsStepOnce: a step's once reaches the browser, so a sign-in page and a consent
// page at the same URL (oidc-provider's /interaction/<id>) can each have their own step.
func TestSmartSettingsStepOnce(t *testing.T) {
	a := config.Auth{Mode: "browser", ClientID: "app", RedirectURI: "http://127.0.0.1:9/cb", Login: config.Login{Steps: []config.Step{
		{URL: "/interaction/", Once: true, Actions: []config.Action{{Click: "#sign-in"}}},
		{URL: "/interaction/", Actions: []config.Action{{Click: "#approve"}}},
	}}}
	s, err := smartSettings(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Login.Steps) != 2 || !s.Login.Steps[0].Once || s.Login.Steps[1].Once {
		t.Errorf("steps %+v: want the first once, the second not", s.Login.Steps)
	}
}
