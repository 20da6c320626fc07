package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

// OpenIDConfig is {issuer}/.well-known/openid-configuration.
type OpenIDConfig struct {
	Issuer                string
	JWKSURI               string
	AuthorizationEndpoint string
	TokenEndpoint         string
	SigningAlgs           []string // id_token_signing_alg_values_supported
	ResponseTypes         []string
	SubjectTypes          []string
	Raw                   map[string]any
	Response              *fhirhttp.Response
}

// OpenIDConfigURL returns the discovery URL for issuer.
func OpenIDConfigURL(issuer string) string {
	return strings.TrimRight(issuer, "/") + "/.well-known/openid-configuration"
}

// FetchOpenIDConfig GETs the OpenID discovery document for issuer (no token).
func FetchOpenIDConfig(ctx context.Context, hc *fhirhttp.Client, issuer string) (*OpenIDConfig, error) {
	resp, err := hc.Do(ctx, &fhirhttp.Request{URL: OpenIDConfigURL(issuer), NoToken: true,
		Header: map[string][]string{"Accept": {"application/json"}}})
	if err != nil {
		return nil, err
	}
	o := &OpenIDConfig{Response: resp, Raw: resp.Resource}
	if o.Raw != nil {
		o.Issuer = str(o.Raw, "issuer")
		o.JWKSURI = str(o.Raw, "jwks_uri")
		o.AuthorizationEndpoint = str(o.Raw, "authorization_endpoint")
		o.TokenEndpoint = str(o.Raw, "token_endpoint")
		o.SigningAlgs = strs(o.Raw, "id_token_signing_alg_values_supported")
		o.ResponseTypes = strs(o.Raw, "response_types_supported")
		o.SubjectTypes = strs(o.Raw, "subject_types_supported")
	}
	return o, nil
}

// Rule codes of the OpenID and JWKS checks.
const (
	RuleOIDCStatus   = "oidc-config.status"
	RuleOIDCRequired = "oidc-config.required"
	RuleOIDCIssuer   = "oidc-config.issuer"
	RuleOIDCJWKS     = "oidc-config.jwks-uri"
	RuleOIDCAlg      = "oidc-config.rs256"
	RuleOIDCEndpoint = "oidc-config.endpoint"
	RuleJWKSStatus   = "jwks.status"
	RuleJWKSFormat   = "jwks.format"
	RuleJWKSKey      = "jwks.key"
	RuleJWKSPrivate  = "jwks.private-key"
	RuleJWKSRS256    = "jwks.rs256"
)

// CheckOpenIDConfig checks the OpenID configuration against the SMART discovery document.
func CheckOpenIDConfig(o *OpenIDConfig, smart *SMARTConfig) issue.List {
	var out issue.List
	if o.Response != nil && o.Response.Status != 200 {
		return issue.List{issue.Issue{Severity: issue.Error, Rule: RuleOIDCStatus, Diagnostics: snippet(o.Response.Body)}.
			Mismatch(".well-known/openid-configuration", "HTTP 200", strconv.Itoa(o.Response.Status))}
	}
	if o.Raw == nil {
		return issue.List{{Severity: issue.Error, Rule: RuleOIDCStatus, Message: ".well-known/openid-configuration: expected a JSON object"}}
	}
	for _, k := range []string{"issuer", "jwks_uri", "authorization_endpoint", "response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"} {
		if _, ok := o.Raw[k]; !ok {
			out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleOIDCRequired, Path: k, Message: k + ": required by OpenID Connect Discovery, but absent"})
		}
	}
	if smart != nil && o.Issuer != "" && o.Issuer != smart.Issuer {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleOIDCIssuer, Path: "issuer",
			Message:     "issuer: expected to equal the smart-configuration issuer exactly",
			Diagnostics: fmt.Sprintf("openid %q, smart %q", o.Issuer, smart.Issuer)})
	}
	if smart != nil && o.JWKSURI != "" && smart.JWKSURI != "" && o.JWKSURI != smart.JWKSURI {
		out = append(out, issue.Issue{Severity: issue.Warning, Rule: RuleOIDCJWKS, Path: "jwks_uri",
			Message:     "jwks_uri: expected to equal the smart-configuration jwks_uri",
			Diagnostics: fmt.Sprintf("openid %q, smart %q", o.JWKSURI, smart.JWKSURI)})
	}
	if smart != nil && o.AuthorizationEndpoint != "" && smart.AuthorizationEndpoint != "" && o.AuthorizationEndpoint != smart.AuthorizationEndpoint {
		out = append(out, issue.Issue{Severity: issue.Warning, Rule: RuleOIDCEndpoint, Path: "authorization_endpoint",
			Message: "authorization_endpoint: expected to equal the smart-configuration authorization_endpoint"})
	}
	if _, ok := o.Raw["id_token_signing_alg_values_supported"]; ok && !contains(o.SigningAlgs, "RS256") {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleOIDCAlg, Path: "id_token_signing_alg_values_supported"}.
			Mismatch("id_token_signing_alg_values_supported", "RS256 (SMART)", "["+strings.Join(o.SigningAlgs, ", ")+"]"))
	}
	return out
}

