package fhirhttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// A recording keeps every HTTP exchange of a run in a folder, one JSON file per exchange
// (exchanges/000001.json, numbered in the order the requests were sent) and an index
// (index.json: the target, the recorded run's settings, one line per exchange), so that the run
// can be replayed offline (Replay) or attached to a bug report.
//
// No secret reaches the disk: wherever Redact would mask a value (Authorization and Cookie
// credentials, tokens, codes, client secrets and assertions, verifiers, passwords, JWTs, URL user
// info), and for the OAuth values that change from run to run (state, nonce, code_challenge), the
// recording writes a placeholder "pacheck-secret-N" instead. The same secret always gets the same
// placeholder, so a flow still holds together: the token a token response issued is the token a
// later request carries. The values given to NewRecording (the run's token, client secrets,
// passwords), and every token-like secret once seen, are replaced wherever they appear.

// Recording layout and format.
const (
	RecordingFormat   = "pacheck-recording/1"
	RecordingIndex    = "index.json"
	recordingExchDir  = "exchanges"
	PlaceholderPrefix = "pacheck-secret-"
)

var (
	rePlaceholder      = regexp.MustCompile(`pacheck-secret-[0-9]+`)
	reWholePlaceholder = regexp.MustCompile(`^pacheck-secret-[0-9]+$`)
)

// IsPlaceholder reports whether s is a recording's placeholder for a secret.
func IsPlaceholder(s string) bool { return reWholePlaceholder.MatchString(s) }

// RecordedExchange is one exchange as a recording keeps it (secrets replaced by placeholders).
type RecordedExchange struct {
	Seq             int                 `json:"seq"`
	Time            time.Time           `json:"time"`
	Method          string              `json:"method"`
	URL             string              `json:"url"`
	RequestHeaders  map[string][]string `json:"requestHeaders,omitempty"`
	RequestBody     string              `json:"requestBody,omitempty"`
	RequestBase64   bool                `json:"requestBodyBase64,omitempty"` // RequestBody is base64 (not UTF-8)
	Status          int                 `json:"status,omitempty"`
	ResponseHeaders map[string][]string `json:"responseHeaders,omitempty"`
	ResponseBody    string              `json:"responseBody,omitempty"`
	ResponseBase64  bool                `json:"responseBodyBase64,omitempty"`
	// HeaderMicros is the time from the request sent to the response headers; TotalMicros to
	// the end of the body (or the error). A replay waits as long, so timings judge the server's.
	HeaderMicros int64 `json:"headerMicros"`
	TotalMicros  int64 `json:"totalMicros"`
	// Error is the transport error when there was no response (ErrorKind: timeout, refused,
	// reset, eof, dns, header-too-large, other); BodyError when reading the body failed after
	// the headers (the body holds what was read).
	Error         string `json:"error,omitempty"`
	ErrorKind     string `json:"errorKind,omitempty"`
	BodyError     string `json:"bodyError,omitempty"`
	BodyErrorKind string `json:"bodyErrorKind,omitempty"`
}

// RecordingIndexFile is index.json.
type RecordingIndexFile struct {
	Format         string    `json:"format"`
	Created        time.Time `json:"created"`
	PacheckVersion string    `json:"pacheckVersion"`
	Target         string    `json:"target"`
	// Run holds the recorded run's settings (the CLI's), for the replay to run the same selection.
	Run       json.RawMessage `json:"run,omitempty"`
	Exchanges []IndexEntry    `json:"exchanges"`
}

