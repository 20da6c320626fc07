package smart

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/runner"
)

// Child runs: Ginkgo allows one RunSpecs per process, so each run against the reference server
// re-executes this test binary (TestHelperRun) with a JSON job in $PACHECK_SMART_CHILD and reads
// the outcomes the child writes.

const childEnv = "PACHECK_SMART_CHILD"

// testCodeLifetime is the test server's authorization-code lifetime, stated to the suite so the
// code-expiry probe waits seconds.
const testCodeLifetime = 5 * time.Second

type childJob struct {
	Variant     string   `json:"variant"` // "default" (default strategy) or "steps" (explicit login steps)
	Faults      []string `json:"faults"`
	OutDir      string   `json:"outDir"`
	Result      string   `json:"result"`
	LabelFilter string   `json:"labelFilter"`
	Focus       []string `json:"focus"`
	SMART       string   `json:"smart"`      // "1.0.0" runs the reference server as SMART 1.0 and the 1.0.0 specs
	Parallel    int      `json:"parallel"`   // Settings.Browser.Parallel
	DeadTarget  bool     `json:"deadTarget"` // the run's target is a closed port
}

type childResult struct {
	Outcomes   map[string]string `json:"outcomes"`
	Failures   map[string]string `json:"failures"`
	PrepareErr string            `json:"prepareErr"`
	Secrets    []string          `json:"secrets"` // every token, code, secret and password of the run
	Seconds    float64           `json:"seconds"`
	// Authorizations counts the authorization requests the server received (each sign-in
	// starts with one), so a test can show a failed sign-in is not repeated.
	Authorizations int                         `json:"authorizations"`
	Blocked        map[string]evidence.Blocked `json:"blocked"` // spec id -> root cause it names
	RootCauses     map[string]evidence.Blocked `json:"rootCauses"`
}

// tokenSniffer records every secret value the token endpoint hands out, independently of the suite.
type tokenSniffer struct {
	mu           sync.Mutex
	vals         []string
	next         http.Handler
	authorizeURL *regexp.Regexp
	authorizes   int
}

type capture struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (c *capture) Write(b []byte) (int, error) { c.buf.Write(b); return c.ResponseWriter.Write(b) }

func (t *tokenSniffer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && t.authorizeURL != nil && t.authorizeURL.MatchString(r.URL.Path+"?"+r.URL.RawQuery) && r.URL.Query().Get("response_type") != "" {
		t.mu.Lock()
		t.authorizes++
		t.mu.Unlock()
	}
	if !strings.HasSuffix(r.URL.Path, "/token") {
		if strings.HasSuffix(r.URL.Path, "/authorize") {
			// codes are in the Location of the redirect: capture them after the fact
			cw := &locCapture{ResponseWriter: w}
			t.next.ServeHTTP(cw, r)
			if c := locCode(cw.Header().Get("Location")); c != "" {
				t.add(c)
			}
			return
		}
		t.next.ServeHTTP(w, r)
		return
	}
	cw := &capture{ResponseWriter: w}
	t.next.ServeHTTP(cw, r)
	var m map[string]any
	if json.Unmarshal(cw.buf.Bytes(), &m) == nil {
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if s, _ := m[k].(string); s != "" {
				t.add(s)
			}
		}
	}
}

type locCapture struct{ http.ResponseWriter }

func (t *tokenSniffer) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.vals = append(t.vals, s)
}

func loginSteps(user, pass string, extra ...browser.Action) []browser.Step {
	consent := append(extra, browser.Action{Screenshot: "consent"}, browser.Action{Click: "#approve"})
	return []browser.Step{
		{URL: `/auth/authorize\?`, Once: true, Actions: []browser.Action{
			{Wait: "#username"},
			{Fill: "#username", Value: user},
			{Fill: "#password", Value: pass, Secret: true},
			{Click: "#sign-in"},
		}},
		{URL: `/auth/authorize$`, Actions: consent},
	}
}

// denySteps sign in and press Deny on the reference server's consent page.
func denySteps(user, pass string) []browser.Step {
	return []browser.Step{
		{URL: `/auth/authorize\?`, Once: true, Actions: []browser.Action{
			{Wait: "#username"},
			{Fill: "#username", Value: user},
			{Fill: "#password", Value: pass, Secret: true},
			{Click: "#sign-in"},
		}},
		{URL: `/auth/authorize$`, Actions: []browser.Action{{Screenshot: "consent-deny"}, {Click: "#deny"}}},
	}
}

