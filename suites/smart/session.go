package smart

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

// sessionKey stores the *session in the run's values.
const sessionKey = "smart.session"

// session holds everything the SMART suite learns in one run: the discovery documents, the
// launches (main and auxiliary), the probes. Each is computed once (the preparer does the main
// launch; probes run lazily the first time a spec needs them) and judged by specs from the stored
// result, so the browser signs in as few times as the selected specs need.
type session struct {
	run     *framework.Run
	set     *Settings // nil when the run is not in browser mode or lacks settings
	setErr  error
	version string // SMART IG version whose scopes the launches use ("2.0.0", "2.2.0" or "1.0.0")
	secrets *fhirhttp.Secrets
	base    *fhirhttp.Client // no recorder: computations take WithRecorder(their sink)

	mu   sync.Mutex
	memo map[string]*memoCell

	brMu  sync.Mutex
	br    *browser.Browser
	brErr error
	slots chan struct{} // one per sign-in allowed at once

	// sensitive lists every secret value the suite handled (tests check none leaks).
	sensMu    sync.Mutex
	sensitive []string
}

type memoCell struct {
	once   sync.Once
	val    any
	panicV any // a panic of the computation, raised again in every caller
}

var sessMu sync.Mutex

// current returns the run's session, creating it on first use.
func current() *session {
	run := framework.Current()
	if run == nil {
		run = &framework.Run{}
	}
	return sessionOf(run)
}

func sessionOf(run *framework.Run) *session {
	sessMu.Lock()
	defer sessMu.Unlock()
	if v, ok := run.Value(sessionKey); ok {
		return v.(*session)
	}
	s := &session{run: run, secrets: &fhirhttp.Secrets{}, memo: map[string]*memoCell{}}
	s.version = "2.0.0"
	vs := run.Versions("smart", "2.0.0")
	if len(vs) > 0 && !contains(vs, "2.0.0") {
		s.version = vs[0]
	}
	if run.Auth.Mode == "browser" {
		set, _ := run.Auth.Extra.(*Settings)
		s.setErr = set.Validate()
		if s.setErr == nil {
			s.set = set
			s.addSensitive(set.ClientSecret, set.Login.Password, set.ExpiredToken)
			if set.SecondMember != nil {
				s.addSensitive(set.SecondMember.Password)
			}
			for _, c := range set.ExtraClients {
				s.addSensitive(c.ClientSecret)
			}
		}
	}
	if run.Auth.Token != "" {
		s.addSensitive(run.Auth.Token)
	}
	if run.Target != "" {
		c, err := fhirhttp.New(withSecrets(run.ClientOptions(), s.secrets))
		if err == nil {
			s.base = c
		} else {
			s.setErr = errors.Join(s.setErr, err)
		}
	}
	s.slots = make(chan struct{}, s.parallel())
	run.SetValue(sessionKey, s)
	return s
}

func withSecrets(o fhirhttp.Options, sec *fhirhttp.Secrets) fhirhttp.Options {
	o.Secrets = sec
	o.Recorder = nil
	return o
}

// addSensitive registers secret values for masking (and for the leak tests).
func (s *session) addSensitive(vals ...string) {
	s.secrets.Add(vals...)
	s.sensMu.Lock()
	defer s.sensMu.Unlock()
	for _, v := range vals {
		if len(v) >= 4 {
			s.sensitive = append(s.sensitive, v)
		}
	}
}

// Sensitive returns the secret values this run's SMART suite handled.
func (s *session) Sensitive() []string {
	s.sensMu.Lock()
	defer s.sensMu.Unlock()
	return append([]string(nil), s.sensitive...)
}

// once computes key's value the first time and returns the stored value afterwards.
func (s *session) once(key string, f func() any) any {
	s.mu.Lock()
	c := s.memo[key]
	if c == nil {
		c = &memoCell{}
		s.memo[key] = c
	}
	s.mu.Unlock()
	c.once.Do(func() {
		defer func() {
			if p := recover(); p != nil {
				c.panicV = p
			}
		}()
		c.val = f()
	})
	if c.panicV != nil {
		panic(c.panicV)
	}
	return c.val
}

// parallel is how many sign-ins may run at once.
func (s *session) parallel() int {
	if s.set == nil || s.set.Browser.Parallel < 1 {
		return 1
	}
	return s.set.Browser.Parallel
}