// IndexEntry is one exchange's line in the index.
type IndexEntry struct {
	Seq    int    `json:"seq"`
	File   string `json:"file"`
	Method string `json:"method"`
	URL    string `json:"url"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// varyingKeys are OAuth parameters that are not credentials but change from run to run; a
// recording gives them placeholders too, so that a replay can match them. They are left alone
// in FHIR text (Address.state is data).
var varyingKeys = []string{"state", "nonce", "code_challenge"}

// placeholders maps secrets to placeholders. Recording: every secret found gets the next
// number. Replay: byValue holds the live values bound to the recording's placeholders.
type placeholders struct {
	mu      sync.Mutex
	base    string            // FHIR base URL, ending in "/"
	byValue map[string]string // secret -> placeholder
	strong  map[string]string // token-like secrets, replaced wherever they appear
	n       int
}

func newPlaceholders(target string) *placeholders {
	if !strings.HasSuffix(target, "/") {
		target += "/"
	}
	return &placeholders{base: target, byValue: map[string]string{}, strong: map[string]string{}}
}

// strongSecret: a value replaced wherever it appears, not only where found: long and token-like,
// so that ordinary words and numbers are never touched.
func strongSecret(v string) bool { return len(v) >= 8 && LooksSecret(v) }

// assign returns the placeholder of v, giving it the next number when new (p.mu held).
func (p *placeholders) assign(v string) string {
	if ph, ok := p.byValue[v]; ok {
		return ph
	}
	p.n++
	ph := fmt.Sprintf("%s%d", PlaceholderPrefix, p.n)
	p.byValue[v] = ph
	if strongSecret(v) {
		p.strong[v] = ph
	}
	return ph
}

// fhirURL reports whether s is a URL under the FHIR base: there code= is a search parameter.
func (p *placeholders) fhirURL(s string) bool { return strings.HasPrefix(s, p.base) }

// spans finds the secrets of s: what Redact masks, JWTs, and (outside FHIR text) varyingKeys.
func spansOf(s string, fhir bool) []span {
	fhir = fhir || strings.Contains(s, `"resourceType"`)
	sp := secretSpans(s, fhir)
	if !fhir {
		low := asciiLower(s)
		for _, k := range varyingKeys {
			sp = keyValues(s, low, k, false, false, sp)
		}
	}
	if strings.Contains(s, "eyJ") {
		for _, m := range reJWT.FindAllStringIndex(s, -1) {
			sp = append(sp, span{m[0], m[1], ""})
		}
	}
	sort.Slice(sp, func(a, b int) bool { return sp[a].start < sp[b].start })
	var out []span
	for _, x := range sp {
		if n := len(out); n > 0 && x.start < out[n-1].end {
			out[n-1].end = max(out[n-1].end, x.end)
			continue
		}
		out = append(out, x)
	}
	return out
}

// rewrite replaces each secret of s by f(secret), keeping the quotes and spaces around it, then
// every strong value by its placeholder (p.mu held). Placeholders are left as they are.
func (p *placeholders) rewrite(s string, fhir bool, f func(string) string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	pos := 0
	for _, sp := range spansOf(s, fhir) {
		b.WriteString(s[pos:sp.start])
		lead, core, trail := splitCore(s[sp.start:sp.end])
		if core == "" || core == Mask || IsPlaceholder(core) {
			b.WriteString(s[sp.start:sp.end])
		} else {
			b.WriteString(lead + f(core) + trail)
		}
		pos = sp.end
	}
	b.WriteString(s[pos:])
	out := b.String()
	if len(p.strong) == 0 {
		return out
	}
	vals := make([]string, 0, len(p.strong))
	for v := range p.strong {
		if strings.Contains(out, v) {
			vals = append(vals, v)
		}
	}
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		out = strings.ReplaceAll(out, v, p.strong[v])
	}
	return out
}

// splitCore separates a found secret from the space and quotes around it.
func splitCore(s string) (lead, core, trail string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	quoted := i < len(s) && s[i] == '"'
	if quoted {
		i++
	}
	lead, core = s[:i], s[i:]
	if quoted && strings.HasSuffix(core, `"`) {
		core, trail = core[:len(core)-1], `"`
	}
	return lead, core, trail
}

// headers rewrites header values: credentials of Authorization keep their scheme, cookies their
// names and attributes, Location URLs are URLs; f is applied to each secret (p.mu held).
func (p *placeholders) headers(h http.Header, f func(string) string) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		cp := make([]string, len(vs))
		for i, v := range vs {
			switch ck {
			case "Authorization", "Proxy-Authorization":
				if scheme, cred, ok := strings.Cut(v, " "); ok && strings.TrimSpace(cred) != "" {
					cp[i] = scheme + " " + keep(strings.TrimSpace(cred), f)
				} else {
					cp[i] = keep(v, f)
				}
			case "Cookie":
				parts := strings.Split(v, ";")
				for j, c := range parts {
					name, val, ok := strings.Cut(c, "=")
					if ok && val != "" {
						parts[j] = name + "=" + keep(val, f)
					}
				}
				cp[i] = strings.Join(parts, ";")
			case "Set-Cookie":
				pair, attrs, _ := strings.Cut(v, ";")
				if name, val, ok := strings.Cut(pair, "="); ok && val != "" {
					pair = name + "=" + keep(val, f)
				}
				if attrs != "" {
					pair += ";" + p.rewrite(attrs, false, f)
				}
				cp[i] = pair
			case "Location", "Content-Location":
				cp[i] = p.rewrite(v, p.fhirURL(v), f)
			default:
				cp[i] = p.rewrite(v, false, f)
			}
		}
		out[ck] = cp
	}
	return out
}

