package smart

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

// only keeps the issues whose rule is one of rules.
func only(in issue.List, rules ...string) issue.List {
	var out issue.List
	for _, i := range in {
		if contains(rules, i.Rule) {
			out = append(out, i)
		}
	}
	return out
}

// except drops the issues whose rule is one of rules.
func except(in issue.List, rules ...string) issue.List {
	var out issue.List
	for _, i := range in {
		if !contains(rules, i.Rule) {
			out = append(out, i)
		}
	}
	return out
}

// promote turns warnings of rules into errors (a SHOULD-level spec fails on them).
func promote(in issue.List, rules ...string) issue.List {
	out := append(issue.List(nil), in...)
	for i := range out {
		if contains(rules, out[i].Rule) && out[i].Severity == issue.Warning {
			out[i].Severity = issue.Error
		}
	}
	return out
}

func discoverySpecs(v string) {
	spec(v, "well-known", ids("smart.discovery.well-known"), func() {
		s, d := needDiscovery(v, true)
		framework.ExpectConformant("smart-configuration", only(s.configIssues(d, v),
			oauth.RuleConfigStatus, oauth.RuleConfigContentType, oauth.RuleConfigJSON))
	})
	spec(v, "required-fields", ids("smart.discovery.required-fields"), func() {
		s, d := needDiscovery(v, false)
		iss := only(s.configIssues(d, v), oauth.RuleConfigStatus, oauth.RuleConfigJSON, oauth.RuleConfigRequired, oauth.RuleConfigType,
			oauth.RuleConfigURL, oauth.RuleConfigGrantTypes, oauth.RuleConfigResponseType, oauth.RuleConfigRecommended)
		if v != "1.0.0" {
			// code_challenge_methods_supported is judged by s256-required.
			var keep issue.List
			for _, i := range iss {
				if i.Path != "code_challenge_methods_supported" {
					keep = append(keep, i)
				}
			}
			iss = keep
		}
		framework.ExpectConformant("smart-configuration fields", iss)
	})
	spec(v, "s256-required", ids("smart.discovery.pkce-s256"), func() {
		s, d := needDiscovery(v, false)
		iss := s.configIssues(d, v)
		out := only(iss, oauth.RuleConfigPKCES256, oauth.RuleConfigPKCEPlain)
		for _, i := range iss {
			if i.Rule == oauth.RuleConfigRequired && i.Path == "code_challenge_methods_supported" {
				out = append(out, i)
			}
		}
		framework.ExpectConformant("code_challenge_methods_supported", out)
	})
	spec(v, "capabilities", ids("smart.discovery.capabilities"), func() {
		s, d := needDiscovery(v, false)
		framework.Note("capabilities needed", "%s", strings.Join(s.neededCapabilities(), " "))
		framework.ExpectConformant("capabilities", only(s.configIssues(d, v), oauth.RuleConfigCapability, oauth.RuleConfigUnknownCap, oauth.RuleConfigAuthMethods))
	})
	spec(v, "capability-statement-agrees", ids("smart.discovery.capabilities"), func() {
		_, d := needDiscovery(v, false)
		if d.capStmt == nil {
			status := 0
			if d.capResp != nil {
				status = d.capResp.Status
			}
			framework.SkipBecause(fmt.Sprintf("no CapabilityStatement could be read from [base]/metadata (HTTP %d); the capability suite reports it", status), "a readable CapabilityStatement")
		}
		ver := oauth.SMARTv2
		if v == "1.0.0" {
			ver = oauth.SMARTv1
		}
		var out issue.List
		for _, i := range oauth.CheckOAuthURIs(d.capStmt, d.cfg, ver) {
			// An endpoint absent from smart-configuration is judged by required-fields.
			if i.Rule == oauth.RuleOAuthURIsAgree && strings.Contains(i.Diagnostics, `smart-configuration ""`) {
				continue
			}
			out = append(out, i)
		}
		framework.ExpectConformant("oauth-uris", out)
	})
	spec(v, "associated-endpoints", ids("smart.discovery.associated-endpoints"), func() {
		_, d := needDiscovery(v, false)
		if _, ok := d.cfg.Raw["associated_endpoints"]; !ok {
			framework.SkipBecause("the smart-configuration lists no associated_endpoints (OPTIONAL in SMART 2.2)", "")
		}
		framework.ExpectConformant("associated_endpoints", oauth.CheckAssociatedEndpoints(d.cfg.Raw))
	})
	spec(v, "user-access-brand", ids("smart.discovery.user-access-brand"), func() {
		s, d := needDiscovery(v, false)
		b, iss := oauth.ReadBrandRef(d.cfg.Raw)
		if !b.HasBundle && !b.HasID {
			framework.SkipBecause("the smart-configuration has neither user_access_brand_bundle nor user_access_brand_identifier (both RECOMMENDED in SMART 2.2)",
				"a server that publishes a User-access Brand Bundle")
		}
		if b.BundleURL != "" {
			ctx, cancel := s.ctx()
			defer cancel()
			k := &sink{}
			defer attach(k)
			resp, err := s.http(k).Do(ctx, &fhirhttp.Request{URL: b.BundleURL, NoToken: true,
				Header: http.Header{"Accept": {"application/fhir+json, application/json"}}})
			if err != nil {
				framework.Infra(fmt.Errorf("smart: fetching the Brand Bundle (user_access_brand_bundle): %w", err))
			}
			n, more := oauth.CheckBrandBundle(resp, b)
			framework.Note("Brand Bundle", "HTTP %d, %d Brand(s) (Organizations)", resp.Status, n)
			iss = append(iss, more...)
		}
		framework.ExpectConformant("user-access brand", iss)
	})
	spec(v, "openid-configuration", ids("smart.oidc.configuration"), func() {
		_, d := needDiscovery(v, false)
		if d.cfg == nil || !d.cfg.Has("sso-openid-connect") {
			framework.SkipBecause("the server does not claim sso-openid-connect", "")
		}
		if d.openid == nil {
			framework.Infra(fmt.Errorf("smart: the OpenID configuration of issuer %q could not be fetched", d.cfg.Issuer))
		}
		iss := oauth.CheckOpenIDConfig(d.openid, d.cfg)
		if d.jwksResp == nil {
			iss = append(iss, issue.Issue{Severity: issue.Error, Rule: oauth.RuleJWKSStatus, Message: "jwks_uri: expected a reachable JWKS, but none could be fetched"})
		} else {
			iss = append(iss, oauth.CheckJWKS(d.jwksResp)...)
		}
		framework.ExpectConformant("OpenID configuration and JWKS", iss)
	})
}

