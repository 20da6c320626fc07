package smart

// How the introspection caller authenticates (SMART App Launch 2.2, Token Introspection,
// "Authorization to perform Token Introspection"): "SMART on FHIR EHRs MAY implement access
// control protecting the Token Introspection endpoint. If access control is implemented, any
// client authorized to issue Token Introspection API calls SHALL be permitted to authenticate to
// the Token Introspection endpoint by providing an appropriately-scoped SMART App or SMART
// Backend Service bearer token in the Authorization header."
//
// The spec first calls the endpoint with no authentication: answered, the endpoint has no access
// control and the rule does not apply (the spec skips; refusing such calls is only a MAY). Refused,
// it looks at how the suite's introspection calls got through: with the main launch's access token
// as bearer, the rule holds; with a client's credentials, that client is authorized to introspect,
// so its own access token (from a launch with that client) must be accepted as bearer too.

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

const ruleIntrospectBearer = "introspect.bearer-auth"

// introAuthProbe is the stored result of the introspection authentication probe.
type introAuthProbe struct {
	ev           *sink
	unauthStatus int
	infra        error
}

// probeIntrospectUnauthenticated introspects the latest live token once with no authentication.
func (s *session) probeIntrospectUnauthenticated(endpoint, token string) *introAuthProbe {
	return s.once("probe:introspect-unauthenticated", func() any {
		p := &introAuthProbe{ev: &sink{}}
		ctx, cancel := s.ctx()
		defer cancel()
		h := http.Header{"Accept": {"application/json"}, "Content-Type": {"application/x-www-form-urlencoded"}}
		resp, err := s.http(p.ev).Do(ctx, &fhirhttp.Request{Method: http.MethodPost, URL: endpoint, Header: h,
			Body: []byte(url.Values{"token": {token}}.Encode()), NoToken: true})
		if err != nil {
			p.infra = fmt.Errorf("smart: introspection without authentication: %w", err)
			return p
		}
		p.unauthStatus = resp.Status
		return p
	}).(*introAuthProbe)
}

func introspectAuthSpec(v string, need func() (*session, *lifecycle)) {
	spec(v, "bearer-accepted", ids("smart.introspect.bearer-auth"), func() {
		s, lc := need()
		d := s.discovery()
		p := s.probeIntrospectUnauthenticated(d.introspectEndpoint, lc.latest.AccessToken)
		attach(p.ev)
		if p.infra != nil {
			framework.Infra(p.infra)
		}
		if p.unauthStatus == http.StatusOK {
			framework.SkipBecause("the introspection endpoint answered a call without authentication (HTTP 200): it implements no access control, so the rule on authenticating with a bearer token does not apply (access control is a MAY)",
				"a server that protects its introspection endpoint")
		}
		framework.Note("without authentication", "HTTP %d: the endpoint has access control", p.unauthStatus)
		if lc.introMethod == "" {
			framework.Note("bearer", "the suite's introspection calls were authorized with %s", lc.introAuth)
			framework.ExpectConformant("introspection authorization", nil)
			return
		}
		// A client authenticated with its credentials: it is authorized to introspect, so its own
		// access token must do as bearer.
		l, ok := s.clientLaunch(lc.introMethod)
		if !ok {
			framework.Infra(fmt.Errorf("smart: no configured client authenticates with %s, although introspection accepted one", lc.introMethod))
		}
		if o := s.tokenTrouble(l, "launch with client "+l.client.ClientID+" for its own bearer token"); o != nil {
			judge("introspection authorization", o)
		}
		attach(l.ev)
		ctx, cancel := s.ctx()
		defer cancel()
		name := fmt.Sprintf("bearer (client %s's own access token)", l.client.ClientID)
		in, used, tried, err := oauth.IntrospectFirst(ctx, d.introspectEndpoint, l.token.AccessToken,
			[]oauth.IntrospectAuth{{Name: name, Client: l.oc, Bearer: l.token.AccessToken}})
		if err != nil {
			framework.Infra(err)
		}
		framework.Note("authorization", "the suite's introspection calls were authorized with %s; then %v", lc.introAuth, tried)
		var iss issue.List
		if used < 0 || in == nil || in.Status != http.StatusOK {
			status := 0
			if in != nil {
				status = in.Status
			}
			iss = append(iss, issue.Issue{Severity: issue.Error, Rule: ruleIntrospectBearer, Path: "Authorization",
				Message: fmt.Sprintf("introspection: client %s may introspect with its %s credentials, so its access token in the Authorization header must be accepted too, but the call was refused (HTTP %d); SMART defines no introspection scope, so pacheck presents the token the client was granted at launch",
					l.client.ClientID, lc.introMethod, status)})
		}
		framework.ExpectConformant("introspection authorization", iss)
	})
}