// keep applies f to a whole secret value unless it is already a placeholder.
func keep(v string, f func(string) string) string {
	if v == "" || IsPlaceholder(v) {
		return v
	}
	return f(v)
}

// body rewrites a body; one that is not UTF-8 is kept as base64 (it is not searched for secrets
// then, beyond the strong values: a binary body holds no form or JSON credential).
func (p *placeholders) body(b []byte, f func(string) string) (string, bool) {
	if len(b) == 0 {
		return "", false
	}
	if !utf8.Valid(b) {
		return base64.StdEncoding.EncodeToString(b), true
	}
	return p.rewrite(string(b), false, f), false
}

// Recording is an http.RoundTripper wrapper (Wrap) that keeps every exchange in a folder.
type Recording struct {
	dir     string
	target  string
	ph      *placeholders
	seq     atomic.Int64
	mu      sync.Mutex
	entries []IndexEntry
	werr    error // first write error
}

// NewRecording starts a recording of a run against target into dir, which must not exist or
// be empty (a recording is never mixed with an older one). secrets are values to replace
// wherever they appear (the run's token, client secrets, passwords).
func NewRecording(dir, target string, secrets ...string) (*Recording, error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("record: %s is not empty; give a new or empty folder (a recording is never mixed with an older one)", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, recordingExchDir), 0o755); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	r := &Recording{dir: dir, target: target, ph: newPlaceholders(target)}
	r.AddSecrets(secrets...)
	return r, nil
}

// AddSecrets registers values to replace wherever they appear (shorter than 4: ignored).
func (r *Recording) AddSecrets(vals ...string) {
	r.ph.mu.Lock()
	defer r.ph.mu.Unlock()
	for _, v := range vals {
		if len(v) >= 4 && !IsPlaceholder(v) {
			ph := r.ph.assign(v)
			r.ph.strong[v] = ph
		}
	}
}

// Placeholder returns the placeholder a registered secret is recorded as ("" when unknown).
func (r *Recording) Placeholder(secret string) string {
	r.ph.mu.Lock()
	defer r.ph.mu.Unlock()
	return r.ph.byValue[secret]
}

// Dir is the recording's folder.
func (r *Recording) Dir() string { return r.dir }

// Count is the number of exchanges written so far.
func (r *Recording) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

// Wrap returns next with every exchange recorded.
func (r *Recording) Wrap(next http.RoundTripper) http.RoundTripper {
	return &recordingTransport{r: r, next: next}
}

// Close writes the index; run is the recorded run's settings (JSON), for the replay. It
// returns the first error writing an exchange, if any.
func (r *Recording) Close(run any) error {
	r.mu.Lock()
	entries := append([]IndexEntry(nil), r.entries...)
	werr := r.werr
	r.mu.Unlock()
	sort.Slice(entries, func(i, j int) bool { return entries[i].Seq < entries[j].Seq })
	idx := RecordingIndexFile{Format: RecordingFormat, Created: time.Now().UTC(), PacheckVersion: Version,
		Target: r.target, Exchanges: entries}
	if run != nil {
		b, err := json.Marshal(run)
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		r.ph.mu.Lock()
		idx.Run = json.RawMessage(r.ph.rewrite(string(b), false, func(v string) string { return r.ph.assign(v) }))
		r.ph.mu.Unlock()
	}
	b, err := json.MarshalIndent(idx, "", " ")
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, RecordingIndex), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("record: writing the index: %w", err)
	}
	if werr != nil {
		return fmt.Errorf("record: %w", werr)
	}
	return nil
}

// WriteJSON writes v as JSON to name in the recording's folder, with secrets replaced as in the
// exchanges (the CLI keeps the recorded run's outcomes there).
func (r *Recording) WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	r.ph.mu.Lock()
	text := r.ph.rewrite(string(b), false, func(v string) string { return r.ph.assign(v) })
	r.ph.mu.Unlock()
	if err := os.WriteFile(filepath.Join(r.dir, filepath.Base(name)), []byte(text+"\n"), 0o644); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return nil
}

type recordingTransport struct {
	r    *Recording
	next http.RoundTripper
}

