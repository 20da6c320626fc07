package smart

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

var errNoTarget = errors.New("smart: the run has no target FHIR base URL")

// outcome is a stored probe or measurement result that one spec judges.
type outcome struct {
	issues issue.List
	infra  error
	skip   string // reason; wouldEnable says what would enable it
	enable string
	ev     []*sink
}

func (o *outcome) fail(rule, format string, args ...any) {
	o.issues = append(o.issues, issue.Issue{Severity: issue.Error, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Rule codes of the suite's own judgements.
const (
	ruleLaunch       = "smart-launch.flow"
	ruleProbeCode    = "probe.code-issued"
	ruleProbeOpenRed = "probe.open-redirect"
	ruleDeny         = "probe.deny-not-honoured"
	ruleScopeLeak    = "scopes.data-beyond-scope"
	ruleScopeRefused = "scopes.granted-access-refused"
	ruleConsent      = "consent.declined-scope-granted"
	ruleIsolation    = "isolation.other-member-data"
	ruleRefresh      = "refresh.failed"
	ruleRefreshCtx   = "refresh.patient-context"
)

// launchTrouble turns a launch's trouble into an outcome (nil when the launch went through).
func launchTrouble(l *launch, what string) *outcome {
	o := &outcome{ev: []*sink{l.ev}}
	switch {
	case l.blocked != nil:
		o.infra = l.blocked // reported once by its own spec; the dependant names it
	case l.infra != nil:
		o.infra = fmt.Errorf("%s: %w", what, l.infra)
	case l.browserErr != nil:
		// A browser step failed: the steps or the page are at odds, which the tool cannot judge.
		o.infra = fmt.Errorf("%s: the browser could not complete the sign-in: %w", what, l.browserErr)
	case l.redirectErr != nil:
		o.fail(ruleLaunch, "%s: the redirect to the redirect_uri carried neither code nor error", what)
	case l.redirect != nil && l.redirect.Error != "":
		o.issues = append(o.issues, oauth.CheckRedirect(l.redirect, l.req.State, "")...)
	case l.redirect == nil || l.redirect.Code == "":
		o.fail(ruleLaunch, "%s: no authorization code was issued", what)
	default:
		return nil
	}
	return o
}

// authorizeProbe sends a deviating authorization request and judges whether a code is issued.
// A server may refuse at once (an error page, or a redirect with error to the registered
// redirect_uri); when it shows its login page instead, the browser signs in to see whether a
// code comes back. openRedirect: the probe's redirect_uri is unregistered, so any redirect to it
// (even with an error) is a failure.
func (s *session) authorizeProbe(name, what string, mutate func(*oauth.AuthRequest), capture string, openRedirect bool) *outcome {
	o := &outcome{}
	k := &sink{}
	o.ev = append(o.ev, k)
	// Baseline: the same request without the deviation got a code (the main launch). A refusal
	// means nothing when the regular request fails too.
	if m := s.main(); m.signInFailed {
		o.infra = m.root
		return o
	}
	d := s.discovery()
	if d.infra != nil {
		o.infra = s.discoveryBlock(d)
		return o
	}
	if err := s.vetEndpoints(d); err != nil {
		o.infra = err
		return o
	}
	main := s.set.MainClient()
	req := oauth.NewAuthRequest(d.authorizeEndpoint, main.ClientID, main.RedirectURI, s.scopes(), s.aud())
	mutate(req)
	s.addSensitive(req.Verifier)
	u, err := req.URL()
	if err != nil {
		o.infra = err
		return o
	}
	if capture == "" {
		capture = req.RedirectURI
	}
	ctx, cancel := s.ctx()
	defer cancel()
	status, loc, err := s.rawGet(ctx, u, k)
	if err != nil {
		o.infra = err
		return o
	}
	judgeRedirect := func(r string, via string) bool {
		if !strings.HasPrefix(r, capture) {
			return false
		}
		red, _ := oauth.ParseRedirect(r)
		switch {
		case red != nil && red.Code != "":
			s.addSensitive(red.Code)
			o.fail(ruleProbeCode, "%s: expected the authorization request refused, but an authorization code was issued (%s)", what, via)
		case openRedirect:
			o.fail(ruleProbeOpenRed, "%s: expected an error page, but the server redirected to the unregistered redirect_uri (%s)", what, via)
		default:
			k.note(name, "refused: redirect with error %q (%s)", safeWord(red, "error"), via)
		}
		return true
	}
	switch {
	case status >= 300 && status < 400 && judgeRedirect(loc, "immediate redirect"):
		return o
	case status >= 400:
		k.note(name, "refused at once: the authorization endpoint answered HTTP %d", status)
		return o
	}
	// A login page (or a redirect to one): sign in and see what comes back.
	br, err := s.browser(ctx)
	if err != nil {
		o.infra = err
		return o
	}
	res, err := s.authorize(ctx, br, u, capture, s.set.Login)
	if res != nil {
		k.add(res.Evidence...)
	}
	if err != nil {
		if res != nil && res.Pages > 0 {
			k.note(name, "no authorization code: the flow stopped (%v); with the same steps the regular launch completes, so the server refused the request", err)
			return o
		}
		o.infra = err
		return o
	}
	judgeRedirect(res.RedirectURL, "after signing in")
	return o
}

func safeWord(r *oauth.Redirect, _ string) string {
	if r == nil {
		return ""
	}
	return r.Error
}

// rawGet GETs u without following redirects (the 3xx is the data) and without the bearer
// token, through the run's client: its body, time and header bounds, its origin policy and its
// redacted evidence.
func (s *session) rawGet(ctx context.Context, u string, k *sink) (int, string, error) {
	resp, err := s.http(k).Do(ctx, &fhirhttp.Request{URL: u, NoToken: true, NoRedirect: true,
		Header: http.Header{"Accept": {"text/html"}}})
	if err != nil {
		return 0, "", err
	}
	loc := ""
	if l := resp.Header.Get("Location"); l != "" {
		if base, err := url.Parse(u); err == nil {
			if lu, err := base.Parse(l); err == nil {
				loc = lu.String()
			}
		}
	}
	if code := locCode(loc); code != "" {
		s.addSensitive(code)
	}
	return resp.Status, loc, nil
}

func redactHeaders(sec *fhirhttp.Secrets, h http.Header) map[string][]string {
	out := fhirhttp.RedactHeaders(h)
	for k, vs := range out {
		for i := range vs {
			vs[i] = sec.Redact(vs[i])
		}
		out[k] = vs
	}
	return out
}

func locCode(loc string) string {
	if u, err := url.Parse(loc); err == nil {
		return u.Query().Get("code")
	}
	return ""
}

func credsOf(l Login) browser.Credentials {
	return browser.Credentials{Username: l.Username, Password: l.Password, Member: l.Member, TOTPSecret: l.TOTPSecret}
}

// The authorize-time probes.

func (s *session) probeWrongRedirect() *outcome {
	return s.once("probe:authorize-redirect", func() any {
		const wrong = "https://pacheck-unregistered.invalid/callback"
		o := s.authorizeProbe("wrong redirect_uri", "authorization request with an unregistered redirect_uri",
			func(r *oauth.AuthRequest) { r.RedirectURI = wrong }, wrong, true)
		if o.infra != nil || len(o.issues) > 0 {
			return o
		}
		// The token endpoint must also refuse a redirect_uri other than the authorized one.
		l := s.codeLaunch("token-redirect")
		o.ev = append(o.ev, l.ev)
		if t := launchTrouble(l, "launch for the token-side redirect_uri probe"); t != nil {
			t.ev = o.ev
			return t
		}
		ctx, cancel := s.ctx()
		defer cancel()
		iss, t, err := l.oc.ProbeWrongRedirect(ctx, l.code(), l.req.Verifier)
		if err != nil {
			o.infra = err
			return o
		}
		s.noteToken(t)
		o.issues = append(o.issues, iss...)
		return o
	}).(*outcome)
}

func (s *session) probeUnknownClient() *outcome {
	return s.once("probe:unknown-client", func() any {
		return s.authorizeProbe("unknown client_id", "authorization request with an unregistered client_id",
			func(r *oauth.AuthRequest) { r.ClientID = "pacheck-unregistered-" + oauth.RandomState()[:10] }, "", true)
	}).(*outcome)
}

func (s *session) probeBadAud() *outcome {
	return s.once("probe:bad-aud", func() any {
		return s.authorizeProbe("wrong aud", "authorization request whose aud is not the FHIR base URL",
			func(r *oauth.AuthRequest) { r.Aud = "https://pacheck-wrong-aud.invalid/fhir" }, "", false)
	}).(*outcome)
}

func (s *session) probePKCEPlain() *outcome {
	return s.once("probe:pkce-plain", func() any {
		return s.authorizeProbe("PKCE plain", "authorization request with code_challenge_method=plain",
			func(r *oauth.AuthRequest) { r.Challenge, r.Method = r.Verifier, "plain" }, "", false)
	}).(*outcome)
}

// codeLaunch signs in with the main client and stops at the code (for token-endpoint probes:
// each needs a fresh code, because a code is spent as soon as it is presented).
func (s *session) codeLaunch(name string) *launch {
	return s.doLaunch(launchSpec{name: name, client: s.set.MainClient(), login: s.set.Login})
}

func (s *session) noteToken(t *oauth.TokenResponse) {
	if t != nil {
		s.addSensitive(t.AccessToken, t.RefreshToken, t.IDToken)
	}
}

func (s *session) tokenProbe(key, name string, probe func(context.Context, *launch) (issue.List, *oauth.TokenResponse, error)) *outcome {
	return s.once(key, func() any {
		l := s.codeLaunch(name)
		if t := launchTrouble(l, "launch for the "+name+" probe"); t != nil {
			return t
		}
		ctx, cancel := s.ctx()
		defer cancel()
		o := &outcome{ev: []*sink{l.ev}}
		iss, t, err := probe(ctx, l)
		s.noteToken(t)
		if err != nil {
			o.infra = err
			return o
		}
		o.issues = iss
		return o
	}).(*outcome)
}

func (s *session) probeWrongVerifier() *outcome {
	return s.tokenProbe("probe:wrong-verifier", "wrong code_verifier", func(ctx context.Context, l *launch) (issue.List, *oauth.TokenResponse, error) {
		return l.oc.ProbeWrongVerifier(ctx, l.code())
	})
}

func (s *session) probeMissingVerifier() *outcome {
	return s.tokenProbe("probe:missing-verifier", "missing code_verifier", func(ctx context.Context, l *launch) (issue.List, *oauth.TokenResponse, error) {
		return l.oc.ProbeMissingVerifier(ctx, l.code())
	})
}

// clientWith returns the first configured client (main or extra) using one of methods.
func (s *session) clientWith(methods ...string) (Client, bool) {
	for _, c := range append([]Client{s.set.MainClient()}, s.set.ExtraClients...) {
		if contains(methods, c.method()) {
			if c.RedirectURI == "" {
				c.RedirectURI = s.set.RedirectURI
			}
			return c, true
		}
	}
	return Client{}, false
}

// clientLaunch is a full launch with a client of the given method.
func (s *session) clientLaunch(method string) (*launch, bool) {
	c, ok := s.clientWith(method)
	if !ok {
		return nil, false
	}
	if c.ClientID == s.set.ClientID && c.method() == s.set.MainClient().method() {
		return s.main(), true
	}
	return s.once("launch:client:"+method, func() any {
		return s.doLaunch(launchSpec{name: "client " + method, client: c, login: s.set.Login, exchange: true})
	}).(*launch), true
}

// clientBaseline is the positive case of a client-authentication probe: the launch of client c
// with its right credentials yielded a token (the confidential-* launch spec judges it). Without
// it, a server that refuses the client whatever it sends would pass the probe.
func (s *session) clientBaseline(c Client) *framework.BlockedError {
	l, ok := s.clientLaunch(c.method())
	if !ok {
		return nil
	}
	if l.blocked != nil {
		return l.blocked
	}
	if l == s.main() {
		return l.root
	}
	if t := s.tokenTrouble(l, "launch"); t != nil {
		name := map[string]string{oauth.AuthSecretBasic: "confidential-symmetric-basic", oauth.AuthSecretPost: "confidential-symmetric-post",
			oauth.AuthPrivateKey: "confidential-asymmetric"}[c.method()]
		why := "the launch with the client's registered credentials yielded no token"
		if t.infra != nil {
			why += ": " + t.infra.Error()
		} else if len(t.issues) > 0 {
			why += ": " + t.issues[0].Message
		}
		return &framework.BlockedError{Cause: s.specID("launch/" + name), Reason: s.oneLine(why)}
	}
	return nil
}

func (s *session) probeBadSecret() *outcome {
	return s.once("probe:bad-secret", func() any {
		c, ok := s.clientWith(oauth.AuthSecretBasic, oauth.AuthSecretPost)
		if !ok {
			return &outcome{skip: "no confidential symmetric client (client_secret_basic/post) is configured",
				enable: "a client with a client_secret in the run configuration (client or extra_clients)"}
		}
		if be := s.clientBaseline(c); be != nil {
			return &outcome{infra: be}
		}
		l := s.doLaunch(launchSpec{name: "bad client secret", client: c, login: s.set.Login})
		if t := launchTrouble(l, "launch for the bad client secret probe"); t != nil {
			return t
		}
		ctx, cancel := s.ctx()
		defer cancel()
		o := &outcome{ev: []*sink{l.ev}}
		iss, t, err := l.oc.ProbeBadSecret(ctx, l.code(), l.req.Verifier)
		s.noteToken(t)
		if err != nil {
			o.infra = err
		}
		o.issues = iss
		return o
	}).(*outcome)
}

func (s *session) probeBadAssertion() *outcome {
	return s.once("probe:bad-assertion", func() any {
		c, ok := s.clientWith(oauth.AuthPrivateKey)
		if !ok {
			return &outcome{skip: "no confidential asymmetric client (private_key_jwt) is configured",
				enable: "a client with a private_key in the run configuration (client or extra_clients)"}
		}
		if be := s.clientBaseline(c); be != nil {
			return &outcome{infra: be}
		}
		l := s.doLaunch(launchSpec{name: "bad client assertion", client: c, login: s.set.Login})
		if t := launchTrouble(l, "launch for the bad client assertion probe"); t != nil {
			return t
		}
		ctx, cancel := s.ctx()
		defer cancel()
		o := &outcome{ev: []*sink{l.ev}}
		// A fresh key of the client's own algorithm (an ES256 client gets a P-256 key), so the
		// assertion differs from the registered client's only in the key that signed it.
		iss, t, err := l.oc.ProbeBadAssertion(ctx, l.code(), l.req.Verifier)
		s.noteToken(t)
		if err != nil {
			o.infra = err
			return o
		}
		l.ev.note("bad client assertion", "the client assertion was signed (%s) with a freshly generated key that is not in the client's registered JWKS (same kid %q)", l.oc.AssertionAlg(), c.PrivateKey.KeyID)
		o.issues = iss
		return o
	}).(*outcome)
}

// otherClient is a configured client other than the main one (another client_id), with its
// redirect URI defaulted.
func (s *session) otherClient() (Client, bool) {
	main := s.set.MainClient()
	for _, c := range s.set.ExtraClients {
		if c.ClientID != main.ClientID {
			if c.RedirectURI == "" {
				c.RedirectURI = s.set.RedirectURI
			}
			return c, true
		}
	}
	return Client{}, false
}

// probeCodeOtherClient: a code issued to the main client is redeemed by another registered
// client with its own valid authentication (RFC 6749 §4.1.3: the server MUST ensure the code
// was issued to the authenticated client); it must be refused with invalid_grant.
func (s *session) probeCodeOtherClient() *outcome {
	return s.once("probe:code-other-client", func() any {
		other, ok := s.otherClient()
		if !ok {
			return &outcome{skip: "no second registered client (another client_id than the launch's) is configured, so no other client can present the code",
				enable: "another registered client in the run configuration (auth.extra_clients with its own client_id and credentials)"}
		}
		// Baseline: the other client's credentials work (its own launch yields a token), so a
		// refusal is about whose code it is, not about its authentication.
		if other.method() != oauth.AuthNone {
			if be := s.clientBaseline(other); be != nil {
				return &outcome{infra: be}
			}
		}
		l := s.codeLaunch("code redeemed by another client")
		if t := launchTrouble(l, "launch for the code-redeemed-by-another-client probe"); t != nil {
			return t
		}
		ctx, cancel := s.ctx()
		defer cancel()
		o := &outcome{ev: []*sink{l.ev}}
		oc := s.oauthClient(other, l.oc.TokenEndpoint, l.ev)
		oc.RedirectURI = l.req.RedirectURI // only the client differs from the request that got the code
		t, err := oc.Exchange(ctx, l.code(), l.req.Verifier)
		s.noteToken(t)
		if err != nil {
			o.infra = err
			return o
		}
		l.ev.note("code redeemed by another client", "the code issued to %s was presented, with its right code_verifier and redirect_uri, by %s authenticating with %s",
			l.client.ClientID, other.ClientID, other.method())
		o.issues = oauth.CheckRejected(t, "token request redeeming an authorization code issued to another client", "invalid_grant")
		return o
	}).(*outcome)
}

// probeCodeExpired: a fresh authorization code, held for the lifetime the payer states
// (Settings.CodeLifetime) plus CodeExpiryMargin, is refused with invalid_grant (RFC 6749 §4.1.2:
// "The authorization code MUST expire shortly after it is issued"). A client cannot learn a code's
// lifetime from the wire, so the payer states it; unset, the probe skips rather than wait the ten
// minutes RFC 6749 recommends as the longest lifetime. A stated lifetime over ten minutes is noted
// in the evidence: that recommendation is should-level, the expiry itself is the MUST.
func (s *session) probeCodeExpired() *outcome {
	return s.once("probe:code-expired", func() any {
		life := s.set.CodeLifetime
		if life <= 0 {
			return &outcome{skip: "the lifetime of the server's authorization codes is not stated, and a client cannot learn it from the wire, so the probe does not know how long to hold a code",
				enable: "auth.code_lifetime in the run configuration (the lifetime your authorization server gives codes, e.g. 60s; the probe holds a code that long plus 2 s)"}
		}
		l := s.codeLaunch("code held past its lifetime")
		if t := launchTrouble(l, "launch for the expired-code probe"); t != nil {
			return t
		}
		captured := time.Now()
		o := &outcome{ev: []*sink{l.ev}}
		wait := life + CodeExpiryMargin
		select {
		case <-time.After(wait):
		case <-s.run.Context().Done():
			o.infra = fmt.Errorf("expired-code probe: the run ended while holding the code: %w", s.run.Context().Err())
			return o
		}
		ctx, cancel := s.ctx()
		defer cancel()
		t, err := l.oc.Exchange(ctx, l.code(), l.req.Verifier)
		s.noteToken(t)
		if err != nil {
			o.infra = err
			return o
		}
		held := time.Since(captured).Round(time.Second)
		l.ev.note("code held past its lifetime", "the code was redeemed %v after its redirect was captured; the stated lifetime (auth.code_lifetime) is %v", held, life)
		if life > 10*time.Minute {
			l.ev.note("stated code lifetime", "%v is longer than the 10 minutes RFC 6749 §4.1.2 recommends (RECOMMENDED, should-level)", life)
		}
		o.issues = oauth.CheckRejected(t, fmt.Sprintf("token request redeeming an authorization code %v after issue (stated lifetime %v)", held, life), "invalid_grant")
		return o
	}).(*outcome)
}

// probeDeny: the member presses Deny on the consent page; the redirect URI must receive
// error=access_denied and no code (RFC 6749 §4.1.2.1).
func (s *session) probeDeny() *outcome {
	return s.once("probe:consent-deny", func() any {
		d := s.set.Deny
		if d == nil {
			return &outcome{skip: "no deny steps are configured, so Deny cannot be pressed on the consent page",
				enable: "auth.deny in the run configuration: the browser steps that sign in and press Deny on the consent page"}
		}
		l := s.doLaunch(launchSpec{name: "consent deny", client: s.set.MainClient(),
			login: Login{Username: s.set.Login.Username, Password: s.set.Login.Password, Steps: d.Steps}})
		o := &outcome{ev: []*sink{l.ev}}
		const what = "after the member pressed Deny on the consent page"
		switch {
		case l.blocked != nil:
			o.infra = l.blocked
		case l.infra != nil:
			o.infra = fmt.Errorf("consent deny launch: %w", l.infra)
		case l.browserErr != nil:
			// The steps and the page are at odds: the tool cannot tell what the server did.
			o.infra = fmt.Errorf("consent deny launch: the browser could not complete the deny steps: %w", l.browserErr)
		case l.redirectErr != nil:
			o.fail(ruleDeny, "%s: expected error=access_denied at the redirect_uri, but the redirect carried neither code nor error", what)
		case l.redirect.Code != "":
			o.fail(ruleDeny, "%s: expected error=access_denied at the redirect_uri and no code, but an authorization code was issued", what)
		case l.redirect.Error != "access_denied":
			o.fail(ruleDeny, "%s: expected error=access_denied at the redirect_uri, got error %s", what, oauth.SafeCode(l.redirect.Error))
		default:
			l.ev.note("consent deny", "%s the server redirected to the redirect_uri with error=access_denied and no code", what)
		}
		return o
	}).(*outcome)
}
