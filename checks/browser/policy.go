package browser

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ErrBlocked is wrapped when the browser refused to open a URL: the authorization endpoint before
// anything was opened, or a navigation of the sign-in (a redirect, a form post, a script) to a
// scheme other than http(s) or to an origin outside the allowed ones. Test for it with errors.Is.
var ErrBlocked = errors.New("navigation blocked")

// PolicyError is a URL the browser refused to open. Its text names the URL (scheme, host and path
// only: the query may carry a typed secret) and what to do.
type PolicyError struct {
	URL    string // redacted: scheme://host/path
	Reason string
	Hint   string // what to do; may be ""
}

func (e *PolicyError) Error() string {
	s := fmt.Sprintf("blocked %s: %s", e.URL, e.Reason)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *PolicyError) Unwrap() error { return ErrBlocked }

// policy is the set of origins a sign-in may navigate to.
type policy struct {
	origins []string // normalised scheme://host[:port], sorted
}

// newPolicy allows the authorization endpoint's origin, the redirect URI's origin (its redirect is
// captured and never loaded) and the configured extra origins (already normalised by Launch).
func newPolicy(authorize, redirect *url.URL, extra []string) *policy {
	p := &policy{}
	for _, o := range append([]string{originOf(authorize), originOf(redirect)}, extra...) {
		if o != "" && !slices.Contains(p.origins, o) {
			p.origins = append(p.origins, o)
		}
	}
	slices.Sort(p.origins)
	return p
}

// check returns nil when raw may be opened as a page, else a PolicyError.
func (p *policy) check(raw string) *PolicyError {
	u, err := url.Parse(raw)
	if err != nil {
		return &PolicyError{URL: redactURL(raw), Reason: "not a valid URL"}
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "about":
		if raw == "about:blank" {
			return nil
		}
		fallthrough
	default:
		return &PolicyError{URL: redactURL(raw), Reason: fmt.Sprintf("the sign-in may only open http and https pages, not %s: URLs", strings.ToLower(u.Scheme)),
			Hint: "the authorization server (or its page) must not send the browser there"}
	}
	o := originOf(u)
	if slices.Contains(p.origins, o) {
		return nil
	}
	return &PolicyError{URL: redactURL(raw), Reason: fmt.Sprintf("%s is not one of the origins the sign-in may use (%s)", o, strings.Join(p.origins, ", ")),
		Hint: fmt.Sprintf("add %s to auth.allowed_origins if this is your identity provider", o)}
}

// allowedPage reports whether a page at raw may be typed into, read or photographed.
func (p *policy) allowedPage(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return slices.Contains(p.origins, originOf(u))
}

// originOf returns scheme://host[:port] in lower case without a default port ("" when u has no
// http(s) scheme or no host).
func originOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Hostname() == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port
	}
	return scheme + "://" + host
}

// NormalizeOrigin checks that s is an origin (http(s)://host[:port], nothing after it but an
// optional "/") and returns it in the form the browser compares. The config loader may use it.
func NormalizeOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q is not an origin like https://idp.example.org: %w", s, err)
	}
	o := originOf(u)
	if o == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an origin like https://idp.example.org (scheme http or https, a host, an optional port, no path)", s)
	}
	return o, nil
}

// vetAuthorizeURL checks the authorization endpoint before anything is opened: http(s) with a host,
// https when the FHIR target is https. It returns the URL to open (without userinfo).
func vetAuthorizeURL(raw, target string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return nil, &PolicyError{URL: redactURL(raw), Reason: "the authorization endpoint is not an absolute URL",
			Hint: "check authorization_endpoint in the server's .well-known/smart-configuration"}
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return nil, &PolicyError{URL: redactURL(raw), Reason: fmt.Sprintf("the authorization endpoint is a %s: URL; the browser only opens http and https pages, so nothing was opened and no credential typed", scheme),
			Hint: "check authorization_endpoint in the server's .well-known/smart-configuration"}
	}
	if u.Hostname() == "" {
		return nil, &PolicyError{URL: redactURL(raw), Reason: "the authorization endpoint has no host",
			Hint: "check authorization_endpoint in the server's .well-known/smart-configuration"}
	}
	if t, err := url.Parse(target); err == nil && strings.EqualFold(t.Scheme, "https") && scheme != "https" {
		return nil, &PolicyError{URL: redactURL(raw), Reason: "the FHIR server is https but its authorization endpoint is plain http; the member's password would cross the network in clear, so nothing was opened",
			Hint: "the server must publish an https authorization_endpoint"}
	}
	// Userinfo in a server-supplied URL would make Chromium send Basic credentials: drop it.
	u.User = nil
	return u, nil
}

// redactURL keeps a URL's scheme, host and path (never its query, fragment or userinfo, which may
// carry a typed secret), clipped, without control characters. Opaque URLs (data:, javascript:)
// keep their scheme and the start of the data up to the first comma.
func redactURL(raw string) string {
	raw = stripControl(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return clip(strings.SplitN(strings.SplitN(raw, "?", 2)[0], "#", 2)[0], 120)
	}
	if u.Opaque != "" {
		head := u.Opaque
		if i := strings.IndexAny(head, ",?#"); i >= 0 {
			head = head[:i] + ",…"
		}
		return clip(strings.ToLower(u.Scheme)+":"+head, 120)
	}
	v := url.URL{Scheme: strings.ToLower(u.Scheme), Host: u.Host, Path: u.Path}
	return clip(v.String(), 200)
}

// stripControl removes C0/C1 control characters and DEL (server text goes to terminals).
func stripControl(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
