package smart

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

// tokenClient is a FHIR client carrying the access token of t, recording into k.
func (s *session) tokenClient(t *oauth.TokenResponse, k *sink) *fhirhttp.Client {
	return s.http(k).WithToken(fhirhttp.StaticToken(t.AccessToken))
}

// lifecycle is an auxiliary launch with the main client whose token goes through refresh,
// introspection, revocation and whose code is replayed, so the main token (which the data suites
// use) is never touched by these destructive steps.
type lifecycle struct {
	l *launch
	// refresh
	refreshPlain, refreshNarrow *oauth.TokenResponse
	refreshErr                  error
	narrowScope                 string
	widen                       issue.List
	widenResp                   *oauth.TokenResponse
	widenTried                  []string // one line per widening request, for the evidence
	// introspection
	introActive, introRevoked, introGarbage *oauth.Introspection
	introErr                                error
	introWays                               []oauth.IntrospectAuth // the way that worked (all when none did)
	introAuth                               string                 // its name
	introMethod                             string                 // its client authentication method ("" when the bearer way worked)
	// introMain is the introspection of the main launch's access token, whose token response
	// (with its id_token) the in-depth introspection specs compare it with; introExpired that
	// of the configured expired token (auth.expired_token), when there is one.
	introMain, introExpired *oauth.Introspection
	introMainAt             time.Time
	// revocation
	revoke       *oauth.TokenResponse
	revokedProbe issue.List
	revokeErr    error
	revokeRef    string
	// preRevokeStatus is the status of reading revokeRef with the token before revoking it.
	preRevokeStatus int
	replay          issue.List
	replayErr       error
	latest          *oauth.TokenResponse
	introspection   bool // endpoint known
	revocation      bool
}

