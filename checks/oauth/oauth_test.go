package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

func rules(l issue.List, sev issue.Severity) []string {
	var out []string
	for _, i := range l {
		if sev == "" || i.Severity == sev {
			out = append(out, i.Rule+"@"+i.Path)
		}
	}
	sort.Strings(out)
	return out
}

func configResp(t *testing.T, status int, ct string, body any) *fhirhttp.Response {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	r := &fhirhttp.Response{Status: status, Header: http.Header{"Content-Type": {ct}}, Body: raw}
	if m, err := fhirhttp.DecodeObject(raw); err == nil {
		r.Resource = m
	} else {
		r.JSONErr = err
	}
	return r
}

func TestCheckSMARTConfig(t *testing.T) {
	base := "https://as.example"
	mod := func(f func(m map[string]any)) map[string]any {
		m := goodConfig(base)
		f(m)
		return m
	}
	cases := []struct {
		name   string
		status int
		ct     string
		body   any
		chk    ConfigCheck
		want   []string // error rules@path
	}{
		{"good v2", 200, "application/json", goodConfig(base), ConfigCheck{RequireHTTPS: true, NeedCapabilities: []string{"launch-standalone"}}, nil},
		{"good v1 minimal", 200, "application/json", map[string]any{"authorization_endpoint": base + "/a", "token_endpoint": base + "/t", "capabilities": []string{"launch-standalone"}},
			ConfigCheck{Version: SMARTv1}, nil},
		{"v1 minimal under v2", 200, "application/json", map[string]any{"authorization_endpoint": base + "/a", "token_endpoint": base + "/t", "capabilities": []string{"launch-standalone"}},
			ConfigCheck{}, []string{"smart-config.required@code_challenge_methods_supported", "smart-config.required@grant_types_supported"}},
		{"plain allowed", 200, "application/json", mod(func(m map[string]any) { m["code_challenge_methods_supported"] = []string{"S256", "plain"} }),
			ConfigCheck{}, []string{"smart-config.pkce-plain@code_challenge_methods_supported"}},
		{"no S256", 200, "application/json", mod(func(m map[string]any) { m["code_challenge_methods_supported"] = []string{} }),
			ConfigCheck{}, []string{"smart-config.pkce-s256@code_challenge_methods_supported"}},
		{"sso without issuer and jwks", 200, "application/json", mod(func(m map[string]any) { delete(m, "issuer"); delete(m, "jwks_uri") }),
			ConfigCheck{}, []string{"smart-config.required@issuer", "smart-config.required@jwks_uri"}},
		{"no token endpoint, bad types", 200, "application/json", mod(func(m map[string]any) { delete(m, "token_endpoint"); m["capabilities"] = "launch-standalone" }),
			ConfigCheck{}, []string{"smart-config.required@token_endpoint", "smart-config.type@capabilities"}},
		{"launch without authorization_code", 200, "application/json", mod(func(m map[string]any) { m["grant_types_supported"] = []string{"client_credentials"} }),
			ConfigCheck{}, []string{"smart-config.grant-types@grant_types_supported"}},
		{"http endpoint when https required", 200, "application/json", mod(func(m map[string]any) { m["token_endpoint"] = "http://as.example/token" }),
			ConfigCheck{RequireHTTPS: true}, []string{"smart-config.url@token_endpoint"}},
		{"relative endpoint", 200, "application/json", mod(func(m map[string]any) { m["authorization_endpoint"] = "/authorize" }),
			ConfigCheck{}, []string{"smart-config.url@authorization_endpoint"}},
		{"needed capability absent", 200, "application/json", goodConfig(base), ConfigCheck{NeedCapabilities: []string{"client-public", "launch-ehr"}},
			[]string{"smart-config.capability@capabilities"}},
		{"404", 404, "text/html", "<html>nope</html>", ConfigCheck{}, []string{"smart-config.status@"}},
		{"not json", 200, "application/json", "{broken", ConfigCheck{}, []string{"smart-config.json@"}},
		{"wrong content type", 200, "text/plain", goodConfig(base), ConfigCheck{}, []string{"smart-config.content-type@"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ParseSMARTConfig(configResp(t, tc.status, tc.ct, tc.body))
			got := CheckSMARTConfig(cfg, tc.chk)
			gotRules := rules(got, issue.Error)
			sort.Strings(tc.want)
			if strings.Join(gotRules, ",") != strings.Join(tc.want, ",") {
				t.Errorf("errors\n got %v\nwant %v\nall: %v", gotRules, tc.want, got)
			}
			for _, i := range got {
				if i.Message == "" || i.Rule == "" {
					t.Errorf("issue without rule or message: %+v", i)
				}
			}
		})
	}
}

