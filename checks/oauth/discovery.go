// Package oauth is pacheck's SMART App Launch client engine and checks: discovery, PKCE,
// authorization requests, token exchange/refresh (public, client_secret_basic/post,
// private_key_jwt), id_token verification, introspection, revocation and negative probes.
//
// Every check returns an issue.List with stable rule codes. Messages name the requirement,
// expected vs actual, and never carry a token, secret or code; Diagnostics may quote server data
// (redacted with fhirhttp.Redact).
package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

// SMART versions for checks.
const (
	SMARTv1 = "1.0"
	SMARTv2 = "2.0"
)

// SMARTConfig is .well-known/smart-configuration. Fields with the wrong JSON type stay empty and
// are reported by CheckSMARTConfig from Raw.
type SMARTConfig struct {
	Issuer                            string   `json:"issuer"`
	JWKSURI                           string   `json:"jwks_uri"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	ManagementEndpoint                string   `json:"management_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	Capabilities                      []string `json:"capabilities"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`

	Raw      map[string]any     `json:"-"`
	Response *fhirhttp.Response `json:"-"`
}

// Has reports whether capability is listed.
func (c *SMARTConfig) Has(capability string) bool { return contains(c.Capabilities, capability) }

// WellKnownURL returns {fhirBase}/.well-known/smart-configuration.
func WellKnownURL(fhirBase string) string {
	return strings.TrimRight(fhirBase, "/") + "/.well-known/smart-configuration"
}

// FetchSMARTConfig GETs the discovery document (no token). err is a transport error only; an HTTP
// error or bad JSON yields a config with empty fields and the response kept for CheckSMARTConfig.
func FetchSMARTConfig(ctx context.Context, hc *fhirhttp.Client, fhirBase string) (*SMARTConfig, error) {
	resp, err := hc.Do(ctx, &fhirhttp.Request{URL: WellKnownURL(fhirBase), NoToken: true,
		Header: map[string][]string{"Accept": {"application/json"}}})
	if err != nil {
		return nil, err
	}
	return ParseSMARTConfig(resp), nil
}

// ParseSMARTConfig decodes resp (leniently: wrong-typed members are left empty).
func ParseSMARTConfig(resp *fhirhttp.Response) *SMARTConfig {
	c := &SMARTConfig{Response: resp, Raw: resp.Resource}
	if c.Raw == nil {
		return c
	}
	c.Issuer = str(c.Raw, "issuer")
	c.JWKSURI = str(c.Raw, "jwks_uri")
	c.AuthorizationEndpoint = str(c.Raw, "authorization_endpoint")
	c.TokenEndpoint = str(c.Raw, "token_endpoint")
	c.RegistrationEndpoint = str(c.Raw, "registration_endpoint")
	c.ManagementEndpoint = str(c.Raw, "management_endpoint")
	c.IntrospectionEndpoint = str(c.Raw, "introspection_endpoint")
	c.RevocationEndpoint = str(c.Raw, "revocation_endpoint")
	c.GrantTypesSupported = strs(c.Raw, "grant_types_supported")
	c.TokenEndpointAuthMethodsSupported = strs(c.Raw, "token_endpoint_auth_methods_supported")
	c.TokenEndpointAuthSigningAlgs = strs(c.Raw, "token_endpoint_auth_signing_alg_values_supported")
	c.ScopesSupported = strs(c.Raw, "scopes_supported")
	c.ResponseTypesSupported = strs(c.Raw, "response_types_supported")
	c.Capabilities = strs(c.Raw, "capabilities")
	c.CodeChallengeMethodsSupported = strs(c.Raw, "code_challenge_methods_supported")
	return c
}

// ConfigCheck chooses what CheckSMARTConfig requires.
type ConfigCheck struct {
	Version          string   // SMARTv1 or SMARTv2 (default)
	NeedCapabilities []string // capabilities the run depends on (e.g. launch-standalone, client-public)
	RequireHTTPS     bool     // endpoints must be https (production targets)
}