func launchSpecs(v string) {
	spec(v, "standalone", ids("smart.launch.standalone"), func() {
		s := needBrowser()
		m := s.main()
		attach(m.ev)
		if m.blocked != nil {
			framework.Infra(m.blocked)
		}
		if m.root != nil && v != s.version {
			framework.Infra(m.root) // the session version's launch/standalone reports it
		}
		if o := launchTrouble(m, "standalone launch"); o != nil {
			o.ev = nil
			judge("standalone launch", o)
		}
		d := s.discovery()
		iss := except(oauth.CheckRedirect(m.redirect, m.req.State, d.cfg.Issuer), oauth.RuleRedirectState)
		if m.token == nil || !m.token.OK() {
			iss = append(iss, only(oauth.CheckTokenResponse(m.token, oauth.TokenExpect{RequestedScope: m.req.Scope}), oauth.RuleTokenStatus, oauth.RuleTokenAccessToken)...)
			if len(iss.Errors()) == 0 {
				iss = append(iss, issue.Issue{Severity: issue.Error, Rule: ruleLaunch, Message: "token exchange: no access token"})
			}
		}
		framework.Note("client", "%s authenticated with %s; PKCE S256", m.client.ClientID, m.client.method())
		framework.ExpectConformant("standalone launch", iss)
	})
	spec(v, "state-unchanged", ids("smart.authorize.state"), func() {
		s := needBrowser()
		m := s.main()
		if m.redirect == nil && m.root != nil {
			framework.Infra(m.root) // no redirect to judge the state of
		}
		framework.ExpectConformant("state", only(oauth.CheckRedirect(m.redirect, m.req.State, ""), oauth.RuleRedirectState))
	})
	confidential := func(name, method, req string) {
		spec(v, name, ids(req), func() {
			s := needBrowser()
			l, ok := s.clientLaunch(method)
			if !ok {
				framework.SkipBecause("no client with token_endpoint_auth "+method+" is configured", "a registered "+method+" client in the run configuration (client or extra_clients)")
			}
			o := s.tokenTrouble(l, "launch with client "+l.client.ClientID+" ("+method+")")
			if o == nil {
				o = &outcome{ev: []*sink{l.ev}}
			}
			judge("confidential client launch", o)
		})
	}
	confidential("confidential-symmetric-basic", oauth.AuthSecretBasic, "smart.client.symmetric-auth")
	confidential("confidential-symmetric-post", oauth.AuthSecretPost, "smart.client.symmetric-auth")
	confidential("confidential-asymmetric", oauth.AuthPrivateKey, "smart.client.asymmetric-auth")
	spec(v, "code-single-use", ids("smart.token.code-single-use"), func() {
		s := needBrowser()
		lc := s.lifecycle()
		if o := s.tokenTrouble(lc.l, "launch for the code replay probe"); o != nil {
			judge("code replay", o)
		}
		attach(lc.l.ev)
		if lc.replayErr != nil {
			framework.Infra(lc.replayErr)
		}
		framework.ExpectConformant("code replay", lc.replay)
	})
}

