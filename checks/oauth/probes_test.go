package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirhttp"
)

// TestProbeRefreshWidenAnswers: the widening probe passes only on a refusal or on a stated scope
// without the extra one; a server that ignores the requested scope and states the original grant
// passes, one that states nothing (RFC 6749: as requested) or states the extra fails.
func TestProbeRefreshWidenAnswers(t *testing.T) {
	const granted, extra = "launch/patient patient/*.rs", "patient/*.cud"
	for _, tc := range []struct {
		name   string
		status int
		body   string
		rules  []string
	}{
		{"refused invalid_scope", 400, `{"error":"invalid_scope"}`, nil},
		{"refused other code", 400, `{"error":"invalid_grant"}`, []string{RuleProbeError}},
		{"scope ignored, original stated", 200, `{"access_token":"a","token_type":"Bearer","scope":"launch/patient patient/*.rs"}`, nil},
		{"narrower stated", 200, `{"access_token":"a","token_type":"Bearer","scope":"patient/*.rs"}`, nil},
		{"extra stated", 200, `{"access_token":"a","token_type":"Bearer","scope":"launch/patient patient/*.rs patient/*.cud"}`, []string{RuleTokenScopeWidened}},
		{"scope omitted", 200, `{"access_token":"a","token_type":"Bearer"}`, []string{RuleTokenScopeWidened}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				asked = r.PostForm.Get("scope")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			hc, err := fhirhttp.New(fhirhttp.Options{BaseURL: srv.URL + "/fhir"})
			if err != nil {
				t.Fatal(err)
			}
			c := &Client{HTTP: hc, TokenEndpoint: srv.URL + "/token", ClientID: "pub"}
			iss, resp, err := c.ProbeRefreshWiden(context.Background(), "rt-1", granted, extra)
			if err != nil || resp == nil {
				t.Fatalf("probe: %v", err)
			}
			if asked != granted+" "+extra {
				t.Errorf("asked scope %q, want the granted scopes plus %s", asked, extra)
			}
			var rules []string
			for _, i := range iss {
				rules = append(rules, i.Rule)
			}
			if len(rules) != len(tc.rules) || (len(rules) > 0 && rules[0] != tc.rules[0]) {
				t.Errorf("issues %v, want rules %v", iss, tc.rules)
			}
		})
	}
}

// TestProbeRefreshWidenFrom: the request names base plus extra, the answer is judged against the
// whole grant (an answer restoring granted scopes beyond base is no widening; extra is).
func TestProbeRefreshWidenFrom(t *testing.T) {
	const base, granted, extra = "patient/*.rs", "launch/patient openid patient/*.rs", "patient/*.cud"
	for _, tc := range []struct {
		scope string
		fails bool
	}{
		{"launch/patient openid patient/*.rs", false},
		{"patient/*.rs patient/*.cud", true},
	} {
		var asked string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			asked = r.PostForm.Get("scope")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"a","token_type":"Bearer","scope":"` + tc.scope + `"}`))
		}))
		hc, err := fhirhttp.New(fhirhttp.Options{BaseURL: srv.URL + "/fhir"})
		if err != nil {
			t.Fatal(err)
		}
		c := &Client{HTTP: hc, TokenEndpoint: srv.URL + "/token", ClientID: "pub"}
		iss, _, err := c.ProbeRefreshWidenFrom(context.Background(), "rt-1", base, granted, extra)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if asked != base+" "+extra {
			t.Errorf("asked %q, want %q", asked, base+" "+extra)
		}
		if got := len(iss) > 0; got != tc.fails {
			t.Errorf("answer scope %q: issues %v, want failing %v", tc.scope, iss, tc.fails)
		}
	}
}