func (s *session) lifecycle() *lifecycle {
	return s.once("lifecycle", func() any {
		lc := &lifecycle{}
		lc.l = s.doLaunch(launchSpec{name: "lifecycle", client: s.set.MainClient(), login: s.set.Login, exchange: true})
		l := lc.l
		if l.infra != nil || l.token == nil || !l.token.OK() {
			return lc
		}
		ctx, cancel := s.ctx()
		defer cancel()
		d := s.discovery()
		lc.latest = l.token
		granted := l.token.Scope
		if granted == "" {
			granted = l.req.Scope
		}
		// Refresh without scope, then narrowed, then widened.
		if rt := l.token.RefreshToken; rt != "" {
			t, err := l.oc.Refresh(ctx, rt, "")
			s.noteToken(t)
			lc.refreshPlain, lc.refreshErr = t, err
			if err == nil && t.OK() {
				lc.latest = t
				if t.RefreshToken != "" {
					rt = t.RefreshToken
				}
				lc.narrowScope = narrower(granted)
				// The widening asks on top of the scope the refresh token was last used for: a server
				// that narrows a rotated refresh token to the narrowed scope would otherwise refuse the
				// granted scopes it dropped, and a refusal would show nothing about the ungranted one.
				base := granted
				t2, err := l.oc.Refresh(ctx, rt, lc.narrowScope)
				s.noteToken(t2)
				if err != nil {
					lc.refreshErr = err
				} else {
					lc.refreshNarrow = t2
					if t2.OK() {
						lc.latest = t2
						if t2.RefreshToken != "" {
							rt = t2.RefreshToken
						}
						base = lc.narrowScope
					}
				}
				// Widening: a resource scope that was not granted first (a server that refuses
				// only scopes it does not know, or ignores the requested scope, must still not add
				// it), then offline/online access.
				extra := "online_access"
				if oauth.HasScope(granted, "online_access") {
					extra = "offline_access"
				}
				extras := []string{extra}
				if rs := ungrantedResourceScope(granted, s.version); rs != "" {
					extras = append([]string{rs}, extras...)
				}
				for _, x := range extras {
					iss, t3, err := l.oc.ProbeRefreshWidenFrom(ctx, rt, base, granted, x)
					s.noteToken(t3)
					if err != nil {
						lc.refreshErr = err
						break
					}
					lc.widen = append(lc.widen, iss...)
					lc.widenResp = t3
					how := fmt.Sprintf("refresh asking for %q plus %s (not granted; granted %q): HTTP %d", clip(base, 300), x, clip(granted, 300), t3.Status)
					if t3.Error != "" {
						how += " error " + oauth.SafeCode(t3.Error)
					}
					if t3.OK() {
						how += fmt.Sprintf(", scope %q", clip(t3.Scope, 300))
						if t3.RefreshToken != "" {
							rt = t3.RefreshToken // a rotating server spends the old one
						}
					}
					lc.widenTried = append(lc.widenTried, how)
				}
			}
		}
		if d.introspectEndpoint != "" {
			lc.introspection = true
			ways, methods := s.introspectWays(d, l)
			var used int
			var tried []string
			lc.introActive, used, tried, lc.introErr = oauth.IntrospectFirst(ctx, d.introspectEndpoint, lc.latest.AccessToken, ways)
			switch {
			case lc.introErr != nil:
			case used < 0:
				lc.introErr = fmt.Errorf("smart: the introspection endpoint refused every way pacheck could authorize the call (%s): configure a client it lets introspect (auth.extra_clients)",
					strings.Join(tried, "; "))
			default:
				l.ev.note("introspection authorization", "authorized with %s (tried in order: %s; advertised methods: %q)",
					ways[used].Name, strings.Join(tried, "; "), strings.Join(d.cfg.IntrospectionAuthMethods(), " "))
				lc.introAuth, lc.introMethod = ways[used].Name, methods[used]
				ways = ways[used : used+1] // the later calls use the way that worked
				garbage := "pacheck-garbage-" + oauth.RandomState()
				lc.introGarbage, _, _, lc.introErr = oauth.IntrospectFirst(ctx, d.introspectEndpoint, garbage, ways)
				if m := s.main(); lc.introErr == nil && m.token != nil && m.token.OK() {
					lc.introMain, _, _, lc.introErr = oauth.IntrospectFirst(ctx, d.introspectEndpoint, m.token.AccessToken, ways)
					lc.introMainAt = time.Now()
				}
				if et := s.set.ExpiredToken; lc.introErr == nil && et != "" {
					lc.introExpired, _, _, lc.introErr = oauth.IntrospectFirst(ctx, d.introspectEndpoint, et, ways)
				}
			}
			lc.introWays = ways
		}
		if d.revokeEndpoint != "" {
			lc.revocation = true
			ref := "Patient"
			if p := l.patient(); p != "" {
				ref = "Patient/" + p
			}
			lc.revokeRef = ref
			if resp, err := l.oc.HTTP.WithToken(fhirhttp.StaticToken(lc.latest.AccessToken)).Get(ctx, ref); err != nil {
				lc.revokeErr = err
			} else {
				lc.preRevokeStatus = resp.Status
				lc.revoke, lc.revokeErr = l.oc.Revoke(ctx, d.revokeEndpoint, lc.latest.AccessToken, "access_token")
			}
			if lc.revokeErr == nil {
				lc.revokedProbe, _, lc.revokeErr = oauth.ProbeFHIRToken(ctx, l.oc.HTTP, ref, lc.latest.AccessToken, "a revoked access token")
				if lc.introspection && lc.introErr == nil {
					lc.introRevoked, _, _, lc.introErr = oauth.IntrospectFirst(ctx, d.introspectEndpoint, lc.latest.AccessToken, lc.introWays)
				}
			}
		}
		// Replay the (already exchanged) code last: a server may revoke the tokens issued from it.
		iss, t, err := l.oc.ProbeReplay(ctx, l.code(), l.req.Verifier)
		s.noteToken(t)
		lc.replay, lc.replayErr = iss, err
		// Several specs judge each step: its failure is reported by the first, the others are blocked by it.
		lc.refreshErr, lc.introErr, lc.revokeErr = framework.Shared(lc.refreshErr), framework.Shared(lc.introErr), framework.Shared(lc.revokeErr)
		return lc
	}).(*lifecycle)
}

