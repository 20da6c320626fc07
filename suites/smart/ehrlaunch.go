package smart

// EHR launch from the payer's member portal (SMART App Launch "Launch App: EHR Launch"): the run
// opens the configured portal page, signs in, presses the app's launch control (explicit steps or
// the default strategy), catches the browser on the app's registered launch URL with iss and
// launch, then authorizes with scope launch and that launch value and judges the launch context of
// the token response.
//
// What the server is held to, and what not: iss and launch on the launch URL, iss being the FHIR
// base, launch-ehr advertised, the launch context delivered with the token, and a launch value
// the portal never issued to this app and member refused (the value "must associate the app's
// authorization request with the current EHR session"). Checking iss before proceeding is the
// app's duty; pacheck never follows a wrong iss (it authorizes against the configured FHIR base)
// and reports it. A request with scope launch but no launch value is left unjudged: SMART lets the
// server refuse it or infer context ("The EHR MAY refuse ... or it MAY infer").

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

// Portal is the member portal an EHR launch starts from.
type Portal struct {
	URL       string         // the portal page (sign-in, then the app's launch control)
	LaunchURL string         // the main client's registered launch URL; intercepted, never has to resolve
	Steps     []browser.Step // sign in and press the app's launch control; none: the default strategy
}

func (p *Portal) validate() error {
	if p == nil {
		return nil
	}
	for what, raw := range map[string]string{"url": p.URL, "launch_url": p.LaunchURL} {
		u, err := url.Parse(raw)
		if raw == "" || err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("smart: portal.%s %q: give an absolute http(s) URL", what, raw)
		}
	}
	if err := browser.Validate(p.Steps); err != nil {
		return fmt.Errorf("smart: portal steps: %w", err)
	}
	return nil
}

// Rule codes of the EHR launch specs.
const (
	ruleEHRParams  = "ehr-launch.params"
	ruleEHRIss     = "ehr-launch.iss"
	ruleEHRCap     = "ehr-launch.capability"
	ruleEHRContext = "ehr-launch.context"
)

const portalEnable = "auth.portal in the run configuration: {url: <the member portal page>, launch_url: <the app's registered launch URL>, steps: [...] (sign in and press the app's launch control; the default strategy handles a plain login form and a launch/connect button)}"

// ehrLaunch is the stored result of the portal launch and the authorization that follows it.
type ehrLaunch struct {
	ev          *sink
	infra       error  // tool trouble or a failed portal step: nothing judged
	iss, launch string // from the captured launch URL
	hasIss      bool
	l           *launch // the authorization with the launch value (nil when not reached)
}

// ehrScopes are requested with the launch value: launch, identity and patient-level read.
func (s *session) ehrScopes() string {
	if s.version == "1.0.0" {
		return "launch openid fhirUser patient/*.read"
	}
	return "launch openid fhirUser patient/*.rs"
}

// needPortal returns the session of a browser-mode run with a portal configured, or skips.
func needPortal() *session {
	GinkgoHelper()
	s := needBrowser()
	if s.set.Portal == nil {
		framework.SkipBecause("no member portal is configured, so no EHR launch is tried", portalEnable)
	}
	return s
}

// ehr performs the portal launch once.
func (s *session) ehr() *ehrLaunch {
	return s.once("launch:ehr", func() any { return s.doEHR() }).(*ehrLaunch)
}

func (s *session) doEHR() *ehrLaunch {
	e := &ehrLaunch{ev: &sink{}}
	p := s.set.Portal
	if be := s.launchBlocked(s.set.MainClient()); be != nil {
		e.infra = be
		return e
	}
	ctx, cancel := s.ctx()
	defer cancel()
	br, err := s.browser(ctx)
	if err != nil {
		e.infra = err
		return e
	}
	login := s.set.Login
	login.Steps = p.Steps
	e.ev.note("portal launch", "portal %s, launch URL %s; login %s", p.URL, p.LaunchURL, loginDesc(login))
	res, err := s.authorize(ctx, br, p.URL, p.LaunchURL, login)
	if err == nil {
		e.launch = res.Query.Get("launch")
		e.iss, e.hasIss = res.Query.Get("iss"), res.Query.Has("iss")
		s.addSensitive(e.launch) // for the leak tests: fhirhttp.SecretKeys masks launch=… everywhere
	}
	if res != nil {
		e.ev.add(res.Evidence...)
		if len(res.Controls) > 0 {
			e.ev.note("default strategy", "%s", strings.Join(res.Controls, "\n"))
		}
	}
	if err != nil {
		e.infra = fmt.Errorf("smart: portal launch: the browser did not reach the app's launch URL: %w", err)
		return e
	}
	e.ev.note("launch URL", "iss %q; launch %s", e.iss, present(e.launch))
	if e.launch == "" {
		return e
	}
	main := s.set.MainClient()
	e.l = s.doLaunch(launchSpec{name: "ehr", client: main, scope: s.ehrScopes(), login: s.set.Login, exchange: true,
		mutate: func(r *oauth.AuthRequest) { r.Launch = e.launch }})
	return e
}

func present(v string) string {
	if v == "" {
		return "absent"
	}
	return "present"
}

// needEHR returns the portal launch, or ends the spec as an error when it could not be performed.
func needEHR() (*session, *ehrLaunch) {
	GinkgoHelper()
	s := needPortal()
	e := s.ehr()
	attach(e.ev)
	if e.infra != nil {
		framework.Infra(e.infra)
	}
	return s, e
}

