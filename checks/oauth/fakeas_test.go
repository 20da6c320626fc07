package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

var (
	keyOnce         sync.Once
	asKey, otherKey *rsa.PrivateKey
	clientRSA       *rsa.PrivateKey
	clientEC        *ecdsa.PrivateKey
	clientEC256     *ecdsa.PrivateKey
)

func testKeys() {
	keyOnce.Do(func() {
		asKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		otherKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		clientRSA, _ = rsa.GenerateKey(rand.Reader, 2048)
		clientEC, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		clientEC256, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
}

// fakeAS is a small SMART authorization server: PKCE S256, single-use codes, four client
// authentication methods, refresh, introspection, revocation, RS256 id_tokens.
type fakeAS struct {
	srv      *httptest.Server
	mu       sync.Mutex
	codes    map[string]string // code -> challenge
	used     map[string]bool
	revoked  map[string]bool
	n        int
	expires  int
	fhirUser string
	// unverifiedAssertions: accept a client assertion without checking its signature (the
	// defect the bad-client-assertion probe must catch).
	unverifiedAssertions bool
}

const (
	pubClient  = "public-app"
	confClient = "conf-app"
	confSecret = "conf-Secret-9"
	jwtClient  = "jwt-app"
)

func newFakeAS(t *testing.T) *fakeAS {
	testKeys()
	f := &fakeAS{codes: map[string]string{}, used: map[string]bool{}, revoked: map[string]bool{}, expires: 3600, fhirUser: "Patient/123"}
	mux := http.NewServeMux()
	mux.HandleFunc("/fhir/.well-known/smart-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(goodConfig(f.srv.URL))
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &asKey.PublicKey, KeyID: "as1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/token", f.token)
	mux.HandleFunc("/fhir/Patient/123", func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		f.mu.Lock()
		revoked := f.revoked[strings.TrimPrefix(auth, "Bearer ")]
		f.mu.Unlock()
		if !strings.HasPrefix(auth, "Bearer AT-") || revoked {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType":"Patient","id":"123"}`)
	})
	mux.HandleFunc("/introspect", f.introspect)
	mux.HandleFunc("/revoke", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		f.revoked[r.PostForm.Get("token")] = true
		f.mu.Unlock()
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// issueCode registers a code for a PKCE challenge (what the authorize endpoint would do).
func (f *fakeAS) issueCode(challenge string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	code := fmt.Sprintf("code-%d-xyz", f.n)
	f.codes[code] = challenge
	return code
}

func oauthErr(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q}`, code)
}

func (f *fakeAS) clientOK(r *http.Request) (string, bool) {
	if id, sec, ok := r.BasicAuth(); ok {
		return id, id == confClient && sec == confSecret
	}
	switch id := r.PostForm.Get("client_id"); {
	case r.PostForm.Get("client_assertion_type") == AssertionType:
		tok, err := jwt.ParseSigned(r.PostForm.Get("client_assertion"), []jose.SignatureAlgorithm{jose.RS384, jose.ES384, jose.ES256})
		if err != nil {
			return "", false
		}
		var c jwt.Claims
		valid := func() bool {
			return c.Issuer == jwtClient && c.Subject == jwtClient && c.Validate(jwt.Expected{AnyAudience: jwt.Audience{f.srv.URL + "/token"}, Time: time.Now()}) == nil && c.ID != ""
		}
		if f.unverifiedAssertions {
			return jwtClient, tok.UnsafeClaimsWithoutVerification(&c) == nil && valid()
		}
		for _, k := range []any{&clientRSA.PublicKey, &clientEC.PublicKey, &clientEC256.PublicKey} {
			if tok.Claims(k, &c) == nil {
				return jwtClient, valid()
			}
		}
		return "", false
	case id == confClient:
		return id, r.PostForm.Get("client_secret") == confSecret
	case id == pubClient:
		return id, true
	}
	return "", false
}

func (f *fakeAS) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	client, ok := f.clientOK(r)
	if !ok {
		oauthErr(w, 401, "invalid_client")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	scope := "launch/patient openid fhirUser offline_access patient/*.rs"
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		ch, ok := f.codes[code]
		if !ok || f.used[code] {
			oauthErr(w, 400, "invalid_grant")
			return
		}
		f.used[code] = true
		if r.PostForm.Get("redirect_uri") != "https://app/cb" {
			oauthErr(w, 400, "invalid_grant")
			return
		}
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != ch {
			oauthErr(w, 400, "invalid_grant")
			return
		}
	case "refresh_token":
		if r.PostForm.Get("refresh_token") == "" || f.revoked[r.PostForm.Get("refresh_token")] {
			oauthErr(w, 400, "invalid_grant")
			return
		}
		if s := r.PostForm.Get("scope"); s != "" {
			scope = s
		}
	default:
		oauthErr(w, 400, "unsupported_grant_type")
		return
	}
	f.n++
	resp := map[string]any{
		"access_token": fmt.Sprintf("AT-%d-secret", f.n), "token_type": "bearer", "expires_in": f.expires,
		"scope": scope, "patient": "123", "refresh_token": fmt.Sprintf("RT-%d-secret", f.n),
		"id_token": signIDToken(asKey, "as1", map[string]any{"iss": f.srv.URL, "sub": "u1", "aud": client,
			"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "fhirUser": f.fhirUser}),
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	json.NewEncoder(w).Encode(resp)
}

func (f *fakeAS) introspect(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	tok := r.PostForm.Get("token")
	f.mu.Lock()
	revoked := f.revoked[tok]
	f.mu.Unlock()
	if len(tok) < 3 || tok[:3] != "AT-" || revoked {
		fmt.Fprint(w, `{"active":false}`)
		return
	}
	fmt.Fprintf(w, `{"active":true,"scope":"patient/*.rs","client_id":%q,"exp":%d,"patient":"123"}`, confClient, time.Now().Add(time.Hour).Unix())
}

func signIDToken(key any, kid string, claims map[string]any) string {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		panic(err)
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		panic(err)
	}
	return s
}

func goodConfig(base string) map[string]any {
	return map[string]any{
		"issuer":                                base,
		"jwks_uri":                              base + "/jwks",
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/token",
		"introspection_endpoint":                base + "/introspect",
		"revocation_endpoint":                   base + "/revoke",
		"management_endpoint":                   base + "/manage",
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"scopes_supported":                      []string{"openid", "fhirUser", "launch/patient", "offline_access", "patient/*.rs"},
		"response_types_supported":              []string{"code"},
		"capabilities": []string{"launch-standalone", "client-public", "client-confidential-symmetric",
			"client-confidential-asymmetric", "sso-openid-connect", "context-standalone-patient", "permission-offline",
			"permission-patient", "permission-v2"},
		"code_challenge_methods_supported": []string{"S256"},
	}
}