// settingsFor builds the suite's settings for the reference server.
func settingsFor(variant string, srv *refserver.Server) *Settings {
	key := auth.DemoJWTClientKey()
	redirect := "http://localhost/callback"
	u1, u2 := auth.MemberUser(1), auth.MemberUser(2)
	set := &Settings{
		ClientID: auth.PublicClientID, RedirectURI: redirect, CodeLifetime: testCodeLifetime,
		Login: Login{Username: u1.Username, Password: u1.Password},
		ExtraClients: []Client{
			{ClientID: auth.ConfidentialClientID, ClientSecret: auth.ConfidentialClientSecret, AuthMethod: "client_secret_basic"},
			{ClientID: auth.ConfidentialClientID, ClientSecret: auth.ConfidentialClientSecret, AuthMethod: "client_secret_post"},
			{ClientID: auth.JWTClientID, PrivateKey: &key, AuthMethod: "private_key_jwt"},
		},
		Consent: &Consent{Scope: "offline_access", Steps: loginSteps(u1.Username, u1.Password,
			browser.Action{Uncheck: `input[name=grant][value="offline_access"]`})},
		Deny:    &Deny{Steps: denySteps(u1.Username, u1.Password)},
		Browser: BrowserOptions{LaunchTimeout: 2 * time.Minute, Timeout: 3 * time.Minute, StepTimeout: 45 * time.Second},
		ExpiredToken: srv.Auth().MintToken(auth.Grant{ClientID: auth.PublicClientID, Patient: u1.Patient, FHIRUser: u1.FHIRUser,
			Scopes: []string{"launch/patient", "patient/*.rs"}, ExpiresAt: time.Now().Add(-time.Hour)}),
	}
	// The member portal's EHR launch (default strategy on the portal's sign-in and launch control).
	set.Portal = &Portal{URL: srv.Auth().Endpoints().Portal, LaunchURL: auth.DefaultLaunchURI}
	switch variant {
	case "wrongpass": // the member's password is wrong: the sign-in cannot get past the login page
		set.Login.Password = "not-the-password"
		set.OtherPatient = u2.Patient
	case "fileauth": // the smart-configuration names file:///etc/passwd as authorization_endpoint
		set.OtherPatient = u2.Patient
	case "intro-refused": // introspection refuses bearer tokens and no confidential client is configured
		set.ExtraClients = nil
		set.OtherPatient = u2.Patient
	case "minimal": // one member, no confidential client, no consent or deny steps
		set.ExtraClients, set.Consent, set.Deny, set.Portal = nil, nil, nil, nil
	case "badsteps": // steps that match no page: a configuration problem, never a verdict on the server
		set.Login.Steps = []browser.Step{{URL: `/no-such-page`, Actions: []browser.Action{{Click: "#nothing"}}}}
		set.OtherPatient = u2.Patient
	case "steps":
		set.Login.Steps = loginSteps(u1.Username, u1.Password)
		set.SecondMember = &Login{Steps: loginSteps(u2.Username, u2.Password)}
	case "default":
		set.SecondMember = &Login{Username: u2.Username, Password: u2.Password}
	default: // fault runs: cheaper isolation probe
		set.OtherPatient = u2.Patient
	}
	return set
}

// fileAuthorize makes the smart-configuration name a local file as its authorization_endpoint.
func fileAuthorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/.well-known/smart-configuration") {
			next.ServeHTTP(w, r)
			return
		}
		cw := &capture{ResponseWriter: discardWriter{h: http.Header{}}}
		next.ServeHTTP(cw, r)
		var m map[string]any
		if err := json.Unmarshal(cw.buf.Bytes(), &m); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		m["authorization_endpoint"] = "file:///etc/passwd"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	})
}