func tokenSpecs(v string) {
	check := func() (*launch, issue.List) {
		GinkgoHelper()
		_, m := needMain()
		return m, oauth.CheckTokenResponse(m.token, oauth.TokenExpect{RequestedScope: m.req.Scope})
	}
	spec(v, "type-bearer", ids("smart.token.type-bearer"), func() {
		_, iss := check()
		framework.ExpectConformant("token_type", only(iss, oauth.RuleTokenType, oauth.RuleTokenAccessToken, oauth.RuleTokenContentType))
	})
	spec(v, "patient-context", ids("smart.token.patient-context"), func() {
		s, m := needMain()
		iss := only(oauth.CheckTokenResponse(m.token, oauth.TokenExpect{RequestedScope: m.req.Scope}), oauth.RuleTokenPatient)
		if m.token.Patient != "" {
			ctx, cancel := s.ctx()
			defer cancel()
			k := &sink{}
			resp, err := s.tokenClient(m.token, k).Read(ctx, "Patient", m.token.Patient)
			attach(k)
			if err != nil {
				framework.Infra(err)
			}
			if resp.Status != 200 || resp.ResourceType() != "Patient" {
				iss = append(iss, issue.Issue{Severity: issue.Error, Rule: oauth.RuleTokenPatient, Path: "patient",
					Message: fmt.Sprintf("patient: expected the context patient readable with the token (HTTP 200 Patient), got HTTP %d", resp.Status)})
			}
		}
		framework.ExpectConformant("patient context", iss)
	})
	spec(v, "expires-in", ids("smart.token.expires-in"), func() {
		_, iss := check()
		framework.ExpectConformant("expires_in", promote(only(iss, oauth.RuleTokenExpiresIn), oauth.RuleTokenExpiresIn))
	})
	spec(v, "no-store", ids("smart.token.no-store"), func() {
		_, iss := check()
		framework.ExpectConformant("Cache-Control", only(iss, oauth.RuleTokenNoStore, oauth.RuleTokenPragma))
	})
	spec(v, "scope-granted", ids("smart.authorize.consent"), func() {
		m, iss := check()
		framework.Note("scopes", "requested %q, granted %q", m.req.Scope, m.token.Scope)
		framework.ExpectConformant("scope", only(iss, oauth.RuleTokenScope, oauth.RuleTokenScopeWidened, oauth.RuleTokenScopeMissing))
	})
	spec(v, "refresh", ids("smart.token.refresh"), func() {
		s, m := needMain()
		iss := only(oauth.CheckTokenResponse(m.token, oauth.TokenExpect{RequestedScope: m.req.Scope}), oauth.RuleTokenRefresh)
		// The stated scope may differ from what was authorized (SMART: "this can be different from
		// the scopes requested by the app") and refresh_token is OPTIONAL: a refresh token that was
		// issued is exercised whatever the stated scope says; only its absence ends the spec early.
		if !statesRefreshScope(m.token.Scope) {
			if m.token.RefreshToken == "" {
				framework.ExpectConformant("refresh_token", iss)
				framework.SkipBecause(fmt.Sprintf("no refresh token was issued and neither offline_access nor online_access was granted (requested %q, stated scope %q)", m.req.Scope, m.token.Scope),
					"request offline_access or online_access in the scopes, from a server that grants it")
			}
			framework.Note("scope", "the token response's stated scope %q names neither offline_access nor online_access (requested %q), but it carries a refresh_token: the refresh is exercised", m.token.Scope, m.req.Scope)
		}
		lc := s.lifecycle()
		attach(lc.l.ev)
		if o := s.tokenTrouble(lc.l, "launch for the refresh checks"); o != nil {
			judge("refresh", o)
		}
		if lc.l.token.RefreshToken == "" {
			lcIss := only(oauth.CheckTokenResponse(lc.l.token, oauth.TokenExpect{RequestedScope: lc.l.req.Scope}), oauth.RuleTokenRefresh)
			if len(lcIss) == 0 && !iss.HasErrors() {
				// Neither launch states offline access and only the main one got a refresh token: the
				// one pacheck may spend got none, so nothing could be refreshed.
				framework.SkipBecause(fmt.Sprintf("the second launch (the one whose tokens the refresh checks may spend) got no refresh token and its stated scope %q names neither offline_access nor online_access", lc.l.token.Scope),
					"a server that issues a refresh token on every launch requesting offline_access or online_access")
			}
			iss = append(iss, lcIss...)
		}
		if lc.refreshErr != nil {
			framework.Infra(lc.refreshErr)
		}
		if t := lc.refreshPlain; t != nil {
			if !t.OK() {
				iss = append(iss, issue.Issue{Severity: issue.Error, Rule: ruleRefresh, Message: fmt.Sprintf("refresh_token grant: expected HTTP 200 with a new access token, got HTTP %d (error %s)", t.Status, t.Error)})
			} else if t.Patient != "" && t.Patient != lc.l.token.Patient {
				iss = append(iss, issue.Issue{Severity: issue.Error, Rule: ruleRefreshCtx, Message: "refresh_token grant: expected the same patient context as the original token"})
			}
		}
		framework.ExpectConformant("refresh", iss)
	})
	refreshed := func() *lifecycle {
		GinkgoHelper()
		s, _ := needMain()
		lc := s.lifecycle()
		attach(lc.l.ev)
		if o := s.tokenTrouble(lc.l, "launch for the refresh checks"); o != nil {
			judge("refresh", o)
		}
		if lc.refreshErr != nil {
			framework.Infra(lc.refreshErr)
		}
		// Baseline: a plain refresh works; a refused narrowing or widening shows nothing otherwise.
		if lc.refreshPlain == nil || !lc.refreshPlain.OK() {
			if lc.l.token.RefreshToken == "" && !statesRefreshScope(lc.l.token.Scope) {
				framework.SkipBecause(fmt.Sprintf("no refresh token was issued and neither offline_access nor online_access was granted (stated scope %q)", lc.l.token.Scope),
					"request offline_access or online_access in the scopes, from a server that grants it")
			}
			why := "the token response carried no refresh_token"
			if t := lc.refreshPlain; t != nil {
				why = fmt.Sprintf("the refresh_token grant answered HTTP %d (error %q)", t.Status, t.Error)
			}
			framework.Infra(&framework.BlockedError{Cause: s.specID("token/refresh"), Reason: why})
		}
		return lc
	}
	spec(v, "refresh-narrowing", ids("smart.token.refresh-scope"), func() {
		lc := refreshed()
		t := lc.refreshNarrow
		var iss issue.List
		if t == nil || !t.OK() {
			status := 0
			if t != nil {
				status = t.Status
			}
			iss = append(iss, issue.Issue{Severity: issue.Error, Rule: ruleRefresh, Message: fmt.Sprintf("refresh asking for a subset of the granted scopes: expected HTTP 200, got %d", status)})
		} else {
			framework.Note("narrowed", "asked %q, got %q", lc.narrowScope, t.Scope)
			if _, widened := oauth.CompareScopes([]string{lc.narrowScope}, []string{t.Scope}); t.Scope != "" && len(widened) > 0 {
				iss = append(iss, issue.Issue{Severity: issue.Error, Rule: oauth.RuleTokenScopeWidened, Path: "scope",
					Message: "refresh asking for a subset of the granted scopes: expected at most those scopes, got more", Diagnostics: strings.Join(widened, " ")})
			}
		}
		framework.ExpectConformant("refresh narrowing", iss)
	})
	spec(v, "refresh-widening-refused", ids("smart.token.refresh-scope"), func() {
		lc := refreshed()
		for _, w := range lc.widenTried {
			framework.Note("widening", "%s", w)
		}
		framework.ExpectConformant("refresh widening", lc.widen)
	})
	contextSpecs(v, false) // need_patient_banner and fhirContext of the standalone launch (context.go)
}

