package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

// Introspection is an RFC 7662 answer.
type Introspection struct {
	Status   int
	Header   http.Header
	Raw      map[string]any
	Active   bool
	ActiveOK bool // "active" present and a boolean
}

// Introspect asks endpoint about token. With bearer "" the client authenticates as at the token
// endpoint; otherwise bearer (an access token with introspection rights) is sent as the
// Authorization header, as SMART allows for public clients.
func (c *Client) Introspect(ctx context.Context, endpoint, token, bearer string) (*Introspection, error) {
	form := url.Values{"token": {token}}
	var resp *fhirhttp.Response
	var err error
	if bearer == "" {
		var t *TokenResponse
		t, err = c.postAuthenticated(ctx, "introspection_endpoint", endpoint, form)
		if err != nil {
			return nil, err
		}
		resp = &fhirhttp.Response{Status: t.Status, Header: t.Header, Body: t.Body, Resource: t.Raw}
	} else {
		if c.HTTP == nil {
			return nil, errors.New("oauth: Client.HTTP is nil")
		}
		if err := VetField("introspection_endpoint", c.target(), endpoint, c.AllowedOrigins); err != nil {
			return nil, err
		}
		c.HTTP.Secrets().Add(token, bearer)
		h := http.Header{"Accept": {"application/json"}, "Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Bearer " + bearer}}
		resp, err = c.HTTP.Do(ctx, &fhirhttp.Request{Method: http.MethodPost, URL: endpoint, Header: h, Body: []byte(form.Encode()), NoToken: true})
		if err != nil {
			return nil, err
		}
	}
	in := &Introspection{Status: resp.Status, Header: resp.Header, Raw: resp.Resource}
	if in.Raw != nil {
		in.Active, in.ActiveOK = in.Raw["active"].(bool)
	}
	return in, nil
}

// IntrospectAuth is one way to authorize an introspection request: Client sends it, with
// Bearer as the Authorization header when set, else with Client's own authentication (as at the
// token endpoint). Name says which way it is, for the evidence.
type IntrospectAuth struct {
	Name   string
	Client *Client
	Bearer string
}

// IntrospectionAuthMethods are the client authentication methods the server advertises for its
// introspection endpoint: introspection_endpoint_auth_methods_supported (RFC 8414), else those of
// the token endpoint; nil when neither is published.
func (c *SMARTConfig) IntrospectionAuthMethods() []string {
	if c == nil {
		return nil
	}
	if m := strs(c.Raw, "introspection_endpoint_auth_methods_supported"); len(m) > 0 {
		return m
	}
	return c.TokenEndpointAuthMethodsSupported
}

// IntrospectFirst asks endpoint about token with each way in turn and stops at the first answer
// that does not refuse the caller (HTTP 401 or 403, an invalid_client / invalid_token error, or
// invalid_request to a bearer token):
// SMART leaves the method open (a bearer token SHALL be accepted when the endpoint is access
// controlled, client authentication is common). used is the index of that way, -1 when every way
// was refused (the last answer is returned for the checks to judge); tried has one line per
// attempt for the evidence. err is a transport or configuration error.
func IntrospectFirst(ctx context.Context, endpoint, token string, ways []IntrospectAuth) (in *Introspection, used int, tried []string, err error) {
	if len(ways) == 0 {
		return nil, -1, nil, errors.New("oauth: no way to authorize the introspection request (no access token, no client)")
	}
	for i, w := range ways {
		in, err = w.Client.Introspect(ctx, endpoint, token, w.Bearer)
		if err != nil {
			return nil, -1, tried, fmt.Errorf("introspection with %s: %w", w.Name, err)
		}
		code, _ := in.Raw["error"].(string)
		// A server that authenticates the caller as a client reads "Authorization: Bearer …" as a
		// malformed client credential and may answer invalid_request (oidc-provider does), which
		// refuses the bearer way as plainly as 401 does.
		refused := in.Status == http.StatusUnauthorized || in.Status == http.StatusForbidden ||
			(in.Status == http.StatusBadRequest && (code == "invalid_client" || code == "invalid_token" ||
				(code == "invalid_request" && w.Bearer != "")))
		line := fmt.Sprintf("%s: HTTP %d", w.Name, in.Status)
		if code != "" {
			line += " (error " + safeCode(code) + ")"
		}
		if !refused {
			return in, i, append(tried, line), nil
		}
		tried = append(tried, line+": refused")
	}
	return in, -1, tried, nil
}

