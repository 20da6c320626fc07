package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

// Client authentication methods at the token endpoint.
const (
	AuthNone        = "none" // public client: client_id in the form
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
	AuthPrivateKey  = "private_key_jwt"
)

// AssertionType is the client_assertion_type for private_key_jwt.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Client is a SMART client at one authorization server. It is a plain value: probes copy it and
// change a field (a wrong secret, another client_id) without touching the original.
type Client struct {
	HTTP          *fhirhttp.Client // records every exchange; the bearer token is never attached to token calls
	TokenEndpoint string
	ClientID      string
	ClientSecret  string // client_secret_basic / client_secret_post
	AuthMethod    string // AuthNone (default), AuthSecretBasic, AuthSecretPost, AuthPrivateKey
	RedirectURI   string
	// PrivateKey signs client assertions (RS384 or ES384, from SigningAlg or the key's alg).
	PrivateKey *jose.JSONWebKey
	SigningAlg jose.SignatureAlgorithm
	Now        func() time.Time
	// Target is the FHIR base URL the discovered endpoints are vetted against (default HTTP.Base()).
	Target string
	// AllowedOrigins, when not empty, are the only origins besides the target's that may receive
	// credentials (config auth.allowed_origins); see VetEndpoint.
	AllowedOrigins []string
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// TokenResponse is the raw token endpoint answer plus the decoded fields.
type TokenResponse struct {
	Status   int
	Header   http.Header
	Body     []byte         // raw: contains secrets, never put it in evidence unredacted
	Raw      map[string]any // decoded JSON object (UseNumber); nil if not JSON
	Received time.Time

	AccessToken      string
	TokenType        string
	RefreshToken     string
	IDToken          string
	Scope            string
	Patient          string
	Encounter        string
	ExpiresIn        int64 // 0 when absent or invalid (see Raw)
	Error            string
	ErrorDescription string
}

// OK reports whether the response is a 200 with an access token.
func (t *TokenResponse) OK() bool { return t != nil && t.Status == 200 && t.AccessToken != "" }

// Expiry returns the absolute expiry, or zero when expires_in is absent.
func (t *TokenResponse) Expiry() time.Time {
	if t.ExpiresIn <= 0 {
		return time.Time{}
	}
	return t.Received.Add(time.Duration(t.ExpiresIn) * time.Second)
}

// OAuth2Token converts to an x/oauth2 token (with the raw fields as extras).
func (t *TokenResponse) OAuth2Token() *oauth2.Token {
	tok := &oauth2.Token{AccessToken: t.AccessToken, TokenType: "Bearer", RefreshToken: t.RefreshToken, Expiry: t.Expiry(), ExpiresIn: t.ExpiresIn}
	if t.Raw != nil {
		tok = tok.WithExtra(t.Raw)
	}
	return tok
}

func parseTokenResponse(resp *fhirhttp.Response) *TokenResponse {
	t := &TokenResponse{Status: resp.Status, Header: resp.Header, Body: resp.Body, Raw: resp.Resource, Received: time.Now()}
	if t.Raw == nil {
		return t
	}
	t.AccessToken = str(t.Raw, "access_token")
	t.TokenType = str(t.Raw, "token_type")
	t.RefreshToken = str(t.Raw, "refresh_token")
	t.IDToken = str(t.Raw, "id_token")
	t.Scope = str(t.Raw, "scope")
	t.Patient = str(t.Raw, "patient")
	t.Encounter = str(t.Raw, "encounter")
	t.Error = str(t.Raw, "error")
	t.ErrorDescription = str(t.Raw, "error_description")
	if n, ok := t.Raw["expires_in"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			t.ExpiresIn = v
		} else if f, err := n.Float64(); err == nil {
			t.ExpiresIn = int64(f)
		}
	}
	return t
}

// Exchange trades an authorization code (with its PKCE verifier; "" sends none).
func (c *Client) Exchange(ctx context.Context, code, verifier string) (*TokenResponse, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return c.TokenRequest(ctx, form)
}

// Refresh uses a refresh token; scope "" keeps the original scopes.
func (c *Client) Refresh(ctx context.Context, refreshToken, scope string) (*TokenResponse, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return c.TokenRequest(ctx, form)
}

// TokenRequest POSTs form to the token endpoint with the client's authentication applied. err is a
// transport or configuration error; any HTTP answer is returned as data.
func (c *Client) TokenRequest(ctx context.Context, form url.Values) (*TokenResponse, error) {
	return c.postAuthenticated(ctx, "token_endpoint", c.TokenEndpoint, form)
}