func TestCheckOAuthURIs(t *testing.T) {
	cfg := ParseSMARTConfig(configResp(t, 200, "application/json", goodConfig("https://as")))
	capStmt := func(authz string) map[string]any {
		m, _ := fhirhttp.DecodeObject([]byte(`{"resourceType":"CapabilityStatement","rest":[{"mode":"server","security":{
			"service":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/restful-security-service","code":"SMART-on-FHIR"}]}],
			"extension":[{"url":"` + OAuthURIsExtension + `","extension":[{"url":"authorize","valueUri":"` + authz + `"},{"url":"token","valueUri":"https://as/token"}]}]}}]}`))
		return m
	}
	if l := CheckOAuthURIs(capStmt("https://as/authorize"), cfg, SMARTv2); len(l) != 0 {
		t.Errorf("agreeing: %v", l)
	}
	if l := CheckOAuthURIs(capStmt("https://other/authorize"), cfg, SMARTv2); len(l) != 1 || l[0].Rule != RuleOAuthURIsAgree {
		t.Errorf("disagreeing: %v", l)
	}
	bare := map[string]any{"resourceType": "CapabilityStatement"}
	if l := CheckOAuthURIs(bare, cfg, SMARTv1); !l.HasErrors() {
		t.Errorf("v1 without extension should fail: %v", l)
	}
	if l := CheckOAuthURIs(bare, cfg, SMARTv2); l.HasErrors() {
		t.Errorf("v2 without extension should not fail: %v", l)
	}
}

func TestPKCE(t *testing.T) {
	// RFC 7636 appendix B.
	if got := S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("challenge %q", got)
	}
	v1, v2 := NewVerifier(), NewVerifier()
	if !ValidVerifier(v1) || v1 == v2 {
		t.Errorf("verifiers %q %q", v1, v2)
	}
	if ValidVerifier("short") || ValidVerifier(strings.Repeat("a", 42)+"!") {
		t.Error("invalid verifier accepted")
	}
}

func TestAuthURLAndRedirect(t *testing.T) {
	a := NewAuthRequest("https://as/authorize?x=1", "app", "https://app.example/cb", "openid fhirUser launch/patient", "https://fhir/r4")
	raw, err := a.URL()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	for k, v := range map[string]string{"response_type": "code", "client_id": "app", "redirect_uri": "https://app.example/cb",
		"scope": "openid fhirUser launch/patient", "aud": "https://fhir/r4", "code_challenge_method": "S256", "x": "1", "state": a.State,
		"code_challenge": S256Challenge(a.Verifier)} {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if strings.Contains(raw, a.Verifier) {
		t.Error("verifier leaked into the authorization URL")
	}
	r, err := ParseRedirect("https://app.example/cb?code=C1&state=" + url.QueryEscape(a.State))
	if err != nil || r.Code != "C1" || len(CheckRedirect(r, a.State, "")) != 0 {
		t.Errorf("good redirect: %+v %v", r, err)
	}
	r, _ = ParseRedirect("https://app.example/cb?code=C1&state=other")
	if l := CheckRedirect(r, a.State, ""); len(l) != 1 || l[0].Rule != RuleRedirectState {
		t.Errorf("changed state: %v", l)
	}
	r, _ = ParseRedirect("https://app.example/cb?error=access_denied&state=s")
	if l := CheckRedirect(r, "s", ""); len(l) != 1 || l[0].Rule != RuleRedirectError {
		t.Errorf("error redirect: %v", l)
	}
	r, _ = ParseRedirect("https://app.example/cb#code=C1&state=s")
	if l := CheckRedirect(r, "s", ""); len(l) != 1 || l[0].Rule != RuleRedirectFrag {
		t.Errorf("fragment redirect: %v", l)
	}
	if _, err := ParseRedirect("https://app.example/cb?foo=1"); err == nil {
		t.Error("redirect without code or error accepted")
	}
}

func TestScopes(t *testing.T) {
	cases := []struct {
		in            string
		valid         bool
		ver           int
		perms, res    string
		readObs, gran bool
	}{
		{"patient/Observation.read", true, 1, "rs", "Observation", true, false},
		{"patient/*.rs", true, 2, "rs", "*", true, false},
		{"user/Observation.cruds", true, 2, "cruds", "Observation", true, false},
		{"patient/Observation.rs?category=laboratory", true, 2, "rs", "Observation", true, true},
		{"patient/Observation.sr", false, 0, "", "Observation", false, false},
		{"patient/Observation.write", true, 1, "cud", "Observation", false, false},
		{"patient/observation.read", false, 1, "rs", "observation", false, false},
		{"launch/patient", true, 0, "", "", false, false},
		{"openid", true, 0, "", "", false, false},
	}
	for _, tc := range cases {
		s := ParseScope(tc.in)
		if s.Valid != tc.valid || s.Version != tc.ver || s.Perms != tc.perms || s.Resource != tc.res || s.Allows("Observation", "read") != tc.readObs || s.Granular() != tc.gran {
			t.Errorf("%s: %+v", tc.in, s)
		}
	}
	ng, wid := CompareScopes([]string{"openid fhirUser patient/Observation.rs patient/Condition.read"}, []string{"openid patient/Observation.r patient/Condition.rs patient/Patient.rs"})
	if strings.Join(ng, ",") != "fhirUser,patient/Observation.rs" || strings.Join(wid, ",") != "patient/Patient.rs" {
		t.Errorf("CompareScopes: notGranted %v widened %v", ng, wid)
	}
}

type rec struct {
	mu sync.Mutex
	ex []evidence.Exchange
}

func (r *rec) add(e evidence.Exchange) { r.mu.Lock(); r.ex = append(r.ex, e); r.mu.Unlock() }
func (r *rec) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, _ := json.Marshal(r.ex)
	return string(b)
}

