package browser_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
)

// TestRefServerEndToEnd drives the reference SMART authorization server through real headless
// Chromium: discovery, login and consent (default strategy and explicit steps), token exchange
// with three client authentication methods, id_token, introspection, refresh, revocation, probes.
func TestRefServerEndToEnd(t *testing.T) {
	if _, err := browser.FindChromium(""); err != nil {
		t.Skipf("skipping browser test: %v", err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fhirBase := srv.URL + "/fhir"
	const httpsRedirect = "https://app.pacheck.invalid/cb"
	clients := append(auth.DefaultClients(srv.URL), auth.Client{ID: "https-app", Name: "https redirect app", RedirectURIs: []string{httpsRedirect}})
	as, err := auth.New(auth.Config{BaseURL: srv.URL, FHIRBase: fhirBase, Clients: clients})
	if err != nil {
		t.Fatal(err)
	}
	as.Register(mux)

	var mu sync.Mutex
	var exchanges []evidence.Exchange
	var steps []evidence.Entry
	hc, err := fhirhttp.New(fhirhttp.Options{BaseURL: fhirBase, Recorder: func(e evidence.Exchange) { mu.Lock(); exchanges = append(exchanges, e); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	noErrors := func(t *testing.T, what string, l issue.List) {
		t.Helper()
		if l.HasErrors() {
			t.Errorf("%s: %v", what, l.Errors())
		}
	}

	cfg, err := oauth.FetchSMARTConfig(ctx, hc, fhirBase)
	if err != nil {
		t.Fatal(err)
	}
	noErrors(t, "smart-configuration", oauth.CheckSMARTConfig(cfg, oauth.ConfigCheck{NeedCapabilities: []string{"launch-standalone", "client-public", "client-confidential-symmetric", "sso-openid-connect"}}))
	oidc, err := oauth.FetchOpenIDConfig(ctx, hc, cfg.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	noErrors(t, "openid-configuration", oauth.CheckOpenIDConfig(oidc, cfg))
	jwks, jresp, err := oauth.FetchJWKS(ctx, hc, cfg.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	noErrors(t, "jwks", oauth.CheckJWKS(jresp))

	b, err := browser.Launch(ctx, browser.Options{EvidenceDir: t.TempDir(), StepTimeout: 20 * time.Second, Timeout: 90 * time.Second,
		Recorder: func(e evidence.Entry) { mu.Lock(); steps = append(steps, e); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	member := auth.MemberUser(1)
	scope := "launch/patient openid fhirUser offline_access patient/*.rs"
	jwtKey := auth.DemoJWTClientKey()
	cases := []struct {
		name   string
		client oauth.Client
		steps  []browser.Step
	}{
		{"confidential basic, default strategy", oauth.Client{ClientID: auth.ConfidentialClientID, ClientSecret: auth.ConfidentialClientSecret, AuthMethod: oauth.AuthSecretBasic, RedirectURI: "http://localhost/callback"}, nil},
		{"private_key_jwt, default strategy", oauth.Client{ClientID: auth.JWTClientID, AuthMethod: oauth.AuthPrivateKey, PrivateKey: &jwtKey, RedirectURI: "http://localhost/callback"}, nil},
		{"public, https redirect, explicit steps", oauth.Client{ClientID: "https-app", RedirectURI: httpsRedirect}, []browser.Step{
			{URL: "re:/auth/authorize", Once: true, Actions: []browser.Action{{Fill: "#username", Value: member.Username}, {Fill: "#password", Value: member.Password, Secret: true}, {Click: "#sign-in"}}},
			{URL: "re:/auth/authorize", Actions: []browser.Action{{Wait: "#approve"}, {Click: "#approve"}}},
		}},
	}
	var secrets []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client
			c.HTTP, c.TokenEndpoint = hc, cfg.TokenEndpoint
			req, err := c.AuthRequest(cfg, scope, fhirBase)
			if err != nil {
				t.Fatal(err)
			}
			authURL, _ := req.URL()
			res, err := b.AuthorizeAs(ctx, authURL, c.RedirectURI, browser.Credentials{Username: member.Username, Password: member.Password}, tc.steps)
			if err != nil {
				t.Fatal(err)
			}
			// The consent page is kept as the member saw it (the member suite judges it).
			if cp := res.Consent; cp == nil {
				t.Error("no consent page recorded")
			} else {
				wantKind := "consent"
				if tc.steps != nil {
					wantKind = "" // explicit steps: the last page before the redirect
				}
				privacy := false
				for _, l := range cp.Links {
					privacy = privacy || strings.HasSuffix(l.Href, "/auth/privacy")
				}
				if cp.Kind != wantKind || !strings.Contains(cp.Text, "read and search all your records") || !privacy ||
					!slices.Contains(cp.Buttons, "Deny") || cp.Screenshot == nil {
					t.Errorf("consent page: kind %q, text %q, links %+v, buttons %v, screenshot %v", cp.Kind, cp.Text, cp.Links, cp.Buttons, cp.Screenshot)
				}
			}
			redir, err := oauth.ParseRedirect(res.RedirectURL)
			if err != nil {
				t.Fatal(err)
			}
			noErrors(t, "redirect", oauth.CheckRedirect(redir, req.State, cfg.Issuer))
			tr, err := c.Exchange(ctx, redir.Code, req.Verifier)
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, redir.Code, req.Verifier, tr.AccessToken, tr.RefreshToken)
			noErrors(t, "token response", oauth.CheckTokenResponse(tr, oauth.TokenExpect{RequestedScope: scope}))
			if tr.Patient != member.Patient {
				t.Errorf("patient %q", tr.Patient)
			}
			idt, l := oauth.VerifyIDToken(tr.IDToken, oauth.IDTokenExpect{Issuer: cfg.Issuer, ClientID: c.ClientID, JWKS: jwks, NeedFHIRUser: true})
			noErrors(t, "id_token", l)
			if idt == nil || idt.FHIRUser == "" || !idt.Signature {
				t.Errorf("id_token: %+v", idt)
			}
			tr2, err := c.Refresh(ctx, tr.RefreshToken, "")
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, tr2.AccessToken, tr2.RefreshToken)
			noErrors(t, "refresh", oauth.CheckTokenResponse(tr2, oauth.TokenExpect{RequestedScope: scope, Refresh: true}))
			if c.AuthMethod == oauth.AuthSecretBasic {
				in, err := c.Introspect(ctx, cfg.IntrospectionEndpoint, tr2.AccessToken, "")
				if err != nil {
					t.Fatal(err)
				}
				noErrors(t, "introspection", oauth.CheckIntrospection(in, oauth.IntrospectExpect{Active: true, ClientID: c.ClientID, Patient: member.Patient}))
				rv, err := c.Revoke(ctx, cfg.RevocationEndpoint, tr2.AccessToken, "access_token")
				if err != nil {
					t.Fatal(err)
				}
				noErrors(t, "revocation", oauth.CheckRevoke(rv))
				in, _ = c.Introspect(ctx, cfg.IntrospectionEndpoint, tr2.AccessToken, "")
				noErrors(t, "introspection after revocation", oauth.CheckIntrospection(in, oauth.IntrospectExpect{Active: false}))
			}
			// Last: a replayed code may (and should) revoke the tokens it produced.
			pl, _, err := c.ProbeReplay(ctx, redir.Code, req.Verifier)
			if err != nil {
				t.Fatal(err)
			}
			noErrors(t, "code replay", pl)
		})
	}

	t.Run("unregistered redirect_uri stops at an error page", func(t *testing.T) {
		req := oauth.NewAuthRequest(cfg.AuthorizationEndpoint, auth.PublicClientID, "https://evil.pacheck.invalid/cb", scope, fhirBase)
		u, _ := req.URL()
		res, err := b.AuthorizeAs(ctx, u, req.RedirectURI, browser.Credentials{Username: member.Username, Password: member.Password}, nil)
		if !errors.Is(err, browser.ErrNoControls) {
			t.Fatalf("want ErrNoControls, got %v", err)
		}
		var se *browser.StepError
		if !errors.As(err, &se) || se.PageText == "" || res.RedirectURL != "" {
			t.Errorf("step error %+v, redirect %q", se, res.RedirectURL)
		}
	})

	t.Run("faulty server is caught", func(t *testing.T) {
		mux2 := http.NewServeMux()
		srv2 := httptest.NewServer(mux2)
		defer srv2.Close()
		faults := fault.Set{}
		for _, f := range []string{auth.FaultStateAltered, auth.FaultTokenNoPatient, auth.FaultTokenCacheControl, auth.FaultTokenTypeWrong, auth.FaultIDTokenNoFHIRUser, auth.FaultIDTokenWrongAud} {
			faults[f] = true
		}
		as2, err := auth.New(auth.Config{BaseURL: srv2.URL, FHIRBase: srv2.URL + "/fhir", Faults: faults})
		if err != nil {
			t.Fatal(err)
		}
		as2.Register(mux2)
		hc2, _ := fhirhttp.New(fhirhttp.Options{BaseURL: srv2.URL + "/fhir"})
		cfg2, err := oauth.FetchSMARTConfig(ctx, hc2, srv2.URL+"/fhir")
		if err != nil {
			t.Fatal(err)
		}
		jwks2, _, err := oauth.FetchJWKS(ctx, hc2, cfg2.JWKSURI)
		if err != nil {
			t.Fatal(err)
		}
		c := oauth.Client{HTTP: hc2, TokenEndpoint: cfg2.TokenEndpoint, ClientID: auth.PublicClientID, RedirectURI: "http://localhost/callback"}
		req, _ := c.AuthRequest(cfg2, scope, srv2.URL+"/fhir")
		u, _ := req.URL()
		res, err := b.AuthorizeAs(ctx, u, c.RedirectURI, browser.Credentials{Username: member.Username, Password: member.Password}, nil)
		if err != nil {
			t.Fatal(err)
		}
		redir, err := oauth.ParseRedirect(res.RedirectURL)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, i := range oauth.CheckRedirect(redir, req.State, cfg2.Issuer).Errors() {
			got[i.Rule] = true
		}
		tr, err := c.Exchange(ctx, redir.Code, req.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range oauth.CheckTokenResponse(tr, oauth.TokenExpect{RequestedScope: scope}).Errors() {
			got[i.Rule] = true
		}
		_, l := oauth.VerifyIDToken(tr.IDToken, oauth.IDTokenExpect{Issuer: cfg2.Issuer, ClientID: c.ClientID, JWKS: jwks2, NeedFHIRUser: true})
		for _, i := range l.Errors() {
			got[i.Rule] = true
		}
		for _, want := range []string{oauth.RuleRedirectState, oauth.RuleTokenPatient, oauth.RuleTokenNoStore, oauth.RuleTokenType, oauth.RuleIDTokenFHIRUser, oauth.RuleIDTokenAud} {
			if !got[want] {
				t.Errorf("fault not caught: %s (got %v)", want, got)
			}
		}
	})

	mu.Lock()
	defer mu.Unlock()
	dump, _ := json.Marshal(map[string]any{"exchanges": exchanges, "steps": steps})
	secrets = append(secrets, member.Password, auth.ConfidentialClientSecret)
	for _, s := range secrets {
		if s != "" && strings.Contains(string(dump), s) {
			t.Errorf("a secret (%.4s…) appears in the evidence", s)
		}
	}
}