func (c *Client) postAuthenticated(ctx context.Context, field, endpoint string, form url.Values) (*TokenResponse, error) {
	if c.HTTP == nil {
		return nil, errors.New("oauth: Client.HTTP is nil")
	}
	if endpoint == "" {
		return nil, fmt.Errorf("oauth: %s is empty; check the smart-configuration", field)
	}
	if err := VetField(field, c.target(), endpoint, c.AllowedOrigins); err != nil {
		return nil, err
	}
	h := http.Header{"Accept": {"application/json"}}
	if err := c.authenticate(form, h, endpoint); err != nil {
		return nil, err
	}
	for _, k := range []string{"code", "code_verifier", "refresh_token", "client_secret", "client_assertion", "token"} {
		c.HTTP.Secrets().Add(form.Get(k))
	}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(ctx, &fhirhttp.Request{Method: http.MethodPost, URL: endpoint, Header: h, Body: []byte(form.Encode()), NoToken: true})
	if err != nil {
		return nil, err
	}
	t := parseTokenResponse(resp)
	c.HTTP.Secrets().Add(t.AccessToken, t.RefreshToken, t.IDToken)
	return t, nil
}

func (c *Client) authenticate(form url.Values, h http.Header, endpoint string) error {
	switch c.AuthMethod {
	case "", AuthNone:
		form.Set("client_id", c.ClientID)
	case AuthSecretBasic:
		c.HTTP.Secrets().Add(c.ClientSecret)
		cred := url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(c.ClientSecret)
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	case AuthSecretPost:
		c.HTTP.Secrets().Add(c.ClientSecret)
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", c.ClientSecret)
	case AuthPrivateKey:
		a, err := c.ClientAssertion(endpoint)
		if err != nil {
			return err
		}
		form.Set("client_assertion_type", AssertionType)
		form.Set("client_assertion", a)
	default:
		return fmt.Errorf("oauth: unknown AuthMethod %q (none, client_secret_basic, client_secret_post, private_key_jwt)", c.AuthMethod)
	}
	return nil
}

// ClientAssertion signs a private_key_jwt assertion for aud (the token endpoint): iss = sub =
// client_id, a fresh jti, exp in 5 minutes.
func (c *Client) ClientAssertion(aud string) (string, error) {
	if c.PrivateKey == nil {
		return "", errors.New("oauth: private_key_jwt needs Client.PrivateKey")
	}
	alg := c.AssertionAlg()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if c.PrivateKey.KeyID != "" {
		opts = opts.WithHeader("kid", c.PrivateKey.KeyID)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: c.PrivateKey.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("oauth: cannot sign client assertion with %s: %w", alg, err)
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	now := c.now()
	claims := jwt.Claims{Issuer: c.ClientID, Subject: c.ClientID, Audience: jwt.Audience{aud},
		ID: base64.RawURLEncoding.EncodeToString(jti), IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))}
	return jwt.Signed(sig).Claims(claims).Serialize()
}

// AssertionAlg is the JWS algorithm c signs its client assertions with: SigningAlg, else
// KeyAlg(PrivateKey).
func (c *Client) AssertionAlg() jose.SignatureAlgorithm {
	if c.SigningAlg != "" {
		return c.SigningAlg
	}
	return KeyAlg(c.PrivateKey)
}

// KeyAlg is the JWS algorithm a client assertion signed with k uses: the key's own alg, else the
// ECDSA algorithm of its curve (ES256, ES384, ES512), else RS384 (SMART's RSA algorithm).
func KeyAlg(k *jose.JSONWebKey) jose.SignatureAlgorithm {
	if k == nil {
		return jose.RS384
	}
	if k.Algorithm != "" {
		return jose.SignatureAlgorithm(k.Algorithm)
	}
	if ec, ok := k.Key.(*ecdsa.PrivateKey); ok {
		switch ec.Curve {
		case elliptic.P256():
			return jose.ES256
		case elliptic.P521():
			return jose.ES512
		}
		return jose.ES384
	}
	return jose.RS384
}