// Rule codes of introspection and revocation checks.
const (
	RuleIntrospectStatus   = "introspect.status"
	RuleIntrospectActive   = "introspect.active"
	RuleIntrospectRequired = "introspect.required"
	RuleIntrospectLeak     = "introspect.inactive-leak"
	RuleRevokeStatus       = "revoke.status"
	RuleRevokeEffective    = "revoke.effective"
)

// IntrospectExpect describes the token that was introspected.
type IntrospectExpect struct {
	Active   bool   // the token should be active
	ClientID string // expected client_id when active
	Patient  string // expected patient when the token has patient context
	Scope    string // granted scope (space separated) when known
}

// CheckIntrospection checks an introspection answer (RFC 7662, SMART 2.0 token introspection).
func CheckIntrospection(in *Introspection, want IntrospectExpect) issue.List {
	var out issue.List
	add := func(sev issue.Severity, rule, path, msg string) {
		out = append(out, issue.Issue{Severity: sev, Rule: rule, Path: path, Message: msg})
	}
	if in.Status != 200 {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleIntrospectStatus}.Mismatch("introspection", "HTTP 200", strconv.Itoa(in.Status)))
		return out
	}
	if in.Raw == nil || !in.ActiveOK {
		add(issue.Error, RuleIntrospectActive, "active", "introspection: expected a JSON object with a boolean active member")
		return out
	}
	if in.Active != want.Active {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleIntrospectActive, Path: "active"}.
			Mismatch("introspection", "active "+strconv.FormatBool(want.Active), strconv.FormatBool(in.Active)))
		return out
	}
	if !want.Active {
		for k := range in.Raw {
			if k != "active" {
				add(issue.Warning, RuleIntrospectLeak, k, "introspection of an inactive token: expected only active:false, but other members are returned")
				break
			}
		}
		return out
	}
	for _, k := range []string{"scope", "client_id", "exp"} {
		if _, ok := in.Raw[k]; !ok {
			add(issue.Error, RuleIntrospectRequired, k, k+": required for an active token (SMART token introspection), but absent")
		}
	}
	if cid, _ := in.Raw["client_id"].(string); want.ClientID != "" && cid != "" && cid != want.ClientID {
		add(issue.Error, RuleIntrospectRequired, "client_id", "client_id: expected the client the token was issued to")
	}
	if _, ok := in.Raw["exp"].(json.Number); !ok {
		if _, present := in.Raw["exp"]; present {
			add(issue.Error, RuleIntrospectRequired, "exp", "exp: expected a NumericDate number")
		}
	}
	if want.Patient != "" {
		if p, _ := in.Raw["patient"].(string); p != want.Patient {
			add(issue.Error, RuleIntrospectRequired, "patient", "patient: expected the token's patient context")
		}
	}
	if want.Scope != "" {
		if s, _ := in.Raw["scope"].(string); s != "" {
			if _, widened := CompareScopes([]string{want.Scope}, []string{s}); len(widened) > 0 {
				out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleIntrospectRequired, Path: "scope",
					Message: "scope: introspection lists scopes that were not granted", Diagnostics: fmt.Sprint(widened)})
			}
		}
	}
	return out
}

// Revoke calls the RFC 7009 revocation endpoint with the client's authentication.
func (c *Client) Revoke(ctx context.Context, endpoint, token, hint string) (*TokenResponse, error) {
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	return c.postAuthenticated(ctx, "revocation_endpoint", endpoint, form)
}

// CheckRevoke checks a revocation answer: HTTP 200 (RFC 7009 2.2).
func CheckRevoke(t *TokenResponse) issue.List {
	if t.Status != 200 {
		return issue.List{issue.Issue{Severity: issue.Error, Rule: RuleRevokeStatus, Diagnostics: snippet(t.Body)}.Mismatch("revocation", "HTTP 200", strconv.Itoa(t.Status))}
	}
	return nil
}
