// Package fhirhttp is a bounded, origin-pinned HTTP client for untrusted FHIR and OAuth servers,
// and the one transport policy every pacheck request follows (FHIR, OAuth token, introspection,
// revocation, JWKS, discovery, paging). Every attempt is recorded (redacted, headers and bodies
// clipped) as an evidence.Exchange; connect, headers, body, redirects, pages and header size are
// bounded. Credentials go only to the exact origin (scheme + host + port) they were meant for: the
// bearer token to the target origin(s), a caller's Authorization or Cookie header and a request
// body to the origin the caller addressed (a 307/308 to another origin is returned, not followed),
// never a credential over plain http when the target is https, never a URL carrying a credential
// in its query through a redirect; user:pass@ in any URL is never used. Transient faults (429,
// 503, resets on GET/HEAD) are retried within Options.Retry; an optional Breaker fails fast on a
// dead target.
//
// Errors: a *TransportError means the tool got no usable response (network, timeout, limits,
// token source): suites report it as an "error" outcome. Any HTTP response, whatever its status,
// is data returned in *Response for checks to judge.
package fhirhttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/pacheck/pacheck/checks/evidence"
)

// Version is the pacheck version sent in the User-Agent ("pacheck/<Version>").
var Version = "dev"

// Defaults used when an Options field is zero.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultMaxBodyBytes    = 20 << 20
	DefaultMaxRedirects    = 5
	DefaultMaxPages        = 20
	DefaultMaxEvidenceBody = 256 << 10
	// DefaultConnectTimeout bounds the TCP connect (and the TLS handshake) of the default Transport.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultMaxResponseHeaderBytes bounds the response headers the default Transport accepts.
	DefaultMaxResponseHeaderBytes = 1 << 20
	// MaxEvidenceHeaderValue and MaxEvidenceHeaders bound the headers kept in an evidence.Exchange
	// (each value, and all names and values together); what is cut marks the exchange Truncated.
	MaxEvidenceHeaderValue = 8 << 10
	MaxEvidenceHeaders     = 64 << 10
	FHIRJSON               = "application/fhir+json"
)

// Sentinel causes wrapped in *TransportError (test with errors.Is).
var (
	ErrBodyTooLarge     = errors.New("response body exceeds the size limit")
	ErrTooManyRedirects = errors.New("too many redirects")
	ErrToken            = errors.New("token source failed")
)

// Recorder receives every exchange, already redacted. It must not block for long.
type Recorder func(evidence.Exchange)

// TokenFunc adapts a function to oauth2.TokenSource.
type TokenFunc func() (*oauth2.Token, error)

// Token implements oauth2.TokenSource.
func (f TokenFunc) Token() (*oauth2.Token, error) { return f() }

// StaticToken returns a TokenSource that always yields the bearer token tok.
func StaticToken(tok string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"})
}