func TestTokenFlows(t *testing.T) {
	f := newFakeAS(t)
	ctx := context.Background()
	r := &rec{}
	hc, err := fhirhttp.New(fhirhttp.Options{BaseURL: f.srv.URL + "/fhir", Recorder: r.add})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := FetchSMARTConfig(ctx, hc, f.srv.URL+"/fhir")
	if err != nil {
		t.Fatal(err)
	}
	if l := CheckSMARTConfig(cfg, ConfigCheck{}); l.HasErrors() {
		t.Fatalf("fake AS config: %v", l)
	}
	jwks, jresp, err := FetchJWKS(ctx, hc, cfg.JWKSURI)
	if err != nil || len(jwks.Keys) != 1 || len(CheckJWKS(jresp)) != 0 {
		t.Fatalf("jwks: %v %v %v", jwks, err, CheckJWKS(jresp))
	}
	scope := "launch/patient openid fhirUser offline_access patient/*.rs"
	clients := map[string]Client{
		"public":       {ClientID: pubClient},
		"secret-basic": {ClientID: confClient, ClientSecret: confSecret, AuthMethod: AuthSecretBasic},
		"secret-post":  {ClientID: confClient, ClientSecret: confSecret, AuthMethod: AuthSecretPost},
		"jwt-rs384":    {ClientID: jwtClient, AuthMethod: AuthPrivateKey, PrivateKey: &jose.JSONWebKey{Key: clientRSA, KeyID: "k1"}, SigningAlg: jose.RS384},
		"jwt-es384":    {ClientID: jwtClient, AuthMethod: AuthPrivateKey, PrivateKey: &jose.JSONWebKey{Key: clientEC, KeyID: "k2", Algorithm: "ES384"}},
	}
	var secrets []string
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			c.HTTP, c.TokenEndpoint, c.RedirectURI = hc, cfg.TokenEndpoint, "https://app/cb"
			v := NewVerifier()
			code := f.issueCode(S256Challenge(v))
			tr, err := c.Exchange(ctx, code, v)
			if err != nil {
				t.Fatal(err)
			}
			if !tr.OK() {
				t.Fatalf("exchange: %d %s", tr.Status, tr.Body)
			}
			secrets = append(secrets, tr.AccessToken, tr.RefreshToken, code, v)
			if l := CheckTokenResponse(tr, TokenExpect{RequestedScope: scope}); len(l) != 0 {
				t.Errorf("token checks: %v", l)
			}
			_, l := VerifyIDToken(tr.IDToken, IDTokenExpect{Issuer: cfg.Issuer, ClientID: c.ClientID, JWKS: jwks, NeedFHIRUser: true})
			if len(l) != 0 {
				t.Errorf("id_token: %v", l)
			}
			// Replayed code.
			tr2, err := c.Exchange(ctx, code, v)
			if err != nil {
				t.Fatal(err)
			}
			if l := CheckRejected(tr2, "replayed code", "invalid_grant"); len(l) != 0 {
				t.Errorf("replay: %v", l)
			}
			// Wrong verifier.
			v2 := NewVerifier()
			tr3, _ := c.Exchange(ctx, f.issueCode(S256Challenge(v)), v2)
			if l := CheckRejected(tr3, "wrong code_verifier", "invalid_grant"); len(l) != 0 {
				t.Errorf("wrong verifier: %v", l)
			}
			// Refresh with narrower scope.
			tr4, err := c.Refresh(ctx, tr.RefreshToken, "patient/*.rs")
			if err != nil || !tr4.OK() {
				t.Fatalf("refresh: %v %+v", err, tr4)
			}
			if l := CheckTokenResponse(tr4, TokenExpect{RequestedScope: "patient/*.rs", Refresh: true}); l.HasErrors() {
				t.Errorf("refresh checks: %v", l)
			}
		})
	}
	// Bad secret.
	bad := Client{HTTP: hc, TokenEndpoint: cfg.TokenEndpoint, ClientID: confClient, ClientSecret: "wrong-secret-x", AuthMethod: AuthSecretBasic, RedirectURI: "https://app/cb"}
	trb, err := bad.Exchange(ctx, f.issueCode("x"), NewVerifier())
	if err != nil {
		t.Fatal(err)
	}
	if l := CheckRejected(trb, "bad client secret", "invalid_client"); len(l) != 0 {
		t.Errorf("bad secret: %v", l)
	}
	// A server that accepts a bad request is caught.
	if l := CheckRejected(&TokenResponse{Status: 200, AccessToken: "x"}, "probe"); len(l) != 1 || l[0].Rule != RuleProbeAccepted {
		t.Errorf("accepted probe: %v", l)
	}

	// Introspection and revocation.
	conf := Client{HTTP: hc, TokenEndpoint: cfg.TokenEndpoint, ClientID: confClient, ClientSecret: confSecret, AuthMethod: AuthSecretBasic, RedirectURI: "https://app/cb"}
	v := NewVerifier()
	tr, _ := conf.Exchange(ctx, f.issueCode(S256Challenge(v)), v)
	in, err := conf.Introspect(ctx, cfg.IntrospectionEndpoint, tr.AccessToken, "")
	if err != nil || len(CheckIntrospection(in, IntrospectExpect{Active: true, ClientID: confClient, Patient: "123", Scope: scope})) != 0 {
		t.Errorf("introspect active: %v %+v", err, in)
	}
	rv, err := conf.Revoke(ctx, cfg.RevocationEndpoint, tr.AccessToken, "access_token")
	if err != nil || len(CheckRevoke(rv)) != 0 {
		t.Errorf("revoke: %v %+v", err, rv)
	}
	in, _ = conf.Introspect(ctx, cfg.IntrospectionEndpoint, tr.AccessToken, "")
	if l := CheckIntrospection(in, IntrospectExpect{Active: false}); len(l) != 0 {
		t.Errorf("introspect revoked: %v", l)
	}
	if l := CheckIntrospection(in, IntrospectExpect{Active: true}); !l.HasErrors() {
		t.Error("revoked token reported active was not caught")
	}
	secrets = append(secrets, tr.AccessToken, tr.RefreshToken, tr.IDToken, confSecret)

	// Nothing secret in the recorded evidence.
	dump := r.dump()
	for _, s := range secrets {
		if s != "" && strings.Contains(dump, s) {
			t.Errorf("secret %q found in evidence", s[:4]+"…")
		}
	}
	if !strings.Contains(dump, "***") {
		t.Error("evidence shows no masking at all")
	}
}

