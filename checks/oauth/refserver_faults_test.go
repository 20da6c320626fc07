package oauth_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
)

var (
	reAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	reHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	reGrant  = regexp.MustCompile(`name="grant" value="([^"]*)" checked`)
)

// httpLogin walks the reference server's login and consent forms with plain HTTP (no browser)
// and returns the redirect URL. It knows that server's HTML only.
func httpLogin(t *testing.T, authURL string) string {
	t.Helper()
	u, errorPage := httpAuthorize(t, authURL)
	if errorPage {
		t.Fatalf("the server refused %s with an error page", authURL)
	}
	return u
}

// httpAuthorize is httpLogin that reports an error page (a 4xx page without a form) instead of failing.
func httpAuthorize(t *testing.T, authURL string, deselect ...string) (redirect string, errorPage bool) {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	for step := 0; step < 3; step++ {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			return loc, false
		}
		m := reAction.FindStringSubmatch(string(body))
		if m == nil && resp.StatusCode/100 == 4 {
			return "", true
		}
		if m == nil {
			t.Fatalf("no form on the page (status %d): %.300s", resp.StatusCode, body)
		}
		form := url.Values{}
		for _, h := range reHidden.FindAllStringSubmatch(string(body), -1) {
			form.Set(h[1], html.UnescapeString(h[2]))
		}
		if form.Get("step") == "login" {
			member := auth.MemberUser(1)
			form.Set("username", member.Username)
			form.Set("password", member.Password)
		} else {
			for _, g := range reGrant.FindAllStringSubmatch(string(body), -1) {
				if sc := html.UnescapeString(g[1]); !slices.Contains(deselect, sc) {
					form.Add("grant", sc)
				}
			}
			form.Set("decision", "approve")
		}
		action, _ := u.Parse(html.UnescapeString(m[1]))
		if resp, err = hc.PostForm(action.String(), form); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("no redirect after login and consent")
	return "", false
}