// FetchJWKS GETs jwksURI (no token) and parses it. The returned set holds the keys go-jose could
// parse; CheckJWKS reports the rest. err is a transport error only.
func FetchJWKS(ctx context.Context, hc *fhirhttp.Client, jwksURI string) (*jose.JSONWebKeySet, *fhirhttp.Response, error) {
	resp, err := hc.Do(ctx, &fhirhttp.Request{URL: jwksURI, NoToken: true, Header: map[string][]string{"Accept": {"application/json"}}})
	if err != nil {
		return nil, nil, err
	}
	set := &jose.JSONWebKeySet{}
	keys, _ := resp.Resource["keys"].([]any)
	for _, k := range keys {
		raw, _ := json.Marshal(k)
		var jk jose.JSONWebKey
		if err := jk.UnmarshalJSON(raw); err == nil {
			set.Keys = append(set.Keys, jk)
		}
	}
	return set, resp, nil
}

// CheckJWKS checks a JWKS response: 200, a keys array, every key parseable, no private key
// material, and an RSA signing key usable for RS256.
func CheckJWKS(resp *fhirhttp.Response) issue.List {
	if resp.Status != 200 {
		return issue.List{issue.Issue{Severity: issue.Error, Rule: RuleJWKSStatus, Diagnostics: snippet(resp.Body)}.Mismatch("jwks_uri", "HTTP 200", strconv.Itoa(resp.Status))}
	}
	keys, ok := resp.Resource["keys"].([]any)
	if !ok {
		return issue.List{{Severity: issue.Error, Rule: RuleJWKSFormat, Path: "keys", Message: "jwks_uri: expected a JSON object with a keys array"}}
	}
	var out issue.List
	rsa := false
	for i, k := range keys {
		km, _ := k.(map[string]any)
		path := fmt.Sprintf("keys[%d]", i)
		for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := km[priv]; ok {
				out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleJWKSPrivate, Path: path + "." + priv,
					Message: "jwks_uri: a published key contains private key material (" + priv + ")"})
			}
		}
		raw, _ := json.Marshal(k)
		var jk jose.JSONWebKey
		if err := jk.UnmarshalJSON(raw); err != nil {
			out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleJWKSKey, Path: path, Message: "jwks_uri: a key is not a valid JWK", Diagnostics: err.Error()})
			continue
		}
		use, _ := km["use"].(string)
		alg, _ := km["alg"].(string)
		if str(km, "kty") == "RSA" && (use == "" || use == "sig") && (alg == "" || alg == "RS256") {
			rsa = true
		}
	}
	if !rsa {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleJWKSRS256, Path: "keys",
			Message: "jwks_uri: expected an RSA signing key usable with RS256, found none"})
	}
	return out
}