// Rule codes of the discovery checks.
const (
	RuleConfigStatus       = "smart-config.status"
	RuleConfigContentType  = "smart-config.content-type"
	RuleConfigJSON         = "smart-config.json"
	RuleConfigRequired     = "smart-config.required"
	RuleConfigRecommended  = "smart-config.recommended"
	RuleConfigType         = "smart-config.type"
	RuleConfigURL          = "smart-config.url"
	RuleConfigPKCES256     = "smart-config.pkce-s256"
	RuleConfigPKCEPlain    = "smart-config.pkce-plain"
	RuleConfigGrantTypes   = "smart-config.grant-types"
	RuleConfigCapability   = "smart-config.capability"
	RuleConfigUnknownCap   = "smart-config.capability-unknown"
	RuleConfigAuthMethods  = "smart-config.auth-methods"
	RuleConfigResponseType = "smart-config.response-types"
)

// KnownCapabilities are the SMART 2.0 capability codes.
var KnownCapabilities = []string{
	"launch-ehr", "launch-standalone", "authorize-post", "client-public", "client-confidential-symmetric",
	"client-confidential-asymmetric", "sso-openid-connect", "context-passthrough-banner",
	"context-passthrough-style", "context-ehr-patient", "context-ehr-encounter",
	"context-standalone-patient", "context-standalone-encounter", "permission-offline",
	"permission-online", "permission-patient", "permission-user", "permission-v1", "permission-v2",
	"smart-app-state",
}