// pending is an exchange whose response body is still being read.
type pending struct {
	r       *Recording
	ex      RecordedExchange
	reqHdr  http.Header
	reqBody []byte
	start   time.Time
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := &pending{r: t.r, start: time.Now(), reqHdr: req.Header.Clone()}
	p.ex.Seq = int(t.r.seq.Add(1))
	p.ex.Time = p.start.UTC()
	p.ex.Method = req.Method
	p.ex.URL = req.URL.String()
	if req.Body != nil && req.Body != http.NoBody {
		var src io.ReadCloser
		var err error
		if req.GetBody != nil {
			src, err = req.GetBody()
		}
		if req.GetBody == nil || err != nil {
			b, rerr := io.ReadAll(req.Body)
			req.Body.Close()
			if rerr != nil {
				return nil, rerr
			}
			req.Body = io.NopCloser(bytes.NewReader(b))
			p.reqBody = b
		} else {
			p.reqBody, _ = io.ReadAll(src)
			src.Close()
		}
	}
	resp, err := t.next.RoundTrip(req)
	p.ex.HeaderMicros = time.Since(p.start).Microseconds()
	if err != nil {
		p.ex.TotalMicros = p.ex.HeaderMicros
		p.ex.ErrorKind = errorKind(req.Context(), err)
		p.write(nil, nil, err.Error())
		return nil, err
	}
	p.ex.Status = resp.StatusCode
	resp.Body = &teeBody{rc: resp.Body, p: p, hdr: resp.Header.Clone(), ctx: req.Context()}
	return resp, nil
}

// write redacts and writes the exchange (once its body was read, or it failed).
func (p *pending) write(respHdr http.Header, respBody []byte, errText string) {
	r := p.r
	ph := r.ph
	ph.mu.Lock()
	f := func(v string) string { return ph.assign(v) }
	ex := p.ex
	ex.URL = ph.rewrite(ex.URL, ph.fhirURL(ex.URL), f)
	ex.RequestHeaders = ph.headers(p.reqHdr, f)
	ex.RequestBody, ex.RequestBase64 = ph.body(p.reqBody, f)
	ex.ResponseHeaders = ph.headers(respHdr, f)
	ex.ResponseBody, ex.ResponseBase64 = ph.body(respBody, f)
	if errText != "" {
		ex.Error = ph.rewrite(errText, false, f)
	}
	if ex.BodyError != "" {
		ex.BodyError = ph.rewrite(ex.BodyError, false, f)
	}
	ph.mu.Unlock()
	name := fmt.Sprintf("%06d.json", ex.Seq)
	b, err := json.MarshalIndent(ex, "", " ")
	if err == nil {
		err = os.WriteFile(filepath.Join(r.dir, recordingExchDir, name), append(b, '\n'), 0o644)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if r.werr == nil {
			r.werr = fmt.Errorf("writing exchange %d: %w", ex.Seq, err)
		}
		return
	}
	e := IndexEntry{Seq: ex.Seq, File: recordingExchDir + "/" + name, Method: ex.Method, URL: ex.URL, Status: ex.Status, Error: ex.Error}
	if e.Error == "" {
		e.Error = ex.BodyError
	}
	r.entries = append(r.entries, e)
}

// teeBody keeps what the client reads of a response body (the client bounds how much) and
// writes the exchange when the client closes it.
type teeBody struct {
	rc   io.ReadCloser
	p    *pending
	hdr  http.Header
	ctx  context.Context
	buf  bytes.Buffer
	once sync.Once
}

func (t *teeBody) Read(b []byte) (int, error) {
	n, err := t.rc.Read(b)
	t.buf.Write(b[:n])
	if err != nil && err != io.EOF && t.p.ex.BodyError == "" {
		t.p.ex.BodyError, t.p.ex.BodyErrorKind = err.Error(), errorKind(t.ctx, err)
	}
	return n, err
}

func (t *teeBody) Close() error {
	err := t.rc.Close()
	t.once.Do(func() {
		t.p.ex.TotalMicros = time.Since(t.p.start).Microseconds()
		t.p.write(t.hdr, t.buf.Bytes(), "")
	})
	return err
}

// errorKind classifies a transport error so that a replay can give back one the client treats
// the same way (retried or not, a timeout or not).
func errorKind(ctx context.Context, err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &dns):
		return "dns"
	case strings.Contains(err.Error(), "server response headers exceeded"):
		return "header-too-large"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other"
}

// urlHost is the host of a URL string, for replayed DNS errors.
func urlHost(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Hostname()
	}
	return ""
}