func TestRefreshingSource(t *testing.T) {
	f := newFakeAS(t)
	f.expires = 1
	hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: f.srv.URL + "/fhir"})
	c := Client{HTTP: hc, TokenEndpoint: f.srv.URL + "/token", ClientID: pubClient, RedirectURI: "https://app/cb"}
	ctx := context.Background()
	v := NewVerifier()
	tr, err := c.Exchange(ctx, f.issueCode(S256Challenge(v)), v)
	if err != nil || !tr.OK() {
		t.Fatal(err, tr)
	}
	var seen int
	ts := c.NewTokenSource(ctx, tr, 5*time.Second, func(*TokenResponse) { seen++ })
	t1, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if t1.AccessToken == tr.AccessToken || ts.Refreshes() != 1 || seen != 1 {
		t.Errorf("expected a refresh: %v refreshes %d", t1.AccessToken == tr.AccessToken, ts.Refreshes())
	}
	f.expires = 3600
	ts.Invalidate()
	t2, _ := ts.Token()
	t3, _ := ts.Token()
	if t2.AccessToken == t1.AccessToken || t3.AccessToken != t2.AccessToken || ts.Refreshes() != 2 {
		t.Errorf("after invalidate: refreshes %d", ts.Refreshes())
	}
	// Used as the data client's token source.
	dc := hc.WithToken(ts)
	if _, err := dc.Get(ctx, f.srv.URL+"/fhir/.well-known/smart-configuration"); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyIDToken(t *testing.T) {
	testKeys()
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &asKey.PublicKey, KeyID: "as1", Algorithm: "RS256", Use: "sig"}}}
	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": "https://as", "sub": "u1", "aud": "app", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "fhirUser": "https://fhir/r4/Patient/123"}
		if mod != nil {
			mod(c)
		}
		return c
	}
	b64 := func(v any) string { b, _ := json.Marshal(v); return base64url(b) }
	unsigned := b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(claims(nil)) + "."
	cases := []struct {
		name  string
		token string
		want  []string
	}{
		{"good", signIDToken(asKey, "as1", claims(nil)), nil},
		{"good relative fhirUser, no kid", signIDToken(asKey, "", claims(func(c map[string]any) { c["fhirUser"] = "RelatedPerson/9" })), nil},
		{"unsigned alg none", unsigned, []string{RuleIDTokenUnsigned}},
		{"wrong key", signIDToken(otherKey, "as1", claims(nil)), []string{RuleIDTokenSignature}},
		{"unknown kid", signIDToken(otherKey, "zz", claims(nil)), []string{RuleIDTokenSignature}},
		{"wrong aud", signIDToken(asKey, "as1", claims(func(c map[string]any) { c["aud"] = []string{"other"} })), []string{RuleIDTokenAud}},
		{"wrong iss", signIDToken(asKey, "as1", claims(func(c map[string]any) { c["iss"] = "https://as/" })), []string{RuleIDTokenIss}},
		{"expired", signIDToken(asKey, "as1", claims(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() })), []string{RuleIDTokenExp}},
		{"missing fhirUser", signIDToken(asKey, "as1", claims(func(c map[string]any) { delete(c, "fhirUser") })), []string{RuleIDTokenFHIRUser}},
		{"fhirUser wrong type", signIDToken(asKey, "as1", claims(func(c map[string]any) { c["fhirUser"] = "Observation/1" })), []string{RuleIDTokenFHIRUser}},
		{"garbage", "not-a-jwt", []string{RuleIDTokenFormat}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, l := VerifyIDToken(tc.token, IDTokenExpect{Issuer: "https://as", ClientID: "app", JWKS: jwks, Now: now, NeedFHIRUser: true})
			var got []string
			for _, i := range l.Errors() {
				got = append(got, i.Rule)
				if strings.Contains(i.Message, "eyJ") {
					t.Errorf("token text in message: %s", i.Message)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v want %v (%v)", got, tc.want, l)
			}
		})
	}
}