// Options configures a Client. Zero values take the defaults.
type Options struct {
	BaseURL         string        // FHIR base, e.g. https://example.org/fhir (required)
	Timeout         time.Duration // per attempt, covering redirects and the whole body (default 30s)
	MaxBodyBytes    int64         // per response (default 20 MiB)
	MaxRedirects    int           // default 5; negative means follow none
	MaxPages        int           // bound for SearchAll/Follow (default 20)
	MaxEvidenceBody int           // bytes of each body kept in evidence (default 256 KiB)
	// TokenSource supplies the bearer token. It is sent only to the BaseURL origin and TokenOrigins.
	TokenSource  oauth2.TokenSource
	TokenOrigins []string // extra origins (scheme://host[:port]) allowed to receive the token
	Recorder     Recorder
	Secrets      *Secrets // extra exact values to mask in evidence (tokens are added automatically)
	// RetryUnauthorized retries a 401 once after invalidating the TokenSource (see Do).
	RetryUnauthorized bool
	Transport         http.RoundTripper // default: a clone of http.DefaultTransport (proxies from the environment apply)
	UserAgent         string            // default "pacheck/<Version>"
	Accept            string            // default application/fhir+json
	// RootCAs, when set, are the certificate authorities the default Transport trusts instead of
	// the system's (a payer's internal CA; see framework.Run.RootCAs). Verification is never off.
	RootCAs *x509.CertPool
	// Bounds of the default Transport (ignored when Transport is set).
	ConnectTimeout         time.Duration // TCP connect (default 10s)
	ResponseHeaderTimeout  time.Duration // from the request written to the response headers (default: only Timeout bounds them)
	MaxResponseHeaderBytes int64         // response header bytes (default 1 MiB)
	// Retry bounds the retries of transient faults (429, 503, resets on GET/HEAD).
	Retry RetryPolicy
	// Observer, when set, sees every logical request (one per Do, retries included).
	Observer *Observations
	// Breaker, when set, makes requests to the BaseURL origin fail fast once it looks dead.
	Breaker *Breaker
	// WrapTransport, when set, wraps the transport (given or default) once, in New: a Recording
	// keeps every exchange, a Replay answers from a recording instead of the network.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Client is safe for concurrent use.
type Client struct {
	opts    Options
	base    *url.URL
	origins map[string]bool
	hc      *http.Client
	secrets *Secrets
	// sleep waits between attempts and now reads the clock (for Retry-After dates); tests replace them.
	sleep func(context.Context, time.Duration) error
	now   func() time.Time
	// throttle suspends futile retries (Options.Breaker, or one of the client's own).
	throttle *Breaker
}

// TransportError is a tool-side failure: no usable HTTP response was obtained.
type TransportError struct {
	Method string
	URL    string // redacted
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// IsTransport reports whether err is (or wraps) a *TransportError.
func IsTransport(err error) bool {
	var te *TransportError
	return errors.As(err, &te)
}

// Response is an HTTP response: data for the checks.
type Response struct {
	Method   string
	URL      string // final URL (after redirects), unredacted: do not put in messages as is
	Status   int
	Header   http.Header
	Body     []byte
	Resource map[string]any // the body decoded with UseNumber when it is a JSON object
	JSONErr  error          // why Resource is nil although the body looked like JSON
	Duration time.Duration
	// RedirectRefused, on a 3xx, says why the redirect was not followed (a body or a query
	// credential would have gone to another origin); the redirect itself is the data.
	RedirectRefused string
	// Attempts is how many attempts the request took (retries of transient faults included).
	Attempts int
}

// ContentType returns the media type without parameters.
func (r *Response) ContentType() string {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt
}

// ResourceType returns Resource["resourceType"] or "".
func (r *Response) ResourceType() string {
	if r == nil || r.Resource == nil {
		return ""
	}
	s, _ := r.Resource["resourceType"].(string)
	return s
}

// Request is a generic request for Do.
type Request struct {
	Method     string
	URL        string // absolute, or relative to BaseURL
	Header     http.Header
	Body       []byte
	NoToken    bool // never attach the bearer token (e.g. token endpoint, probes)
	NoRedirect bool // return a 3xx response as data instead of following it (e.g. authorize probes)
}

// New validates opts and returns a Client.
func New(opts Options) (*Client, error) {
	if opts.BaseURL == "" {
		return nil, errors.New("fhirhttp: BaseURL is empty; give the FHIR base URL of the target")
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("fhirhttp: BaseURL %q is not an absolute http(s) URL", Redact(StripUserinfo(opts.BaseURL)))
	}
	if base.User != nil {
		return nil, fmt.Errorf("fhirhttp: BaseURL %q has user:password@ in it; pacheck never sends URL credentials, give the base without them and a token (auth)", Redact(StripUserinfo(opts.BaseURL)))
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	base.RawQuery, base.Fragment = "", ""
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	} else if opts.MaxRedirects < 0 {
		opts.MaxRedirects = 0
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	if opts.MaxEvidenceBody <= 0 {
		opts.MaxEvidenceBody = DefaultMaxEvidenceBody
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "pacheck/" + Version
	}
	if opts.Accept == "" {
		opts.Accept = FHIRJSON
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.ResponseHeaderTimeout < 0 || opts.ResponseHeaderTimeout >= opts.Timeout {
		opts.ResponseHeaderTimeout = 0 // Timeout already bounds the headers
	}
	if opts.MaxResponseHeaderBytes <= 0 {
		opts.MaxResponseHeaderBytes = DefaultMaxResponseHeaderBytes
	}
	switch {
	case opts.Retry.MaxAttempts == 0:
		opts.Retry.MaxAttempts = DefaultRetryAttempts
	case opts.Retry.MaxAttempts < 0:
		opts.Retry.MaxAttempts = 1
	}
	switch {
	case opts.Retry.MaxWait == 0:
		opts.Retry.MaxWait = DefaultRetryMaxWait
	case opts.Retry.MaxWait < 0:
		opts.Retry.MaxWait = 0
	}
	if opts.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: opts.ConnectTimeout}).DialContext
		t.TLSHandshakeTimeout = opts.ConnectTimeout
		t.ResponseHeaderTimeout = opts.ResponseHeaderTimeout
		t.MaxResponseHeaderBytes = opts.MaxResponseHeaderBytes
		if opts.RootCAs != nil {
			t.TLSClientConfig = &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
		}
		opts.Transport = t
	}
	if opts.WrapTransport != nil {
		opts.Transport = opts.WrapTransport(opts.Transport)
		opts.WrapTransport = nil // Options() of this client must not wrap twice
	}
	c := &Client{opts: opts, base: base, origins: map[string]bool{Origin(base): true}, secrets: opts.Secrets,
		sleep: sleepCtx, now: time.Now, throttle: opts.Breaker}
	if c.throttle == nil {
		c.throttle = &Breaker{}
	}
	if c.secrets == nil {
		c.secrets = &Secrets{}
	}
	for _, o := range opts.TokenOrigins {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("fhirhttp: TokenOrigins entry %q is not scheme://host[:port]", Redact(StripUserinfo(o)))
		}
		if c.downgrade(u) {
			return nil, fmt.Errorf("fhirhttp: TokenOrigins entry %q is plain http while BaseURL is https; a token never goes over plain http", Redact(StripUserinfo(o)))
		}
		c.origins[Origin(u)] = true
	}
	c.hc = &http.Client{
		Transport:     opts.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Origin returns scheme://host:port with the default port made explicit.
func Origin(u *url.URL) string {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(net.JoinHostPort(host, port))
}

// Base returns the FHIR base URL (ending in "/").
func (c *Client) Base() string { return c.base.String() }

// Options returns the effective options (defaults filled in).
func (c *Client) Options() Options { return c.opts }

// Secrets returns the set of values masked in this client's evidence.
func (c *Client) Secrets() *Secrets { return c.secrets }

// WithToken returns a copy of c using ts (nil: no token); recorder, limits and secrets are shared.
func (c *Client) WithToken(ts oauth2.TokenSource) *Client {
	cp := *c
	cp.opts.TokenSource = ts
	return &cp
}

// WithRecorder returns a copy of c handing exchanges to r.
func (c *Client) WithRecorder(r Recorder) *Client {
	cp := *c
	cp.opts.Recorder = r
	return &cp
}

// Resolve makes ref absolute against the base URL, without any user:pass@ (never used).
func (c *Client) Resolve(ref string) (*url.URL, error) {
	u, err := url.Parse(ref)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text quotes the URL whole, password included
		}
		return nil, fmt.Errorf("fhirhttp: bad URL %q: %w", Redact(StripUserinfo(ref)), err)
	}
	abs := c.base.ResolveReference(u)
	if abs.Scheme != "http" && abs.Scheme != "https" {
		return nil, fmt.Errorf("fhirhttp: URL %q is not http(s)", Redact(StripUserinfo(ref)))
	}
	return stripUserinfo(abs), nil
}