// introspectWays are the ways the suite can authorize an introspection call, in the order tried:
// the main launch's live access token as bearer (SMART: an access-controlled introspection
// endpoint SHALL accept an appropriately-scoped bearer token), then each configured client whose
// authentication method the server advertises for the endpoint
// (introspection_endpoint_auth_methods_supported, else the token endpoint's; all when neither),
// one client per method.
// methods[i] is the client authentication method of ways[i] ("" for a bearer way).
func (s *session) introspectWays(d *disc, l *launch) (ways []oauth.IntrospectAuth, methods []string) {
	if m := s.main(); m.token != nil && m.token.OK() {
		ways = append(ways, oauth.IntrospectAuth{Name: "bearer (the main launch's access token)", Client: l.oc, Bearer: m.token.AccessToken})
		methods = append(methods, "")
	} else if l.token != nil && l.token.OK() {
		ways = append(ways, oauth.IntrospectAuth{Name: "bearer (the launch's own access token)", Client: l.oc, Bearer: l.token.AccessToken})
		methods = append(methods, "")
	}
	advertised := d.cfg.IntrospectionAuthMethods()
	seen := map[string]bool{}
	for _, c := range append([]Client{s.set.MainClient()}, s.set.ExtraClients...) {
		m := c.method()
		// A public client has no authentication to offer unless the server says "none" is enough.
		if seen[m] || (m == oauth.AuthNone && !contains(advertised, m)) || (len(advertised) > 0 && !contains(advertised, m)) {
			continue
		}
		seen[m] = true
		ways = append(ways, oauth.IntrospectAuth{Name: fmt.Sprintf("%s (client %s)", m, c.ClientID), Client: s.oauthClient(c, d.tokenEndpoint, l.ev)})
		methods = append(methods, m)
	}
	return ways, methods
}

// ungrantedResourceScope is a clinical-data scope the granted scopes do not cover, for the
// refresh-widening probe: read access to a common type when the grant names types, else write
// access (a grant of read access to every type).
func ungrantedResourceScope(granted, version string) string {
	read, write := ".rs", "patient/*.cud"
	if version == "1.0.0" {
		read, write = ".read", "patient/*.write"
	}
	var cands []string
	for _, t := range []string{"Observation", "Condition", "Encounter", "Coverage", "ExplanationOfBenefit", "MedicationRequest", "Patient"} {
		cands = append(cands, "patient/"+t+read)
	}
	for _, c := range append(cands, write) {
		if _, notCovered := oauth.CompareScopes([]string{granted}, []string{c}); len(notCovered) > 0 {
			return c
		}
	}
	return ""
}

