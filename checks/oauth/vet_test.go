package oauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirhttp"
)

func TestVetEndpoint(t *testing.T) {
	const https, http = "https://fhir.example.org/r4", "http://fhir.example.org/r4"
	cases := []struct {
		name, target, endpoint string
		allowed                []string
		want                   string // "" allowed; else a fragment of the refusal
	}{
		{"https endpoint", https, "https://idp.example.org/token", nil, ""},
		{"file scheme", https, "file:///etc/passwd", nil, `scheme "file" is not http(s)`},
		{"file root", https, "file:///", nil, `scheme "file" is not http(s)`},
		{"data URL", https, "data:text/html,<form action=https://evil>", nil, `scheme "data" is not http(s)`},
		{"javascript", https, "javascript:alert(1)", nil, `scheme "javascript" is not http(s)`},
		{"no host", https, "https:///token", nil, "no host"},
		{"relative", https, "/authorize", nil, "not an absolute URL"},
		{"ftp", https, "ftp://idp.example.org/x", nil, `scheme "ftp" is not http(s)`},
		{"http for an https target", https, "http://idp.example.org/token", nil, "plain http while the target is https"},
		{"http on the target's own host", https, "http://fhir.example.org/token", nil, "plain http while the target is https"},
		{"http for an http target", http, "http://fhir.example.org/token", nil, ""},
		{"https for an http target", http, "https://idp.example.org/token", nil, ""},
		{"outside the allow-list", https, "https://evil.example.net/authorize", []string{"https://idp.example.org"},
			"add https://evil.example.net to auth.allowed_origins"},
		{"in the allow-list", https, "https://idp.example.org/authorize", []string{"https://idp.example.org"}, ""},
		{"allow-list with explicit default port", https, "https://idp.example.org/authorize", []string{"https://IDP.example.org:443/"}, ""},
		{"allow-list other port", https, "https://idp.example.org:8443/authorize", []string{"https://idp.example.org"}, "is neither the target's"},
		{"target origin always allowed", https, "https://fhir.example.org/auth/token", []string{"https://idp.example.org"}, ""},
		{"userinfo ignored, origin judged", https, "https://user:pw@idp.example.org/token", []string{"https://idp.example.org"}, ""},
		{"userinfo not in the message", https, "http://user:s3cretpw@idp.example.org/token", nil, "plain http"},
		{"bad allow-list entry", https, "https://idp.example.org/token", []string{"idp.example.org"}, "auth.allowed_origins entry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := VetField("token_endpoint", tc.target, tc.endpoint, tc.allowed)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want a refusal containing %q, got %v", tc.want, err)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "s3cretpw") {
				t.Errorf("refusal must be one line without userinfo: %q", err)
			}
			if strings.Contains(tc.want, "allowed_origins entry") {
				return // a config error, not a refused endpoint
			}
			if !errors.Is(err, ErrEndpointRefused) || !strings.Contains(err.Error(), "token_endpoint") {
				t.Errorf("want ErrEndpointRefused naming the field: %v", err)
			}
		})
	}
	cfg := &SMARTConfig{AuthorizationEndpoint: "file:///etc/passwd", TokenEndpoint: "http://idp.example.org/token", JWKSURI: "https://idp.example.org/jwks"}
	err := cfg.VetEndpoints(https, nil)
	if err == nil || !strings.Contains(err.Error(), "authorization_endpoint") || !strings.Contains(err.Error(), "token_endpoint") ||
		strings.Contains(err.Error(), "jwks_uri") || strings.Contains(err.Error(), "\n") {
		t.Errorf("VetEndpoints: %v", err)
	}
}

// spy is an "attacker" listener: it logs whatever reaches it.
type spy struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
	log  strings.Builder
}

func newSpy(t *testing.T) *spy {
	s := &spy{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.hits++
		fmt.Fprintf(&s.log, "%s %s\n%v\n%s\n", r.Method, r.URL.RequestURI(), r.Header, b)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"stolen","token_type":"Bearer","active":true}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *spy) report() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits, s.log.String()
}

const (
	vetSecret   = "VET-CLIENT-SECRET-1"
	vetCode     = "VET-CODE-2"
	vetVerifier = "VET-VERIFIER-3"
	vetToken    = "VET-ACCESS-TOKEN-4"
)