// TokenAllowed reports whether the bearer token may be sent to u: one of the token origins, and
// never plain http when the target is https.
func (c *Client) TokenAllowed(u *url.URL) bool { return c.origins[Origin(u)] && !c.downgrade(u) }

// Do sends req, following redirects within the bounds, and returns the final response.
//
// Transient faults are retried within Options.Retry (see RetryPolicy); every attempt is recorded
// as evidence with its Attempt number, and the logical request is reported once to
// Options.Observer. A tripped Options.Breaker refuses requests to the target at once.
//
// With Options.RetryUnauthorized, a 401 to a request that carried the TokenSource's token is retried
// once after calling the source's Invalidate method (oauth.RefreshingSource has one), so a token
// that expired early is refreshed mid-run.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	u, err := c.Resolve(req.URL)
	if err != nil {
		return nil, &TransportError{Method: method, URL: c.secrets.Redact(StripUserinfo(req.URL)), Err: err}
	}
	origin := Origin(u)
	onTarget := origin == Origin(c.base)
	if onTarget {
		if err := c.opts.Breaker.check(origin); err != nil {
			return nil, &TransportError{Method: method, URL: c.secrets.Redact(u.String()), Err: err}
		}
	}
	if c.downgrade(u) && carriesCredentials(req.Header, req.Body, u) {
		return nil, &TransportError{Method: method, URL: c.secrets.Redact(u.String()),
			Err: fmt.Errorf("%w: the target is https but this URL is plain http, so its credentials (Authorization, cookie, body or query token) are not sent; the server must publish https URLs", ErrInsecure)}
	}
	lg := logical{maxAttempts: c.opts.Retry.MaxAttempts}
	if c.throttle.retriesFutile(origin) {
		lg.maxAttempts = 1
	}
	resp, err := c.attempts(ctx, method, u, req, &lg)
	if err == nil && resp.Status == http.StatusUnauthorized && c.opts.RetryUnauthorized && !req.NoToken &&
		c.opts.TokenSource != nil && req.Header.Get("Authorization") == "" && c.TokenAllowed(mustParse(resp.URL)) {
		if inv, ok := c.opts.TokenSource.(interface{ Invalidate() }); ok {
			inv.Invalidate()
			resp, err = c.attempts(ctx, method, u, req, &lg)
		}
	}
	if lg.sent {
		failed := err != nil || (resp != nil && transientStatus(resp.Status))
		c.throttle.transient(origin, (err == nil && failed) || (err != nil && isReset(err)))
		c.opts.Observer.Observe(lg.latencies, lg.attempts, lg.retried, failed)
		if onTarget {
			if lg.answered {
				c.opts.Breaker.answered(origin)
			} else if err != nil {
				c.opts.Breaker.missed(origin, rootCause(err, c.opts.Timeout))
			}
		}
	}
	if resp != nil {
		resp.Attempts = lg.attempts
	}
	return resp, err
}

