package smart

import (
	"fmt"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/transport"
	"github.com/pacheck/pacheck/suites/framework"
)

// transportSpecs judge the connections themselves (no sign-in, no token): the TLS versions the
// FHIR base and the authorization endpoints accept, and the certificate they present.
func transportSpecs(v string) {
	spec(v, "tls-version", ids("smart.transport.tls"), func() {
		s, hosts, iss := tlsHosts()
		ctx, cancel := s.ctx()
		defer cancel()
		for _, h := range hosts {
			more, err := transport.CheckTLS(ctx, h, s.run.Limits.RequestTimeout)
			if err != nil {
				framework.Infra(err)
			}
			iss = append(iss, more...)
		}
		framework.ExpectConformant("TLS versions", iss)
	})
	spec(v, "certificate", ids("smart.transport.certificate"), func() {
		s, hosts, _ := tlsHosts()
		ctx, cancel := s.ctx()
		defer cancel()
		if s.run.RootCAs != nil {
			framework.Note("trust", "the system's certificate authorities and those of the configuration's tls.ca_bundle")
		}
		var iss issue.List
		for _, h := range hosts {
			more, err := transport.CheckCertificate(ctx, h, s.run.RootCAs, s.run.Limits.RequestTimeout)
			if err != nil {
				framework.Infra(err)
			}
			iss = append(iss, more...)
		}
		framework.ExpectConformant("server certificate", iss)
	})
	corsSpecs(v) // SMART 2.2 only (cors.go)
}

// tlsHosts returns the host:port of the https FHIR base and of the authorization and token
// endpoints it advertises (each once), or skips the spec when the base is not https. An
// advertised endpoint that is plain http is an issue of its own (no TLS at all).
func tlsHosts() (*session, []string, issue.List) {
	s := current()
	r := s.run
	if r.Replay != "" {
		// The handshakes are made outside the HTTP client, so a recording holds none.
		framework.SkipBecause("replay: TLS handshakes are not recorded", "a live run (without --replay)")
	}
	base := transport.HostPort(r.Target)
	if base == "" {
		framework.SkipBecause(fmt.Sprintf("the FHIR base %s is not https, so there is no TLS to judge", r.Target),
			"an https FHIR base (a private CA's certificate goes in the configuration's tls.ca_bundle)")
	}
	hosts := []string{base}
	var iss issue.List
	// The endpoints come from smart-configuration when it could be read; a failed discovery is
	// the discovery specs' to report, and the FHIR base alone is judged.
	if d := s.discovery(); d.cfg != nil {
		for _, e := range []struct{ name, url string }{{"authorization_endpoint", d.authorizeEndpoint}, {"token_endpoint", d.tokenEndpoint}} {
			if e.url == "" {
				continue
			}
			hp := transport.HostPort(e.url)
			switch {
			case hp == "" && strings.HasPrefix(strings.ToLower(e.url), "http:"):
				iss = append(iss, issue.Issue{Severity: issue.Error, Rule: transport.RuleTLSVersion, Path: e.name,
					Message: fmt.Sprintf("%s %s: expected https (TLS 1.2 or later), got plain http", e.name, e.url)})
			case hp != "" && !contains(hosts, hp):
				hosts = append(hosts, hp)
			}
		}
	}
	framework.Note("hosts", "checked %s", strings.Join(hosts, ", "))
	return s, hosts, iss
}
