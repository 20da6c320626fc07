package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

// IDTokenExpect is what VerifyIDToken requires.
type IDTokenExpect struct {
	Issuer       string // configured issuer (smart-configuration issuer)
	ClientID     string
	JWKS         *jose.JSONWebKeySet
	Now          time.Time     // default time.Now()
	Leeway       time.Duration // clock skew allowed (default 60s)
	Nonce        string        // when a nonce was sent
	NeedFHIRUser bool          // fhirUser scope was requested
}

// IDToken is a verified (or partly verified) id_token.
type IDToken struct {
	Alg       string
	KeyID     string
	Claims    map[string]any
	Issuer    string
	Subject   string
	Audience  []string
	Expiry    time.Time
	FHIRUser  string
	Signature bool // the signature verified against a key of the JWKS
}

// Rule codes of the id_token checks.
const (
	RuleIDTokenFormat    = "id-token.format"
	RuleIDTokenUnsigned  = "id-token.unsigned"
	RuleIDTokenAlg       = "id-token.alg"
	RuleIDTokenSignature = "id-token.signature"
	RuleIDTokenIss       = "id-token.iss"
	RuleIDTokenAud       = "id-token.aud"
	RuleIDTokenAzp       = "id-token.azp"
	RuleIDTokenExp       = "id-token.exp"
	RuleIDTokenIat       = "id-token.iat"
	RuleIDTokenSub       = "id-token.sub"
	RuleIDTokenNonce     = "id-token.nonce"
	RuleIDTokenFHIRUser  = "id-token.fhiruser"
)

var acceptedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512}