// logical accumulates what one Do saw across its attempts.
type logical struct {
	maxAttempts int
	sent        bool // some attempt reached the network
	answered    bool // some attempt got a response (any status)
	retried     bool
	attempts    int
	latencies   []time.Duration
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{}
	}
	return u
}

// attempts runs req until it gets an answer that is not a transient fault, or the RetryPolicy
// says stop; it returns the last answer.
func (c *Client) attempts(ctx context.Context, method string, u *url.URL, req *Request, lg *logical) (*Response, error) {
	var waited time.Duration
	for n := 1; ; n++ {
		lg.attempts++
		resp, st, took, err := c.attempt(ctx, method, u, req, lg.attempts)
		lg.sent = lg.sent || st.sent
		if st.answered {
			lg.answered = true
			lg.latencies = append(lg.latencies, took)
		}
		wait, ok := c.retryWait(method, resp, err, n)
		if !ok || n >= lg.maxAttempts {
			return resp, err
		}
		left := c.opts.Retry.MaxWait - waited
		if wait > left {
			return resp, err // the server asks for longer than the budget: give up now, its answer is the data
		}
		if err := c.sleep(ctx, wait); err != nil {
			return resp, err
		}
		waited += wait
		lg.retried = true
	}
}

// retryWait says whether an answer is a transient fault worth another attempt, and how long to
// wait first (Retry-After when the server gave one, else a short exponential backoff).
func (c *Client) retryWait(method string, resp *Response, err error, n int) (time.Duration, bool) {
	backoff := 250 * time.Millisecond << (n - 1)
	switch {
	case err == nil && resp != nil && transientStatus(resp.Status):
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
			return d, true
		}
		return backoff, true
	case err != nil && (method == http.MethodGet || method == http.MethodHead) && isReset(err):
		return backoff, true
	}
	return 0, false
}