// statesRefreshScope reports whether a token response's stated scope grants offline or online access.
func statesRefreshScope(scope string) bool {
	return oauth.HasScope(scope, "offline_access") || oauth.HasScope(scope, "online_access")
}

func idTokenSpecs(v string) {
	verify := func() (*session, *launch, *oauth.IDToken, issue.List) {
		s, m := needMain()
		if !oauth.HasScope(m.req.Scope, "openid") {
			framework.SkipBecause("the launch did not request openid", "request openid fhirUser in the scopes")
		}
		if m.token.IDToken == "" {
			framework.ExpectConformant("id_token", only(oauth.CheckTokenResponse(m.token, oauth.TokenExpect{RequestedScope: m.req.Scope}), oauth.RuleTokenIDToken))
			framework.SkipBecause("no id_token was returned", "")
		}
		d := s.discovery()
		tok, iss := oauth.VerifyIDToken(m.token.IDToken, oauth.IDTokenExpect{Issuer: d.cfg.Issuer, ClientID: m.client.ClientID, JWKS: d.jwks,
			NeedFHIRUser: oauth.HasScope(m.req.Scope, "fhirUser")})
		return s, m, tok, iss
	}
	spec(v, "signature", ids("smart.oidc.id-token-signed"), func() {
		_, _, _, iss := verify()
		framework.ExpectConformant("id_token signature", only(iss, oauth.RuleIDTokenFormat, oauth.RuleIDTokenUnsigned, oauth.RuleIDTokenAlg, oauth.RuleIDTokenSignature))
	})
	spec(v, "claims", ids("smart.oidc.id-token-claims"), func() {
		_, _, _, iss := verify()
		framework.ExpectConformant("id_token claims", only(iss, oauth.RuleIDTokenIss, oauth.RuleIDTokenAud, oauth.RuleIDTokenAzp,
			oauth.RuleIDTokenExp, oauth.RuleIDTokenIat, oauth.RuleIDTokenSub, oauth.RuleIDTokenNonce))
	})
	spec(v, "fhiruser", ids("smart.oidc.fhiruser"), func() {
		s, m, tok, iss := verify()
		iss = only(iss, oauth.RuleIDTokenFHIRUser)
		if tok != nil && tok.FHIRUser != "" && len(iss.Errors()) == 0 {
			ctx, cancel := s.ctx()
			defer cancel()
			k := &sink{}
			more, err := oauth.CheckFHIRUserReadable(ctx, s.tokenClient(m.token, k), tok.FHIRUser)
			attach(k)
			if err != nil {
				framework.Infra(err)
			}
			iss = append(iss, more...)
		}
		framework.ExpectConformant("fhirUser", iss)
	})
}

