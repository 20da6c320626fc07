package smart

import (
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

// disc is the stored discovery: smart-configuration, CapabilityStatement, OpenID configuration, JWKS.
type disc struct {
	cfg      *oauth.SMARTConfig
	capStmt  map[string]any
	capResp  *fhirhttp.Response
	openid   *oauth.OpenIDConfig
	jwks     *jose.JSONWebKeySet
	jwksResp *fhirhttp.Response
	// Endpoints the launches use: smart-configuration first, CapabilityStatement oauth-uris as
	// fallback (a missing field is judged by the required-fields spec, not by every launch).
	authorizeEndpoint, tokenEndpoint, introspectEndpoint, revokeEndpoint string
	fallbacks                                                            []string
	infra                                                                error
	ev                                                                   *sink
}

// discovery fetches the discovery documents once (no token).
func (s *session) discovery() *disc {
	return s.once("discovery", func() any {
		d := &disc{ev: &sink{}}
		if s.base == nil {
			d.infra = s.setErr
			if d.infra == nil {
				d.infra = errNoTarget
			}
			return d
		}
		ctx, cancel := s.ctx()
		defer cancel()
		hc := s.http(d.ev)
		cfg, err := oauth.FetchSMARTConfig(ctx, hc, s.run.Target)
		if err != nil {
			d.infra = err
			b := s.discoveryBlock(d)
			s.run.SetRootCause(framework.RootDiscovery, evidence.Blocked{Cause: b.Cause, Reason: b.Reason})
			return d
		}
		d.cfg = cfg
		if resp, err := hc.Metadata(ctx); err == nil {
			d.capResp = resp
			d.capStmt = resp.Resource
		}
		uris := oauth.OAuthURIs(d.capStmt)
		pick := func(field, v, ext string) string {
			if v != "" {
				return v
			}
			if u := uris[ext]; u != "" {
				d.fallbacks = append(d.fallbacks, field+" taken from the CapabilityStatement oauth-uris "+ext)
				return u
			}
			return ""
		}
		d.authorizeEndpoint = pick("authorization_endpoint", cfg.AuthorizationEndpoint, "authorize")
		d.tokenEndpoint = pick("token_endpoint", cfg.TokenEndpoint, "token")
		d.introspectEndpoint = pick("introspection_endpoint", cfg.IntrospectionEndpoint, "introspect")
		d.revokeEndpoint = pick("revocation_endpoint", cfg.RevocationEndpoint, "revoke")
		for _, f := range d.fallbacks {
			d.ev.note("endpoint fallback", "%s", f)
		}
		if cfg.Issuer != "" && cfg.Has("sso-openid-connect") {
			if o, err := oauth.FetchOpenIDConfig(ctx, hc, cfg.Issuer); err == nil {
				d.openid = o
			}
		}
		jwksURI := cfg.JWKSURI
		if jwksURI == "" && d.openid != nil {
			jwksURI = d.openid.JWKSURI
		}
		if jwksURI != "" {
			if set, resp, err := oauth.FetchJWKS(ctx, hc, jwksURI); err == nil {
				d.jwks, d.jwksResp = set, resp
			}
		}
		return d
	}).(*disc)
}

// configIssues runs CheckSMARTConfig for the session's version and needs.
func (s *session) configIssues(d *disc, version string) issue.List {
	v := oauth.SMARTv2
	if version == "1.0.0" {
		v = oauth.SMARTv1
	}
	return oauth.CheckSMARTConfig(d.cfg, oauth.ConfigCheck{Version: v, NeedCapabilities: s.neededCapabilities(),
		RequireHTTPS: strings.HasPrefix(s.run.Target, "https:")})
}

// neededCapabilities are the capabilities this run's launches rely on.
func (s *session) neededCapabilities() []string {
	need := []string{"launch-standalone", "context-standalone-patient"}
	if s.set == nil {
		return need
	}
	for _, c := range append([]Client{s.set.MainClient()}, s.set.ExtraClients...) {
		var cp string
		switch c.method() {
		case oauth.AuthNone:
			cp = "client-public"
		case oauth.AuthSecretBasic, oauth.AuthSecretPost:
			cp = "client-confidential-symmetric"
		case oauth.AuthPrivateKey:
			if s.version == "1.0.0" {
				continue // SMART 1.0 defines no asymmetric client capability
			}
			cp = "client-confidential-asymmetric"
		}
		if !contains(need, cp) {
			need = append(need, cp)
		}
	}
	sc := s.scopes()
	if oauth.HasScope(sc, "offline_access") {
		need = append(need, "permission-offline")
	}
	if oauth.HasScope(sc, "online_access") {
		need = append(need, "permission-online")
	}
	if oauth.HasScope(sc, "openid") {
		need = append(need, "sso-openid-connect")
	}
	need = append(need, "permission-patient")
	return need
}