// CheckSMARTConfig checks the discovery document against SMART App Launch 1.0 or 2.0.
func CheckSMARTConfig(c *SMARTConfig, chk ConfigCheck) issue.List {
	var out issue.List
	add := func(sev issue.Severity, rule, path, msg, diag string) {
		out = append(out, issue.Issue{Severity: sev, Rule: rule, Path: path, Message: msg, Diagnostics: fhirhttp.Redact(diag)})
	}
	// mismatch: "path: expected E, got A", with Expected and Actual as data
	mismatch := func(sev issue.Severity, rule, path, subject, expected, actual, diag string) {
		out = append(out, issue.Issue{Severity: sev, Rule: rule, Path: path, Diagnostics: fhirhttp.Redact(diag)}.Mismatch(subject, expected, actual))
	}
	v2 := chk.Version != SMARTv1
	resp := c.Response
	if resp != nil {
		if resp.Status != 200 {
			mismatch(issue.Error, RuleConfigStatus, "", ".well-known/smart-configuration", "HTTP 200", strconv.Itoa(resp.Status), snippet(resp.Body))
			return out
		}
		if ct := resp.ContentType(); ct != "application/json" {
			mismatch(issue.Error, RuleConfigContentType, "", ".well-known/smart-configuration", "Content-Type application/json", strconv.Quote(ct), "")
		}
		if c.Raw == nil {
			msg := "body is not a JSON object"
			if resp.JSONErr != nil {
				msg = resp.JSONErr.Error()
			}
			add(issue.Error, RuleConfigJSON, "", ".well-known/smart-configuration: expected a JSON object: "+msg, snippet(resp.Body))
			return out
		}
	}
	if c.Raw == nil {
		add(issue.Error, RuleConfigJSON, "", ".well-known/smart-configuration: no document", "")
		return out
	}
	// Types.
	for _, k := range []string{"issuer", "jwks_uri", "authorization_endpoint", "token_endpoint", "registration_endpoint",
		"management_endpoint", "introspection_endpoint", "revocation_endpoint"} {
		if v, ok := c.Raw[k]; ok {
			if _, isStr := v.(string); !isStr {
				mismatch(issue.Error, RuleConfigType, k, k, "a string URL", jsonType(v), "")
			}
		}
	}
	for _, k := range []string{"grant_types_supported", "token_endpoint_auth_methods_supported", "scopes_supported",
		"response_types_supported", "capabilities", "code_challenge_methods_supported",
		"token_endpoint_auth_signing_alg_values_supported"} {
		if v, ok := c.Raw[k]; ok && !isStrArray(v) {
			mismatch(issue.Error, RuleConfigType, k, k, "an array of strings", jsonType(v), "")
		}
	}
	required := func(k string, present bool, why string) {
		if !present {
			add(issue.Error, RuleConfigRequired, k, fmt.Sprintf("%s: required%s, but absent", k, why), "")
		}
	}
	_, hasCaps := c.Raw["capabilities"]
	required("capabilities", hasCaps, "")
	required("token_endpoint", c.TokenEndpoint != "", "")
	launch := c.Has("launch-ehr") || c.Has("launch-standalone")
	if v2 {
		required("authorization_endpoint", c.AuthorizationEndpoint != "" || !launch, " when launch-ehr or launch-standalone is claimed")
		_, hasGT := c.Raw["grant_types_supported"]
		required("grant_types_supported", hasGT, " (SMART 2.0)")
		_, hasCCM := c.Raw["code_challenge_methods_supported"]
		required("code_challenge_methods_supported", hasCCM, " (SMART 2.0)")
	} else {
		required("authorization_endpoint", c.AuthorizationEndpoint != "", "")
	}
	if c.Has("sso-openid-connect") {
		required("issuer", c.Issuer != "", " when sso-openid-connect is claimed")
		required("jwks_uri", c.JWKSURI != "", " when sso-openid-connect is claimed")
	}
	if v2 {
		for _, k := range []string{"scopes_supported", "response_types_supported", "management_endpoint",
			"introspection_endpoint", "revocation_endpoint"} {
			if _, ok := c.Raw[k]; !ok {
				add(issue.Warning, RuleConfigRecommended, k, fmt.Sprintf("%s: recommended by SMART 2.0, but absent", k), "")
			}
		}
	}
	// URLs.
	for _, kv := range [][2]string{{"issuer", c.Issuer}, {"jwks_uri", c.JWKSURI}, {"authorization_endpoint", c.AuthorizationEndpoint},
		{"token_endpoint", c.TokenEndpoint}, {"registration_endpoint", c.RegistrationEndpoint}, {"management_endpoint", c.ManagementEndpoint},
		{"introspection_endpoint", c.IntrospectionEndpoint}, {"revocation_endpoint", c.RevocationEndpoint}} {
		k, v := kv[0], kv[1]
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			add(issue.Error, RuleConfigURL, k, fmt.Sprintf("%s: expected an absolute http(s) URL", k), v)
		case chk.RequireHTTPS && u.Scheme != "https":
			mismatch(issue.Error, RuleConfigURL, k, k, "an https URL", u.Scheme, v)
		}
	}
	// PKCE.
	if _, ok := c.Raw["code_challenge_methods_supported"]; ok || v2 {
		sev := issue.Error
		if !v2 {
			sev = issue.Warning
		}
		if ok && !contains(c.CodeChallengeMethodsSupported, "S256") {
			mismatch(sev, RuleConfigPKCES256, "code_challenge_methods_supported", "code_challenge_methods_supported",
				"to include S256", "["+strings.Join(c.CodeChallengeMethodsSupported, ", ")+"]", "")
		}
		if contains(c.CodeChallengeMethodsSupported, "plain") {
			add(sev, RuleConfigPKCEPlain, "code_challenge_methods_supported",
				"code_challenge_methods_supported: must not include plain, but it does", "")
		}
	}
	// Grant types.
	if _, ok := c.Raw["grant_types_supported"]; ok {
		if launch && !contains(c.GrantTypesSupported, "authorization_code") {
			mismatch(issue.Error, RuleConfigGrantTypes, "grant_types_supported", "grant_types_supported",
				"authorization_code (launch is claimed)", "["+strings.Join(c.GrantTypesSupported, ", ")+"]", "")
		}
		if (c.Has("permission-offline") || c.Has("permission-online")) && !contains(c.GrantTypesSupported, "refresh_token") {
			add(issue.Warning, RuleConfigGrantTypes, "grant_types_supported",
				"grant_types_supported: permission-offline/online is claimed, so refresh_token is expected, but absent", "")
		}
	}
	if _, ok := c.Raw["response_types_supported"]; ok && launch && !contains(c.ResponseTypesSupported, "code") {
		mismatch(issue.Error, RuleConfigResponseType, "response_types_supported", "response_types_supported",
			"to include code", "["+strings.Join(c.ResponseTypesSupported, ", ")+"]", "")
	}
	// Capabilities.
	for _, need := range chk.NeedCapabilities {
		if !c.Has(need) {
			add(issue.Error, RuleConfigCapability, "capabilities",
				fmt.Sprintf("capabilities: expected %s (this run depends on it), but absent", need), strings.Join(c.Capabilities, " "))
		}
	}
	if v2 && hasCaps && !c.Has("permission-v1") && !c.Has("permission-v2") {
		add(issue.Warning, RuleConfigCapability, "capabilities", "capabilities: expected permission-v1 and/or permission-v2 (SMART 2.0), but neither is listed", "")
	}
	for _, cp := range c.Capabilities {
		if !contains(KnownCapabilities, cp) {
			add(issue.Information, RuleConfigUnknownCap, "capabilities", "capabilities: a code not defined by SMART App Launch is listed", cp)
		}
	}
	if c.Has("client-confidential-symmetric") && len(c.TokenEndpointAuthMethodsSupported) > 0 &&
		!contains(c.TokenEndpointAuthMethodsSupported, "client_secret_basic") && !contains(c.TokenEndpointAuthMethodsSupported, "client_secret_post") {
		add(issue.Warning, RuleConfigAuthMethods, "token_endpoint_auth_methods_supported",
			"token_endpoint_auth_methods_supported: client-confidential-symmetric is claimed but neither client_secret_basic nor client_secret_post is listed", "")
	}
	if c.Has("client-confidential-asymmetric") && len(c.TokenEndpointAuthMethodsSupported) > 0 && !contains(c.TokenEndpointAuthMethodsSupported, "private_key_jwt") {
		add(issue.Warning, RuleConfigAuthMethods, "token_endpoint_auth_methods_supported",
			"token_endpoint_auth_methods_supported: client-confidential-asymmetric is claimed but private_key_jwt is not listed", "")
	}
	return out
}