func introspectionSpecs(v string) {
	need := func() (*session, *lifecycle) {
		s := needBrowser()
		d := s.discovery()
		if d.introspectEndpoint == "" {
			framework.SkipBecause("the server advertises no introspection_endpoint", "")
		}
		lc := s.lifecycle()
		attach(lc.l.ev)
		if o := s.tokenTrouble(lc.l, "launch for the introspection checks"); o != nil {
			judge("introspection", o)
		}
		if lc.introErr != nil {
			framework.Infra(lc.introErr)
		}
		return s, lc
	}
	spec(v, "active", ids("smart.introspect.active"), func() {
		_, lc := need()
		t := lc.latest
		framework.ExpectConformant("introspection of a live token", oauth.CheckIntrospection(lc.introActive,
			oauth.IntrospectExpect{Active: true, ClientID: lc.l.client.ClientID, Patient: t.Patient, Scope: t.Scope}))
	})
	spec(v, "inactive", ids("smart.introspect.inactive"), func() {
		s, lc := need()
		// Baseline: the endpoint says active for the live token; "inactive" means nothing from an
		// endpoint that says it of every token.
		if a := lc.introActive; a == nil || a.Status != http.StatusOK || !a.ActiveOK || !a.Active {
			status := 0
			if a != nil {
				status = a.Status
			}
			framework.Infra(&framework.BlockedError{Cause: s.specID("introspection/active"),
				Reason: fmt.Sprintf("introspecting the live token did not answer HTTP 200 with \"active\": true (HTTP %d)", status)})
		}
		iss := oauth.CheckIntrospection(lc.introGarbage, oauth.IntrospectExpect{Active: false})
		for i := range iss {
			iss[i].Message = "unknown token: " + iss[i].Message
		}
		if lc.introRevoked != nil {
			more := oauth.CheckIntrospection(lc.introRevoked, oauth.IntrospectExpect{Active: false})
			for i := range more {
				more[i].Message = "revoked token: " + more[i].Message
			}
			iss = append(iss, more...)
		}
		if lc.introExpired != nil {
			more := oauth.CheckIntrospection(lc.introExpired, oauth.IntrospectExpect{Active: false})
			for i := range more {
				more[i].Message = "expired token (auth.expired_token): " + more[i].Message
			}
			iss = append(iss, more...)
		} else {
			framework.Note("expired token", "not introspected: no auth.expired_token is configured")
		}
		framework.ExpectConformant("introspection of inactive tokens", iss)
	})
	// The in-depth specs relate the introspection of the main launch's access token to the token
	// response that issued it: SMART token-introspection.html wants its fields "as included in
	// the original access token response".
	related := func() (*launch, *oauth.IDToken, issue.List) {
		GinkgoHelper()
		s, lc := need()
		_, m := needMain()
		in := lc.introMain
		if in == nil || in.Status != http.StatusOK || !in.ActiveOK || !in.Active {
			status := 0
			if in != nil {
				status = in.Status
			}
			framework.Infra(&framework.BlockedError{Cause: s.specID("introspection/active"),
				Reason: fmt.Sprintf("introspecting the main launch's live access token did not answer HTTP 200 with \"active\": true (HTTP %d)", status)})
		}
		var idt *oauth.IDToken
		if m.token.IDToken != "" {
			idt, _ = oauth.VerifyIDToken(m.token.IDToken, oauth.IDTokenExpect{})
		}
		framework.Note("token", "introspected the main launch's access token (issued %s, expires_in %d)", m.token.Received.UTC().Format(time.RFC3339), m.token.ExpiresIn)
		return m, idt, oauth.CheckIntrospectionToken(in, oauth.IntrospectToken{Token: m.token, IDToken: idt, Now: lc.introMainAt})
	}
	spec(v, "exp-matches-token", ids("smart.introspect.exp"), func() {
		m, _, iss := related()
		if m.token.ExpiresIn <= 0 {
			framework.Note("expires_in", "the token response gave no expires_in: exp is judged only against the present (an active token's exp is not past)")
		}
		framework.ExpectConformant("exp and iat", only(iss, oauth.RuleIntrospectExp))
	})
	spec(v, "id-token-claims", ids("smart.introspect.id-token-claims"), func() {
		_, idt, iss := related()
		if idt == nil {
			framework.SkipBecause("the main launch's token response carried no readable id_token, so no id_token claim is required in the introspection",
				"a launch requesting openid fhirUser from a server that issues an id_token")
		}
		framework.ExpectConformant("iss and sub", only(iss, oauth.RuleIntrospectIDClaims))
	})
	spec(v, "fhiruser", ids("smart.introspect.fhiruser"), func() {
		_, idt, iss := related()
		if idt == nil || idt.FHIRUser == "" {
			framework.SkipBecause("the main launch's id_token carries no fhirUser (or there is no id_token)", "a launch requesting openid fhirUser from a server that issues fhirUser")
		}
		framework.ExpectConformant("fhirUser", promote(only(iss, oauth.RuleIntrospectFHIRUser), oauth.RuleIntrospectFHIRUser))
	})
	introspectAuthSpec(v, need) // SMART 2.2: bearer authentication of the introspection caller
}

