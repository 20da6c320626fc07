package oauth

import (
	"context"
	"fmt"
)

// AuthorizeFunc drives the user agent: it opens authorizeURL, logs in and consents, and returns
// the URL the server redirected to (the redirect_uri with code and state, or an error). With
// checks/browser:
//
//	func(ctx context.Context, u string) (string, error) {
//		res, err := b.AuthorizeAs(ctx, u, client.RedirectURI, creds, steps)
//		if err != nil { return "", err }
//		return res.RedirectURL, nil
//	}
type AuthorizeFunc func(ctx context.Context, authorizeURL string) (redirectURL string, err error)

// Launch is one standalone launch: the request sent, the redirect received, the token response.
type Launch struct {
	Request  *AuthRequest
	Redirect *Redirect
	Token    *TokenResponse // nil when the redirect carried an error or no code
}

// StandaloneLaunch runs a standalone launch with PKCE: builds the authorization request from cfg,
// lets authorize drive the login, parses the redirect and exchanges the code. It returns an error
// only when the tool could not complete a step (authorize failed, transport error, no code or
// error in the redirect); what the server answered is in the Launch for the checks (CheckRedirect,
// CheckTokenResponse, VerifyIDToken). The Launch is returned as far as it got, also with an error.
func (c *Client) StandaloneLaunch(ctx context.Context, cfg *SMARTConfig, scope, aud string, authorize AuthorizeFunc) (*Launch, error) {
	if err := c.VetLaunch(cfg); err != nil {
		return nil, err
	}
	req, err := c.AuthRequest(cfg, scope, aud)
	if err != nil {
		return nil, err
	}
	l := &Launch{Request: req}
	u, err := req.URL()
	if err != nil {
		return l, err
	}
	redirectURL, err := authorize(ctx, u)
	if err != nil {
		return l, fmt.Errorf("oauth: authorization in the browser: %w", err)
	}
	if l.Redirect, err = ParseRedirect(redirectURL); err != nil {
		return l, err
	}
	if l.Redirect.Error != "" || l.Redirect.Code == "" {
		return l, fmt.Errorf("oauth: the authorization server answered error %s instead of a code", safeCode(l.Redirect.Error))
	}
	c.HTTP.Secrets().Add(l.Redirect.Code)
	l.Token, err = c.Exchange(ctx, l.Redirect.Code, req.Verifier)
	return l, err
}

// VetLaunch refuses a launch whose endpoints may not receive the member's credentials or the
// client's: cfg's authorization_endpoint and the client's token endpoint, vetted with VetField
// against the client's Target and AllowedOrigins. Call it before driving a browser to the
// authorization endpoint; StandaloneLaunch does. The other endpoints are vetted when used (token
// requests, introspection, revocation) or all at once with SMARTConfig.VetEndpoints.
func (c *Client) VetLaunch(cfg *SMARTConfig) error {
	if cfg == nil || cfg.AuthorizationEndpoint == "" {
		return fmt.Errorf("oauth: no authorization_endpoint in the smart-configuration")
	}
	var errs []error
	if err := VetField("authorization_endpoint", c.target(), cfg.AuthorizationEndpoint, c.AllowedOrigins); err != nil {
		errs = append(errs, err)
	}
	if c.TokenEndpoint != "" {
		if err := VetField("token_endpoint", c.target(), c.TokenEndpoint, c.AllowedOrigins); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrors(errs)
}