// refuseBearerIntrospection makes the introspection endpoint refuse bearer tokens (401
// invalid_token), as a server that lets only authenticated clients introspect does.
func refuseBearerIntrospection(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/introspect") && strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "bearer ") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_token","error_description":"introspection needs client authentication"}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statedResourceScopes makes the token endpoint state only the resource scopes it granted
// (patient/, user/, system/), as oidc-provider does: the refresh token is still issued although
// the stated scope names no offline_access. With refuseRefresh the refresh_token grant is also
// refused (400 unsupported_grant_type).
func statedResourceScopes(next http.Handler, refuseRefresh bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/token") || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if refuseRefresh && r.FormValue("grant_type") == "refresh_token" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"unsupported_grant_type"}`))
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		var m map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &m) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		if sc, ok := m["scope"].(string); ok {
			var keep []string
			for _, f := range strings.Fields(sc) {
				if strings.HasPrefix(f, "patient/") || strings.HasPrefix(f, "user/") || strings.HasPrefix(f, "system/") {
					keep = append(keep, f)
				}
			}
			m["scope"] = strings.Join(keep, " ")
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_ = json.NewEncoder(w).Encode(m)
	})
}

// narrowRotated makes the token endpoint rotate the refresh token on a refresh that names a scope
// and tie the new one to that scope, as some servers do (RFC 6749 section 6 wants the rotated
// token's scope unchanged): a later refresh naming a non-resource scope beyond it is refused with
// invalid_scope; resource scopes go on to the reference server (whose faults judge them).
func narrowRotated(next http.Handler) http.Handler {
	var mu sync.Mutex
	type alias struct {
		rt     string
		scopes []string
	}
	aliases := map[string]alias{}
	n := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/token") || r.Method != http.MethodPost || r.FormValue("grant_type") != "refresh_token" {
			next.ServeHTTP(w, r)
			return
		}
		asked := r.PostForm.Get("scope")
		mu.Lock()
		a, known := aliases[r.PostForm.Get("refresh_token")]
		mu.Unlock()
		if known {
			for _, sc := range strings.Fields(asked) {
				resource := strings.HasPrefix(sc, "patient/") || strings.HasPrefix(sc, "user/") || strings.HasPrefix(sc, "system/")
				if !resource && !slices.Contains(a.scopes, sc) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error":"invalid_scope","error_description":"beyond the rotated refresh token's scope"}`))
					return
				}
			}
			r.PostForm.Set("refresh_token", a.rt)
			body := r.PostForm.Encode()
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
			r.Form = nil // parsed again from the new body
			r.PostForm = nil
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		rt, _ := m["refresh_token"].(string)
		if rec.Code != http.StatusOK || asked == "" || rt == "" {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		mu.Lock()
		n++
		id := fmt.Sprintf("rotated-narrowed-%d-%s", n, rt)
		aliases[id] = alias{rt: rt, scopes: strings.Fields(asked)}
		mu.Unlock()
		m["refresh_token"] = id
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_ = json.NewEncoder(w).Encode(m)
	})
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// TestHelperRun is the child process body; it does nothing in a normal test run.
func TestHelperRun(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("helper process for the reference-server runs")
	}
	var job childJob
	if err := json.Unmarshal([]byte(raw), &job); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := fault.Set{}
	for _, f := range job.Faults {
		fs[f] = true
	}
	logf, err := os.Create(filepath.Join(job.OutDir, "refserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cfg := refserver.Config{Members: 3, Seed: 1, Faults: fs, BaseURL: "http://" + ln.Addr().String(), CodeLifetime: testCodeLifetime,
		Logger: slog.New(slog.NewTextHandler(logf, nil))}
	version := "2.0.0"
	if job.SMART == "1.0.0" {
		cfg.SMARTVersion, version = "1.0", "1.0.0"
	}
	if job.SMART == "2.2.0" { // the server's 2.0 behaviour plus CORS, which it always has
		version = "2.2.0"
	}
	srv, err := refserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv.Handler()
	if job.Variant == "fileauth" {
		h = fileAuthorize(h)
	}
	if strings.HasPrefix(job.Variant, "intro-") {
		h = refuseBearerIntrospection(h)
	}
	if job.Variant == "narrow-rotated" {
		h = narrowRotated(h)
	}
	if strings.HasPrefix(job.Variant, "stated-resources") {
		h = statedResourceScopes(h, job.Variant == "stated-resources-refresh-refused")
	}
	sniff := &tokenSniffer{next: h, authorizeURL: regexp.MustCompile(`/authorize\?`)}
	hs := &http.Server{Handler: sniff}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	set := settingsFor(job.Variant, srv)
	set.Browser.Parallel = job.Parallel
	run := &framework.Run{Target: srv.FHIRBase(), Suites: []string{Area}, IGs: map[string][]string{"smart": {version}},
		OutDir: job.OutDir, Auth: framework.Auth{Mode: "browser", Extra: set}}
	if job.Variant == "token" {
		u1 := auth.MemberUser(1)
		run.Auth = framework.Auth{Mode: "token", Token: srv.Auth().MintToken(auth.Grant{ClientID: auth.PublicClientID,
			Patient: u1.Patient, FHIRUser: u1.FHIRUser, Scopes: []string{"launch/patient", "patient/*.rs"}})}
		run.Patients = []string{u1.Patient}
	}
	if job.DeadTarget {
		dead, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		run.Target = "http://" + dead.Addr().String() + "/fhir"
		dead.Close() // nothing listens there: every connection is refused
	}
	framework.Set(run)
	res := childResult{Outcomes: map[string]string{}, Failures: map[string]string{}, Blocked: map[string]evidence.Blocked{}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := framework.Prepare(ctx, run); err != nil {
		res.PrepareErr = err.Error()
	}
	glog, err := os.Create(filepath.Join(job.OutDir, "ginkgo.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer glog.Close()
	report, err := runner.Run(runner.Options{Run: run, LabelFilter: job.LabelFilter, Focus: job.Focus, Output: glog, Verbose: true, Timeout: 8 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range report.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || (s.State == types.SpecStateSkipped && s.Failure.Message == "") {
			continue // not a spec, or left out by the focus
		}
		id := runner.SpecID(s)
		res.Outcomes[id] = runner.Outcome(s)
		if s.Failure.Message != "" {
			res.Failures[id] = s.Failure.Message
		}
		for _, e := range s.ReportEntries {
			if b, ok := e.Value.GetRawValue().(evidence.Blocked); ok && e.Name == evidence.BlockedEntryName {
				res.Blocked[id] = b
			}
		}
	}
	res.RootCauses = run.RootCauses()
	if b, err := json.MarshalIndent(report, "", " "); err == nil {
		_ = os.WriteFile(filepath.Join(job.OutDir, "report.json"), b, 0o644)
	}
	sniff.mu.Lock()
	res.Secrets = append(res.Secrets, sniff.vals...)
	res.Authorizations = sniff.authorizes
	sniff.mu.Unlock()
	res.Secrets = append(res.Secrets, sessionOf(run).Sensitive()...)
	res.Secrets = append(res.Secrets, auth.ConfidentialClientSecret, "demo-pass-1", "demo-pass-2", set.ExpiredToken)
	res.Seconds = time.Since(start).Seconds()
	b, _ := json.Marshal(res)
	if err := os.WriteFile(job.Result, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runChild runs one job in a child process and returns its result and combined output.
func runChild(t *testing.T, job childJob) (childResult, []byte) {
	t.Helper()
	if _, err := browser.FindChromium(""); err != nil {
		t.Skipf("no Chromium: %v", err)
	}
	if job.OutDir == "" {
		job.OutDir = t.TempDir()
	}
	job.Result = filepath.Join(t.TempDir(), "result.json")
	raw, _ := json.Marshal(job)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRun$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	out, err := cmd.CombinedOutput()
	var res childResult
	b, rerr := os.ReadFile(job.Result)
	if rerr != nil {
		t.Fatalf("child run %v failed: %v %v\n%s", job.Faults, err, rerr, tail(out, 4000))
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res, out
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func summarize(res childResult) string {
	var ids []string
	for id, o := range res.Outcomes {
		if o != "pass" {
			ids = append(ids, fmt.Sprintf("%s=%s: %s", id, o, firstLine(res.Failures[id])))
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, "\n")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func expectAllPass(t *testing.T, res childResult) {
	t.Helper()
	if res.PrepareErr != "" {
		t.Errorf("prepare: %s", res.PrepareErr)
	}
	if len(res.Outcomes) < 30 {
		t.Errorf("only %d specs ran", len(res.Outcomes))
	}
	for id, o := range res.Outcomes {
		// The reference server here speaks plain http (Chromium does not trust a test CA), so
		// the transport specs skip; their https runs are the fault catalogue's.
		if o == "skip" && strings.Contains(id, "/transport/") && strings.Contains(res.Failures[id], "is not https") {
			continue
		}
		// A standalone patient launch carries no fhirContext (nothing else is in context); the
		// EHR launch's does (ehr-launch/fhir-context).
		if o == "skip" && strings.HasSuffix(id, "/token/fhir-context") && strings.Contains(res.Failures[id], "carries no fhirContext") {
			continue
		}
		if o != "pass" {
			t.Errorf("%s: %s: %s", id, o, res.Failures[id])
		}
	}
}

func TestReferenceServerDefaultStrategy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	out := t.TempDir()
	res, log := runChild(t, childJob{Variant: "default", OutDir: out})
	t.Logf("default strategy run: %d specs in %.0fs", len(res.Outcomes), res.Seconds)
	expectAllPass(t, res)
	shots, _ := filepath.Glob(filepath.Join(out, "browser", "*.png"))
	if len(shots) < 20 {
		t.Errorf("expected a screenshot per page of each sign-in, found %d", len(shots))
	}
	noSecrets(t, out, log, res.Secrets)
}

// TestReferenceServerParallel: with sign-ins run ahead of the specs, several at once, every spec
// still passes and no secret leaks.
func TestReferenceServerParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	out := t.TempDir()
	res, log := runChild(t, childJob{Variant: "default", OutDir: out, Parallel: 4})
	t.Logf("parallel sign-ins run: %d specs in %.0fs", len(res.Outcomes), res.Seconds)
	expectAllPass(t, res)
	noSecrets(t, out, log, res.Secrets)
}

// TestParallelSignsInOnlyForSelectedSpecs: the sign-ins that run ahead are those of the specs
// the focus selects (here the main launch and one probe: a login and a consent page each).
func TestParallelSignsInOnlyForSelectedSpecs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	out := t.TempDir()
	res, _ := runChild(t, childJob{Variant: "default", OutDir: out, Parallel: 4, Focus: focusFor([]string{p + "probes/wrong-pkce-verifier"})})
	if len(res.Outcomes) != 1 || res.Outcomes[p+"probes/wrong-pkce-verifier"] != "pass" {
		t.Errorf("outcomes %v", res.Outcomes)
	}
	shots, _ := filepath.Glob(filepath.Join(out, "browser", "*.png"))
	if len(shots) != 4 {
		t.Errorf("%d screenshots, want 4 (two sign-ins, a login and a consent page each)", len(shots))
	}
}

func TestReferenceServerExplicitSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	out := t.TempDir()
	res, log := runChild(t, childJob{Variant: "steps", OutDir: out})
	t.Logf("explicit steps run: %d specs in %.0fs", len(res.Outcomes), res.Seconds)
	expectAllPass(t, res)
	noSecrets(t, out, log, res.Secrets)
}

// noSecrets greps every file of the output folder and the captured logs for every secret value.
func noSecrets(t *testing.T, dir string, log []byte, secrets []string) {
	t.Helper()
	var uniq []string
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) >= 6 && !seen[s] {
			seen[s] = true
			uniq = append(uniq, s)
		}
	}
	if len(uniq) < 10 {
		t.Errorf("only %d secret values collected: the leak check would prove little", len(uniq))
	}
	check := func(name string, data []byte) {
		for _, s := range uniq {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains a secret value (%d chars, starts %q)", name, len(s), s[:3])
			}
		}
	}
	check("child output", log)
	files := 0
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		data, _ := io.ReadAll(f)
		files++
		check(p, data)
		return nil
	})
	if files < 3 {
		t.Errorf("only %d files in the output folder", files)
	}
}

// TestBrokenStepsAreErrors: when the configured steps do not fit the pages, the specs that need a
// launch end as errors (tool/config trouble), the others still judge the server.
func TestBrokenStepsAreErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	// The probes are blocked too: without a working launch, a refusal would show nothing.
	want := map[string]string{
		p + "discovery/well-known":       "pass",
		p + "launch/standalone":          "error",
		p + "token/type-bearer":          "error",
		p + "probes/wrong-pkce-verifier": "error",
		p + "probes/missing-token":       "error",
		p + "probes/bad-aud":             "error",
	}
	var ids []string
	for id := range want {
		ids = append(ids, id)
	}
	res, _ := runChild(t, childJob{Variant: "badsteps", Focus: focusFor(ids)})
	if res.PrepareErr == "" || !strings.Contains(res.PrepareErr, "no step") {
		t.Errorf("prepare error %q, want one naming the unmatched step", res.PrepareErr)
	}
	for id, w := range want {
		if res.Outcomes[id] != w {
			t.Errorf("%s: outcome %q, want %q (%s)", id, res.Outcomes[id], w, firstLine(res.Failures[id]))
		}
		if b, blocked := res.Blocked[id]; w == "error" && id != p+"launch/standalone" && (!blocked || b.Cause != p+"launch/standalone") {
			t.Errorf("%s: blocked by %q, want blocked by the launch (%s)", id, b.Cause, firstLine(res.Failures[id]))
		}
	}
}