// VerifyIDToken verifies raw against want: a signed JWS (never alg none), RS256 (SMART requires
// servers to support it), signature by a JWKS key, iss, aud containing client_id, exp in the
// future, and fhirUser a Patient/RelatedPerson/Practitioner/Person URL when required. The token
// is returned whenever its payload could be read, even with errors.
func VerifyIDToken(raw string, want IDTokenExpect) (*IDToken, issue.List) {
	var out issue.List
	add := func(sev issue.Severity, rule, path, msg string) {
		out = append(out, issue.Issue{Severity: sev, Rule: rule, Path: path, Message: msg})
	}
	mismatch := func(sev issue.Severity, rule, path, expected, actual string) {
		out = append(out, issue.Issue{Severity: sev, Rule: rule, Path: path}.Mismatch("id_token", expected, actual))
	}
	now := want.Now
	if now.IsZero() {
		now = time.Now()
	}
	leeway := want.Leeway
	if leeway == 0 {
		leeway = 60 * time.Second
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		mismatch(issue.Error, RuleIDTokenFormat, "id_token", "a compact JWS (3 parts)", fmt.Sprintf("%d parts", len(parts)))
		return nil, out
	}
	var hdr map[string]any
	if err := decodeSegment(parts[0], &hdr); err != nil {
		add(issue.Error, RuleIDTokenFormat, "id_token", "id_token: the JOSE header is not base64url JSON")
		return nil, out
	}
	tok := &IDToken{}
	tok.Alg, _ = hdr["alg"].(string)
	tok.KeyID, _ = hdr["kid"].(string)
	if err := decodeSegment(parts[1], &tok.Claims); err != nil {
		add(issue.Error, RuleIDTokenFormat, "id_token", "id_token: the payload is not base64url JSON")
		return nil, out
	}
	if strings.EqualFold(tok.Alg, "none") || tok.Alg == "" || parts[2] == "" {
		mismatch(issue.Error, RuleIDTokenUnsigned, "id_token.header.alg", "a signed token (RS256)", "alg "+strconv.Quote(safeCode(tok.Alg)))
	} else {
		if tok.Alg != "RS256" {
			mismatch(issue.Warning, RuleIDTokenAlg, "id_token.header.alg", "alg RS256 (SMART)", safeCode(tok.Alg))
		}
		verifySignature(raw, tok, want.JWKS, &out)
	}
	c := tok.Claims
	tok.Issuer, _ = c["iss"].(string)
	tok.Subject, _ = c["sub"].(string)
	tok.FHIRUser, _ = c["fhirUser"].(string)
	switch a := c["aud"].(type) {
	case string:
		tok.Audience = []string{a}
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				tok.Audience = append(tok.Audience, s)
			}
		}
	}
	if tok.Issuer == "" {
		add(issue.Error, RuleIDTokenIss, "id_token.iss", "iss: required, but absent")
	} else if want.Issuer != "" && tok.Issuer != want.Issuer {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleIDTokenIss, Path: "id_token.iss",
			Message: "iss: expected to equal the configured issuer exactly", Diagnostics: fmt.Sprintf("got %q, want %q", fhirhttp.Redact(tok.Issuer), want.Issuer)})
	}
	if tok.Subject == "" {
		add(issue.Error, RuleIDTokenSub, "id_token.sub", "sub: required, but absent")
	}
	if !contains(tok.Audience, want.ClientID) {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleIDTokenAud, Path: "id_token.aud",
			Message: "aud: expected to contain the client_id", Diagnostics: fmt.Sprintf("aud %q, client_id %q", fhirhttp.Redact(strings.Join(tok.Audience, " ")), want.ClientID)})
	}
	if len(tok.Audience) > 1 {
		if azp, _ := c["azp"].(string); azp != want.ClientID {
			add(issue.Warning, RuleIDTokenAzp, "id_token.azp", "azp: expected the client_id when aud has several values")
		}
	}
	if exp, ok := numericDate(c["exp"]); !ok {
		add(issue.Error, RuleIDTokenExp, "id_token.exp", "exp: required (a NumericDate), but absent or not a number")
	} else {
		tok.Expiry = exp
		if !exp.Add(leeway).After(now) {
			add(issue.Error, RuleIDTokenExp, "id_token.exp", fmt.Sprintf("exp: expected in the future, but the token expired %s ago", now.Sub(exp).Round(time.Second)))
		}
	}
	if iat, ok := numericDate(c["iat"]); !ok {
		add(issue.Error, RuleIDTokenIat, "id_token.iat", "iat: required (a NumericDate), but absent or not a number")
	} else if iat.After(now.Add(leeway)) {
		add(issue.Warning, RuleIDTokenIat, "id_token.iat", "iat: issued in the future")
	}
	if want.Nonce != "" {
		if n, _ := c["nonce"].(string); n != want.Nonce {
			add(issue.Error, RuleIDTokenNonce, "id_token.nonce", "nonce: expected the value sent in the authorization request")
		}
	}
	if tok.FHIRUser == "" {
		if want.NeedFHIRUser {
			add(issue.Error, RuleIDTokenFHIRUser, "id_token.fhirUser", "fhirUser: expected (the fhirUser scope was requested), but absent")
		}
	} else if _, _, err := ParseFHIRUser(tok.FHIRUser, ""); err != nil {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleIDTokenFHIRUser, Path: "id_token.fhirUser",
			Message: "fhirUser: " + err.Error(), Diagnostics: fhirhttp.Redact(tok.FHIRUser)})
	}
	return tok, out
}

