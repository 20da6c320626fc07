// Package transport checks what a Patient Access API's connections offer before any HTTP is
// spoken: the TLS protocol versions its listeners accept and whether the certificate they
// present is valid for their host name. Each check dials the host itself; a network failure is
// an error (nothing was judged), never an issue.
package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/issue"
)

// Rule codes.
const (
	RuleTLSVersion  = "tls.version"
	RuleTLSOld      = "tls.old-version-accepted"
	RuleCertificate = "tls.certificate"
)

// HostPort is the host:port an https URL connects to (port 443 when the URL names none), or ""
// for a URL that is not https.
func HostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return ""
	}
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "443")
}

func dial(ctx context.Context, hostport string, cfg *tls.Config, timeout time.Duration) (*tls.ConnectionState, error) {
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: cfg}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d.DialContext(cctx, "tcp", hostport)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st := conn.(*tls.Conn).ConnectionState()
	return &st, nil
}

// CheckTLS connects to hostport: the default handshake must negotiate TLS 1.2 or later, and a
// client offering at most TLS 1.1 must be refused. Certificates are not judged here
// (CheckCertificate is). err is a network error (nothing could be judged).
func CheckTLS(ctx context.Context, hostport string, timeout time.Duration) (issue.List, error) {
	host, _, _ := net.SplitHostPort(hostport)
	// This probe only asks about protocol versions; the certificate is CheckCertificate's.
	st, err := dial(ctx, hostport, &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}, timeout) //nolint:gosec // version probe only
	if err != nil {
		return nil, fmt.Errorf("transport: TLS handshake with %s: %w", hostport, err)
	}
	var out issue.List
	if st.Version < tls.VersionTLS12 {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleTLSVersion, Path: hostport,
			Message: fmt.Sprintf("%s: expected TLS 1.2 or later, negotiated %s", hostport, tls.VersionName(st.Version))})
	}
	var accepted []string
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if st, err := dial(ctx, hostport, &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: v, MaxVersion: v}, timeout); err == nil && st.Version == v { //nolint:gosec // version probe only
			accepted = append(accepted, tls.VersionName(v))
		}
	}
	sort.Strings(accepted)
	if len(accepted) > 0 {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleTLSOld, Path: hostport,
			Message: fmt.Sprintf("%s: expected TLS versions below 1.2 refused, but the server accepted %s", hostport, strings.Join(accepted, ", "))})
	}
	return out, nil
}

// CheckCertificate connects to hostport and verifies the certificate chain the server presents
// against roots (nil: the system's) and the host name, as every client of the API must
// (RFC 6750 §5.3). A chain that does not verify is an issue naming why; a connection that
// fails for another reason is err.
func CheckCertificate(ctx context.Context, hostport string, roots *x509.CertPool, timeout time.Duration) (issue.List, error) {
	host, _, _ := net.SplitHostPort(hostport)
	_, err := dial(ctx, hostport, &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12}, timeout)
	if err == nil {
		return nil, nil
	}
	if why := certProblem(err); why != "" {
		return issue.List{{Severity: issue.Error, Rule: RuleCertificate, Path: hostport,
			Message: fmt.Sprintf("%s: expected a certificate chain that verifies for host %q, but %s", hostport, host, why)}}, nil
	}
	return nil, fmt.Errorf("transport: TLS handshake with %s: %w", hostport, err)
}

// certProblem says in words why a handshake error is a certificate that does not verify, or ""
// when the error is something else (network, protocol).
func certProblem(err error) string {
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &host):
		return "it is not valid for that host: " + host.Error()
	case errors.As(err, &unknown):
		return "it is signed by an authority the run does not trust (a private CA goes in the configuration's tls.ca_bundle): " + unknown.Error()
	case errors.As(err, &invalid):
		return "it is invalid: " + invalid.Error()
	case errors.As(err, &verify):
		return "it does not verify: " + verify.Err.Error()
	}
	return ""
}