func base64url(b []byte) string {
	return strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(stdB64(b)), "=")
}

func TestParseFHIRUser(t *testing.T) {
	for in, want := range map[string]string{
		"Patient/1":                       "https://fhir/r4/Patient/1",
		"https://x/fhir/Practitioner/a.b": "https://x/fhir/Practitioner/a.b",
		"Person/p":                        "https://fhir/r4/Person/p",
		"Observation/1":                   "",
		"/Patient/1":                      "",
		"Patient/":                        "",
		"ftp://x/Patient/1":               "",
	} {
		got, _, err := ParseFHIRUser(in, "https://fhir/r4")
		if got != want || (err == nil) != (want != "") {
			t.Errorf("%s: got %q %v", in, got, err)
		}
	}
}

func TestCheckJWKSPrivate(t *testing.T) {
	testKeys()
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: asKey, KeyID: "a", Algorithm: "RS256", Use: "sig"}}})
	l := CheckJWKS(configResp(t, 200, "application/json", string(priv)))
	if len(l) == 0 || l[0].Rule != RuleJWKSPrivate {
		t.Errorf("private key material not caught: %v", l)
	}
	l = CheckJWKS(configResp(t, 200, "application/json", `{"keys":[]}`))
	if len(l) != 1 || l[0].Rule != RuleJWKSRS256 {
		t.Errorf("empty set: %v", l)
	}
}