// OAuthURIsExtension is the SMART CapabilityStatement security extension.
const OAuthURIsExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

// Rule codes of the CapabilityStatement checks.
const (
	RuleCapStmt         = "smart-capstmt.resource"
	RuleOAuthURIsAbsent = "smart-capstmt.oauth-uris"
	RuleOAuthURIsAgree  = "smart-capstmt.oauth-uris-agree"
	RuleSecurityService = "smart-capstmt.security-service"
)

// OAuthURIs extracts the oauth-uris extension values (authorize, token, register, manage,
// introspect, revoke) from a CapabilityStatement; nil when the extension is absent.
func OAuthURIs(capStmt map[string]any) map[string]string {
	rests, _ := capStmt["rest"].([]any)
	for _, r := range rests {
		rm, _ := r.(map[string]any)
		if m, _ := rm["mode"].(string); m != "server" {
			continue
		}
		sec, _ := rm["security"].(map[string]any)
		exts, _ := sec["extension"].([]any)
		for _, e := range exts {
			em, _ := e.(map[string]any)
			if u, _ := em["url"].(string); u != OAuthURIsExtension {
				continue
			}
			out := map[string]string{}
			subs, _ := em["extension"].([]any)
			for _, s := range subs {
				sm, _ := s.(map[string]any)
				k, _ := sm["url"].(string)
				v, _ := sm["valueUri"].(string)
				if k != "" {
					out[k] = v
				}
			}
			return out
		}
	}
	return nil
}

