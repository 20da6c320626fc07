package fhirhttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The transport policy: credentials (the TokenSource bearer, an Authorization or Cookie header the
// caller set, a request body, a credential in the query) go only to the exact origin they were
// meant for (scheme + host + port), never over plain http when the target is https, and never
// across a redirect to another origin. User information in a URL (user:pass@) is never used.

// Sentinel causes of refusals (wrapped in *TransportError; test with errors.Is).
var (
	// ErrInsecure: the request would carry credentials over plain http while the target is https.
	ErrInsecure = errors.New("credentials refused over plain http")
	// ErrTimeout: no complete response within Options.Timeout.
	ErrTimeout = errors.New("no complete response within the time limit")
	// ErrHeaderTooLarge: the response headers exceed Options.MaxResponseHeaderBytes.
	ErrHeaderTooLarge = errors.New("response headers exceed the size limit")
)

// credentialQueryKeys are query parameters that carry a credential: a URL holding one is never
// sent through a redirect, nor over http to an https target. ("code" and "token" are not here:
// they are ordinary FHIR search parameters.)
var credentialQueryKeys = []string{"access_token", "refresh_token", "id_token", "client_secret",
	"code_verifier", "client_assertion", "password"}

// hasCredentialQuery reports whether u's query carries a credential parameter.
func hasCredentialQuery(u *url.URL) bool {
	if u.RawQuery == "" {
		return false
	}
	q, _ := url.ParseQuery(u.RawQuery)
	for k := range q {
		for _, c := range credentialQueryKeys {
			if strings.EqualFold(k, c) {
				return true
			}
		}
	}
	return false
}

// stripUserinfo drops user:pass@ from u in place: a server-supplied URL never chooses credentials.
func stripUserinfo(u *url.URL) *url.URL {
	if u != nil {
		u.User = nil
	}
	return u
}

// StripUserinfo returns s without user information (user:pass@), for evidence and messages. A
// string that does not parse as a URL loses whatever precedes the last "@" of its authority.
func StripUserinfo(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	if u, err := url.Parse(s); err == nil {
		if u.User == nil {
			return s
		}
		u.User = nil
		return u.String()
	}
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	auth := s[i+3:]
	if end := strings.IndexAny(auth, "/?#"); end >= 0 {
		auth = auth[:end]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return s
	}
	return s[:i+3] + s[i+3+at+1:]
}

// parseOrigin normalises "scheme://host[:port]" (or any absolute URL) to Origin form.
func parseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%q is not scheme://host[:port]", s)
	}
	return Origin(u), nil
}

// downgrade reports whether sending to u would drop from the https target to plain http.
func (c *Client) downgrade(u *url.URL) bool {
	return strings.EqualFold(c.base.Scheme, "https") && !strings.EqualFold(u.Scheme, "https")
}

// carriesCredentials reports whether a request with these headers, body and URL carries anything
// secret: an Authorization, Proxy-Authorization or Cookie header, a body (forms carry client
// secrets, codes, verifiers, tokens), or a credential query parameter.
func carriesCredentials(h http.Header, body []byte, u *url.URL) bool {
	return h.Get("Authorization") != "" || h.Get("Proxy-Authorization") != "" || h.Get("Cookie") != "" ||
		len(body) > 0 || hasCredentialQuery(u)
}

// refuseRedirect says why a redirect from the first URL's origin to next is not followed, or "".
// A body is never re-sent to another origin (a 307/308 keeps it), and a URL carrying a credential
// in its query never follows any redirect.
func refuseRedirect(status int, first string, cur, next *url.URL, body []byte) string {
	if hasCredentialQuery(cur) {
		return "not followed: the request carried a credential in its query string, which is never sent through a redirect"
	}
	keepsBody := status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect
	if keepsBody && len(body) > 0 && Origin(next) != first {
		return fmt.Sprintf("not followed: a %d would re-send the request body to another origin (%s); a body goes only to the origin it was addressed to", status, Origin(next))
	}
	return ""
}
