// Package public holds the specs of the "public" preset: what a Patient Access API must show to
// anyone, without credentials. SMART discovery and the CapabilityStatement are readable without
// a token, member data is refused with 401 (never returned), and an https target speaks TLS 1.2
// or later and refuses older protocol versions.
//
// Spec ids: public/<check>, e.g. public/unauthenticated-refused.
package public

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/checks/transport"
	"github.com/pacheck/pacheck/suites/framework"
)

// Area is the suite area name (framework.Run.Suites).
const Area = "public"

// Rule codes of the public checks.
const (
	RuleMetadata   = "public.metadata"
	RuleTLSVersion = transport.RuleTLSVersion
	RuleTLSOld     = transport.RuleTLSOld
)

// UnauthenticatedRefs are requested without a token; each must be refused with 401.
var UnauthenticatedRefs = []string{"Patient", "ExplanationOfBenefit", "Coverage", "Observation"}

var _ = Describe("public", Label("area:public"), func() {
	run := framework.Current()
	if run != nil && !run.Wants(Area) {
		return
	}
	framework.Spec("smart-discovery", []string{"smart.discovery.well-known"}, func() {
		c, ctx, cancel := client()
		defer cancel()
		cfg, err := oauth.FetchSMARTConfig(ctx, c, framework.Current().Target)
		if err != nil {
			framework.Infra(err)
		}
		iss := oauth.CheckSMARTConfig(cfg, oauth.ConfigCheck{Version: smartVersion()})
		var out issue.List
		for _, i := range iss {
			switch i.Rule {
			case oauth.RuleConfigStatus, oauth.RuleConfigContentType, oauth.RuleConfigJSON:
				out = append(out, i)
			}
		}
		framework.ExpectConformant("smart-configuration without a token", out)
	})
	framework.Spec("capability-statement", []string{"smart.discovery.public-metadata"}, func() {
		c, ctx, cancel := client()
		defer cancel()
		resp, err := c.Metadata(ctx)
		if err != nil {
			framework.Infra(err)
		}
		var out issue.List
		switch {
		case resp.Status != http.StatusOK:
			out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleMetadata,
				Message: fmt.Sprintf("GET [base]/metadata without a token: expected HTTP 200, got %d", resp.Status)})
		case resp.ResourceType() != "CapabilityStatement":
			out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleMetadata,
				Message: fmt.Sprintf("GET [base]/metadata without a token: expected a CapabilityStatement, got %q", resp.ResourceType())})
		}
		framework.ExpectConformant("CapabilityStatement without a token", out)
	})
	framework.Spec("unauthenticated-refused", []string{"smart.access.invalid-token"}, func() {
		c, ctx, cancel := client()
		defer cancel()
		refs := append([]string(nil), UnauthenticatedRefs...)
		for _, p := range framework.Current().Patients {
			refs = append(refs, "Patient/"+url.PathEscape(p))
		}
		var out issue.List
		for _, ref := range refs {
			iss, _, err := oauth.ProbeFHIRToken(ctx, c, ref, "", "no access token ("+ref+")")
			if err != nil {
				framework.Infra(err)
			}
			out = append(out, iss...)
		}
		framework.ExpectConformant("data without a token", out)
	})
	framework.Spec("tls-1.2", []string{"smart.transport.tls"}, func() {
		r := framework.Current()
		u, err := url.Parse(r.Target)
		if err != nil {
			framework.Infra(fmt.Errorf("public: target %q: %w", r.Target, err))
		}
		if u.Scheme != "https" {
			framework.SkipBecause(fmt.Sprintf("the target is %s://, not https, so there is no TLS to check", u.Scheme), "an https target")
		}
		if r.Replay != "" {
			// The handshakes are made outside the HTTP client, so a recording holds none.
			framework.SkipBecause("replay: TLS handshakes are not recorded", "a live run (without --replay)")
		}
		hosts := []string{hostPort(u)}
		c, ctx, cancel := client()
		defer cancel()
		if cfg, err := oauth.FetchSMARTConfig(ctx, c, r.Target); err == nil {
			for _, e := range []string{cfg.AuthorizationEndpoint, cfg.TokenEndpoint} {
				if eu, err := url.Parse(e); err == nil && eu.Scheme == "https" && !contains(hosts, hostPort(eu)) {
					hosts = append(hosts, hostPort(eu))
				}
			}
		}
		var out issue.List
		for _, h := range hosts {
			iss, err := CheckTLS(ctx, h, r.Limits.RequestTimeout)
			if err != nil {
				framework.Infra(err)
			}
			out = append(out, iss...)
		}
		framework.Note("hosts", "checked %s", strings.Join(hosts, ", "))
		framework.ExpectConformant("TLS", out)
	})
})

func smartVersion() string {
	vs := framework.Current().Versions("smart", "2.0.0")
	if len(vs) > 0 && vs[0] == "1.0.0" {
		return oauth.SMARTv1
	}
	return oauth.SMARTv2
}

func client() (*fhirhttp.Client, context.Context, context.CancelFunc) {
	GinkgoHelper()
	r := framework.Current()
	c, err := r.PublicClient()
	if err != nil {
		framework.Infra(err)
	}
	ctx, cancel := r.Ctx()
	return c, ctx, cancel
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "443")
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// CheckTLS connects to hostport: the default handshake must negotiate TLS 1.2 or later, and a
// client offering at most TLS 1.1 must be refused (transport.CheckTLS, which the SMART suite's
// transport specs use too).
func CheckTLS(ctx context.Context, hostport string, timeout time.Duration) (issue.List, error) {
	return transport.CheckTLS(ctx, hostport, timeout)
}