func verifySignature(raw string, tok *IDToken, set *jose.JSONWebKeySet, out *issue.List) {
	jws, err := jose.ParseSigned(raw, acceptedAlgs)
	if err != nil {
		*out = append(*out, issue.Issue{Severity: issue.Error, Rule: RuleIDTokenAlg, Path: "id_token.header.alg",
			Message: fmt.Sprintf("id_token: cannot be verified with alg %s", safeCode(tok.Alg)), Diagnostics: err.Error()})
		return
	}
	if set == nil || len(set.Keys) == 0 {
		*out = append(*out, issue.Issue{Severity: issue.Error, Rule: RuleIDTokenSignature, Path: "id_token",
			Message: "id_token: no JWKS key available to verify the signature"})
		return
	}
	keys := set.Keys
	if tok.KeyID != "" {
		keys = set.Key(tok.KeyID)
		if len(keys) == 0 {
			*out = append(*out, issue.Issue{Severity: issue.Error, Rule: RuleIDTokenSignature, Path: "id_token.header.kid",
				Message: "id_token: the kid in the header names no key of the jwks_uri"})
			return
		}
	}
	for _, k := range keys {
		if payload, err := jws.Verify(k.Public()); err == nil && len(payload) > 0 {
			tok.Signature = true
			return
		}
	}
	*out = append(*out, issue.Issue{Severity: issue.Error, Rule: RuleIDTokenSignature, Path: "id_token",
		Message: "id_token: the signature does not verify with any key of the jwks_uri"})
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

var reFHIRUser = regexp.MustCompile(`(?:^|/)(Patient|RelatedPerson|Practitioner|Person)/([A-Za-z0-9\-.]{1,64})$`)

// ParseFHIRUser checks a fhirUser claim: an absolute URL or a relative reference ending in
// {Patient|RelatedPerson|Practitioner|Person}/{id}. With fhirBase, a relative value is resolved
// against it; the absolute URL is returned.
func ParseFHIRUser(fhirUser, fhirBase string) (abs, resourceType string, err error) {
	u, perr := url.Parse(fhirUser)
	if perr != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("expected a resource URL, got something that does not parse as one")
	}
	m := reFHIRUser.FindStringSubmatch(u.Path)
	if m == nil {
		return "", "", fmt.Errorf("expected a URL of a Patient, RelatedPerson, Practitioner or Person resource")
	}
	if u.IsAbs() {
		if u.Scheme != "https" && u.Scheme != "http" {
			return "", "", fmt.Errorf("expected an http(s) URL")
		}
		return u.String(), m[1], nil
	}
	if strings.HasPrefix(fhirUser, "/") {
		return "", "", fmt.Errorf("expected an absolute URL or a relative reference Type/id, got an absolute path")
	}
	if fhirBase == "" {
		return fhirUser, m[1], nil
	}
	b, berr := url.Parse(strings.TrimRight(fhirBase, "/") + "/")
	if berr != nil {
		return "", "", fmt.Errorf("FHIR base does not parse")
	}
	return b.ResolveReference(u).String(), m[1], nil
}

// Rule codes of the fhirUser resolution check.
const (
	RuleFHIRUserRead = "id-token.fhiruser-read"
)

// CheckFHIRUserReadable reads the fhirUser resource with hc (which carries the access token) and
// checks that it is returned with the claimed type. err is a transport error only.
func CheckFHIRUserReadable(ctx context.Context, hc *fhirhttp.Client, fhirUser string) (issue.List, error) {
	abs, typ, err := ParseFHIRUser(fhirUser, hc.Base())
	if err != nil {
		return issue.List{{Severity: issue.Error, Rule: RuleIDTokenFHIRUser, Path: "id_token.fhirUser", Message: "fhirUser: " + err.Error(), Diagnostics: fhirhttp.Redact(fhirUser)}}, nil
	}
	resp, err := hc.Get(ctx, abs)
	if err != nil {
		return nil, err
	}
	if resp.Status != 200 {
		return issue.List{issue.Issue{Severity: issue.Error, Rule: RuleFHIRUserRead, Path: "id_token.fhirUser"}.
			Mismatch("fhirUser", fmt.Sprintf("the %s to be readable with the access token (HTTP 200)", typ), strconv.Itoa(resp.Status))}, nil
	}
	if rt := resp.ResourceType(); rt != typ {
		return issue.List{issue.Issue{Severity: issue.Error, Rule: RuleFHIRUserRead, Path: "id_token.fhirUser"}.
			Mismatch("fhirUser", "a "+typ+" resource", strconv.Quote(safeCode(rt)))}, nil
	}
	return nil, nil
}