func revocationSpecs(v string) {
	spec(v, "revoked-token-refused", ids("smart.revoke.effective"), func() {
		s := needBrowser()
		d := s.discovery()
		if d.revokeEndpoint == "" {
			framework.SkipBecause("the server advertises no revocation_endpoint", "")
		}
		lc := s.lifecycle()
		attach(lc.l.ev)
		if o := s.tokenTrouble(lc.l, "launch for the revocation check"); o != nil {
			judge("revocation", o)
		}
		if lc.revokeErr != nil {
			framework.Infra(lc.revokeErr)
		}
		// Baseline: the token read the same reference before it was revoked.
		if lc.preRevokeStatus != http.StatusOK {
			framework.Infra(&framework.BlockedError{Cause: "revocation baseline",
				Reason: fmt.Sprintf("the token read %s before its revocation with HTTP %d, so a refusal afterwards shows nothing", lc.revokeRef, lc.preRevokeStatus)})
		}
		iss := oauth.CheckRevoke(lc.revoke)
		iss = append(iss, lc.revokedProbe...)
		framework.ExpectConformant("revocation", iss)
	})
}

func scopeSpecs(v string) {
	spec(v, "resource-level", ids("smart.scopes.enforced"), func() {
		judge("resource-level scopes", needBrowser().probeResourceScope())
	})
	spec(v, "granular", ids("smart.scopes.granular"), func() {
		judge("granular scopes", needBrowser().probeGranularScope())
	})
	spec(v, "granular-advertised", ids("smart.scopes.granular"), func() {
		judge("advertised granular scopes", needBrowser().probeAdvertisedGranular())
	})
	spec(v, "consent-decline", ids("smart.authorize.consent-decline"), func() {
		judge("consent", needBrowser().probeConsent())
	})
	v1CompatSpec(v) // 2.x: SMART 1 scopes with their v2 semantics (scopes_v1.go)
}

