package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirhttp"
)

// TestIntrospectFirst: the first way the endpoint does not refuse is used, and every attempt is
// listed for the evidence.
func TestIntrospectFirst(t *testing.T) {
	const live, secret = "live-access-token", "s3cret-value"
	cases := []struct {
		name     string
		accept   string // "bearer", "basic", "none": what the endpoint authorizes
		refusal  int    // status of a refusal
		code     string // its error code ("" invalid_client)
		wantUsed int
		wantN    int // attempts made
	}{
		{"bearer accepted", "bearer", http.StatusUnauthorized, "", 0, 1},
		{"bearer refused, Basic accepted", "basic", http.StatusUnauthorized, "", 1, 2},
		{"403 counts as a refusal", "basic", http.StatusForbidden, "", 1, 2},
		{"400 invalid_client counts as a refusal", "basic", http.StatusBadRequest, "", 1, 2},
		// oidc-provider (interop harness) answers a bearer header this way; pacheck stopped there.
		{"400 invalid_request to the bearer counts as a refusal", "basic", http.StatusBadRequest, "invalid_request", 1, 2},
		{"every way refused", "none", http.StatusUnauthorized, "", -1, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				id, pw, basic := r.BasicAuth()
				ok := (tc.accept == "bearer" && r.Header.Get("Authorization") == "Bearer "+live) ||
					(tc.accept == "basic" && basic && id == "conf" && pw == secret)
				w.Header().Set("Content-Type", "application/json")
				if !ok {
					w.WriteHeader(tc.refusal)
					code := tc.code
					if code == "" || r.Header.Get("Authorization") != "Bearer "+live {
						code = "invalid_client" // invalid_request only answers the bearer header
					}
					_ = json.NewEncoder(w).Encode(map[string]any{"error": code})
					return
				}
				_ = json.NewEncoder(w).Encode(map[string]any{"active": true, "scope": "patient/*.rs", "client_id": "pub", "exp": 2000000000})
			}))
			defer srv.Close()
			hc, err := fhirhttp.New(fhirhttp.Options{BaseURL: srv.URL + "/fhir"})
			if err != nil {
				t.Fatal(err)
			}
			pub := &Client{HTTP: hc, ClientID: "pub"}
			conf := &Client{HTTP: hc, ClientID: "conf", ClientSecret: secret, AuthMethod: AuthSecretBasic}
			ways := []IntrospectAuth{{Name: "bearer", Client: pub, Bearer: live}, {Name: "client_secret_basic (conf)", Client: conf}}
			in, used, tried, err := IntrospectFirst(context.Background(), srv.URL+"/introspect", "some-token", ways)
			if err != nil {
				t.Fatal(err)
			}
			if used != tc.wantUsed || len(tried) != tc.wantN {
				t.Errorf("used %d after %d attempts %q, want %d after %d", used, len(tried), tried, tc.wantUsed, tc.wantN)
			}
			if used >= 0 && (in.Status != 200 || !in.Active) {
				t.Errorf("answer of the way used: HTTP %d active %v", in.Status, in.Active)
			}
			if used < 0 && in.Status != tc.refusal {
				t.Errorf("every way refused: the last answer (HTTP %d) must be returned for the checks", in.Status)
			}
			for i, l := range tried {
				if refused := strings.HasSuffix(l, ": refused"); refused != (i != used) {
					t.Errorf("attempt %d %q: refused %v", i, l, refused)
				}
				if strings.Contains(l, secret) || strings.Contains(l, live) {
					t.Errorf("attempt line %q carries a credential", l)
				}
			}
		})
	}
	if _, _, _, err := IntrospectFirst(context.Background(), "http://127.0.0.1:1/x", "t", nil); err == nil {
		t.Error("no way at all: want an error")
	}
}

func TestIntrospectionAuthMethods(t *testing.T) {
	cases := []struct {
		name string
		raw  map[string]any
		want string
	}{
		{"introspection methods advertised", map[string]any{"introspection_endpoint_auth_methods_supported": []any{"private_key_jwt"},
			"token_endpoint_auth_methods_supported": []any{"client_secret_basic"}}, "private_key_jwt"},
		{"token endpoint's methods otherwise", map[string]any{"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"}},
			"client_secret_basic client_secret_post"},
		{"nothing advertised", map[string]any{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &SMARTConfig{Raw: tc.raw}
			c.TokenEndpointAuthMethodsSupported = strs(tc.raw, "token_endpoint_auth_methods_supported")
			if got := strings.Join(c.IntrospectionAuthMethods(), " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
