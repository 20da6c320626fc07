// Package smart holds the SMART App Launch specs and the launch that feeds the data suites.
//
// The preparer (run before the spec tree) performs the standalone patient launch once through
// headless Chromium, stores what it learned (Run.SetValue "smart.launch") and installs the
// authorized, auto-refreshing FHIR client with Run.SetClient. The specs judge stored results;
// probes that need a fresh authorization code (each code is spent when presented) sign in again
// lazily, once each, in the same browser, and only when a selected spec needs them.
//
// Spec ids: smart-<version>/<section>/<check>, e.g. smart-2.0.0/discovery/s256-required.
package smart

import (
	"context"
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

// Area is the suite area name (framework.Run.Suites).
const Area = "smart"

// Versions with a top-level container (Ginkgo fixes top-level containers at init). 2.2.0 is
// opt-in (preset smart-2.2, or igs: {smart: ["2.2.0"]}): 45 CFR 170.215(c) adopts 2.0.0.
var Versions = []string{"2.0.0", "1.0.0", "2.2.0"}

// LaunchKey is the Run value holding the *LaunchSummary of the main launch.
const LaunchKey = "smart.launch"

// LaunchSummary is what the main launch leaves for other suites and reports (secrets masked).
type LaunchSummary struct {
	Discovery     map[string]any      `json:"discovery,omitempty"`
	TokenStatus   int                 `json:"tokenStatus,omitempty"`
	TokenFields   map[string]string   `json:"tokenFields,omitempty"` // raw fields, secret values masked
	TokenHeaders  map[string][]string `json:"tokenHeaders,omitempty"`
	Patient       string              `json:"patient,omitempty"`
	Scope         string              `json:"scope,omitempty"`
	IDTokenClaims map[string]any      `json:"idTokenClaims,omitempty"`
	Evidence      []evidence.Entry    `json:"evidence,omitempty"`
	Error         string              `json:"error,omitempty"`
}

func init() {
	framework.RegisterPreparer(framework.Preparer{Area: Area, Needs: []string{"uscore", "carinbb", "pdex", "capability", "member"}, Order: 0, Do: prepare})
}

// prepare performs the main launch in browser mode and installs the authorized client.
func prepare(_ context.Context, r *framework.Run) error {
	s := sessionOf(r)
	if r.Auth.Mode != "browser" {
		r.SetValue("smart.note", fmt.Sprintf("auth mode %q: no SMART launch; the run uses the given token or no token", r.Auth.Mode))
		return nil
	}
	if r.Replay != "" {
		r.SetValue("smart.note", ReplayNoBrowser)
		return fmt.Errorf("smart: standalone launch: %s, so this replay has no token of the launch: the specs that need one are not judged (a recording made with --auth token replays them)", ReplayNoBrowser)
	}
	if s.setErr != nil {
		return s.setErr
	}
	m := s.main()
	sum := &LaunchSummary{Evidence: m.ev.list()}
	defer r.SetValue(LaunchKey, sum)
	if d := s.discovery(); d.cfg != nil {
		sum.Discovery = d.cfg.Raw
	}
	switch {
	case m.blocked != nil:
		sum.Error = m.blocked.Error()
		return fmt.Errorf("smart: standalone launch: %w", m.blocked)
	case m.infra != nil:
		sum.Error = m.infra.Error()
		return fmt.Errorf("smart: standalone launch: %w", m.infra)
	case m.browserErr != nil:
		sum.Error = m.browserErr.Error()
		return fmt.Errorf("smart: standalone launch: %w", m.browserErr)
	case m.redirectErr != nil:
		sum.Error = m.redirectErr.Error()
		return fmt.Errorf("smart: standalone launch: %w", m.redirectErr)
	case m.redirect == nil || m.redirect.Code == "":
		e := ""
		if m.redirect != nil {
			e = m.redirect.Error
		}
		sum.Error = "no authorization code (error " + e + ")"
		return fmt.Errorf("smart: standalone launch: the authorization server returned no code (error %q)", e)
	}
	t := m.token
	sum.TokenStatus = t.Status
	sum.TokenHeaders = redactHeaders(s.secrets, t.Header)
	sum.TokenFields = map[string]string{}
	for k, v := range t.Raw {
		sum.TokenFields[k] = s.secrets.Redact(fmt.Sprint(v))
	}
	if !t.OK() {
		sum.Error = fmt.Sprintf("token endpoint answered HTTP %d", t.Status)
		return fmt.Errorf("smart: standalone launch: the token endpoint answered HTTP %d (error %s)", t.Status, t.Error)
	}
	sum.Patient, sum.Scope = m.patient(), t.Scope
	if t.IDToken != "" {
		if tok, _ := oauth.VerifyIDToken(t.IDToken, oauth.IDTokenExpect{}); tok != nil {
			sum.IDTokenClaims = tok.Claims
		}
	}
	// The data suites' client: token refreshed automatically, exchanges recorded into the running spec.
	oc := *m.oc
	oc.HTTP = s.base.WithRecorder(recordToSpec)
	ts := oc.NewTokenSource(r.Context(), t, 0, func(nt *oauth.TokenResponse) { s.noteToken(nt) })
	opts := withSecrets(r.ClientOptions(), s.secrets)
	opts.TokenSource = ts
	c, err := fhirhttp.New(opts)
	if err != nil {
		return err
	}
	r.SetClient(c)
	if p := m.patient(); p != "" {
		r.LaunchPatient = p
		if !slices.Contains(r.Patients, p) {
			r.Patients = append(r.Patients, p)
		}
	}
	return nil
}

// ReplayNoBrowser is why a replayed run (framework.Run.Replay) performs no SMART sign-in: the
// browser's pages are not in a recording, only the exchanges of pacheck's own HTTP client.
const ReplayNoBrowser = "replay: browser sign-ins are not recorded"

// recordToSpec attaches an exchange to the running spec (nowhere to put it outside one).
func recordToSpec(ex evidence.Exchange) {
	defer func() { _ = recover() }()
	framework.Evidence(&evidence.Entry{Kind: evidence.KindHTTP, Title: ex.Method + " " + ex.URL, Exchange: &ex})
}

// The browser lives for the whole run; close it once every spec has run.
var _ = ReportAfterSuite("smart: close the browser", func(r types.Report) {
	if r.SuiteConfig.DryRun {
		return // a listing of the tree (the CLI counts the selection before the run): nothing ran
	}
	if run := framework.Current(); run != nil {
		if v, ok := run.Value(sessionKey); ok {
			v.(*session).closeBrowser()
		}
	}
})

// Only the listed versions: no package defines another SMART version.
var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: Versions, Default: "2.0.0", Labels: []string{"area:smart"}, Listed: true, Build: buildVersion})

