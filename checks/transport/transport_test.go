package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/fixtures/refserver/tlsca"
)

// listen serves TLS handshakes (and nothing else) with cfg until the test ends.
func listen(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

func rules(l issue.List) string {
	var out []string
	for _, i := range l {
		out = append(out, i.Rule)
	}
	return strings.Join(out, ",")
}

func TestChecks(t *testing.T) {
	ca, err := tlsca.New()
	if err != nil {
		t.Fatal(err)
	}
	other, err := tlsca.New()
	if err != nil {
		t.Fatal(err)
	}
	mint := func(c *tlsca.CA, hosts ...string) tls.Certificate {
		cert, err := c.Issue(hosts...)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	cases := []struct {
		name      string
		cert      tls.Certificate
		min       uint16
		roots     *x509.CertPool
		tlsRules  string // expected rules of CheckTLS
		certRules string // and of CheckCertificate
		why       string // words the certificate issue must carry
	}{
		{"conformant", mint(ca, "127.0.0.1"), tls.VersionTLS12, ca.Pool(), "", "", ""},
		{"old versions accepted", mint(ca, "127.0.0.1"), tls.VersionTLS10, ca.Pool(), RuleTLSOld, "", ""},
		{"certificate for another host", mint(ca, "wrong-host.invalid"), tls.VersionTLS12, ca.Pool(), "", RuleCertificate, "not valid for that host"},
		{"untrusted authority", mint(other, "127.0.0.1"), tls.VersionTLS12, ca.Pool(), "", RuleCertificate, "tls.ca_bundle"},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := listen(t, &tls.Config{Certificates: []tls.Certificate{c.cert}, MinVersion: c.min})
			got, err := CheckTLS(ctx, addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if rules(got) != c.tlsRules {
				t.Errorf("CheckTLS: rules %q, want %q (%v)", rules(got), c.tlsRules, got)
			}
			got, err = CheckCertificate(ctx, addr, c.roots, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if rules(got) != c.certRules {
				t.Errorf("CheckCertificate: rules %q, want %q (%v)", rules(got), c.certRules, got)
			}
			if c.why != "" && (len(got) == 0 || !strings.Contains(got[0].Message, c.why)) {
				t.Errorf("CheckCertificate: message %v does not say %q", got, c.why)
			}
		})
	}
}

func TestNetworkErrorIsNotAnIssue(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	if iss, err := CheckCertificate(context.Background(), addr, nil, 2*time.Second); err == nil || len(iss) != 0 {
		t.Errorf("refused connection: issues %v, err %v; want an error and no issue", iss, err)
	}
	if iss, err := CheckTLS(context.Background(), addr, 2*time.Second); err == nil || len(iss) != 0 {
		t.Errorf("refused connection: issues %v, err %v; want an error and no issue", iss, err)
	}
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"https://fhir.example.org/r4":      "fhir.example.org:443",
		"https://127.0.0.1:8443/fhir":      "127.0.0.1:8443",
		"http://fhir.example.org/r4":       "",
		"::not a url":                      "",
		"https://[::1]:9443/fhir/metadata": "[::1]:9443",
	} {
		if got := HostPort(in); got != want {
			t.Errorf("HostPort(%q) = %q, want %q", in, got, want)
		}
	}
}