// authorize signs in through the browser, waiting for a free slot (Settings.Browser.Parallel).
func (s *session) authorize(ctx context.Context, br *browser.Browser, u, capture string, login Login) (*browser.Result, error) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("smart: waiting for a browser slot: %w", ctx.Err())
	}
	defer func() { <-s.slots }()
	return br.AuthorizeAs(ctx, u, capture, credsOf(login), login.Steps)
}

// sink collects the evidence of one computation (HTTP exchanges, browser steps, notes).
type sink struct {
	mu      sync.Mutex
	entries []evidence.Entry
}

func (k *sink) exchange(ex evidence.Exchange) {
	k.add(evidence.Entry{Kind: evidence.KindHTTP, Title: ex.Method + " " + ex.URL, Exchange: &ex})
}

func (k *sink) add(es ...evidence.Entry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.entries = append(k.entries, es...)
}

func (k *sink) note(title, format string, args ...any) {
	k.add(evidence.Entry{Kind: evidence.KindNote, Title: title, Text: fmt.Sprintf(format, args...)})
}

func (k *sink) list() []evidence.Entry {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]evidence.Entry(nil), k.entries...)
}

// http returns the session's bounded client recording into k.
func (s *session) http(k *sink) *fhirhttp.Client { return s.base.WithRecorder(k.exchange) }

// ctx bounds one computation (a launch with its token calls, a probe).
func (s *session) ctx() (context.Context, context.CancelFunc) {
	d := 3 * time.Minute
	if s.set != nil && s.set.Browser.Timeout > 0 {
		d = s.set.Browser.Timeout + 2*time.Minute
	}
	return context.WithTimeout(s.run.Context(), d)
}

// browser returns the run's Chromium, starting it on first use. It is closed by closeBrowser
// (after the suite).
func (s *session) browser(ctx context.Context) (*browser.Browser, error) {
	s.brMu.Lock()
	defer s.brMu.Unlock()
	if s.br != nil || s.brErr != nil {
		return s.br, s.brErr
	}
	o := browser.Options{ExecPath: s.set.Browser.ExecPath, StepTimeout: s.set.Browser.StepTimeout,
		Timeout: s.set.Browser.Timeout, LaunchTimeout: s.set.Browser.LaunchTimeout, IgnoreCertErrors: s.set.Browser.IgnoreCertErrors,
		Credentials:    credsOf(s.set.Login),
		AllowedOrigins: s.run.Auth.AllowedOrigins, Target: s.run.Target}
	if s.run.OutDir != "" {
		o.EvidenceDir = filepath.Join(s.run.OutDir, "browser")
		o.EvidencePrefix = "browser"
	}
	s.br, s.brErr = browser.Launch(ctx, o)
	return s.br, s.brErr
}

// closeBrowser stops Chromium if it was started.
func (s *session) closeBrowser() {
	s.brMu.Lock()
	defer s.brMu.Unlock()
	if s.br != nil {
		_ = s.br.Close()
		s.br = nil
		s.brErr = errors.New("smart: the browser was closed at the end of the suite")
	}
}

// launchSpec describes one authorization through the browser.
type launchSpec struct {
	name     string
	client   Client
	scope    string
	login    Login
	mutate   func(*oauth.AuthRequest) // probes change the request
	capture  string                   // redirect to intercept (default the request's redirect_uri)
	exchange bool                     // trade the code for a token
}

// launch is the stored result of one authorization (and token exchange).
type launch struct {
	name     string
	client   Client
	oc       *oauth.Client // records into ev
	req      *oauth.AuthRequest
	authURL  string
	result   *browser.Result
	redirect *oauth.Redirect
	// browserErr is a failed browser step (or a redirect without code/error); infra is tool trouble
	// before any conformance question could be asked (no Chromium, no endpoint, transport error).
	browserErr  error
	redirectErr error // the captured redirect carries neither code nor error: the server's fault
	infra       error
	// blocked: the launch was not tried because a step it depends on failed earlier in the run
	// (discovery, or the main launch's sign-in / token exchange), so the step is not repeated.
	blocked *framework.BlockedError
	token   *oauth.TokenResponse
	ev      *sink
	// Main launch only: root is the root cause its failure leaves for every dependant (nil when
	// it yielded a token); signInFailed says no code was issued (so no launch of any client is
	// tried again), as opposed to a failed token exchange (only the main client's launches).
	root         *framework.BlockedError
	signInFailed bool
}

// code returns the authorization code ("" when none was issued).
func (l *launch) code() string {
	if l.redirect == nil {
		return ""
	}
	return l.redirect.Code
}

