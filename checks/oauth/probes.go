package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-jose/go-jose/v4"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

// Negative probes at the token endpoint. Each spends a fresh authorization code the caller obtained
// (a code is single-use; a probe that wrongly succeeds consumes it) and returns the issues of
// CheckRejected. err is a transport/configuration error only.

// ProbeWrongVerifier exchanges code with a verifier that does not match its challenge.
func (c *Client) ProbeWrongVerifier(ctx context.Context, code string) (issue.List, *TokenResponse, error) {
	t, err := c.Exchange(ctx, code, NewVerifier())
	if err != nil {
		return nil, nil, err
	}
	return CheckRejected(t, "token request with a wrong code_verifier", "invalid_grant"), t, nil
}

// ProbeMissingVerifier exchanges code without any code_verifier.
func (c *Client) ProbeMissingVerifier(ctx context.Context, code string) (issue.List, *TokenResponse, error) {
	t, err := c.Exchange(ctx, code, "")
	if err != nil {
		return nil, nil, err
	}
	return CheckRejected(t, "token request without code_verifier", "invalid_grant", "invalid_request"), t, nil
}

// ProbeReplay exchanges an already used code again (with its right verifier).
func (c *Client) ProbeReplay(ctx context.Context, usedCode, verifier string) (issue.List, *TokenResponse, error) {
	t, err := c.Exchange(ctx, usedCode, verifier)
	if err != nil {
		return nil, nil, err
	}
	return CheckRejected(t, "second token request with the same authorization code", "invalid_grant"), t, nil
}

// ProbeBadSecret exchanges code with a wrong client secret (confidential symmetric clients).
func (c *Client) ProbeBadSecret(ctx context.Context, code, verifier string) (issue.List, *TokenResponse, error) {
	bad := *c
	bad.ClientSecret = "pacheck-wrong-" + RandomState()[:12]
	if bad.AuthMethod == "" || bad.AuthMethod == AuthNone {
		bad.AuthMethod = AuthSecretPost
	}
	t, err := bad.Exchange(ctx, code, verifier)
	if err != nil {
		return nil, nil, err
	}
	return CheckRejected(t, "token request with a wrong client secret", "invalid_client"), t, nil
}

// ProbeUnknownClient exchanges code as a public client with an unregistered client_id.
func (c *Client) ProbeUnknownClient(ctx context.Context, code, verifier string) (issue.List, *TokenResponse, error) {
	bad := *c
	bad.ClientID = "pacheck-unknown-" + RandomState()[:10]
	bad.AuthMethod = AuthNone
	t, err := bad.Exchange(ctx, code, verifier)
	if err != nil {
		return nil, nil, err
	}
	return CheckRejected(t, "token request with an unregistered client_id", "invalid_client", "invalid_grant"), t, nil
}

// ProbeWrongRedirect exchanges code with a redirect_uri other than the one authorized.
func (c *Client) ProbeWrongRedirect(ctx context.Context, code, verifier string) (issue.List, *TokenResponse, error) {
	bad := *c
	bad.RedirectURI = c.RedirectURI + "/pacheck-other"
	t, err := bad.Exchange(ctx, code, verifier)
	if err != nil {
		return nil, nil, err
	}
	return CheckRejected(t, "token request with a different redirect_uri", "invalid_grant"), t, nil
}

// ProbeBadAssertion exchanges code as c (a private_key_jwt client) with a client assertion signed
// by a fresh key of c's own algorithm (UnregisteredKey: an ES256 client's by a P-256 key) under
// c's kid, so the assertion differs from c's only in the key that signed it: the server must
// refuse it (invalid_client).
func (c *Client) ProbeBadAssertion(ctx context.Context, code, verifier string) (issue.List, *TokenResponse, error) {
	key, err := UnregisteredKey(c.PrivateKey, c.AssertionAlg())
	if err != nil {
		return nil, nil, err
	}
	bad := *c
	bad.AuthMethod, bad.PrivateKey, bad.SigningAlg = AuthPrivateKey, key, jose.SignatureAlgorithm(key.Algorithm)
	t, err := bad.Exchange(ctx, code, verifier)
	if err != nil {
		return nil, nil, err
	}
	return CheckRejected(t, "token request with a client assertion signed by an unregistered key", "invalid_client"), t, nil
}

// ProbeRefreshWiden refreshes asking for a scope that was not granted: the server must refuse
// (invalid_scope) or return only granted scopes. A server that ignores the requested scope passes
// only by stating a scope without extra; one that omits scope has, by RFC 6749 section 5.1
// ("OPTIONAL, if identical to the scope requested by the client"), granted extra.
func (c *Client) ProbeRefreshWiden(ctx context.Context, refreshToken, granted, extra string) (issue.List, *TokenResponse, error) {
	return c.ProbeRefreshWidenFrom(ctx, refreshToken, granted, granted, extra)
}