// CheckOAuthURIs checks that the CapabilityStatement's oauth-uris extension agrees with the
// discovery document. SMART 1.0 requires the extension; in 2.0 it is optional but must agree.
func CheckOAuthURIs(capStmt map[string]any, c *SMARTConfig, version string) issue.List {
	var out issue.List
	if rt, _ := capStmt["resourceType"].(string); rt != "CapabilityStatement" {
		return issue.List{issue.Issue{Severity: issue.Error, Rule: RuleCapStmt, Path: "CapabilityStatement"}.
			Mismatch("metadata", "a CapabilityStatement", strconv.Quote(rt))}
	}
	uris := OAuthURIs(capStmt)
	if uris == nil {
		sev := issue.Information
		if version == SMARTv1 {
			sev = issue.Error
		}
		out = append(out, issue.Issue{Severity: sev, Rule: RuleOAuthURIsAbsent, Path: "CapabilityStatement.rest.security.extension",
			Message: "CapabilityStatement: the oauth-uris security extension is absent"})
	}
	pairs := []struct{ ext, field, want string }{
		{"authorize", "authorization_endpoint", c.AuthorizationEndpoint},
		{"token", "token_endpoint", c.TokenEndpoint},
		{"register", "registration_endpoint", c.RegistrationEndpoint},
		{"manage", "management_endpoint", c.ManagementEndpoint},
		{"introspect", "introspection_endpoint", c.IntrospectionEndpoint},
		{"revoke", "revocation_endpoint", c.RevocationEndpoint},
	}
	for _, p := range pairs {
		got, ok := uris[p.ext]
		if !ok || got == p.want {
			continue
		}
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleOAuthURIsAgree,
			Path:        "CapabilityStatement.rest.security.extension('oauth-uris').extension('" + p.ext + "')",
			Message:     fmt.Sprintf("oauth-uris %s: expected to equal smart-configuration %s", p.ext, p.field),
			Diagnostics: fmt.Sprintf("capability statement %q, smart-configuration %q", fhirhttp.Redact(got), fhirhttp.Redact(p.want))})
	}
	if uris != nil && uris["authorize"] == "" && c.AuthorizationEndpoint != "" {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleOAuthURIsAgree, Path: "CapabilityStatement.rest.security.extension('oauth-uris')",
			Message: "oauth-uris: expected an authorize URI, but absent"})
	}
	if uris != nil && uris["token"] == "" && c.TokenEndpoint != "" {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleOAuthURIsAgree, Path: "CapabilityStatement.rest.security.extension('oauth-uris')",
			Message: "oauth-uris: expected a token URI, but absent"})
	}
	if !hasSMARTService(capStmt) {
		sev := issue.Warning
		if version == SMARTv1 {
			sev = issue.Error
		}
		out = append(out, issue.Issue{Severity: sev, Rule: RuleSecurityService, Path: "CapabilityStatement.rest.security.service",
			Message: "CapabilityStatement: expected security.service SMART-on-FHIR, but absent"})
	}
	return out
}

func hasSMARTService(capStmt map[string]any) bool {
	rests, _ := capStmt["rest"].([]any)
	for _, r := range rests {
		rm, _ := r.(map[string]any)
		sec, _ := rm["security"].(map[string]any)
		svcs, _ := sec["service"].([]any)
		for _, s := range svcs {
			sm, _ := s.(map[string]any)
			cs, _ := sm["coding"].([]any)
			for _, cd := range cs {
				cm, _ := cd.(map[string]any)
				if code, _ := cm["code"].(string); code == "SMART-on-FHIR" {
					return true
				}
			}
		}
	}
	return false
}

// helpers

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func strs(m map[string]any, k string) []string {
	a, _ := m[k].([]any)
	var out []string
	for _, v := range a {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func isStrArray(v any) bool {
	a, ok := v.([]any)
	if !ok {
		return false
	}
	for _, x := range a {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func snippet(b []byte) string {
	const n = 300
	s := string(b)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return fhirhttp.Redact(s)
}
