package browser_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
)

// galleryScope is what a Patient Access run asks for.
const galleryScope = "launch/patient openid fhirUser offline_access patient/*.rs"

// A helper for step lists: sign in on the one-page form.
var loginStep = browser.Step{When: &browser.When{Selector: "#password"}, Once: true, Actions: []browser.Action{
	{Fill: "#username", Value: "member1"}, {Fill: "#password", Value: "demo-pass-1", Secret: true}, {Click: "text=Sign in"}}}

var approveStep = browser.Step{When: &browser.When{Text: "asks for the access below"}, Actions: []browser.Action{{Click: "#approve"}}}

// galleryCases: for every login style of the reference server, the explicit steps that sign in
// and the patient the token must carry (the default strategy chooses Demo Member 2 on choosers).
var galleryCases = map[string]struct {
	steps   []browser.Step
	patient string
}{
	"default": {[]browser.Step{loginStep, approveStep}, "member-1"},
	"two-page": {[]browser.Step{
		{When: &browser.When{Selector: "#identifier"}, Actions: []browser.Action{{Fill: "#identifier", Value: "member1"}, {Click: "text=next"}}},
		{When: &browser.When{Text: "Signing in as"}, Actions: []browser.Action{{Fill: "#current-password", Value: "demo-pass-1"}, {Click: "#verify-button"}}},
		approveStep}, "member-1"},
	"chooser-select": {[]browser.Step{
		{When: &browser.When{Selector: "select#member"}, Actions: []browser.Action{{Select: "#member", Value: "Demo Member 2 (member-2)"}, {Click: "text=Login"}}},
		approveStep}, "member-2"},
	"chooser-radio": {[]browser.Step{
		{When: &browser.When{Selector: "input[type=radio]"}, Actions: []browser.Action{{Check: "#member-1"}, {Click: "text=Continue"}}},
		approveStep}, "member-2"},
	"chooser-cards": {[]browser.Step{
		{When: &browser.When{Selector: ".card"}, Actions: []browser.Action{{Click: "[data-member=member2]"}}},
		approveStep}, "member-2"},
	"consent-unticked": {[]browser.Step{loginStep,
		{When: &browser.When{Text: "Tick what you want to share"}, Actions: []browser.Action{
			{Check: "input[value='launch/patient']"}, {Check: "input[value='openid']"}, {Check: "input[value='fhirUser']"},
			{Check: "input[value='offline_access']"}, {Check: "input[value='patient/*.rs']"}, {Click: "text=allow"}}}}, "member-1"},
	"link-buttons": {[]browser.Step{loginStep,
		{When: &browser.When{Selector: "div[role=button]#approve"}, Actions: []browser.Action{{Click: "text=Authorize"}}}}, "member-1"},
	"cookie-banner": {[]browser.Step{
		{When: &browser.When{Selector: "#cookie-accept"}, Once: true, Actions: []browser.Action{{Click: "#cookie-accept"}, {Fill: "#username", Value: "member1"},
			{Fill: "#password", Value: "demo-pass-1"}, {Click: "#sign-in"}}},
		approveStep}, "member-1"},
	"js-rendered": {[]browser.Step{loginStep, approveStep}, "member-1"},
	"iframe": {[]browser.Step{{When: &browser.When{Selector: "iframe"}, Frame: "iframe", Actions: []browser.Action{
		{Fill: "#username", Value: "member1"}, {Fill: "#password", Value: "demo-pass-1"}, {Click: "#sign-in"}}}, approveStep}, "member-1"},
	"interstitial": {[]browser.Step{loginStep, approveStep, {When: &browser.When{Text: "you are leaving"}, Actions: []browser.Action{{Click: "text=Continue"}}}}, "member-1"},
	"totp": {[]browser.Step{loginStep,
		{When: &browser.When{Selector: "input[autocomplete=one-time-code]"}, Actions: []browser.Action{{Fill: "#otp", TOTP: true}, {Click: "text=Verify"}}},
		approveStep}, "member-1"},
}