// TestSMARTv1: against the reference server in SMART 1.0 mode, the 1.0.0 specs that need no extra
// sign-in pass (v1 scopes, the CapabilityStatement oauth-uris extension required).
func TestSMARTv1(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	var ids []string
	for _, c := range cheap {
		if c != "discovery/s256-required" && c != "probes/pkce-plain-refused" { // 2.0-only requirements
			ids = append(ids, "smart-1.0.0/"+c)
		}
	}
	res, _ := runChild(t, childJob{Variant: "faults", SMART: "1.0.0", Focus: focusFor(ids)})
	t.Logf("SMART 1.0 run: %d specs in %.0fs", len(res.Outcomes), res.Seconds)
	if res.PrepareErr != "" {
		t.Errorf("prepare: %s", res.PrepareErr)
	}
	if len(res.Outcomes) != len(ids) {
		t.Errorf("%d specs ran, want %d", len(res.Outcomes), len(ids))
	}
	for id, o := range res.Outcomes {
		if o != "pass" {
			t.Errorf("%s: %s: %s", id, o, res.Failures[id])
		}
	}
}

// TestTokenMode: with a given bearer token the suite performs no launch: the launch specs skip
// saying why, and the checks that need no launch still judge the server.
func TestTokenMode(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child run")
	}
	t.Parallel()
	res, _ := runChild(t, childJob{Variant: "token"})
	want := map[string]string{
		p + "discovery/well-known":     "pass",
		p + "discovery/s256-required":  "pass",
		p + "launch/standalone":        "skip",
		p + "token/type-bearer":        "skip",
		p + "probes/missing-token":     "pass",
		p + "probes/garbage-token":     "pass",
		p + "probes/expired-token":     "skip",
		p + "probes/token-in-query":    "pass",
		p + "probes/other-member-data": "skip",
	}
	if res.PrepareErr != "" {
		t.Errorf("prepare: %s", res.PrepareErr)
	}
	for id, w := range want {
		if res.Outcomes[id] != w {
			t.Errorf("%s: outcome %q, want %q (%s)", id, res.Outcomes[id], w, firstLine(res.Failures[id]))
		}
	}
	for id, o := range res.Outcomes {
		if o == "fail" || o == "error" {
			t.Errorf("%s: %s in token mode: %s", id, o, firstLine(res.Failures[id]))
		}
	}
}