func probeSpecs(v string) {
	spec(v, "wrong-redirect-uri", ids("smart.authorize.redirect-uri"), func() {
		judge("redirect_uri", needBrowser().probeWrongRedirect())
	})
	spec(v, "unknown-client-id", ids("smart.authorize.client-id"), func() {
		judge("client_id", needBrowser().probeUnknownClient())
	})
	spec(v, "bad-aud", ids("smart.authorize.aud"), func() {
		judge("aud", needBrowser().probeBadAud())
	})
	spec(v, "pkce-plain-refused", ids("smart.pkce.s256"), func() {
		judge("PKCE plain", needBrowser().probePKCEPlain())
	})
	spec(v, "wrong-pkce-verifier", ids("smart.pkce.verifier"), func() {
		judge("code_verifier", needBrowser().probeWrongVerifier())
	})
	spec(v, "missing-pkce-verifier", ids("smart.pkce.verifier"), func() {
		judge("code_verifier", needBrowser().probeMissingVerifier())
	})
	spec(v, "bad-client-secret", ids("smart.client.symmetric-auth"), func() {
		judge("client secret", needBrowser().probeBadSecret())
	})
	spec(v, "bad-client-assertion", ids("smart.client.asymmetric-auth"), func() {
		judge("client assertion", needBrowser().probeBadAssertion())
	})
	spec(v, "code-other-client", ids("smart.token.code-client-bound"), func() {
		judge("code redeemed by another client", needBrowser().probeCodeOtherClient())
	})
	spec(v, "code-expired", ids("smart.token.code-short-lived"), func() {
		judge("expired authorization code", needBrowser().probeCodeExpired())
	})
	spec(v, "consent-deny", ids("smart.authorize.deny"), func() {
		judge("consent deny", needBrowser().probeDeny())
	})
	spec(v, "missing-token", ids("smart.access.invalid-token"), func() {
		judge("no token", current().probeMissingToken())
	})
	spec(v, "garbage-token", ids("smart.access.invalid-token"), func() {
		judge("unknown token", current().probeGarbageToken())
	})
	spec(v, "expired-token", ids("smart.access.expired-token"), func() {
		judge("expired token", current().probeExpiredToken())
	})
	spec(v, "token-in-query", ids("smart.access.no-query-token"), func() {
		judge("token in query", current().probeQueryToken())
	})
	spec(v, "other-member-data", ids("smart.token.patient-context", "uscore.access.patient-compartment"), func() {
		judge("other member", needBrowser().probeIsolation())
	})
}