// TestLoginGallery signs in on every login style of the reference server with one Chromium:
// with the default strategy and with explicit steps; the CAPTCHA style stops with one diagnosis.
func TestLoginGallery(t *testing.T) {
	if _, err := browser.FindChromium(""); err != nil {
		t.Skipf("skipping browser test: %v", err)
	}
	ctx := context.Background()
	b, err := browser.Launch(ctx, browser.Options{EvidenceDir: t.TempDir(), StepTimeout: 10 * time.Second, Timeout: 60 * time.Second, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	creds := browser.Credentials{Username: "member1", Password: "demo-pass-1", TOTPSecret: auth.DemoTOTPSecret}
	styles := auth.LoginStyles()
	if len(styles) < 10 {
		t.Errorf("only %d login styles", len(styles))
	}
	for _, st := range styles {
		tc, ok := galleryCases[st.Name]
		if !ok && st.Name != "captcha" {
			t.Errorf("login style %s has no test case", st.Name)
			continue
		}
		srv, c, cfg := galleryServer(t, st.Name)
		for _, mode := range []string{"default strategy", "explicit steps"} {
			t.Run(st.Name+"/"+mode, func(t *testing.T) {
				cr, steps := creds, []browser.Step(nil)
				if mode == "explicit steps" {
					steps = tc.steps
				} else if strings.HasPrefix(st.Name, "chooser-") {
					cr.Member = "Demo Member 2"
				}
				req, err := c.AuthRequest(cfg, galleryScope, srv.URL+"/fhir")
				if err != nil {
					t.Fatal(err)
				}
				u, _ := req.URL()
				res, err := b.AuthorizeAs(ctx, u, c.RedirectURI, cr, steps)
				if st.Name == "captcha" {
					checkCaptcha(t, mode, err)
					return
				}
				if err != nil {
					for _, p := range res.Trace {
						t.Logf("page %s: %s -> %s", p.URL, p.Controls, p.Action)
					}
					t.Fatal(err)
				}
				redir, err := oauth.ParseRedirect(res.RedirectURL)
				if err != nil || redir.Code == "" {
					t.Fatalf("redirect %v: %v", redir, err)
				}
				tr, err := c.Exchange(ctx, redir.Code, req.Verifier)
				if err != nil {
					t.Fatal(err)
				}
				if tr.Patient != tc.patient {
					t.Errorf("patient %q, want %q", tr.Patient, tc.patient)
				}
				if !strings.Contains(" "+tr.Scope+" ", " offline_access ") || !strings.Contains(tr.Scope, "patient/") {
					t.Errorf("granted scope %q lacks what the run asked for", tr.Scope)
				}
				if len(res.Trace) == 0 || res.Trace[0].Controls == "" {
					t.Errorf("no page trace: %+v", res.Trace)
				}
			})
		}
	}
}

func checkCaptcha(t *testing.T, mode string, err error) {
	t.Helper()
	if mode == "explicit steps" {
		if err == nil {
			t.Fatal("signed in past a CAPTCHA")
		}
		return
	}
	if !errors.Is(err, browser.ErrCaptcha) {
		t.Fatalf("want ErrCaptcha, got %v", err)
	}
	var se *browser.StepError
	if !errors.As(err, &se) {
		t.Fatalf("want a StepError, got %T", err)
	}
	for _, want := range []string{"title \"Sign in\"", "#captcha-answer", "password", "\"Sign in\" (#sign-in)", "suggested steps", "- when:", "[screenshot "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the diagnosis lacks %q:\n%s", want, err)
		}
	}
}

// galleryServer serves the auth server with one login style; the public client's redirect is
// the unreachable http://localhost/callback (captured, never loaded).
func galleryServer(t *testing.T, style string) (*httptest.Server, oauth.Client, *oauth.SMARTConfig) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	as, err := auth.New(auth.Config{BaseURL: srv.URL, FHIRBase: srv.URL + "/fhir", LoginStyle: style})
	if err != nil {
		t.Fatal(err)
	}
	as.Register(mux)
	hc, err := fhirhttp.New(fhirhttp.Options{BaseURL: srv.URL + "/fhir"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := oauth.FetchSMARTConfig(context.Background(), hc, srv.URL+"/fhir")
	if err != nil {
		t.Fatal(err)
	}
	return srv, oauth.Client{HTTP: hc, TokenEndpoint: cfg.TokenEndpoint, ClientID: auth.PublicClientID, RedirectURI: "http://localhost/callback"}, cfg
}