// findings runs the client-side checks and probes against a reference server with the given
// faults and returns "step:rule" for every error and warning.
func findings(t *testing.T, faults ...string) []string {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fs := fault.Set{}
	for _, f := range faults {
		fs[f] = true
	}
	fhirBase := srv.URL + "/fhir"
	as, err := auth.New(auth.Config{BaseURL: srv.URL, FHIRBase: fhirBase, Faults: fs})
	if err != nil {
		t.Fatal(err)
	}
	as.Register(mux)
	ctx := context.Background()
	hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: fhirBase})
	cfg, err := oauth.FetchSMARTConfig(ctx, hc, fhirBase)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _, err := oauth.FetchJWKS(ctx, hc, cfg.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	note := func(step string, l issue.List) {
		for _, i := range l {
			if i.Severity != issue.Information {
				seen[step+":"+i.Rule] = true
			}
		}
	}
	must := func(l issue.List, _ *oauth.TokenResponse, err error) issue.List {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	redirect := "http://localhost/callback"
	conf := &oauth.Client{HTTP: hc, TokenEndpoint: cfg.TokenEndpoint, ClientID: auth.ConfidentialClientID, ClientSecret: auth.ConfidentialClientSecret,
		AuthMethod: oauth.AuthSecretBasic, RedirectURI: redirect}
	key := auth.DemoJWTClientKey()
	jwtc := &oauth.Client{HTTP: hc, TokenEndpoint: cfg.TokenEndpoint, ClientID: auth.JWTClientID, AuthMethod: oauth.AuthPrivateKey, PrivateKey: &key, RedirectURI: redirect}
	scope := "launch/patient openid fhirUser offline_access patient/*.rs"
	agent := func(ctx context.Context, u string) (string, error) { return httpLogin(t, u), nil }
	codeFor := func(c *oauth.Client) (code, verifier string) {
		req, _ := c.AuthRequest(cfg, scope, fhirBase)
		u, _ := req.URL()
		r, err := oauth.ParseRedirect(httpLogin(t, u))
		if err != nil {
			t.Fatal(err)
		}
		return r.Code, req.Verifier
	}

	l, err := conf.StandaloneLaunch(ctx, cfg, scope, fhirBase, agent)
	if err != nil {
		t.Fatal(err)
	}
	note("redirect", oauth.CheckRedirect(l.Redirect, l.Request.State, cfg.Issuer))
	note("token", oauth.CheckTokenResponse(l.Token, oauth.TokenExpect{RequestedScope: scope}))
	_, il := oauth.VerifyIDToken(l.Token.IDToken, oauth.IDTokenExpect{Issuer: cfg.Issuer, ClientID: conf.ClientID, JWKS: jwks, NeedFHIRUser: true})
	note("id-token", il)
	if rt := l.Token.RefreshToken; rt != "" {
		tr2, err := conf.Refresh(ctx, rt, "")
		if err != nil {
			t.Fatal(err)
		}
		note("refresh", oauth.CheckTokenResponse(tr2, oauth.TokenExpect{RequestedScope: scope, Refresh: true}))
		if tr2.RefreshToken != "" {
			rt = tr2.RefreshToken
		}
		note("widen", must(conf.ProbeRefreshWiden(ctx, rt, l.Token.Scope, "user/*.cruds")))
		if tr2.AccessToken != "" {
			in, err := conf.Introspect(ctx, cfg.IntrospectionEndpoint, tr2.AccessToken, "")
			if err != nil {
				t.Fatal(err)
			}
			note("introspect-active", oauth.CheckIntrospection(in, oauth.IntrospectExpect{Active: true, ClientID: conf.ClientID, Patient: l.Token.Patient}))
			rv, err := conf.Revoke(ctx, cfg.RevocationEndpoint, tr2.AccessToken, "access_token")
			if err != nil {
				t.Fatal(err)
			}
			note("revoke", oauth.CheckRevoke(rv))
			in, _ = conf.Introspect(ctx, cfg.IntrospectionEndpoint, tr2.AccessToken, "")
			note("introspect-revoked", oauth.CheckIntrospection(in, oauth.IntrospectExpect{Active: false}))
		}
	}
	note("replay", must(conf.ProbeReplay(ctx, l.Redirect.Code, l.Request.Verifier)))
	c, _ := codeFor(conf)
	note("wrong-verifier", must(conf.ProbeWrongVerifier(ctx, c)))
	c, v := codeFor(conf)
	note("bad-secret", must(conf.ProbeBadSecret(ctx, c, v)))
	c, v = codeFor(jwtc)
	note("bad-assertion", must(jwtc.ProbeBadAssertion(ctx, c, v)))
	c, v = codeFor(conf)
	note("wrong-redirect", must(conf.ProbeWrongRedirect(ctx, c, v)))

	// Authorization requests that must be refused.
	refused := func(step string, mustNotRedirect bool, mod func(a *oauth.AuthRequest)) {
		a, _ := conf.AuthRequest(cfg, scope, fhirBase)
		mod(a)
		u, _ := a.URL()
		redir, page := httpAuthorize(t, u)
		note(step, oauth.CheckAuthorizeRefused(redir, page, mustNotRedirect, step))
	}
	refused("bad-aud", false, func(a *oauth.AuthRequest) { a.Aud = "https://elsewhere.pacheck.invalid/fhir" })
	refused("pkce-plain", false, func(a *oauth.AuthRequest) { a.Challenge, a.Method = a.Verifier, "plain" })
	refused("unknown-client", true, func(a *oauth.AuthRequest) { a.ClientID = "pacheck-unknown-client" })
	refused("unregistered-redirect", true, func(a *oauth.AuthRequest) { a.RedirectURI = "http://localhost/pacheck-unregistered" })

	// The user unticks offline_access on the consent page.
	{
		a, _ := conf.AuthRequest(cfg, scope, fhirBase)
		u, _ := a.URL()
		redir, _ := httpAuthorize(t, u, "offline_access")
		r, err := oauth.ParseRedirect(redir)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := conf.Exchange(ctx, r.Code, a.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		approved := strings.Join(slices.DeleteFunc(strings.Fields(scope), func(s string) bool { return s == "offline_access" }), " ")
		note("consent", oauth.CheckTokenResponse(tr, oauth.TokenExpect{RequestedScope: scope, ApprovedScope: approved}))
	}

	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRefServerFaults: the clean reference server yields no finding; each client-visible fault
// yields its finding (the suites' fault table builds on these rules).
func TestRefServerFaults(t *testing.T) {
	if clean := findings(t); len(clean) != 0 {
		t.Fatalf("clean server: %v", clean)
	}
	cases := map[string]string{
		auth.FaultStateAltered:               "redirect:" + oauth.RuleRedirectState,
		auth.FaultStateDropped:               "redirect:" + oauth.RuleRedirectState,
		auth.FaultTokenTypeWrong:             "token:" + oauth.RuleTokenType,
		auth.FaultTokenCacheControl:          "token:" + oauth.RuleTokenNoStore,
		auth.FaultTokenNoPatient:             "token:" + oauth.RuleTokenPatient,
		auth.FaultTokenNoExpiresIn:           "token:" + oauth.RuleTokenExpiresIn,
		auth.FaultIDTokenUnsigned:            "id-token:" + oauth.RuleIDTokenUnsigned,
		auth.FaultIDTokenBadSignature:        "id-token:" + oauth.RuleIDTokenSignature,
		auth.FaultIDTokenWrongAud:            "id-token:" + oauth.RuleIDTokenAud,
		auth.FaultIDTokenNoFHIRUser:          "id-token:" + oauth.RuleIDTokenFHIRUser,
		auth.FaultRefreshDisabled:            "token:" + oauth.RuleTokenRefresh,
		auth.FaultRefreshScopeWidening:       "widen:" + oauth.RuleTokenScopeWidened,
		auth.FaultIntrospectionAlwaysActive:  "introspect-revoked:" + oauth.RuleIntrospectActive,
		auth.FaultCodeReusable:               "replay:" + oauth.RuleProbeAccepted,
		auth.FaultPKCENotVerified:            "wrong-verifier:" + oauth.RuleProbeAccepted,
		auth.FaultBadClientSecretAccepted:    "bad-secret:" + oauth.RuleProbeAccepted,
		auth.FaultClientAssertionNotVerified: "bad-assertion:" + oauth.RuleProbeAccepted,
		auth.FaultRedirectURINotChecked:      "unregistered-redirect:" + oauth.RuleAuthorizeAccepted,
		auth.FaultAudNotChecked:              "bad-aud:" + oauth.RuleAuthorizeAccepted,
		auth.FaultPKCEPlainAccepted:          "pkce-plain:" + oauth.RuleAuthorizeAccepted,
		auth.FaultUnknownClientAccepted:      "unknown-client:" + oauth.RuleAuthorizeAccepted,
		auth.FaultConsentIgnored:             "consent:" + oauth.RuleTokenNotApproved,
	}
	for f, want := range cases {
		t.Run(f, func(t *testing.T) {
			got := findings(t, f)
			if !contains(got, want) {
				t.Errorf("fault %s: want %s, got %v", f, want, got)
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s || strings.HasPrefix(x, s) {
			return true
		}
	}
	return false
}