// patient is the launch's patient context: the token's patient, else the id_token fhirUser
// Patient id (a server that omits patient is reported by the patient-context spec only).
func (l *launch) patient() string {
	if l.token == nil {
		return ""
	}
	if l.token.Patient != "" {
		return l.token.Patient
	}
	if l.token.IDToken != "" {
		if tok, _ := oauth.VerifyIDToken(l.token.IDToken, oauth.IDTokenExpect{}); tok != nil {
			if id, ok := strings.CutPrefix(tok.FHIRUser, "Patient/"); ok {
				return id
			}
			if i := strings.Index(tok.FHIRUser, "/Patient/"); i >= 0 {
				return tok.FHIRUser[i+len("/Patient/"):]
			}
		}
	}
	return ""
}

// oauthClient builds the OAuth client for c recording into k.
func (s *session) oauthClient(c Client, tokenEndpoint string, k *sink) *oauth.Client {
	if c.RedirectURI == "" {
		c.RedirectURI = s.set.RedirectURI
	}
	oc := &oauth.Client{HTTP: s.http(k), TokenEndpoint: tokenEndpoint, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		AuthMethod: c.method(), RedirectURI: c.RedirectURI, PrivateKey: c.PrivateKey,
		Target: s.run.Target, AllowedOrigins: s.run.Auth.AllowedOrigins}
	if c.PrivateKey != nil {
		oc.SigningAlg = oauth.KeyAlg(c.PrivateKey) // the key's alg, else its curve's (ES256 for P-256)
	}
	return oc
}

// doLaunch runs one authorization through the browser and, when asked, the token exchange.
func (s *session) doLaunch(ls launchSpec) *launch {
	l := &launch{name: ls.name, client: ls.client, ev: &sink{}}
	if l.client.RedirectURI == "" {
		l.client.RedirectURI = s.set.RedirectURI
	}
	if ls.name != "main" {
		if be := s.launchBlocked(l.client); be != nil {
			l.blocked = be
			return l
		}
	}
	ctx, cancel := s.ctx()
	defer cancel()
	d := s.discovery()
	if d.infra != nil {
		l.blocked = s.discoveryBlock(d)
		return l
	}
	l.oc = s.oauthClient(l.client, d.tokenEndpoint, l.ev)
	if d.authorizeEndpoint == "" {
		l.infra = errors.New("smart: no authorization endpoint in the smart-configuration nor in the CapabilityStatement oauth-uris")
		return l
	}
	if err := s.vetEndpoints(d); err != nil {
		l.infra = err // refused before the browser opens or any credential is sent
		return l
	}
	scope := ls.scope
	if scope == "" {
		scope = s.scopes()
	}
	l.req = oauth.NewAuthRequest(d.authorizeEndpoint, l.client.ClientID, l.client.RedirectURI, scope, s.aud())
	if ls.mutate != nil {
		ls.mutate(l.req)
	}
	s.addSensitive(l.req.Verifier)
	u, err := l.req.URL()
	if err != nil {
		l.infra = err
		return l
	}
	l.authURL = u
	capture := ls.capture
	if capture == "" {
		capture = l.req.RedirectURI
	}
	br, err := s.browser(ctx)
	if err != nil {
		l.infra = err
		return l
	}
	l.ev.note("launch "+ls.name, "client %s (%s), scope %q, redirect_uri %s; login %s", l.client.ClientID, l.client.method(),
		scope, l.client.RedirectURI, loginDesc(ls.login))
	res, err := s.authorize(ctx, br, u, capture, ls.login)
	if res != nil {
		l.result = res
		l.ev.add(res.Evidence...)
		if len(res.Controls) > 0 {
			l.ev.note("default strategy", "%s", strings.Join(res.Controls, "\n"))
		}
	}
	if err != nil {
		var se *browser.StepError
		if errors.As(err, &se) {
			l.browserErr = err
		} else {
			l.infra = err
		}
		return l
	}
	l.redirect, err = oauth.ParseRedirect(res.RedirectURL)
	if l.redirect != nil {
		s.addSensitive(l.redirect.Code)
	}
	if err != nil {
		l.redirectErr = err
		return l
	}
	if !ls.exchange || l.redirect.Code == "" {
		return l
	}
	if d.tokenEndpoint == "" {
		l.infra = errors.New("smart: no token endpoint in the smart-configuration nor in the CapabilityStatement oauth-uris")
		return l
	}
	l.token, err = l.oc.Exchange(ctx, l.redirect.Code, l.req.Verifier)
	if err != nil {
		l.infra = err
		return l
	}
	s.addSensitive(l.token.AccessToken, l.token.RefreshToken, l.token.IDToken)
	return l
}

