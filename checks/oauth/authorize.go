package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

// NewVerifier returns a fresh PKCE code_verifier (43 characters, 256 bits of entropy).
func NewVerifier() string { return oauth2.GenerateVerifier() }

// S256Challenge returns BASE64URL(SHA256(verifier)) without padding.
func S256Challenge(verifier string) string { return oauth2.S256ChallengeFromVerifier(verifier) }

// ValidVerifier reports whether v is a well-formed RFC 7636 code_verifier.
func ValidVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	return true
}

// RandomState returns a random, URL-safe state value.
func RandomState() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AuthRequest is one authorization request. Verifier is secret (never in evidence); Challenge
// and Method are derived from it unless set (probes may set them).
type AuthRequest struct {
	Endpoint    string // authorization_endpoint
	ClientID    string
	RedirectURI string
	Scope       string // space separated
	State       string
	Aud         string // FHIR base URL
	Verifier    string
	Challenge   string // default S256Challenge(Verifier); "-" omits PKCE parameters
	Method      string // default S256
	Launch      string // EHR launch only
	Extra       url.Values
}

// NewAuthRequest fills a request with a fresh state and PKCE verifier.
func NewAuthRequest(endpoint, clientID, redirectURI, scope, aud string) *AuthRequest {
	return &AuthRequest{Endpoint: endpoint, ClientID: clientID, RedirectURI: redirectURI, Scope: scope,
		Aud: aud, State: RandomState(), Verifier: NewVerifier()}
}

// URL builds the authorization URL (response_type=code ...).
func (a *AuthRequest) URL() (string, error) {
	u, err := url.Parse(a.Endpoint)
	if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("oauth: authorization_endpoint %q is not an absolute http(s) URL; the browser opens nothing else (fix the smart-configuration)", fhirhttp.Redact(fhirhttp.StripUserinfo(a.Endpoint)))
	}
	u.User = nil // a server-supplied user:pass@ never reaches the browser
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", a.ClientID)
	q.Set("redirect_uri", a.RedirectURI)
	q.Set("scope", a.Scope)
	q.Set("state", a.State)
	q.Set("aud", a.Aud)
	if a.Launch != "" {
		q.Set("launch", a.Launch)
	}
	if a.Challenge != "-" {
		ch, m := a.Challenge, a.Method
		if ch == "" {
			ch = S256Challenge(a.Verifier)
		}
		if m == "" {
			m = "S256"
		}
		q.Set("code_challenge", ch)
		q.Set("code_challenge_method", m)
	}
	for k, vs := range a.Extra {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Redirect is what the authorization server sent back to the redirect_uri.
type Redirect struct {
	URL              string // as received; contains the code: redact before showing
	Code             string
	State            string
	Error            string
	ErrorDescription string
	ErrorURI         string
	Issuer           string // RFC 9207 iss, when sent
	StateSeen        bool
}

// ParseRedirect parses the captured redirect URL (query or, failing that, fragment).
func ParseRedirect(raw string) (*Redirect, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("oauth: redirect %q is not a URL: %w", fhirhttp.Redact(raw), err)
	}
	q := u.Query()
	if q.Get("code") == "" && q.Get("error") == "" && u.Fragment != "" {
		if fq, err := url.ParseQuery(u.Fragment); err == nil {
			q = fq
		}
	}
	_, seen := q["state"]
	r := &Redirect{URL: raw, Code: q.Get("code"), State: q.Get("state"), Error: q.Get("error"),
		ErrorDescription: q.Get("error_description"), ErrorURI: q.Get("error_uri"), Issuer: q.Get("iss"), StateSeen: seen}
	if r.Code == "" && r.Error == "" {
		return r, errors.New("oauth: the redirect carries neither code nor error")
	}
	return r, nil
}

// Rule codes of the redirect checks.
const (
	RuleRedirectError = "authorize.error"
	RuleRedirectState = "authorize.state"
	RuleRedirectCode  = "authorize.code"
	RuleRedirectFrag  = "authorize.response-mode"
	RuleRedirectIss   = "authorize.iss"
)