// clip shortens server text quoted in evidence.
func clip(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

// narrower drops the identity and offline scopes (keeping a refresh-able set is not needed for
// the narrowed token): the result is a strict subset of granted.
func narrower(granted string) string {
	var keep []string
	for _, sc := range strings.Fields(granted) {
		switch sc {
		case "openid", "fhirUser", "profile":
			continue
		}
		keep = append(keep, sc)
	}
	if len(keep) == len(strings.Fields(granted)) && len(keep) > 1 {
		keep = keep[:len(keep)-1]
	}
	return strings.Join(keep, " ")
}

// scopeProbe is a launch with narrower scopes and the searches that show what they allow.
type scopeProbe struct {
	l       *launch
	patient string
	out     *outcome
}

// The granular restriction the suite requests: Observation.rs?category=<system>|laboratory.
const (
	obsCategorySystem = "http://terminology.hl7.org/CodeSystem/observation-category"
	labCategory       = obsCategorySystem + "|laboratory"
)

// granularScope is the SMART 2.0 scope restricting Observation to the laboratory category.
const granularScope = "patient/Observation.rs?category=" + labCategory

// scopeNotGranted reports whether the token response states its scope (RFC 6749 5.1: it may be
// left out only when identical to the request) and the stated scope lacks want; it returns the
// stated scope.
func scopeNotGranted(t *oauth.TokenResponse, want string) (string, bool) {
	if t == nil {
		return "", false
	}
	stated, ok := t.Raw["scope"].(string)
	return stated, ok && !oauth.HasScope(stated, want)
}

func (s *session) resourceScopes() string {
	if s.version == "1.0.0" {
		return "launch/patient patient/Observation.read"
	}
	return "launch/patient patient/Observation.rs"
}

// probeResourceScope: with only Observation access, Observation search works and Condition does
// not reveal data.
func (s *session) probeResourceScope() *outcome {
	return s.once("scopes:resource", func() any {
		l := s.once("launch:scopes-resource", func() any {
			return s.doLaunch(launchSpec{name: "resource-level scopes", client: s.set.MainClient(), login: s.set.Login,
				scope: s.resourceScopes(), exchange: true})
		}).(*launch)
		if t := s.tokenTrouble(l, "launch with resource-level scopes"); t != nil {
			return t
		}
		o := &outcome{ev: []*sink{l.ev}}
		p := l.patient()
		if p == "" {
			p = s.main().patient()
		}
		ctx, cancel := s.ctx()
		defer cancel()
		hc := s.tokenClient(l.token, l.ev)
		obs, err := hc.Search(ctx, "Observation", url.Values{"patient": {p}})
		if err != nil {
			o.infra = err
			return o
		}
		if obs.Status != http.StatusOK {
			o.fail(ruleScopeRefused, "Observation search with %s granted: expected HTTP 200, got %d", s.resourceScopes(), obs.Status)
		}
		cond, err := hc.Search(ctx, "Condition", url.Values{"patient": {p}})
		if err != nil {
			o.infra = err
			return o
		}
		if n := countType(cond, "Condition"); cond.Status == http.StatusOK && n > 0 {
			o.fail(ruleScopeLeak, "Condition search with only Observation access granted: expected refusal (403) or no Condition, got HTTP 200 with %d Condition(s)", n)
		} else {
			l.ev.note("resource-level scopes", "Condition search answered HTTP %d with %d Condition(s)", cond.Status, n)
			if cond.Status == http.StatusOK && len(o.issues) == 0 {
				// An empty answer proves enforcement only if the member has Conditions at all.
				if m := s.main(); m.token != nil && m.token.OK() {
					full, err := s.tokenClient(m.token, l.ev).Search(ctx, "Condition", url.Values{"patient": {p}})
					if err == nil && countType(full, "Condition") == 0 {
						o.skip = "the member has no Condition even with the main launch's token, so an empty answer does not show the scope enforced"
						o.enable = "a member with Condition records"
					}
				}
			}
		}
		return o
	}).(*outcome)
}

// probeGranularScope: with Observation access restricted to the laboratory category, no other
// category is returned (an unrestricted search is refused or filtered).
func (s *session) probeGranularScope() *outcome {
	return s.once("scopes:granular", func() any {
		scope := "launch/patient " + granularScope
		l := s.once("launch:scopes-granular", func() any {
			return s.doLaunch(launchSpec{name: "granular scopes", client: s.set.MainClient(), login: s.set.Login, scope: scope, exchange: true})
		}).(*launch)
		if t := s.tokenTrouble(l, "launch with a granular scope"); t != nil {
			return t
		}
		o := &outcome{ev: []*sink{l.ev}}
		// The restriction is judged only once granted: a token response that states its scope
		// without the granular one (RFC 6749 5.1: scope is omitted only when identical to the
		// request) granted none, and refusing Observation is then right, not a failure.
		if stated, ok := scopeNotGranted(l.token, granularScope); ok {
			l.ev.note("granular scope", "not granted: the token response's scope is %q", clip(stated, 300))
			o.skip = fmt.Sprintf("the server did not grant the granular scope %s (token response scope %q), so the restriction it would impose cannot be tested", granularScope, clip(stated, 200))
			o.enable = "a server that grants SMART 2.0 granular (search-parameter) scopes"
			return o
		}
		p := l.patient()
		if p == "" {
			p = s.main().patient()
		}
		ctx, cancel := s.ctx()
		defer cancel()
		hc := s.tokenClient(l.token, l.ev)
		restricted, err := hc.Search(ctx, "Observation", url.Values{"patient": {p}, "category": {labCategory}})
		if err != nil {
			o.infra = err
			return o
		}
		if restricted.Status != http.StatusOK {
			o.fail(ruleScopeRefused, "Observation search restricted to category laboratory under the granted granular scope: expected HTTP 200, got %d", restricted.Status)
		}
		if n := countOtherCategory(restricted); n > 0 {
			o.fail(ruleScopeLeak, "Observation search restricted to laboratory returned %d Observation(s) of another category", n)
		}
		open, err := hc.Search(ctx, "Observation", url.Values{"patient": {p}})
		if err != nil {
			o.infra = err
			return o
		}
		if n := countOtherCategory(open); open.Status == http.StatusOK && n > 0 {
			o.fail(ruleScopeLeak, "Observation search without category under a laboratory-only granular scope: expected refusal or only laboratory results, got %d Observation(s) of other categories", n)
		} else {
			l.ev.note("granular scope", "unrestricted Observation search answered HTTP %d with no Observation outside laboratory", open.Status)
			if len(o.issues) == 0 {
				// The absence of other categories proves the restriction only if the member has some.
				if m := s.main(); m.token != nil && m.token.OK() {
					full, err := s.tokenClient(m.token, l.ev).Search(ctx, "Observation", url.Values{"patient": {p}})
					if err == nil && full.Status == http.StatusOK && countOtherCategory(full) == 0 {
						o.skip = "the member has no Observation outside the laboratory category, so the granular restriction cannot be shown"
						o.enable = "a member with vital-signs or other non-laboratory Observations"
					}
				}
			}
		}
		return o
	}).(*outcome)
}

// tokenTrouble reports a launch that did not yield a token.
func (s *session) tokenTrouble(l *launch, what string) *outcome {
	if t := launchTrouble(l, what); t != nil {
		return t
	}
	if l.token == nil || !l.token.OK() {
		o := &outcome{ev: []*sink{l.ev}}
		status := 0
		if l.token != nil {
			status = l.token.Status
		}
		o.fail(ruleLaunch, "%s: the token exchange failed (HTTP %d)", what, status)
		return o
	}
	return nil
}

func countType(r *fhirhttp.Response, typ string) int {
	if r == nil || r.ResourceType() != "Bundle" {
		return 0
	}
	n := 0
	for _, res := range fhirhttp.Entries(r.Resource) {
		if res["resourceType"] == typ {
			n++
		}
	}
	return n
}

// countOtherCategory counts Observations in a search Bundle that are not laboratory.
func countOtherCategory(r *fhirhttp.Response) int {
	if r == nil || r.ResourceType() != "Bundle" {
		return 0
	}
	n := 0
	for _, res := range fhirhttp.Entries(r.Resource) {
		if res["resourceType"] != "Observation" {
			continue
		}
		if !hasCategory(res, "laboratory") {
			n++
		}
	}
	return n
}

func hasCategory(res map[string]any, code string) bool {
	cats, _ := res["category"].([]any)
	for _, c := range cats {
		cm, _ := c.(map[string]any)
		codings, _ := cm["coding"].([]any)
		for _, cd := range codings {
			m, _ := cd.(map[string]any)
			if m["code"] == code {
				return true
			}
		}
	}
	return false
}

// probeConsent: a launch that declines one scope on the consent page must not be granted it.
func (s *session) probeConsent() *outcome {
	return s.once("scopes:consent", func() any {
		c := s.set.Consent
		if c == nil {
			return &outcome{skip: "no consent steps are configured, so no scope can be declined on the consent page",
				enable: "smart consent settings: the scope to decline and the browser steps that untick it"}
		}
		l := s.doLaunch(launchSpec{name: "consent decline", client: s.set.MainClient(), login: Login{Username: s.set.Login.Username,
			Password: s.set.Login.Password, Steps: c.Steps}, exchange: true})
		if t := s.tokenTrouble(l, "launch declining "+c.Scope); t != nil {
			return t
		}
		o := &outcome{ev: []*sink{l.ev}}
		if oauth.HasScope(l.token.Scope, c.Scope) {
			o.fail(ruleConsent, "the member declined %s on the consent page, but the token response grants it", c.Scope)
		}
		if (c.Scope == "offline_access" || c.Scope == "online_access") && l.token.RefreshToken != "" && !oauth.HasScope(l.token.Scope, "offline_access") && !oauth.HasScope(l.token.Scope, "online_access") {
			o.fail(ruleConsent, "the member declined %s, but the token response carries a refresh_token", c.Scope)
		}
		l.ev.note("consent", "declined %s; granted %q", c.Scope, l.token.Scope)
		return o
	}).(*outcome)
}

// probeIsolation: the main token must not reach another member's Patient or data.
func (s *session) probeIsolation() *outcome {
	return s.once("probe:isolation", func() any {
		o := &outcome{}
		m := s.main()
		if b := s.fhirBaseline(); b.refused() != nil {
			return b.refused()
		}
		k := &sink{}
		o.ev = []*sink{s.fhirBaseline().ev, k}
		other := s.set.OtherPatient
		if other == "" && s.set.SecondMember != nil {
			l := s.doLaunch(launchSpec{name: "second member", client: s.set.MainClient(), login: *s.set.SecondMember, exchange: true})
			o.ev = append(o.ev, l.ev)
			if t := s.tokenTrouble(l, "second member's launch"); t != nil {
				t.ev = o.ev
				return t
			}
			other = l.patient()
			if other == "" {
				o.infra = fmt.Errorf("smart: the second member's launch gave no patient context")
				return o
			}
		}
		if other == "" {
			return &outcome{skip: "neither a second member's login nor another patient id is configured",
				enable: "smart second_member (username/password or steps) or other_patient in the run configuration"}
		}
		if other == m.patient() {
			o.infra = fmt.Errorf("smart: the other patient %q is the launch's own patient; configure a different member", other)
			return o
		}
		ctx, cancel := s.ctx()
		defer cancel()
		hc := s.tokenClient(m.token, k)
		read, err := hc.Read(ctx, "Patient", other)
		if err != nil {
			o.infra = err
			return o
		}
		if read.Status == http.StatusOK && read.ResourceType() == "Patient" {
			o.fail(ruleIsolation, "reading another member's Patient with this member's token: expected 403 or 404, got HTTP 200 with the Patient")
		} else if read.Status < 400 {
			o.fail(ruleIsolation, "reading another member's Patient with this member's token: expected 403 or 404, got HTTP %d", read.Status)
		}
		for _, typ := range []string{"Observation", "Condition", "ExplanationOfBenefit"} {
			r, err := hc.Search(ctx, typ, url.Values{"patient": {other}})
			if err != nil {
				o.infra = err
				return o
			}
			if n := countType(r, typ); r.Status == http.StatusOK && n > 0 {
				o.fail(ruleIsolation, "%s search for another member's patient with this member's token: expected refusal or no result, got %d %s(s)", typ, n, typ)
			}
		}
		k.note("isolation", "checked Patient read and Observation/Condition/ExplanationOfBenefit searches for another member's patient with this member's token")
		return o
	}).(*outcome)
}

// FHIR-side token probes.

func (s *session) probeRef() string {
	if s.set != nil {
		if p := s.main().patient(); p != "" {
			return "Patient/" + p
		}
	}
	if len(s.run.Patients) > 0 {
		return "Patient/" + s.run.Patients[0]
	}
	return "Patient"
}

// fhirBase is the positive case of the FHIR-side token probes (missing, garbage, expired,
// query-string token, another member's data): the run's valid token reads the probe reference.
// Without it, a server that refuses every request would pass them all.
type fhirBase struct {
	token  string
	status int
	out    *outcome // non-nil: the baseline did not hold (blocked, skip or error)
	ev     *sink
}

// refused returns the outcome of a probe whose baseline did not hold, or nil.
func (b *fhirBase) refused() *outcome { return b.out }

func (s *session) fhirBaseline() *fhirBase {
	return s.once("fhir:baseline", func() any {
		b := &fhirBase{ev: &sink{}}
		cause := s.specID("token/patient-context")
		switch {
		case s.set != nil:
			m := s.main()
			if m.root != nil {
				b.out = &outcome{infra: m.root}
				return b
			}
			b.token = m.token.AccessToken
		case s.run.Auth.Token != "":
			b.token, cause = s.run.Auth.Token, "the run's given access token"
		default:
			b.out = &outcome{skip: "the run has no valid access token, so a refusal cannot be told from a server that refuses every request",
				enable: "auth: browser with the SMART client settings, or auth: token"}
			return b
		}
		if s.base == nil {
			b.out = &outcome{infra: errNoTarget}
			return b
		}
		ctx, cancel := s.ctx()
		defer cancel()
		ref := s.probeRef()
		resp, err := s.http(b.ev).WithToken(fhirhttp.StaticToken(b.token)).Get(ctx, ref)
		if err != nil {
			// one failure for the probes that share it: the first reports it, the others are blocked by it
			b.out = &outcome{infra: framework.Shared(fmt.Errorf("baseline read with the valid token: %w", err)), ev: []*sink{b.ev}}
			return b
		}
		b.status = resp.Status
		if resp.Status != http.StatusOK {
			b.out = &outcome{ev: []*sink{b.ev}, infra: &framework.BlockedError{Cause: cause,
				Reason: fmt.Sprintf("GET %s with the valid access token answered HTTP %d, so a refused invalid token shows nothing", ref, resp.Status)}}
			return b
		}
		b.ev.note("baseline", "GET %s with the valid access token answered HTTP 200; the probe sends the same request with a deviating token", ref)
		return b
	}).(*fhirBase)
}

func (s *session) fhirProbe(key, token, what string) *outcome {
	return s.once(key, func() any {
		if b := s.fhirBaseline(); b.refused() != nil {
			return b.refused()
		}
		o := &outcome{}
		k := &sink{}
		o.ev = []*sink{s.fhirBaseline().ev, k}
		if s.base == nil {
			o.infra = errNoTarget
			return o
		}
		ctx, cancel := s.ctx()
		defer cancel()
		iss, _, err := oauth.ProbeFHIRToken(ctx, s.http(k), s.probeRef(), token, what)
		o.issues, o.infra = iss, err
		return o
	}).(*outcome)
}

func (s *session) probeMissingToken() *outcome {
	return s.fhirProbe("fhir:missing", "", "no access token")
}

func (s *session) probeGarbageToken() *outcome {
	return s.fhirProbe("fhir:garbage", "pacheck-garbage-"+oauth.RandomState(), "an unknown (garbage) access token")
}

func (s *session) probeExpiredToken() *outcome {
	tok := ""
	if s.set != nil {
		tok = s.set.ExpiredToken
	}
	if tok == "" && s.set == nil {
		return &outcome{skip: "no expired access token is available (the run performs no launch)",
			enable: "auth: browser with smart expired_token, or max_expiry_wait ≥ the token lifetime"}
	}
	if tok == "" {
		m := s.main()
		if s.set != nil && m.token != nil && m.token.ExpiresIn > 0 && time.Duration(m.token.ExpiresIn)*time.Second <= s.set.MaxExpiryWait {
			return s.once("fhir:expired-wait", func() any {
				if b := s.fhirBaseline(); b.refused() != nil {
					return b.refused()
				}
				time.Sleep(time.Until(m.token.Expiry().Add(2 * time.Second)))
				ctx, cancel := s.ctx()
				defer cancel()
				k := &sink{}
				iss, _, err := oauth.ProbeFHIRToken(ctx, s.http(k), s.probeRef(), m.token.AccessToken, "an expired access token")
				return &outcome{issues: iss, infra: err, ev: []*sink{s.fhirBaseline().ev, k}}
			}).(*outcome)
		}
		return &outcome{skip: "no expired access token is available (the launch's tokens live longer than the configured wait)",
			enable: "smart expired_token (an access token of the target that has expired) or max_expiry_wait ≥ the token lifetime"}
	}
	return s.fhirProbe("fhir:expired", tok, "an expired access token")
}

func (s *session) probeQueryToken() *outcome {
	return s.once("fhir:query", func() any {
		b := s.fhirBaseline()
		if b.refused() != nil {
			return b.refused()
		}
		k := &sink{}
		ctx, cancel := context.WithTimeout(s.run.Context(), time.Minute)
		defer cancel()
		iss, _, err := oauth.ProbeQueryToken(ctx, s.http(k), s.probeRef(), b.token)
		return &outcome{issues: iss, infra: err, ev: []*sink{b.ev, k}}
	}).(*outcome)
}