func TestCheckTokenResponseBroken(t *testing.T) {
	tr := &TokenResponse{Status: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Raw: map[string]any{"access_token": "a", "token_type": "mac", "expires_in": "3600"}, AccessToken: "a", TokenType: "mac"}
	l := CheckTokenResponse(tr, TokenExpect{RequestedScope: "launch/patient openid fhirUser offline_access"})
	want := []string{RuleTokenType, RuleTokenExpiresIn, RuleTokenScope, RuleTokenPatient, RuleTokenIDToken, RuleTokenNoStore}
	var got []string
	for _, i := range l.Errors() {
		got = append(got, i.Rule)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func stdB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestProbes(t *testing.T) {
	f := newFakeAS(t)
	ctx := context.Background()
	r := &rec{}
	hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: f.srv.URL + "/fhir", Recorder: r.add})
	c := &Client{HTTP: hc, TokenEndpoint: f.srv.URL + "/token", ClientID: confClient, ClientSecret: confSecret, AuthMethod: AuthSecretBasic, RedirectURI: "https://app/cb"}
	code := func() (string, string) { v := NewVerifier(); return f.issueCode(S256Challenge(v)), v }

	cd, _ := code()
	if l, _, err := c.ProbeWrongVerifier(ctx, cd); err != nil || len(l) != 0 {
		t.Errorf("wrong verifier: %v %v", l, err)
	}
	cd, _ = code()
	if l, _, err := c.ProbeMissingVerifier(ctx, cd); err != nil || len(l) != 0 {
		t.Errorf("missing verifier: %v %v", l, err)
	}
	cd, v := code()
	if l, _, err := c.ProbeBadSecret(ctx, cd, v); err != nil || len(l) != 0 {
		t.Errorf("bad secret: %v %v", l, err)
	}
	cd, v = code()
	if l, _, err := c.ProbeUnknownClient(ctx, cd, v); err != nil || len(l) != 0 {
		t.Errorf("unknown client: %v %v", l, err)
	}
	jc := *c
	jc.ClientID, jc.AuthMethod, jc.PrivateKey = jwtClient, AuthPrivateKey, &jose.JSONWebKey{Key: clientEC, KeyID: "k2", Algorithm: "ES384"}
	cd, v = code()
	if l, _, err := jc.ProbeBadAssertion(ctx, cd, v); err != nil || len(l) != 0 {
		t.Errorf("bad assertion: %v %v", l, err)
	}
	cd, v = code()
	if l, _, err := c.ProbeWrongRedirect(ctx, cd, v); err != nil || len(l) != 0 {
		t.Errorf("wrong redirect: %v %v", l, err)
	}
	cd, v = code()
	tr, err := c.Exchange(ctx, cd, v)
	if err != nil || !tr.OK() {
		t.Fatal(err, tr)
	}
	if l, _, err := c.ProbeReplay(ctx, cd, v); err != nil || len(l) != 0 {
		t.Errorf("replay: %v %v", l, err)
	}
	// The fake AS grants whatever scope a refresh asks for: the widening probe must catch it.
	if l, _, err := c.ProbeRefreshWiden(ctx, tr.RefreshToken, "patient/*.rs", "user/*.cruds"); err != nil || len(l) != 1 || l[0].Rule != RuleTokenScopeWidened {
		t.Errorf("refresh widening not caught: %v %v", l, err)
	}

	// FHIR side.
	for name, tok := range map[string]string{"missing token": "", "garbage token": "garbage-xyz"} {
		if l, _, err := ProbeFHIRToken(ctx, hc, "Patient/123", tok, name); err != nil || len(l) != 0 {
			t.Errorf("%s: %v %v", name, l, err)
		}
	}
	if l, _, err := ProbeFHIRToken(ctx, hc, "Patient/123", tr.AccessToken, "a valid token"); err != nil || len(l) != 2 {
		t.Errorf("a server answering with data must give 2 issues: %v %v", l, err)
	}
	if l, _, err := ProbeQueryToken(ctx, hc, "Patient/123", tr.AccessToken); err != nil || len(l) != 0 {
		t.Errorf("query token: %v %v", l, err)
	}
	// fhirUser readable with the token.
	data := hc.WithToken(fhirhttp.StaticToken(tr.AccessToken))
	if l, err := CheckFHIRUserReadable(ctx, data, "Patient/123"); err != nil || len(l) != 0 {
		t.Errorf("fhirUser readable: %v %v", l, err)
	}
	if l, err := CheckFHIRUserReadable(ctx, hc, "Patient/123"); err != nil || len(l) != 1 || l[0].Rule != RuleFHIRUserRead {
		t.Errorf("fhirUser without token: %v %v", l, err)
	}
	if strings.Contains(r.dump(), tr.AccessToken) || strings.Contains(r.dump(), confSecret) {
		t.Error("secret in evidence")
	}
}

func TestStandaloneLaunch(t *testing.T) {
	f := newFakeAS(t)
	ctx := context.Background()
	hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: f.srv.URL + "/fhir"})
	cfg, err := FetchSMARTConfig(ctx, hc, f.srv.URL+"/fhir")
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{HTTP: hc, TokenEndpoint: cfg.TokenEndpoint, ClientID: pubClient, RedirectURI: "https://app/cb"}
	// A fake user agent: the "server" issues a code bound to the challenge in the URL.
	agent := func(ctx context.Context, u string) (string, error) {
		pu, _ := url.Parse(u)
		q := pu.Query()
		return q.Get("redirect_uri") + "?code=" + f.issueCode(q.Get("code_challenge")) + "&state=" + url.QueryEscape(q.Get("state")), nil
	}
	l, err := c.StandaloneLaunch(ctx, cfg, "launch/patient openid fhirUser offline_access patient/*.rs", f.srv.URL+"/fhir", agent)
	if err != nil || !l.Token.OK() || len(CheckRedirect(l.Redirect, l.Request.State, "")) != 0 {
		t.Fatalf("launch: %v %+v", err, l)
	}
	deny := func(ctx context.Context, u string) (string, error) {
		return "https://app/cb?error=access_denied&state=x", nil
	}
	if l, err := c.StandaloneLaunch(ctx, cfg, "openid", f.srv.URL+"/fhir", deny); err == nil || l.Redirect.Error != "access_denied" || l.Token != nil {
		t.Errorf("denied launch: %v %+v", err, l)
	}
}

