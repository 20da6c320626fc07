package smart

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/runner"
)

// TestSpecTree lists the tree (no run): every spec carries requirement and IG labels, the ids the
// fault table and the batches name exist, and SMART 1.0 leaves out the 2.0-only requirements.
func TestSpecTree(t *testing.T) {
	rep, err := runner.List(runner.Options{Run: &framework.Run{Suites: []string{Area},
		IGs: map[string][]string{"smart": {"2.0.0", "1.0.0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]types.SpecReport{}
	for _, s := range rep.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt {
			ids[runner.SpecID(s)] = s
		}
	}
	for id, s := range ids {
		var req, ig bool
		for _, l := range s.Labels() {
			req = req || strings.HasPrefix(l, "req:")
			ig = ig || strings.HasPrefix(l, "ig:smart-")
		}
		if !req || !ig {
			t.Errorf("%s: labels %v lack req: or ig:smart-", id, s.Labels())
		}
	}
	if n := len(ids); n < 60 {
		t.Errorf("%d specs for SMART 2.0.0 and 1.0.0, want at least 60", n)
	}
	for _, want := range faultTable {
		for _, id := range want {
			if _, ok := ids[id]; !ok {
				t.Errorf("fault table names %s, which is not in the tree", id)
			}
		}
	}
	for _, c := range append(append([]string{}, cheap...), lifecycleSpecs...) {
		if _, ok := ids[p+c]; !ok {
			t.Errorf("cheap/lifecycle list names %s, which is not in the tree", c)
		}
	}
	for _, id := range []string{"smart-1.0.0/probes/wrong-pkce-verifier", "smart-1.0.0/scopes/granular", "smart-1.0.0/introspection/active"} {
		if _, ok := ids[id]; ok {
			t.Errorf("%s: a SMART 2.0-only requirement is tested under 1.0.0", id)
		}
	}
	if _, ok := ids["smart-1.0.0/launch/standalone"]; !ok {
		t.Error("smart-1.0.0/launch/standalone missing")
	}
}

func TestSettingsValidate(t *testing.T) {
	key := auth.DemoJWTClientKey()
	ok := func() *Settings {
		return &Settings{ClientID: "app", RedirectURI: "http://localhost/cb", Login: Login{Username: "u", Password: "p"}}
	}
	cases := []struct {
		name   string
		mut    func(*Settings)
		errHas string
	}{
		{"valid public", func(*Settings) {}, ""},
		{"valid jwt", func(s *Settings) { s.AuthMethod, s.PrivateKey = "private_key_jwt", &key }, ""},
		{"no client id", func(s *Settings) { s.ClientID = "" }, "client_id"},
		{"relative redirect", func(s *Settings) { s.RedirectURI = "/cb" }, "redirect_uri"},
		{"basic without secret", func(s *Settings) { s.AuthMethod = "client_secret_basic" }, "client_secret"},
		{"jwt without key", func(s *Settings) { s.AuthMethod = "private_key_jwt" }, "private_key"},
		{"unknown method", func(s *Settings) { s.AuthMethod = "mtls" }, "token_endpoint_auth"},
		{"no login", func(s *Settings) { s.Login = Login{} }, "login"},
		{"bad step", func(s *Settings) {
			s.Login.Steps = []browser.Step{{URL: "re:(", Actions: []browser.Action{{Click: "#x"}}}}
		}, "steps"},
		{"consent without steps", func(s *Settings) { s.Consent = &Consent{Scope: "offline_access"} }, "consent"},
		{"deny without steps", func(s *Settings) { s.Deny = &Deny{} }, "deny"},
		{"deny with a bad step", func(s *Settings) {
			s.Deny = &Deny{Steps: []browser.Step{{URL: "re:(", Actions: []browser.Action{{Click: "#deny"}}}}}
		}, "deny steps"},
		{"valid deny", func(s *Settings) {
			s.Deny = &Deny{Steps: []browser.Step{{URL: "/consent", Actions: []browser.Action{{Click: "#deny"}}}}}
		}, ""},
		{"extra client bad", func(s *Settings) { s.ExtraClients = []Client{{ClientID: "c", AuthMethod: "client_secret_post"}} }, "extra_clients[0]"},
	}
	for _, c := range cases {
		s := ok()
		c.mut(s)
		err := s.Validate()
		switch {
		case c.errHas == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)):
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.errHas)
		}
	}
	var nilSet *Settings
	if err := nilSet.Validate(); err == nil || !strings.Contains(err.Error(), "settings") {
		t.Errorf("nil settings: %v", err)
	}
}

// TestMissingSettings: browser mode without settings is an error for the preparer (the specs that
// need the launch then report it), never a silent pass.
func TestMissingSettings(t *testing.T) {
	run := &framework.Run{Target: "http://127.0.0.1:1/fhir", Auth: framework.Auth{Mode: "browser"}}
	err := prepare(t.Context(), run)
	if err == nil || !strings.Contains(err.Error(), "settings") {
		t.Errorf("prepare without settings: %v", err)
	}
	run = &framework.Run{Target: "http://127.0.0.1:1/fhir", Auth: framework.Auth{Mode: "token", Token: "abc12345"}}
	if err := prepare(t.Context(), run); err != nil {
		t.Errorf("token mode: %v", err)
	}
	if _, ok := run.Value("smart.note"); !ok {
		t.Error("token mode: no note left")
	}
}

// TestSpecTree22: SMART 2.2 keeps every 2.0 spec and adds the CORS ones, which 2.0 and 1.0 lack.
func TestSpecTree22(t *testing.T) {
	rep, err := runner.List(runner.Options{Run: &framework.Run{Suites: []string{Area},
		IGs: map[string][]string{"smart": {"2.0.0", "1.0.0", "2.2.0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	byVersion := map[string]map[string]bool{}
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		ver, rest, _ := strings.Cut(strings.TrimPrefix(runner.SpecID(s), "smart-"), "/")
		if byVersion[ver] == nil {
			byVersion[ver] = map[string]bool{}
		}
		byVersion[ver][rest] = true
	}
	for name := range byVersion["2.0.0"] {
		if !byVersion["2.2.0"][name] {
			t.Errorf("smart-2.0.0/%s has no smart-2.2.0 counterpart", name)
		}
	}
	if !byVersion["2.2.0"]["transport/cors-discovery"] {
		t.Error("smart-2.2.0/transport/cors-discovery missing")
	}
	for _, v := range []string{"2.0.0", "1.0.0"} {
		if byVersion[v]["transport/cors-discovery"] {
			t.Errorf("smart-%s/transport/cors-discovery: CORS is a SMART 2.2 requirement", v)
		}
	}
	t.Logf("specs per SMART version: 1.0.0 %d, 2.0.0 %d, 2.2.0 %d", len(byVersion["1.0.0"]), len(byVersion["2.0.0"]), len(byVersion["2.2.0"]))
}