func ehrLaunchSpecs(v string) {
	spec(v, "capability", ids("smart.ehr.capability"), func() {
		needPortal()
		_, d := needDiscovery(v, false)
		var iss issue.List
		if d.cfg == nil || !d.cfg.Has("launch-ehr") {
			iss = append(iss, issue.Issue{Severity: issue.Error, Rule: ruleEHRCap, Path: "capabilities",
				Message: "capabilities: expected launch-ehr (the member portal launches apps), but it is not listed"})
		}
		framework.ExpectConformant("launch-ehr capability", iss)
	})
	spec(v, "launch-params", ids("smart.ehr.launch-params"), func() {
		_, e := needEHR()
		var iss issue.List
		if !e.hasIss || e.iss == "" {
			iss = append(iss, issue.Issue{Severity: issue.Error, Rule: ruleEHRParams, Path: "iss", Message: "launch URL: expected an iss parameter (the FHIR base URL), but there is none"})
		}
		if e.launch == "" {
			iss = append(iss, issue.Issue{Severity: issue.Error, Rule: ruleEHRParams, Path: "launch", Message: "launch URL: expected a launch parameter, but there is none"})
		}
		framework.ExpectConformant("launch URL parameters", iss)
	})
	spec(v, "iss-fhir-base", ids("smart.ehr.iss-fhir-base"), func() {
		s, e := needEHR()
		if !e.hasIss || e.iss == "" {
			framework.Infra(&framework.BlockedError{Cause: s.specID("ehr-launch/launch-params"), Reason: "the launch URL carried no iss"})
		}
		var iss issue.List
		if strings.TrimRight(e.iss, "/") != s.aud() {
			iss = append(iss, issue.Issue{Severity: issue.Error, Rule: ruleEHRIss, Path: "iss",
				Message: fmt.Sprintf("iss: expected the FHIR base URL %s, got %q; pacheck authorized against the configured base, as an app must not follow an unexpected iss", s.aud(), e.iss)})
		}
		framework.ExpectConformant("iss", iss)
	})
	spec(v, "context", ids("smart.ehr.context"), func() {
		s, e := needEHR()
		if e.l == nil {
			framework.Infra(&framework.BlockedError{Cause: s.specID("ehr-launch/launch-params"), Reason: "the launch URL carried no launch value"})
		}
		if o := s.tokenTrouble(e.l, "authorization with the portal's launch value"); o != nil {
			judge("EHR launch authorization", o)
		}
		attach(e.l.ev)
		framework.ExpectConformant("launch context", checkLaunchContext(e.l.token, s.version))
	})
	spec(v, "foreign-launch-refused", ids("smart.ehr.launch-bound"), func() {
		s, e := needEHR()
		if e.l == nil {
			framework.Infra(&framework.BlockedError{Cause: s.specID("ehr-launch/launch-params"), Reason: "the launch URL carried no launch value"})
		}
		if o := s.tokenTrouble(e.l, "authorization with the portal's launch value"); o != nil {
			// Baseline: a refusal of a foreign value means nothing when the genuine one fails too.
			o.infra = &framework.BlockedError{Cause: s.specID("ehr-launch/context"), Reason: "the authorization with the portal's own launch value failed"}
			judge("foreign launch", o)
		}
		judge("foreign launch", s.probeForeignLaunch())
	})
	contextSpecs(v, true)
}

// probeForeignLaunch authorizes, once, with a launch value the portal never issued (the genuine
// one altered): the server must refuse it.
func (s *session) probeForeignLaunch() *outcome {
	return s.once("probe:foreign-launch", func() any {
		e := s.ehr()
		if e.infra != nil || e.launch == "" {
			return &outcome{infra: errors.New("smart: no portal launch value to alter")} // the spec stops before
		}
		forged := foreignLaunch(e.launch)
		s.addSensitive(forged)
		return s.authorizeProbe("foreign launch", "a launch value the portal never issued (the genuine one altered)", func(r *oauth.AuthRequest) {
			r.Scope = s.ehrScopes()
			r.Launch = forged
		}, "", false)
	}).(*outcome)
}

// The portal launch and the probe run ahead of their specs when sign-ins may run in parallel.
func init() {
	ehr := func(s *session) {
		if s.set != nil && s.set.Portal != nil {
			s.ehr()
		}
	}
	for _, n := range []string{"launch-params", "iss-fhir-base", "context", "need-patient-banner", "smart-style-url", "fhir-context"} {
		needs["ehr-launch/"+n] = ehr
	}
	needs["ehr-launch/foreign-launch-refused"] = func(s *session) {
		if s.set != nil && s.set.Portal != nil {
			s.probeForeignLaunch()
		}
	}
}

// foreignLaunch alters a launch value so that no portal session issued it, keeping its shape.
func foreignLaunch(v string) string {
	if v == "" {
		return "pacheck-foreign-launch"
	}
	b := []byte(v)
	last := b[len(b)-1]
	switch {
	case last != 'A':
		b[len(b)-1] = 'A'
	default:
		b[len(b)-1] = 'B'
	}
	return string(b) + "x"
}

// checkLaunchContext judges the launch context of an EHR launch's token response: patient
// (patient-level scopes were requested with launch). The optional parameters (need_patient_banner,
// smart_style_url, fhirContext) have specs of their own (context.go).
func checkLaunchContext(t *oauth.TokenResponse, version string) issue.List {
	var out issue.List
	bad := func(path, format string, args ...any) {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: ruleEHRContext, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if t == nil || t.Raw == nil {
		bad("", "token response: expected a JSON object with the launch context, got none")
		return out
	}
	if p, ok := t.Raw["patient"].(string); !ok || p == "" {
		bad("patient", "patient: expected the launch's patient id (launch and patient-level scopes were granted), but it is absent")
	}
	return out
}
