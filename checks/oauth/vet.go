package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/pacheck/pacheck/checks/fhirhttp"
)

// ErrEndpointRefused is wrapped by every *EndpointError (test with errors.Is).
var ErrEndpointRefused = errors.New("endpoint refused")

// EndpointError refuses a discovered endpoint before any credential (the member's password, a
// code, a verifier, a client secret, a token) is typed into it or sent to it.
type EndpointError struct {
	Field  string // smart-configuration member, e.g. "token_endpoint" ("endpoint" when unknown)
	URL    string // redacted, without user information
	Reason string // what is wrong
	Fix    string // what to do
}

func (e *EndpointError) Error() string {
	return fmt.Sprintf("oauth: %s %s refused before any credential is sent: %s; %s", e.Field, e.URL, e.Reason, e.Fix)
}

func (e *EndpointError) Unwrap() error { return ErrEndpointRefused }

// VetEndpoint decides whether endpoint, discovered for the FHIR server target, may receive
// credentials: it must be an absolute http(s) URL, https when target is https (also on the
// target's own host), and, when allowed is not empty, on the target's origin or one of the
// allowed origins (scheme://host[:port], config auth.allowed_origins). Empty allowed means any
// https origin (or http only for an http target). User information in endpoint (user:pass@) is
// ignored: pacheck never uses it. The error is an *EndpointError naming the URL and the fix.
func VetEndpoint(target, endpoint string, allowed []string) error {
	return VetField("endpoint", target, endpoint, allowed)
}

// VetField is VetEndpoint with the smart-configuration member name (e.g. "token_endpoint") in
// the error.
func VetField(field, target, endpoint string, allowed []string) error {
	shown := fhirhttp.Redact(fhirhttp.StripUserinfo(endpoint))
	refuse := func(reason, fix string) error {
		return &EndpointError{Field: field, URL: fmt.Sprintf("%q", shown), Reason: reason, Fix: fix}
	}
	t, err := url.Parse(target)
	if err != nil || t.Host == "" || (t.Scheme != "http" && t.Scheme != "https") {
		return fmt.Errorf("oauth: target %q is not an absolute http(s) URL; give the FHIR base URL", fhirhttp.Redact(fhirhttp.StripUserinfo(target)))
	}
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || !u.IsAbs() {
		return refuse("not an absolute URL", "the server must publish absolute https URLs in its smart-configuration")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if strings.EqualFold(t.Scheme, "https") {
			return refuse("plain http while the target is https", "the server must publish https endpoints; pacheck sends no credential over plain http")
		}
	default:
		return refuse(fmt.Sprintf("scheme %q is not http(s)", u.Scheme), "the server must publish https URLs; pacheck opens nothing else")
	}
	if u.Host == "" {
		return refuse("no host", "the server must publish absolute https URLs in its smart-configuration")
	}
	if len(allowed) == 0 {
		return nil
	}
	origin := fhirhttp.Origin(u)
	if origin == fhirhttp.Origin(t) {
		return nil
	}
	for _, a := range allowed {
		au, err := url.Parse(strings.TrimSpace(a))
		if err != nil || au.Host == "" || (au.Scheme != "http" && au.Scheme != "https") {
			return fmt.Errorf("oauth: auth.allowed_origins entry %q is not scheme://host[:port]; fix the config", fhirhttp.Redact(fhirhttp.StripUserinfo(a)))
		}
		if fhirhttp.Origin(au) == origin {
			return nil
		}
	}
	return refuse(fmt.Sprintf("origin %s is neither the target's nor in the allowed origins", displayOrigin(u)),
		fmt.Sprintf("add %s to auth.allowed_origins if this server is trusted", displayOrigin(u)))
}

// displayOrigin is scheme://host[:port] as a user would write it (default port left out).
func displayOrigin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// VetEndpoints vets every endpoint cfg names (authorization, token, introspection, revocation,
// registration, management, jwks_uri) with VetField and returns the refusals joined (nil when all
// may be used). Absent endpoints are not vetted.
func (c *SMARTConfig) VetEndpoints(target string, allowed []string) error {
	var errs []error
	for _, kv := range [][2]string{{"authorization_endpoint", c.AuthorizationEndpoint}, {"token_endpoint", c.TokenEndpoint},
		{"introspection_endpoint", c.IntrospectionEndpoint}, {"revocation_endpoint", c.RevocationEndpoint},
		{"registration_endpoint", c.RegistrationEndpoint}, {"management_endpoint", c.ManagementEndpoint},
		{"jwks_uri", c.JWKSURI}} {
		if kv[1] == "" {
			continue
		}
		if err := VetField(kv[0], target, kv[1], allowed); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrors(errs)
}

// target is the FHIR base the client's endpoints are judged against.
func (c *Client) target() string {
	if c.Target != "" {
		return c.Target
	}
	if c.HTTP != nil {
		return c.HTTP.Base()
	}
	return ""
}

// joinErrors is errors.Join on one line ("; " between): errors reach a console line and a report cell.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return &joined{errs: errs}
}

type joined struct{ errs []error }

func (j *joined) Error() string {
	msgs := make([]string, len(j.errs))
	for i, e := range j.errs {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (j *joined) Unwrap() []error { return j.errs }