func TestCheckOpenIDConfigMismatch(t *testing.T) {
	smart := ParseSMARTConfig(configResp(t, 200, "application/json", goodConfig("https://as")))
	o := &OpenIDConfig{Raw: map[string]any{"issuer": "https://as/", "jwks_uri": "https://as/other", "authorization_endpoint": "https://as/authorize",
		"response_types_supported": []any{"code"}, "subject_types_supported": []any{"public"}, "id_token_signing_alg_values_supported": []any{"ES256"}},
		Issuer: "https://as/", JWKSURI: "https://as/other", AuthorizationEndpoint: "https://as/authorize", SigningAlgs: []string{"ES256"}}
	got := rules(CheckOpenIDConfig(o, smart), "")
	want := []string{"oidc-config.issuer@issuer", "oidc-config.jwks-uri@jwks_uri", "oidc-config.rs256@id_token_signing_alg_values_supported"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v want %v", got, want)
	}
}

func TestCheckIntrospectionShapes(t *testing.T) {
	inactiveLeak := &Introspection{Status: 200, Raw: map[string]any{"active": false, "scope": "patient/*.rs"}, ActiveOK: true}
	if l := CheckIntrospection(inactiveLeak, IntrospectExpect{Active: false}); len(l) != 1 || l[0].Rule != RuleIntrospectLeak || l.HasErrors() {
		t.Errorf("inactive with extra members: %v", l)
	}
	activeBare := &Introspection{Status: 200, Raw: map[string]any{"active": true}, Active: true, ActiveOK: true}
	if l := CheckIntrospection(activeBare, IntrospectExpect{Active: true}); len(l.Errors()) != 3 {
		t.Errorf("active without scope/client_id/exp: %v", l)
	}
	noActive := &Introspection{Status: 200, Raw: map[string]any{"scope": "x"}}
	if l := CheckIntrospection(noActive, IntrospectExpect{Active: true}); len(l) != 1 || l[0].Rule != RuleIntrospectActive {
		t.Errorf("no active member: %v", l)
	}
}

func TestCheckScopeEnforced(t *testing.T) {
	obs := func(id, sys, code string) map[string]any {
		return map[string]any{"resourceType": "Observation", "id": id, "category": []any{map[string]any{"coding": []any{map[string]any{"system": sys, "code": code}}}}}
	}
	const cat = "http://terminology.hl7.org/CodeSystem/observation-category"
	lab, vital := obs("1", cat, "laboratory"), obs("2", cat, "vital-signs")
	cond := map[string]any{"resourceType": "Condition", "id": "3"}
	cases := []struct {
		granted string
		res     []map[string]any
		errs    int
	}{
		{"patient/*.rs", []map[string]any{lab, vital, cond}, 0},
		{"patient/Observation.rs", []map[string]any{lab, cond}, 1},
		{"patient/Observation.read", []map[string]any{lab}, 0},
		{"patient/Observation.rs?category=" + cat + "|laboratory", []map[string]any{lab, vital}, 1},
		{"patient/Observation.rs?category=laboratory", []map[string]any{lab}, 0},
		{"patient/Observation.rs?category=other|laboratory", []map[string]any{lab}, 1},
		{"patient/Observation.c", []map[string]any{lab}, 1},
	}
	for _, tc := range cases {
		if l := CheckScopeEnforced(tc.granted, "search", tc.res); len(l) != tc.errs {
			t.Errorf("%s: %v", tc.granted, l)
		}
	}
}

