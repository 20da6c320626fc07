package oauth_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
)

const labScope = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"

// fhirFindings runs the FHIR-side token probes and scope checks against the full reference
// server with the given faults and returns "step:rule" for each error.
func fhirFindings(t *testing.T, faults ...string) []string {
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	fs := fault.Set{}
	for _, f := range faults {
		fs[f] = true
	}
	var mu sync.Mutex
	offset := time.Duration(0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	advance := func(d time.Duration) { mu.Lock(); offset += d; mu.Unlock() }
	rs, err := refserver.New(refserver.Config{Members: 1, Seed: 1, BaseURL: base, Faults: fs, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = rs.Handler()
	srv.Start()
	defer srv.Close()
	fhirBase := base + "/fhir"
	ctx := context.Background()
	hc, _ := fhirhttp.New(fhirhttp.Options{BaseURL: fhirBase})
	cfg, err := oauth.FetchSMARTConfig(ctx, hc, fhirBase)
	if err != nil {
		t.Fatal(err)
	}
	c := &oauth.Client{HTTP: hc, TokenEndpoint: cfg.TokenEndpoint, ClientID: auth.ConfidentialClientID, ClientSecret: auth.ConfidentialClientSecret,
		AuthMethod: oauth.AuthSecretBasic, RedirectURI: "http://localhost/callback"}
	agent := func(ctx context.Context, u string) (string, error) { return httpLogin(t, u), nil }
	seen := map[string]bool{}
	note := func(step string) func(issue.List, *fhirhttp.Response, error) {
		return func(l issue.List, _ *fhirhttp.Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range l.Errors() {
				seen[step+":"+i.Rule] = true
			}
		}
	}

	l, err := c.StandaloneLaunch(ctx, cfg, "launch/patient openid fhirUser offline_access patient/*.rs", fhirBase, agent)
	if err != nil || !l.Token.OK() {
		t.Fatalf("launch: %v", err)
	}
	tok := l.Token.AccessToken
	data := hc.WithToken(fhirhttp.StaticToken(tok))
	fl, err := oauth.CheckFHIRUserReadable(ctx, data, "Patient/"+l.Token.Patient)
	note("fhiruser")(fl, nil, err)
	note("garbage-token")(oauth.ProbeFHIRToken(ctx, hc, "Patient/"+l.Token.Patient, "pacheck-garbage-token", "a garbage token"))
	note("no-token")(oauth.ProbeFHIRToken(ctx, hc, "Patient/"+l.Token.Patient, "", "no token"))
	note("query-token")(oauth.ProbeQueryToken(ctx, hc, "Patient/"+l.Token.Patient, tok))
	if _, err := c.Revoke(ctx, cfg.RevocationEndpoint, tok, "access_token"); err != nil {
		t.Fatal(err)
	}
	note("revoked-token")(oauth.ProbeFHIRToken(ctx, hc, "Patient/"+l.Token.Patient, tok, "a revoked token"))

	// Scope enforcement: only lab Observations may come back.
	l, err = c.StandaloneLaunch(ctx, cfg, "launch/patient "+labScope, fhirBase, agent)
	if err != nil || !l.Token.OK() {
		t.Fatalf("launch: %v", err)
	}
	data = hc.WithToken(fhirhttp.StaticToken(l.Token.AccessToken))
	pages, err := data.SearchAll(ctx, "Observation", url.Values{"patient": {l.Token.Patient}})
	if err != nil {
		t.Fatal(err)
	}
	if pages.Pages[0].Status == 200 {
		note("granular")(oauth.CheckScopeEnforced(l.Token.Scope, "search", pages.Matches()), nil, nil)
	}
	pages, err = data.SearchAll(ctx, "Condition", url.Values{"patient": {l.Token.Patient}})
	if err != nil {
		t.Fatal(err)
	}
	if pages.Pages[0].Status == 200 {
		note("resource-level")(oauth.CheckScopeEnforced(l.Token.Scope, "search", pages.Matches()), nil, nil)
	}
	// Time passes: an old code and an expired access token must be refused.
	req, _ := c.AuthRequest(cfg, "launch/patient patient/*.rs", fhirBase)
	u, _ := req.URL()
	redir, err := oauth.ParseRedirect(httpLogin(t, u))
	if err != nil {
		t.Fatal(err)
	}
	l, err = c.StandaloneLaunch(ctx, cfg, "launch/patient patient/*.rs", fhirBase, agent)
	if err != nil || !l.Token.OK() || l.Token.ExpiresIn <= 0 {
		t.Fatalf("launch: %v", err)
	}
	advance(time.Duration(l.Token.ExpiresIn)*time.Second + time.Hour)
	tr, err := c.Exchange(ctx, redir.Code, req.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	note("old-code")(oauth.CheckRejected(tr, "token request with a code an hour old", "invalid_grant"), nil, nil)
	note("expired-token")(oauth.ProbeFHIRToken(ctx, hc, "Patient/"+l.Token.Patient, l.Token.AccessToken, "an expired token"))

	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestRefServerFHIRSide(t *testing.T) {
	if clean := fhirFindings(t); len(clean) != 0 {
		t.Fatalf("clean server: %v", clean)
	}
	for f, want := range map[string]string{
		auth.FaultInvalidTokenAccepted: "garbage-token:" + oauth.RuleFHIRUnauthorized,
		auth.FaultTokenInQueryAccepted: "query-token:" + oauth.RuleFHIRUnauthorized,
		auth.FaultRevokedTokenAccepted: "revoked-token:" + oauth.RuleFHIRUnauthorized,
		auth.FaultGranularScopeIgnored: "granular:" + oauth.RuleScopeEnforced,
		auth.FaultScopeNotEnforced:     "resource-level:" + oauth.RuleScopeEnforced,
		auth.FaultExpiredTokenAccepted: "expired-token:" + oauth.RuleFHIRUnauthorized,
		auth.FaultCodeNoExpiry:         "old-code:" + oauth.RuleProbeAccepted,
	} {
		t.Run(f, func(t *testing.T) {
			if got := fhirFindings(t, f); !contains(got, want) {
				t.Errorf("fault %s: want %s, got %v", f, want, got)
			}
		})
	}
}