func noSecrets(t *testing.T, log string) {
	t.Helper()
	for _, s := range []string{vetSecret, vetCode, vetVerifier, vetToken, base64.StdEncoding.EncodeToString([]byte("conf:" + vetSecret))} {
		if strings.Contains(log, s) {
			t.Fatalf("%s reached the attacker:\n%s", s, log)
		}
	}
}

// TestLaunchRefusedBeforeCredentials: a launch whose endpoints are not http(s), plain http for an
// https target, or outside the allowed origins never opens the browser nor sends anything.
func TestLaunchRefusedBeforeCredentials(t *testing.T) {
	attacker := newSpy(t)
	f := newFakeAS(t)
	target := f.srv.URL + "/fhir"
	cases := []struct {
		name          string
		target        string
		authz, tokenE string
		allowed       []string
		want          string // "" the launch goes ahead
	}{
		{"file authorization endpoint", target, "file:///etc/passwd", f.srv.URL + "/token", nil, "authorization_endpoint"},
		{"data authorization endpoint", target, "data:text/html,<form>", f.srv.URL + "/token", nil, "authorization_endpoint"},
		{"http token endpoint for an https target", "https://fhir.example.org/r4", "https://fhir.example.org/authorize", attacker.URL + "/token", nil, "plain http while the target is https"},
		{"token endpoint outside the allowed origins", target, f.srv.URL + "/authorize", attacker.URL + "/token", []string{"https://idp.example.org"},
			"add " + attacker.URL + " to auth.allowed_origins"},
		{"authorization endpoint outside the allowed origins", target, attacker.URL + "/authorize", f.srv.URL + "/token", []string{"https://idp.example.org"},
			"add " + attacker.URL + " to auth.allowed_origins"},
		{"all on the target's origin", target, f.srv.URL + "/authorize", f.srv.URL + "/token", []string{"https://idp.example.org"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: target})
			c := &Client{HTTP: hc, TokenEndpoint: tc.tokenE, ClientID: confClient, ClientSecret: vetSecret, AuthMethod: AuthSecretPost,
				RedirectURI: "https://app/cb", Target: tc.target, AllowedOrigins: tc.allowed}
			opened := 0
			authorize := func(ctx context.Context, u string) (string, error) {
				opened++
				return "https://app/cb?error=access_denied", nil
			}
			cfg := &SMARTConfig{AuthorizationEndpoint: tc.authz, TokenEndpoint: tc.tokenE}
			_, err := c.StandaloneLaunch(context.Background(), cfg, "openid", target, authorize)
			hits, log := attacker.report()
			noSecrets(t, log)
			if tc.want == "" {
				if opened != 1 || errors.Is(err, ErrEndpointRefused) {
					t.Fatalf("want the launch to go ahead: opened %d, %v", opened, err)
				}
				return
			}
			if !errors.Is(err, ErrEndpointRefused) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("want a one-line refusal containing %q, got %v", tc.want, err)
			}
			if opened != 0 || hits != 0 {
				t.Errorf("refused launch still acted: browser opened %d times, attacker hit %d times", opened, hits)
			}
		})
	}
}

// TestTokenCallsVetted: token, refresh, introspection and revocation requests to an endpoint that
// may not receive credentials are refused before sending.
func TestTokenCallsVetted(t *testing.T) {
	attacker := newSpy(t)
	hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: "http://127.0.0.1:1/fhir"})
	for _, tc := range []struct {
		name    string
		target  string
		allowed []string
	}{
		{"http endpoint, https target", "https://fhir.example.org/r4", nil},
		{"endpoint outside the allowed origins", "http://127.0.0.1:1/fhir", []string{"https://idp.example.org"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{HTTP: hc, TokenEndpoint: attacker.URL + "/token", ClientID: confClient, ClientSecret: vetSecret,
				AuthMethod: AuthSecretBasic, RedirectURI: "https://app/cb", Target: tc.target, AllowedOrigins: tc.allowed}
			calls := map[string]func() error{
				"exchange": func() error { _, err := c.Exchange(context.Background(), vetCode, vetVerifier); return err },
				"refresh":  func() error { _, err := c.Refresh(context.Background(), vetToken, ""); return err },
				"introspect": func() error {
					_, err := c.Introspect(context.Background(), attacker.URL+"/introspect", vetToken, "")
					return err
				},
				"introspect with bearer": func() error {
					_, err := c.Introspect(context.Background(), attacker.URL+"/introspect", vetToken, vetToken)
					return err
				},
				"revoke": func() error {
					_, err := c.Revoke(context.Background(), attacker.URL+"/revoke", vetToken, "")
					return err
				},
			}
			fields := map[string]string{"exchange": "token_endpoint", "refresh": "token_endpoint", "introspect": "introspection_endpoint",
				"introspect with bearer": "introspection_endpoint", "revoke": "revocation_endpoint"}
			for name, call := range calls {
				if err := call(); !errors.Is(err, ErrEndpointRefused) || !strings.Contains(err.Error(), fields[name]) {
					t.Errorf("%s: want ErrEndpointRefused naming %s, got %v", name, fields[name], err)
				}
			}
			hits, log := attacker.report()
			noSecrets(t, log)
			if hits != 0 {
				t.Errorf("attacker hit %d times", hits)
			}
		})
	}
}

