package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
)

// TestRefServerDiscovery runs the discovery checks against the reference authorization server,
// clean and with each discovery fault: the clean server passes, each fault is caught by its rule.
func TestRefServerDiscovery(t *testing.T) {
	cases := []struct {
		fault, version, wantRule string
	}{
		{"", "2.0", ""},
		{"", "1.0", ""},
		{auth.FaultSMARTConfigMissingField, "2.0", oauth.RuleConfigRequired},
		{auth.FaultSMARTConfigS256Missing, "2.0", oauth.RuleConfigRequired},
	}
	for _, tc := range cases {
		t.Run(tc.fault+"/"+tc.version, func(t *testing.T) {
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			defer srv.Close()
			faults := fault.Set{}
			if tc.fault != "" {
				faults[tc.fault] = true
			}
			as, err := auth.New(auth.Config{BaseURL: srv.URL, FHIRBase: srv.URL + "/fhir", Faults: faults, Version: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			as.Register(mux)
			hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: srv.URL + "/fhir"})
			ctx := context.Background()
			cfg, err := oauth.FetchSMARTConfig(ctx, hc, srv.URL+"/fhir")
			if err != nil {
				t.Fatal(err)
			}
			l := oauth.CheckSMARTConfig(cfg, oauth.ConfigCheck{Version: tc.version})
			if tc.wantRule == "" {
				if l.HasErrors() {
					t.Errorf("clean server: %v", l.Errors())
				}
				oc, err := oauth.FetchOpenIDConfig(ctx, hc, cfg.Issuer)
				if err != nil {
					t.Fatal(err)
				}
				if l := oauth.CheckOpenIDConfig(oc, cfg); l.HasErrors() {
					t.Errorf("openid: %v", l)
				}
				_, jr, err := oauth.FetchJWKS(ctx, hc, cfg.JWKSURI)
				if err != nil {
					t.Fatal(err)
				}
				if l := oauth.CheckJWKS(jr); len(l) != 0 {
					t.Errorf("jwks: %v", l)
				}
				return
			}
			if !hasRule(l, tc.wantRule) {
				t.Errorf("fault %s not caught by %s: %v", tc.fault, tc.wantRule, l)
			}
		})
	}
}

func hasRule(l issue.List, rule string) bool {
	for _, i := range l.Errors() {
		if i.Rule == rule {
			return true
		}
	}
	return false
}