// ProbeRefreshWidenFrom is ProbeRefreshWiden asking for base plus extra, base being a subset of
// granted that the refresh token certainly still covers (the scope of the refresh that issued it,
// for a server that narrows rotated refresh tokens): a refusal then can only be about extra. The
// answer is judged against granted.
func (c *Client) ProbeRefreshWidenFrom(ctx context.Context, refreshToken, base, granted, extra string) (issue.List, *TokenResponse, error) {
	t, err := c.Refresh(ctx, refreshToken, JoinScopes(base, extra))
	if err != nil {
		return nil, nil, err
	}
	what := fmt.Sprintf("refresh asking for %s, which was not granted", extra)
	if t.Status != 200 {
		return CheckRejected(t, what, "invalid_scope"), t, nil
	}
	if _, stated := t.Raw["scope"]; !stated {
		return issue.List{{Severity: issue.Error, Rule: RuleTokenScopeWidened, Path: "scope",
			Message: what + ": expected refusal (invalid_scope) or a scope without it, but the new token states no scope, " +
				"which RFC 6749 section 5.1 reads as the scope requested (SMART App Launch makes scope REQUIRED)",
			Diagnostics: extra}}, t, nil
	}
	if _, widened := CompareScopes([]string{granted}, []string{t.Scope}); len(widened) > 0 {
		return issue.List{{Severity: issue.Error, Rule: RuleTokenScopeWidened, Path: "scope",
			Message:     what + ": expected refusal (invalid_scope) or only granted scopes, but the new token has more",
			Diagnostics: fmt.Sprint(widened)}}, t, nil
	}
	return nil, t, nil
}

// Rule codes of the FHIR-side token probes.
const (
	RuleFHIRUnauthorized = "fhir-auth.unauthorized"
	RuleFHIRDataLeak     = "fhir-auth.data-returned"
)

// ProbeFHIRToken requests ref (relative to the FHIR base) with Authorization "Bearer token"
// (token "" sends no Authorization) and expects HTTP 401 and no resource data. what names the
// probe ("missing token", "garbage token", "revoked token").
func ProbeFHIRToken(ctx context.Context, hc *fhirhttp.Client, ref, token, what string) (issue.List, *fhirhttp.Response, error) {
	h := http.Header{}
	if token != "" {
		if err := tokenTarget(hc, ref); err != nil {
			return nil, nil, err
		}
		hc.Secrets().Add(token)
		h.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(ctx, &fhirhttp.Request{URL: ref, Header: h, NoToken: true})
	if err != nil {
		return nil, nil, err
	}
	return checkUnauthorized(resp, what), resp, nil
}

// ProbeQueryToken sends the access token as an access_token query parameter (RFC 6750 2.3) with no
// Authorization header and expects it refused (HTTP 401), as servers that do not support
// query-string tokens must.
func ProbeQueryToken(ctx context.Context, hc *fhirhttp.Client, ref, token string) (issue.List, *fhirhttp.Response, error) {
	if err := tokenTarget(hc, ref); err != nil {
		return nil, nil, err
	}
	u, _ := hc.Resolve(ref)
	hc.Secrets().Add(token)
	q := u.Query()
	q.Set("access_token", token)
	u.RawQuery = q.Encode()
	// A redirect is judged as the answer, never followed: the token in the query would go with it.
	resp, err := hc.Do(ctx, &fhirhttp.Request{URL: u.String(), NoToken: true, NoRedirect: true})
	if err != nil {
		return nil, nil, err
	}
	return checkUnauthorized(resp, "access token in the query string"), resp, nil
}

// tokenTarget refuses a probe that would put the access token on a URL outside the client's
// token origins (another origin, or plain http for an https target).
func tokenTarget(hc *fhirhttp.Client, ref string) error {
	u, err := hc.Resolve(ref)
	if err != nil {
		return err
	}
	if !hc.TokenAllowed(u) {
		return fmt.Errorf("oauth: refused to send the access token to %s: it goes only to the target's origin %s (https when the target is https); probe a URL there",
			fhirhttp.Redact(fhirhttp.StripUserinfo(u.String())), fhirhttp.Origin(mustURL(hc.Base())))
	}
	return nil
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	if u == nil {
		u = &url.URL{}
	}
	return u
}

func checkUnauthorized(resp *fhirhttp.Response, what string) issue.List {
	var out issue.List
	if resp.Status != http.StatusUnauthorized {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleFHIRUnauthorized}.
			Mismatch("FHIR request with "+what, "HTTP 401", strconv.Itoa(resp.Status)))
	}
	if rt := resp.ResourceType(); rt != "" && rt != "OperationOutcome" {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleFHIRDataLeak}.
			Mismatch("FHIR request with "+what, "no data", "a "+safeCode(rt)))
	}
	return out
}

// AuthRequest builds a fresh authorization request (state, PKCE verifier) for this client from cfg.
func (c *Client) AuthRequest(cfg *SMARTConfig, scope, aud string) (*AuthRequest, error) {
	if cfg == nil || cfg.AuthorizationEndpoint == "" {
		return nil, fmt.Errorf("oauth: no authorization_endpoint in the smart-configuration")
	}
	if _, err := url.Parse(c.RedirectURI); err != nil || c.RedirectURI == "" {
		return nil, fmt.Errorf("oauth: redirect_uri %q is not a URL", c.RedirectURI)
	}
	return NewAuthRequest(cfg.AuthorizationEndpoint, c.ClientID, c.RedirectURI, scope, aud), nil
}