// appliesTo reports whether every SMART requirement id applies to SMART version v.
func appliesTo(v string, ids ...string) bool {
	c, err := framework.Catalogue()
	if err != nil {
		return true
	}
	for _, id := range ids {
		if r, ok := c.Lookup(id); ok && r.IG == "hl7.fhir.uv.smart-app-launch" && len(r.Versions) > 0 && !slices.Contains(r.Versions, v) {
			return false
		}
	}
	return true
}

// spec declares one spec when its requirements apply to v; the body quotes them.
func spec(v, name string, ids []string, body func()) {
	if !appliesTo(v, ids...) {
		return
	}
	labels := framework.Req(ids...)
	declare(v, name, labels)
	It(name, labels, func() {
		framework.Quote(ids...)
		body()
	})
}

func ids(x ...string) []string { return x }

func buildVersion(v string) {
	// One Describe per line: Ginkgo orders specs by code location (then by text), so the
	// sections run in this order, each spec's specs by name (spec() declares them all on one line).
	Describe("discovery", func() { inSection(0, "discovery"); discoverySpecs(v) })
	Describe("launch", func() { inSection(1, "launch"); launchSpecs(v) })
	Describe("token", func() { inSection(2, "token"); tokenSpecs(v) })
	Describe("id-token", func() { inSection(3, "id-token"); idTokenSpecs(v) })
	Describe("introspection", func() { inSection(4, "introspection"); introspectionSpecs(v) })
	Describe("revocation", func() { inSection(5, "revocation"); revocationSpecs(v) })
	Describe("scopes", func() { inSection(6, "scopes"); scopeSpecs(v) })
	Describe("probes", func() { inSection(7, "probes"); probeSpecs(v) })
	Describe("transport", func() { inSection(8, "transport"); transportSpecs(v) })
	Describe("ehr-launch", func() { inSection(9, "ehr-launch"); ehrLaunchSpecs(v) })
}

// attach adds stored evidence to the running spec.
func attach(ks ...*sink) {
	for _, k := range ks {
		if k == nil {
			continue
		}
		for _, e := range k.list() {
			e := e
			framework.Evidence(&e)
		}
	}
}

// judge ends a spec from a stored outcome.
func judge(title string, o *outcome) {
	GinkgoHelper()
	attach(o.ev...)
	if o.infra != nil {
		framework.Infra(o.infra)
	}
	if o.skip != "" {
		framework.SkipBecause(o.skip, o.enable)
	}
	framework.ExpectConformant(title, o.issues)
}

// needBrowser returns the session of a browser-mode run, or skips / errors.
func needBrowser() *session {
	GinkgoHelper()
	s := current()
	if s.run.Auth.Mode != "browser" {
		framework.SkipBecause(fmt.Sprintf("the run does not perform a SMART launch (auth mode %q)", s.run.Auth.Mode),
			"auth: browser with the SMART client settings (client_id, redirect_uri, member login)")
	}
	if s.run.Replay != "" {
		framework.SkipBecause(ReplayNoBrowser, "a live run (without --replay)")
	}
	if s.setErr != nil {
		framework.Infra(s.setErr)
	}
	return s
}

// needMain returns the main launch with a token, or ends the spec as an error blocked by the
// launch's root cause (reported once, by launch/standalone or discovery/well-known).
func needMain() (*session, *launch) {
	GinkgoHelper()
	s := needBrowser()
	m := s.main()
	if m.root != nil {
		framework.Infra(m.root)
	}
	framework.Note("launch", "judged on the stored result of the main standalone launch (client %s); its browser steps and screenshots are attached to launch/standalone", m.client.ClientID)
	return s, m
}

// needDiscovery returns the stored discovery, or ends the spec: the discovery/well-known spec
// of the session's version reports a failed fetch, every other spec is blocked by it.
func needDiscovery(v string, own bool) (*session, *disc) {
	GinkgoHelper()
	s := current()
	d := s.discovery()
	attach(d.ev)
	if d.infra != nil {
		if (own && v == s.version) || s.base == nil {
			framework.Infra(d.infra)
		}
		framework.Infra(s.discoveryBlock(d))
	}
	return s, d
}