// UnregisteredKey makes a fresh private key that signs with alg ("" = KeyAlg(k)) under k's kid,
// which no server has registered: a client assertion signed with it must be refused. The key
// fits alg (P-256 for ES256, P-384 for ES384, P-521 for ES512, RSA of k's size, at least 2048
// bits, for RS*/PS*), so the probe's assertion differs from the client's only in the key.
func UnregisteredKey(k *jose.JSONWebKey, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, error) {
	if alg == "" {
		alg = KeyAlg(k)
	}
	out := &jose.JSONWebKey{Algorithm: string(alg), Use: "sig"}
	if k != nil {
		out.KeyID = k.KeyID
	}
	var err error
	switch alg {
	case jose.ES256:
		out.Key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		out.Key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.ES512:
		out.Key, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		bits := 2048
		if k != nil {
			if rk, ok := k.Key.(*rsa.PrivateKey); ok && rk.N.BitLen() > bits {
				bits = rk.N.BitLen()
			}
		}
		out.Key, err = rsa.GenerateKey(rand.Reader, bits)
	default:
		return nil, fmt.Errorf("oauth: client assertion algorithm %q: use RS256, RS384, ES256 or ES384 (the key's alg)", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: generating an unregistered %s key: %w", alg, err)
	}
	return out, nil
}

// TokenExpect says what CheckTokenResponse requires, from the request that was made.
type TokenExpect struct {
	RequestedScope string // space separated, as sent
	Refresh        bool   // this was a refresh_token grant
	// ApprovedScope, when set, is what the user left approved on the consent page: a granted scope
	// outside it is an error (the server ignored the user's choice).
	ApprovedScope string
}

// Rule codes of the token response checks.
const (
	RuleTokenStatus       = "token.status"
	RuleTokenContentType  = "token.content-type"
	RuleTokenAccessToken  = "token.access-token"
	RuleTokenType         = "token.token-type"
	RuleTokenExpiresIn    = "token.expires-in"
	RuleTokenScope        = "token.scope"
	RuleTokenScopeWidened = "token.scope-widened"
	RuleTokenScopeMissing = "token.scope-not-granted"
	RuleTokenNotApproved  = "token.scope-not-approved"
	RuleTokenPatient      = "token.patient"
	RuleTokenRefresh      = "token.refresh-token"
	RuleTokenIDToken      = "token.id-token"
	RuleTokenNoStore      = "token.cache-control"
	RuleTokenPragma       = "token.pragma"
)

// CheckTokenResponse checks a successful token response (RFC 6749 5.1 and SMART App Launch).
func CheckTokenResponse(t *TokenResponse, want TokenExpect) issue.List {
	var out issue.List
	add := func(sev issue.Severity, rule, path, msg string) {
		out = append(out, issue.Issue{Severity: sev, Rule: rule, Path: path, Message: msg})
	}
	mismatch := func(sev issue.Severity, rule, path, subject, expected, actual string) {
		out = append(out, issue.Issue{Severity: sev, Rule: rule, Path: path}.Mismatch(subject, expected, actual))
	}
	if t.Status != 200 {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleTokenStatus, Diagnostics: fhirhttp.Redact(t.ErrorDescription)}.
			Mismatch("token response", "HTTP 200", fmt.Sprintf("%d (error %s)", t.Status, safeCode(t.Error))))
		return out
	}
	if ct := mediaType(t.Header); ct != "application/json" {
		mismatch(issue.Error, RuleTokenContentType, "", "token response", "Content-Type application/json", strconv.Quote(ct))
	}
	if t.Raw == nil {
		add(issue.Error, RuleTokenStatus, "", "token response: expected a JSON object")
		return out
	}
	if t.AccessToken == "" {
		add(issue.Error, RuleTokenAccessToken, "access_token", "access_token: required, but absent or not a string")
	}
	if t.TokenType == "" {
		add(issue.Error, RuleTokenType, "token_type", "token_type: required, but absent")
	} else if !strings.EqualFold(t.TokenType, "bearer") {
		mismatch(issue.Error, RuleTokenType, "token_type", "token_type", "Bearer (any case)", strconv.Quote(safeCode(t.TokenType)))
	}
	if v, ok := t.Raw["expires_in"]; !ok {
		add(issue.Warning, RuleTokenExpiresIn, "expires_in", "expires_in: recommended, but absent")
	} else if n, isNum := v.(json.Number); !isNum {
		mismatch(issue.Error, RuleTokenExpiresIn, "expires_in", "expires_in", "a number of seconds", jsonType(v))
	} else if f, err := n.Float64(); err != nil || f <= 0 {
		mismatch(issue.Error, RuleTokenExpiresIn, "expires_in", "expires_in", "a positive number of seconds", n.String())
	}
	if _, ok := t.Raw["scope"]; !ok {
		add(issue.Error, RuleTokenScope, "scope", "scope: required by SMART App Launch, but absent")
	}
	granted := t.Scope
	if granted != "" && want.RequestedScope != "" {
		notGranted, widened := CompareScopes([]string{want.RequestedScope}, []string{granted})
		for _, w := range widened {
			sev := issue.Warning
			if want.Refresh {
				sev = issue.Error
			}
			out = append(out, issue.Issue{Severity: sev, Rule: RuleTokenScopeWidened, Path: "scope",
				Message: "scope: a granted scope was not requested (expected granted ⊆ requested)", Diagnostics: w})
		}
		for _, m := range notGranted {
			out = append(out, issue.Issue{Severity: issue.Information, Rule: RuleTokenScopeMissing, Path: "scope",
				Message: "scope: a requested scope was not granted", Diagnostics: m})
		}
	}
	if granted != "" && want.ApprovedScope != "" {
		_, beyond := CompareScopes([]string{want.ApprovedScope}, []string{granted})
		for _, b := range beyond {
			out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleTokenNotApproved, Path: "scope",
				Message: "scope: a scope the user did not approve on the consent page was granted", Diagnostics: b})
		}
	}
	if HasScope(granted, "launch/patient") && t.Patient == "" {
		add(issue.Error, RuleTokenPatient, "patient", "patient: expected (launch/patient was granted), but absent")
	} else if HasScope(want.RequestedScope, "launch/patient") && t.Patient == "" && !want.Refresh {
		add(issue.Error, RuleTokenPatient, "patient", "patient: expected (launch/patient was requested), but absent")
	}
	if v, ok := t.Raw["patient"]; ok {
		if _, isStr := v.(string); !isStr {
			mismatch(issue.Error, RuleTokenPatient, "patient", "patient", "a string id", jsonType(v))
		}
	}
	offline := HasScope(granted, "offline_access") || HasScope(granted, "online_access")
	if offline && t.RefreshToken == "" {
		add(issue.Error, RuleTokenRefresh, "refresh_token", "refresh_token: expected (offline_access or online_access was granted), but absent")
	}
	if !want.Refresh && HasScope(want.RequestedScope, "openid") && (HasScope(want.RequestedScope, "fhirUser") || HasScope(want.RequestedScope, "profile")) && t.IDToken == "" {
		add(issue.Error, RuleTokenIDToken, "id_token", "id_token: expected (openid with fhirUser was requested), but absent")
	}
	if cc := strings.ToLower(strings.Join(t.Header.Values("Cache-Control"), ",")); !strings.Contains(cc, "no-store") {
		mismatch(issue.Error, RuleTokenNoStore, "Cache-Control", "token response", "header Cache-Control: no-store", strconv.Quote(cc))
	}
	if pr := strings.ToLower(strings.Join(t.Header.Values("Pragma"), ",")); !strings.Contains(pr, "no-cache") {
		mismatch(issue.Warning, RuleTokenPragma, "Pragma", "token response", "header Pragma: no-cache", strconv.Quote(pr))
	}
	return out
}