// TestTokenEndpointRedirects: a token, introspection or revocation endpoint redirecting to another
// origin never gets the body (secret, code, verifier, token) re-sent there; a 307/308 is the
// answer the checks judge.
func TestTokenEndpointRedirects(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, method := range []string{AuthSecretPost, AuthSecretBasic} {
			t.Run(fmt.Sprintf("%d/%s", status, method), func(t *testing.T) {
				attacker := newSpy(t)
				as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Location", attacker.URL+r.URL.Path)
					w.WriteHeader(status)
				}))
				defer as.Close()
				hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: as.URL + "/fhir"})
				c := &Client{HTTP: hc, TokenEndpoint: as.URL + "/token", ClientID: "conf", ClientSecret: vetSecret, AuthMethod: method, RedirectURI: "https://app/cb"}
				tr, err := c.Exchange(context.Background(), vetCode, vetVerifier)
				if err != nil {
					t.Fatal(err)
				}
				in, err := c.Introspect(context.Background(), as.URL+"/introspect", vetToken, vetToken)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Revoke(context.Background(), as.URL+"/revoke", vetToken, ""); err != nil {
					t.Fatal(err)
				}
				hits, log := attacker.report()
				noSecrets(t, log)
				keeps := status == 307 || status == 308
				if keeps && (hits != 0 || tr.Status != status || in.Status != status || CheckTokenResponse(tr, TokenExpect{}) == nil) {
					t.Errorf("want the %d judged as the answer: attacker hits %d, token status %d", status, hits, tr.Status)
				}
				if !keeps && hits != 3 {
					t.Errorf("want the %d followed as a GET without the body: %d hits", status, hits)
				}
			})
		}
	}
}

// TestQueryTokenProbeNeverFollows: the access_token query probe judges a redirect as the answer,
// on the same origin or another, and refuses a URL outside the token origins.
func TestQueryTokenProbeNeverFollows(t *testing.T) {
	attacker := newSpy(t)
	var mu sync.Mutex
	seen := 0
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen++
		mu.Unlock()
		loc := attacker.URL + "/steal?" + r.URL.RawQuery
		if r.URL.Path == "/fhir/same" {
			loc = "/fhir/other?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusFound)
	}))
	defer target.Close()
	hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: target.URL + "/fhir"})
	for _, ref := range []string{"Patient", "same"} {
		issues, resp, err := ProbeQueryToken(context.Background(), hc, ref, vetToken)
		if err != nil || resp.Status != http.StatusFound || !issues.HasErrors() {
			t.Errorf("%s: want the 302 judged (fail), got %v %v %v", ref, resp, issues, err)
		}
	}
	if _, _, err := ProbeQueryToken(context.Background(), hc, attacker.URL+"/Patient", vetToken); err == nil {
		t.Error("query token probe to another origin was not refused")
	}
	if _, _, err := ProbeFHIRToken(context.Background(), hc, attacker.URL+"/Patient", vetToken, "garbage token"); err == nil {
		t.Error("header token probe to another origin was not refused")
	}
	hits, log := attacker.report()
	noSecrets(t, log)
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 || seen != 2 {
		t.Errorf("attacker hits %d (want 0), target requests %d (want 2: no same-origin follow)", hits, seen)
	}
}