// CheckRedirect checks an authorization response: a code, no error, state returned unchanged,
// parameters in the query (not the fragment), iss matching when present.
func CheckRedirect(r *Redirect, wantState, issuer string) issue.List {
	var out issue.List
	if r.Error != "" {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleRedirectError, Path: "redirect.error",
			Diagnostics: fhirhttp.Redact(r.ErrorDescription)}.Mismatch("authorization response", "a code", "error "+safeCode(r.Error)))
		return out
	}
	if r.Code == "" {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleRedirectCode, Path: "redirect.code", Message: "authorization response: expected a code parameter, but absent"})
	}
	if u, err := url.Parse(r.URL); err == nil && u.Query().Get("code") == "" && r.Code != "" {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleRedirectFrag, Path: "redirect",
			Message: "authorization response: expected code and state in the query string (response_mode query), got them in the fragment"})
	}
	if !r.StateSeen {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleRedirectState, Path: "redirect.state", Message: "authorization response: expected the state parameter, but absent"})
	} else if r.State != wantState {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleRedirectState, Path: "redirect.state",
			Message: "authorization response: expected state returned unchanged, got a different value"})
	}
	if r.Issuer != "" && issuer != "" && r.Issuer != issuer {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleRedirectIss, Path: "redirect.iss",
			Message: "authorization response: iss does not equal the configured issuer", Diagnostics: fhirhttp.Redact(r.Issuer)})
	}
	return out
}

// safeCode returns an OAuth error code if it looks like one (ASCII word), else a placeholder,
// so that server text never reaches a Message unfiltered.
func safeCode(s string) string {
	if len(s) > 64 {
		return "(unrecognised)"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return "(unrecognised)"
		}
	}
	return s
}

// Rule codes of CheckAuthorizeRefused.
const (
	RuleAuthorizeAccepted     = "authorize.accepted"
	RuleAuthorizeRedirected   = "authorize.redirected-unverified"
	RuleAuthorizeUndetermined = "authorize.undetermined"
)

// CheckAuthorizeRefused judges the outcome of an authorization request that must be refused (an
// aud that is not the FHIR base, code_challenge_method plain, an unknown client_id, an
// unregistered redirect_uri). redirectURL is the captured redirect ("" when none); errorPage tells
// that the user agent stopped on a page without login or consent controls. An error redirect or an
// error page passes; a code fails. With mustNotRedirect (unknown client_id, unregistered
// redirect_uri: RFC 6749 4.1.2.1) any redirect fails, since the redirect_uri cannot be trusted.
func CheckAuthorizeRefused(redirectURL string, errorPage, mustNotRedirect bool, what string) issue.List {
	if redirectURL == "" {
		if errorPage {
			return nil
		}
		return issue.List{{Severity: issue.Warning, Rule: RuleAuthorizeUndetermined,
			Message: what + ": neither a redirect nor an error page was seen; the outcome could not be judged"}}
	}
	r, err := ParseRedirect(redirectURL)
	if err != nil {
		return issue.List{{Severity: issue.Error, Rule: RuleAuthorizeAccepted,
			Message: what + ": expected refusal, got a redirect without code or error"}}
	}
	if r.Code != "" {
		return issue.List{{Severity: issue.Error, Rule: RuleAuthorizeAccepted,
			Message: what + ": expected refusal, but the server issued an authorization code"}}
	}
	if mustNotRedirect {
		return issue.List{{Severity: issue.Error, Rule: RuleAuthorizeRedirected,
			Message: what + ": expected an error page, but the server redirected to the unverified redirect_uri (error " + safeCode(r.Error) + ")"}}
	}
	return nil
}

// SafeCode returns s when it is a short OAuth-style code (letters, digits, _ - .), else
// "(unrecognised)": server text quoted in a message cannot carry markup or control bytes.
func SafeCode(s string) string { return safeCode(s) }