// TestUnregisteredKey: the probe key signs with the client's own algorithm (an ES256 client gets a
// P-256 key, not P-384), keeps the kid, and is not the client's key.
func TestUnregisteredKey(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	cases := []struct {
		name    string
		key     *jose.JSONWebKey
		wantAlg jose.SignatureAlgorithm
	}{
		{"ES256 by alg", &jose.JSONWebKey{Key: p256, KeyID: "a", Algorithm: "ES256"}, jose.ES256},
		{"ES256 by curve", &jose.JSONWebKey{Key: p256, KeyID: "b"}, jose.ES256},
		{"ES384", &jose.JSONWebKey{Key: p384, KeyID: "c", Algorithm: "ES384"}, jose.ES384},
		{"RS256", &jose.JSONWebKey{Key: rsaKey, KeyID: "d", Algorithm: "RS256"}, jose.RS256},
		{"RSA without alg", &jose.JSONWebKey{Key: rsaKey, KeyID: "e"}, jose.RS384},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := UnregisteredKey(tc.key, "")
			if err != nil {
				t.Fatal(err)
			}
			if jose.SignatureAlgorithm(k.Algorithm) != tc.wantAlg || k.KeyID != tc.key.KeyID {
				t.Errorf("alg %s kid %q, want %s %q", k.Algorithm, k.KeyID, tc.wantAlg, tc.key.KeyID)
			}
			c := &Client{ClientID: "x", PrivateKey: k}
			a, err := c.ClientAssertion("https://as.example/token")
			if err != nil {
				t.Fatalf("signing with the probe key: %v", err)
			}
			tok, err := jose.ParseSigned(a, []jose.SignatureAlgorithm{tc.wantAlg})
			if err != nil {
				t.Fatalf("assertion not signed with %s: %v", tc.wantAlg, err)
			}
			if _, err := tok.Verify(tc.key.Public().Key); err == nil {
				t.Error("the probe assertion verifies with the client's registered key")
			}
			if _, err := tok.Verify(k.Public().Key); err != nil {
				t.Errorf("the probe assertion does not verify with its own key: %v", err)
			}
		})
	}
	if _, err := UnregisteredKey(&jose.JSONWebKey{Key: p256}, "HS256"); err == nil {
		t.Error("HS256: want an error naming the supported algorithms")
	}
}

// TestProbeBadAssertionES256: with an ES256 client the bad-client-assertion probe reaches a
// verdict (it once signed with a P-384 key, so it ended as an error instead): no issues from a
// server that verifies assertions, probe-accepted from one that does not.
func TestProbeBadAssertionES256(t *testing.T) {
	for _, tc := range []struct {
		name       string
		unverified bool
		want       []string // error rule codes
	}{
		{"verifying server", false, nil},
		{"server that accepts any assertion", true, []string{RuleProbeAccepted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAS(t)
			f.unverifiedAssertions = tc.unverified
			ctx := context.Background()
			hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: f.srv.URL + "/fhir"})
			c := &Client{HTTP: hc, TokenEndpoint: f.srv.URL + "/token", ClientID: jwtClient, AuthMethod: AuthPrivateKey,
				RedirectURI: "https://app/cb", PrivateKey: &jose.JSONWebKey{Key: clientEC256, KeyID: "k256", Algorithm: "ES256"}}
			code := func() (string, string) { v := NewVerifier(); return f.issueCode(S256Challenge(v)), v }
			// the client itself is accepted, so a refusal below is about the key
			cd, v := code()
			if tr, err := c.Exchange(ctx, cd, v); err != nil || !tr.OK() {
				t.Fatalf("ES256 client exchange: %v %+v", err, tr)
			}
			cd, v = code()
			l, tr, err := c.ProbeBadAssertion(ctx, cd, v)
			if err != nil {
				t.Fatalf("probe ended in error, want a verdict: %v", err)
			}
			var got []string
			for _, i := range l.Errors() {
				got = append(got, i.Rule)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("issues %v (status %d), want rules %v", l, tr.Status, tc.want)
			}
		})
	}
}

// TestMismatchData: the checks that say "expected …, got …" carry the two sides as Expected and
// Actual too, and the message text is what it was.
func TestMismatchData(t *testing.T) {
	cases := []struct {
		name                  string
		l                     issue.List
		msg, expected, actual string
	}{
		{"probe status", CheckRejected(&TokenResponse{Status: 500, Error: "server_error"}, "token request with a wrong code_verifier"),
			"token request with a wrong code_verifier: expected HTTP 400 or 401, got 500", "HTTP 400 or 401", "500"},
		{"token status", CheckTokenResponse(&TokenResponse{Status: 401, Error: "invalid_client"}, TokenExpect{}),
			"token response: expected HTTP 200, got 401 (error invalid_client)", "HTTP 200", "401 (error invalid_client)"},
		{"introspection active", CheckIntrospection(&Introspection{Status: 200, Raw: map[string]any{"active": true}, Active: true, ActiveOK: true}, IntrospectExpect{Active: false}),
			"introspection: expected active false, got true", "active false", "true"},
		{"revocation", CheckRevoke(&TokenResponse{Status: 503}), "revocation: expected HTTP 200, got 503", "HTTP 200", "503"},
	}
	for _, tc := range cases {
		if len(tc.l) == 0 {
			t.Errorf("%s: no issue", tc.name)
			continue
		}
		if i := tc.l[0]; i.Message != tc.msg || i.Expected != tc.expected || i.Actual != tc.actual {
			t.Errorf("%s: got %q / %q / %q, want %q / %q / %q", tc.name, i.Message, i.Expected, i.Actual, tc.msg, tc.expected, tc.actual)
		}
	}
}