// Rule codes of negative probes.
const (
	RuleProbeAccepted = "probe.accepted"
	RuleProbeStatus   = "probe.status"
	RuleProbeError    = "probe.error-code"
)

// OAuthErrorCodes are the RFC 6749 5.2 token error codes.
var OAuthErrorCodes = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
	"unsupported_grant_type", "invalid_scope"}

// CheckRejected checks a token endpoint answer to a request that must fail (wrong verifier,
// replayed code, bad secret, unknown client, wrong redirect_uri): HTTP 400 or 401, a JSON error
// with an RFC 6749 code (one of wantCodes when given), and no access token. what names the probe
// for the message (e.g. "token request with a wrong code_verifier").
func CheckRejected(t *TokenResponse, what string, wantCodes ...string) issue.List {
	var out issue.List
	if t.AccessToken != "" || t.Status == 200 {
		return issue.List{{Severity: issue.Error, Rule: RuleProbeAccepted, Message: what + ": expected rejection (HTTP 400/401), but the server issued a token"}}
	}
	if t.Status != 400 && t.Status != 401 {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleProbeStatus}.Mismatch(what, "HTTP 400 or 401", strconv.Itoa(t.Status)))
	}
	switch {
	case t.Error == "":
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleProbeError, Path: "error", Message: what + ": expected a JSON error response with an error code, but absent", Diagnostics: snippet(t.Body)})
	case !contains(OAuthErrorCodes, t.Error):
		out = append(out, issue.Issue{Severity: issue.Warning, Rule: RuleProbeError, Path: "error", Message: what + ": error code is not one of RFC 6749 section 5.2", Diagnostics: fhirhttp.Redact(t.Error)})
	case len(wantCodes) > 0 && !contains(wantCodes, t.Error):
		out = append(out, issue.Issue{Severity: issue.Warning, Rule: RuleProbeError, Path: "error"}.
			Mismatch(what, "error "+strings.Join(wantCodes, " or "), t.Error))
	}
	return out
}

func mediaType(h http.Header) string {
	ct := h.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}
