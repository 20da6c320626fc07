package smart

// SMART 1 scopes on a 2.x server (Scopes and Launch Context, Scopes for requesting clinical data):
// "For backwards compatibility with scopes defined in the SMART App Launch 1.0 specification,
// servers SHOULD advertise the permission-v1 capability in their .well-known/smart-configuration
// discovery document, SHOULD return v1 scopes when v1 scopes are requested and granted, and
// SHOULD process v1 scopes with the following semantics in v2: v1 .read ⇒ v2 .rs ...". The spec
// launches with patient/Observation.read and judges the three: permission-v1 advertised, the
// granted scope stated in v1 form, and both read and search of Observation allowed.

import (
	"net/http"
	"net/url"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

const (
	ruleV1Compat = "smart-scopes.v1-compat"
	v1Scope      = "patient/Observation.read"
)

// probeV1Scopes launches once with a v1 resource scope and uses the token as v2 .rs.
func (s *session) probeV1Scopes() *outcome {
	return s.once("scopes:v1", func() any {
		scope := "launch/patient " + v1Scope
		l := s.once("launch:scopes-v1", func() any {
			return s.doLaunch(launchSpec{name: "v1 scopes", client: s.set.MainClient(), login: s.set.Login, scope: scope, exchange: true})
		}).(*launch)
		o := &outcome{ev: []*sink{l.ev}}
		if d := s.discovery(); d.cfg != nil && !d.cfg.Has("permission-v1") {
			o.fail(ruleV1Compat, "capabilities: permission-v1 is recommended (SHOULD) for SMART 1.0 scopes, but it is not listed")
		}
		if t := launchTrouble(l, "launch with v1 scopes"); t != nil {
			return t
		}
		if l.token == nil || !l.token.OK() {
			status := 0
			if l.token != nil {
				status = l.token.Status
			}
			o.fail(ruleV1Compat, "launch with %s: the token exchange failed (HTTP %d); v1 scopes should be processed as their v2 equivalents", v1Scope, status)
			return o
		}
		granted := l.token.Scope
		if granted == "" {
			granted = scope // RFC 6749: an omitted scope is the requested one
		}
		if _, notCovered := oauth.CompareScopes([]string{granted}, []string{v1Scope}); len(notCovered) > 0 { // v1Scope goes beyond the grant
			o.skip = "the server did not grant " + v1Scope + " (granted " + clip(granted, 200) + "), so there is no v1 grant to use"
			o.enable = "a member who approves the scopes requested"
			return o
		}
		if !oauth.HasScope(granted, v1Scope) && !oauth.HasScope(granted, "patient/*.read") {
			o.fail(ruleV1Compat, "scope: %s was requested and granted, so it should be stated in v1 form, but the token response states %q", v1Scope, clip(granted, 200))
		}
		p := l.patient()
		if p == "" {
			p = s.main().patient()
		}
		ctx, cancel := s.ctx()
		defer cancel()
		hc := s.tokenClient(l.token, l.ev)
		search, err := hc.Search(ctx, "Observation", url.Values{"patient": {p}})
		if err != nil {
			o.infra = err
			return o
		}
		if search.Status != http.StatusOK {
			o.fail(ruleV1Compat, "Observation search with %s granted: expected HTTP 200 (v1 .read is v2 .rs: read and search), got %d", v1Scope, search.Status)
			return o
		}
		ents := fhirhttp.Entries(search.Resource)
		var id string
		for _, e := range ents {
			if e["resourceType"] == "Observation" {
				id, _ = e["id"].(string)
				break
			}
		}
		if id == "" {
			l.ev.note("v1 scopes", "the Observation search answered HTTP 200 with no Observation, so no read was tried")
			return o
		}
		read, err := hc.Read(ctx, "Observation", id)
		if err != nil {
			o.infra = err
			return o
		}
		if read.Status != http.StatusOK {
			o.fail(ruleV1Compat, "Observation read with %s granted: expected HTTP 200, got %d", v1Scope, read.Status)
		}
		return o
	}).(*outcome)
}

func v1CompatSpec(v string) {
	spec(v, "v1-compat", ids("smart.scopes.v1-compat"), func() {
		o := needBrowser().probeV1Scopes()
		framework.Note("scope requested", "launch/patient %s", v1Scope)
		judge("SMART 1 scopes", o)
	})
}
