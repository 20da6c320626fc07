package smart

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/transport"
	"github.com/pacheck/pacheck/suites/framework"
)

// probeOrigin is the origin the discovery CORS spec sends: SMART 2.2 wants the public discovery
// endpoints open to any origin, so one no server can have registered shows it.
const probeOrigin = "https://cors-probe.pacheck.invalid"

// corsSpecs judge Cross-Origin Resource Sharing (SMART App Launch 2.2, requirement
// smart.transport.cors; the requirement's versions keep them out of 1.0.0 and 2.0.0).
func corsSpecs(v string) {
	spec(v, "cors-discovery", ids("smart.transport.cors"), func() {
		s, d := needDiscovery(v, false)
		if d.cfg == nil || !d.cfg.Has("client-public") {
			framework.SkipBecause("the server does not advertise client-public: SMART 2.2 requires CORS of servers that support purely browser-based apps, which are public clients",
				"a server whose smart-configuration capabilities list client-public")
		}
		ctx, cancel := s.ctx()
		defer cancel()
		k := &sink{}
		defer attach(k)
		base := strings.TrimRight(s.run.Target, "/")
		var iss issue.List
		for _, e := range []struct{ what, url, accept, cause string }{
			{".well-known/smart-configuration", base + "/.well-known/smart-configuration", "application/json", s.specID("discovery/well-known")},
			{"metadata", base + "/metadata", "application/fhir+json", "the capability suite (CapabilityStatement at [base]/metadata)"},
		} {
			resp, err := s.http(k).Do(ctx, &fhirhttp.Request{URL: e.url, NoToken: true,
				Header: http.Header{"Origin": {probeOrigin}, "Accept": {e.accept}}})
			if err != nil {
				framework.Infra(err)
			}
			// A discovery document that cannot be read is the discovery and capability specs'
			// to report; only the CORS headers of a readable one are judged here.
			if resp.Status != http.StatusOK {
				framework.Infra(&framework.BlockedError{Cause: e.cause,
					Reason: e.what + " did not answer HTTP 200 to a GET with an Origin header, so its CORS headers show nothing"})
			}
			iss = append(iss, transport.CheckCORS(e.what, probeOrigin, resp.Status, resp.Header)...)
		}
		framework.Note("origin", "GET with Origin: %s (any origin must be permitted)", probeOrigin)
		framework.ExpectConformant("CORS on the discovery endpoints", iss)
	})
	spec(v, "cors-api", ids("smart.transport.cors"), func() {
		_, d := needDiscovery(v, false)
		if d.cfg == nil || !d.cfg.Has("client-public") {
			framework.SkipBecause("the server does not advertise client-public: SMART 2.2 requires CORS of servers that support purely browser-based apps, which are public clients",
				"a server whose smart-configuration capabilities list client-public")
		}
		s, m := needMain()
		base := strings.TrimRight(s.run.Target, "/")
		origin, client := appOrigin(s, base, d.tokenEndpoint)
		if origin == "" {
			framework.SkipBecause("no configured client has a redirect URI on an origin other than the FHIR base's and the token endpoint's: a same-origin app makes no cross-origin request, so there is no CORS to judge",
				"a client (smart.client_id or smart.clients) registered with a redirect URI on the browser app's own origin")
		}
		framework.Note("origin", "%s, the origin of client %s's registered redirect URI", origin, client.ClientID)
		ctx, cancel := s.ctx()
		defer cancel()
		k := &sink{}
		defer attach(k)
		var iss issue.List
		// Token endpoint: a form POST is a simple request (no preflight). A code that was never
		// issued spends nothing; the error answer carries the endpoint's CORS headers all the same.
		if d.tokenEndpoint != "" {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {"pacheck-cors-probe"},
				"redirect_uri": {client.RedirectURI}, "client_id": {client.ClientID}}
			resp, err := s.http(k).Do(ctx, &fhirhttp.Request{Method: http.MethodPost, URL: d.tokenEndpoint, NoToken: true,
				Body: []byte(form.Encode()), Header: http.Header{"Origin": {origin}, "Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}})
			if err != nil {
				framework.Infra(err)
			}
			iss = append(iss, transport.CheckCORS("token endpoint", origin, resp.Status, resp.Header)...)
		}
		// FHIR API: a request with a bearer token is preflighted (Authorization is not a
		// safelisted header); then the request itself must be readable.
		target := base + "/metadata"
		if p := m.patient(); p != "" {
			target = base + "/Patient/" + url.PathEscape(p)
		}
		pre, err := s.http(k).Do(ctx, &fhirhttp.Request{Method: http.MethodOptions, URL: target, NoToken: true,
			Header: http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"authorization"}}})
		if err != nil {
			framework.Infra(err)
		}
		iss = append(iss, transport.CheckPreflight("FHIR API", origin, "GET", []string{"Authorization"}, pre.Status, pre.Header)...)
		resp, err := s.tokenClient(m.token, k).Do(ctx, &fhirhttp.Request{URL: target,
			Header: http.Header{"Origin": {origin}, "Accept": {"application/fhir+json"}}})
		if err != nil {
			framework.Infra(err)
		}
		if resp.Status != http.StatusOK {
			framework.Infra(&framework.BlockedError{Cause: s.specID("launch/standalone"),
				Reason: "the launch's token could not read the FHIR API (HTTP " + http.StatusText(resp.Status) + "), so its CORS headers show nothing"})
		}
		iss = append(iss, transport.CheckCORS("FHIR API", origin, resp.Status, resp.Header)...)
		framework.ExpectConformant("CORS on the token endpoint and the FHIR API", iss)
	})
}

// appOrigin is the origin of the first configured client's redirect URI that differs from the
// FHIR base's and the token endpoint's origins (a registered origin of a cross-origin app), or "".
func appOrigin(s *session, base, token string) (string, Client) {
	if s.set == nil {
		return "", Client{}
	}
	same := map[string]bool{transport.Origin(base): true, transport.Origin(token): true}
	for _, c := range append([]Client{s.set.MainClient()}, s.set.ExtraClients...) {
		if o := transport.Origin(c.RedirectURI); o != "" && !same[o] {
			return o, c
		}
	}
	return "", Client{}
}