func transientStatus(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// hopState tells what one hop (or attempt) reached: the network at all, and any response (even
// one cut for a limit).
type hopState struct{ sent, answered bool }

// attempt sends req once, following redirects, all within Options.Timeout; took is the time to
// the full answer.
func (c *Client) attempt(ctx context.Context, method string, u *url.URL, req *Request, attempt int) (*Response, hopState, time.Duration, error) {
	var st hopState
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	start := time.Now()
	body := req.Body
	first := Origin(u)
	cur := u
	for hop := 0; ; hop++ {
		r, next, hs, err := c.once(ctx, method, cur, req, body, Origin(cur) == first, attempt)
		st.sent, st.answered = st.sent || hs.sent, st.answered || hs.answered
		if err != nil || next == nil || req.NoRedirect {
			return r, st, time.Since(start), err
		}
		if why := refuseRedirect(r.Status, first, cur, next, body); why != "" {
			r.RedirectRefused = why
			return r, st, time.Since(start), nil
		}
		if hop >= c.opts.MaxRedirects {
			return nil, st, time.Since(start), &TransportError{Method: method, URL: c.secrets.Redact(cur.String()),
				Err: fmt.Errorf("%w: more than %d (MaxRedirects); the server redirects in a loop or too deep", ErrTooManyRedirects, c.opts.MaxRedirects)}
		}
		switch r.Status {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
			if method != http.MethodGet && method != http.MethodHead {
				method, body = http.MethodGet, nil
			}
		}
		cur = next
	}
}

// causeErr is a one-line message that still unwraps to its causes (for errors.Is).
type causeErr struct {
	msg    string
	causes []error
}

func (e *causeErr) Error() string   { return e.msg }
func (e *causeErr) Unwrap() []error { return e.causes }

// once performs one hop; next is the redirect target when the response is a followable redirect.
// sameOrigin tells whether u has the origin of the URL the caller asked for: headers the caller set
// (Authorization for client_secret_basic, cookies) go only there.
func (c *Client) once(ctx context.Context, method string, u *url.URL, req *Request, body []byte, sameOrigin bool, attempt int) (*Response, *url.URL, hopState, error) {
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), rdr)
	if err != nil {
		return nil, nil, hopState{}, &TransportError{Method: method, URL: c.secrets.Redact(u.String()), Err: err}
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", c.opts.Accept)
	}
	hr.Header.Set("User-Agent", c.opts.UserAgent)
	if !sameOrigin {
		// Credentials the caller set were meant for the origin it asked for: a redirect to another
		// origin never carries them (the TokenSource bearer below goes only to token origins).
		hr.Header.Del("Authorization")
		hr.Header.Del("Proxy-Authorization")
		hr.Header.Del("Cookie")
	}
	if c.TokenAllowed(u) && c.opts.TokenSource != nil && !req.NoToken && hr.Header.Get("Authorization") == "" {
		tok, err := c.opts.TokenSource.Token()
		if err != nil {
			return nil, nil, hopState{}, &TransportError{Method: method, URL: c.secrets.Redact(u.String()), Err: fmt.Errorf("%w: %s", ErrToken, c.secrets.Redact(err.Error()))}
		}
		c.secrets.Add(tok.AccessToken, tok.RefreshToken)
		hr.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	if auth := hr.Header.Get("Authorization"); auth != "" {
		if sp := strings.IndexByte(auth, ' '); sp > 0 {
			c.secrets.Add(auth[sp+1:])
		}
	}

	ex := evidence.Exchange{
		Time:    time.Now().UTC(),
		Method:  method,
		URL:     c.secrets.Redact(u.String()),
		Attempt: attempt,
	}
	var clipped bool
	ex.RequestHeaders, clipped = c.evidenceHeaders(hr.Header)
	if body != nil {
		ex.RequestBody, _ = c.evidenceBody(body)
	}
	start := time.Now()
	hresp, err := c.hc.Do(hr)
	if err != nil {
		ex.DurationMS = time.Since(start).Milliseconds()
		var cause error = err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		msg := cause.Error()
		causes := []error{cause}
		answered := false
		var ne net.Error
		var op *net.OpError
		switch {
		case ctx.Err() != nil:
			msg = fmt.Sprintf("no response within %s (Timeout): %s", c.opts.Timeout, msg)
			causes = append(causes, ErrTimeout)
		case errors.As(cause, &op) && op.Op == "dial" && op.Timeout(), strings.Contains(msg, "TLS handshake timeout"):
			msg = fmt.Sprintf("no connection within %s (ConnectTimeout): %s", c.opts.ConnectTimeout, msg)
			causes = append(causes, ErrTimeout)
		case errors.As(cause, &ne) && ne.Timeout() && c.opts.ResponseHeaderTimeout > 0:
			msg = fmt.Sprintf("no response headers within %s (ResponseHeaderTimeout): %s", c.opts.ResponseHeaderTimeout, msg)
			causes = append(causes, ErrTimeout)
		case errors.As(cause, &ne) && ne.Timeout():
			msg = "timed out: " + msg
			causes = append(causes, ErrTimeout)
		case strings.Contains(msg, "server response headers exceeded"):
			msg = fmt.Sprintf("response headers exceed %d bytes (MaxResponseHeaderBytes); the server sends oversized headers", c.opts.MaxResponseHeaderBytes)
			causes = append(causes, ErrHeaderTooLarge)
			answered = true
		}
		ex.Error = c.secrets.Redact(msg)
		ex.Truncated = ex.Truncated || clipped
		c.record(ex)
		return nil, nil, hopState{sent: true, answered: answered}, &TransportError{Method: method, URL: ex.URL, Err: &causeErr{msg: ex.Error, causes: causes}}
	}
	defer hresp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(hresp.Body, c.opts.MaxBodyBytes+1))
	ex.DurationMS = time.Since(start).Milliseconds()
	ex.Status = hresp.StatusCode
	var hclipped, bclipped bool
	ex.ResponseHeaders, hclipped = c.evidenceHeaders(hresp.Header)
	ex.ResponseBody, bclipped = c.evidenceBody(data)
	ex.Truncated = clipped || hclipped || bclipped
	if rerr != nil {
		causes := []error{rerr}
		msg := "reading body: " + rerr.Error()
		if ctx.Err() != nil {
			msg = fmt.Sprintf("body not complete within %s (Timeout) after %d bytes; the server sends too slowly", c.opts.Timeout, len(data))
			causes = append(causes, ErrTimeout)
		}
		ex.Error = c.secrets.Redact(msg)
		c.record(ex)
		return nil, nil, hopState{true, true}, &TransportError{Method: method, URL: ex.URL, Err: &causeErr{msg: ex.Error, causes: causes}}
	}
	if int64(len(data)) > c.opts.MaxBodyBytes {
		ex.Truncated = true
		ex.Error = fmt.Sprintf("response body exceeds %d bytes (MaxBodyBytes)", c.opts.MaxBodyBytes)
		c.record(ex)
		return nil, nil, hopState{true, true}, &TransportError{Method: method, URL: ex.URL,
			Err: fmt.Errorf("%w: more than %d bytes (MaxBodyBytes); raise the limit or narrow the query", ErrBodyTooLarge, c.opts.MaxBodyBytes)}
	}
	c.record(ex)

	resp := &Response{Method: method, URL: u.String(), Status: hresp.StatusCode, Header: hresp.Header,
		Body: data, Duration: time.Since(start)}
	decodeJSON(resp)
	switch hresp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		loc := hresp.Header.Get("Location")
		if loc == "" {
			return resp, nil, hopState{true, true}, nil
		}
		next, err := u.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
			return resp, nil, hopState{true, true}, nil // not followable: the redirect itself is the data
		}
		return resp, stripUserinfo(next), hopState{true, true}, nil
	}
	return resp, nil, hopState{true, true}, nil
}

func (c *Client) record(ex evidence.Exchange) {
	if c.opts.Recorder != nil {
		c.opts.Recorder(ex)
	}
}

// evidenceBody cuts data at MaxEvidenceBody and redacts it.
func (c *Client) evidenceBody(data []byte) (string, bool) {
	trunc := false
	if len(data) > c.opts.MaxEvidenceBody {
		data, trunc = data[:c.opts.MaxEvidenceBody], true
	}
	return c.secrets.Redact(strings.ToValidUTF8(string(data), "\uFFFD")), trunc
}

func decodeJSON(r *Response) {
	trim := bytes.TrimSpace(r.Body)
	if len(trim) == 0 || trim[0] != '{' {
		ct := r.ContentType()
		if len(trim) > 0 && (strings.HasSuffix(ct, "json") || strings.HasSuffix(ct, "+json")) {
			r.JSONErr = errors.New("body is not a JSON object")
		}
		return
	}
	m, err := DecodeObject(trim)
	if err != nil {
		r.JSONErr = err
		return
	}
	r.Resource = m
}

// DecodeObject decodes one JSON object with UseNumber and refuses trailing data.
func DecodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: data after the top-level object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the top-level object")
	}
	return m, nil
}