// TestIntrospectionAuthFallback: against an introspection endpoint that refuses bearer tokens,
// the suite falls back to a confidential client's authentication and says which way worked; with
// no client to fall back on, the introspection specs end as errors (the tool could not authorize
// the call), never as failures of the server.
func TestIntrospectionAuthFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	ids := []string{p + "introspection/active", p + "introspection/inactive"}
	for _, tc := range []struct {
		variant, want, evidence string
	}{
		{"intro-client", "pass", "authorized with client_secret_basic (client " + auth.ConfidentialClientID + ")"},
		{"intro-refused", "error", "refused every way pacheck could authorize the call"},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			res, _ := runChild(t, childJob{Variant: tc.variant, OutDir: out, Focus: focusFor(ids)})
			if len(res.Outcomes) != len(ids) {
				t.Errorf("%d specs ran, want %d", len(res.Outcomes), len(ids))
			}
			for id, o := range res.Outcomes {
				if o != tc.want {
					t.Errorf("%s: %s, want %s: %s", id, o, tc.want, firstLine(res.Failures[id]))
				}
			}
			report, err := os.ReadFile(filepath.Join(out, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(report, []byte(tc.evidence)) {
				t.Errorf("the report does not say %q", tc.evidence)
			}
		})
	}
}

// TestRefreshWithoutStatedOfflineScope: a server that issues a refresh token but states only the
// resource scopes it granted (SMART: the stated scope "can be different from the scopes
// requested") has its refresh exercised and judged, the data note saying the stated scope named
// no offline access; only when no refresh token is issued do the refresh specs skip.
func TestRefreshWithoutStatedOfflineScope(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	refresh, narrow, widen := p+"token/refresh", p+"token/refresh-narrowing", p+"token/refresh-widening-refused"
	for _, tc := range []struct {
		name, variant string
		faults        []string
		want          map[string]string
		failure       map[string]string // spec -> text its failure or skip message contains
		note          string            // text the report must contain
	}{
		{name: "refresh-issued", variant: "stated-resources",
			want: map[string]string{refresh: "pass", narrow: "pass", widen: "pass"},
			note: "names neither offline_access nor online_access"},
		{name: "refresh-refused", variant: "stated-resources-refresh-refused",
			want:    map[string]string{refresh: "fail", narrow: "error", widen: "error"},
			failure: map[string]string{refresh: "unsupported_grant_type"}},
		{name: "resource-widening", variant: "stated-resources", faults: []string{auth.FaultRefreshResourceWidening},
			want:    map[string]string{refresh: "pass", narrow: "pass", widen: "fail"},
			failure: map[string]string{widen: "patient/*.cud"}},
		{name: "no-refresh-token", variant: "stated-resources", faults: []string{auth.FaultRefreshDisabled},
			want: map[string]string{refresh: "skip", narrow: "skip", widen: "skip"},
			failure: map[string]string{refresh: "no refresh token was issued and neither offline_access nor online_access was granted",
				widen: "to enable: request offline_access or online_access"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			res, _ := runChild(t, childJob{Variant: tc.variant, Faults: tc.faults, OutDir: out, Focus: focusFor([]string{refresh, narrow, widen})})
			if res.PrepareErr != "" {
				t.Errorf("prepare: %s", res.PrepareErr)
			}
			for id, w := range tc.want {
				if res.Outcomes[id] != w {
					t.Errorf("%s: outcome %q, want %q (%s)", id, res.Outcomes[id], w, firstLine(res.Failures[id]))
				}
			}
			for id, text := range tc.failure {
				if !strings.Contains(res.Failures[id], text) {
					t.Errorf("%s: message %q does not contain %q", id, firstLine(res.Failures[id]), text)
				}
			}
			if tc.note != "" {
				report, err := os.ReadFile(filepath.Join(out, "report.json"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(report, []byte(tc.note)) {
					t.Errorf("the report does not say %q", tc.note)
				}
			}
		})
	}
}

// TestRefreshWideningAfterNarrowedRotation: against a server that ties a rotated refresh token to
// the narrowed scope, the widening probe asks on top of that scope, so a server granting an
// ungranted resource scope is still caught (asking on top of the original grant, the refusal of
// the dropped scopes hid it).
func TestRefreshWideningAfterNarrowedRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	refresh, narrow, widen := p+"token/refresh", p+"token/refresh-narrowing", p+"token/refresh-widening-refused"
	for _, tc := range []struct {
		name   string
		faults []string
		want   map[string]string
	}{
		{"conformant", nil, map[string]string{refresh: "pass", narrow: "pass", widen: "pass"}},
		{"resource-widening", []string{auth.FaultRefreshResourceWidening}, map[string]string{refresh: "pass", narrow: "pass", widen: "fail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, _ := runChild(t, childJob{Variant: "narrow-rotated", Faults: tc.faults, Focus: focusFor([]string{refresh, narrow, widen})})
			if res.PrepareErr != "" {
				t.Errorf("prepare: %s", res.PrepareErr)
			}
			for id, w := range tc.want {
				if res.Outcomes[id] != w {
					t.Errorf("%s: outcome %q, want %q (%s)", id, res.Outcomes[id], w, firstLine(res.Failures[id]))
				}
			}
			if tc.want[widen] == "fail" && !strings.Contains(res.Failures[widen], "patient/*.cud") {
				t.Errorf("widening failure does not name patient/*.cud: %s", firstLine(res.Failures[widen]))
			}
		})
	}
}