func loginDesc(l Login) string {
	if len(l.Steps) > 0 {
		return fmt.Sprintf("with %d explicit step(s)", len(l.Steps))
	}
	return "with the default strategy"
}

// scopes requested by the main launch.
func (s *session) scopes() string {
	if s.set != nil && s.set.Scopes != "" {
		return s.set.Scopes
	}
	return DefaultScopes(s.version)
}

// aud is the FHIR base URL without a trailing slash.
func (s *session) aud() string { return strings.TrimRight(s.run.Target, "/") }

// main is the main launch (done by the preparer, or on first need). When it fails, its root
// cause is recorded for the run (framework.RootSignIn): the data suites' specs and every SMART
// spec that needs a sign-in name it instead of repeating the sign-in.
func (s *session) main() *launch {
	return s.once("launch:main", func() any {
		l := s.doLaunch(launchSpec{name: "main", client: s.set.MainClient(), login: s.set.Login, exchange: true})
		l.root, l.signInFailed = s.mainRoot(l)
		if l.root != nil {
			s.run.SetRootCause(framework.RootSignIn, evidence.Blocked{Cause: l.root.Cause, Reason: l.root.Reason})
		}
		return l
	}).(*launch)
}

// vetEndpoints refuses discovered endpoints that may not receive the member's or the client's
// credentials (not http(s), plain http for an https target, an origin auth.allowed_origins does
// not list), before any sign-in or token request.
func (s *session) vetEndpoints(d *disc) error {
	for _, f := range [][2]string{{"authorization_endpoint", d.authorizeEndpoint}, {"token_endpoint", d.tokenEndpoint}} {
		if f[1] == "" {
			continue
		}
		if err := oauth.VetField(f[0], s.run.Target, f[1], s.run.Auth.AllowedOrigins); err != nil {
			return fmt.Errorf("smart: %w", err) // the first refusal: one line
		}
	}
	return nil
}

// specID is the id of a spec of the session's SMART version (the one whose specs report the
// shared launches' own failures).
func (s *session) specID(section string) string { return "smart-" + s.version + "/" + section }

// mainRoot classifies the main launch's failure (nil when it yielded a token).
func (s *session) mainRoot(l *launch) (*framework.BlockedError, bool) {
	standalone := s.specID("launch/standalone")
	var why string
	switch {
	case l.blocked != nil:
		return l.blocked, true
	case l.infra != nil:
		why = "the standalone launch could not run: " + l.infra.Error()
	case l.browserErr != nil:
		why = "the browser could not get past the sign-in: " + l.browserErr.Error()
	case l.redirectErr != nil:
		why = "the redirect to the redirect_uri carried neither code nor error"
	case l.redirect == nil || l.redirect.Code == "":
		e := ""
		if l.redirect != nil {
			e = l.redirect.Error
		}
		why = fmt.Sprintf("the authorization server issued no code (error %q)", e)
	case l.token == nil || !l.token.OK():
		status, e := 0, ""
		if l.token != nil {
			status, e = l.token.Status, l.token.Error
		}
		return &framework.BlockedError{Cause: standalone, Reason: s.oneLine(fmt.Sprintf("the token exchange answered HTTP %d (error %q)", status, e))}, false
	default:
		return nil, false
	}
	return &framework.BlockedError{Cause: standalone, Reason: s.oneLine(why)}, true
}

// oneLine redacts msg and keeps its first line (root-cause reasons are one line, secret-free).
func (s *session) oneLine(msg string) string {
	msg = s.secrets.Redact(msg)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

// launchBlocked returns the root cause that keeps a launch with client c from being tried: no
// launch when the main sign-in issued no code, no launch of the main client when its token
// exchange failed (the probes and auxiliary launches would only repeat the failed step).
func (s *session) launchBlocked(c Client) *framework.BlockedError {
	m := s.main()
	if m.root == nil {
		return nil
	}
	if m.signInFailed || (c.ClientID == m.client.ClientID && c.method() == m.client.method()) {
		return m.root
	}
	return nil
}

// discoveryBlock is the root cause of a launch that could not start because discovery failed.
func (s *session) discoveryBlock(d *disc) *framework.BlockedError {
	return &framework.BlockedError{Cause: s.specID("discovery/well-known"), Reason: s.oneLine("discovery failed: " + d.infra.Error())}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
