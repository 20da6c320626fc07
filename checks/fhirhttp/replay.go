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
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/pacheck/pacheck/internal/safefile"
)

// ErrNotRecorded is wrapped by the error a Replay gives for a request the recording does not hold.
var ErrNotRecorded = errors.New("not in the recording")

// NotRecordedError names a request a Replay could not answer. The client turns it into a
// *TransportError: the spec that sent it ends as an error, never as a pass or a fail.
type NotRecordedError struct {
	Method, URL string // URL redacted
	Dir         string
}

func (e *NotRecordedError) Error() string {
	return fmt.Sprintf("replay: not in the recording %s (no recorded exchange has this method, URL, headers and body, or each was used): the replay asked for something the recorded run did not", e.Dir)
}

func (e *NotRecordedError) Is(target error) bool { return target == ErrNotRecorded }

// matchIgnored are request headers a replay does not match on: they vary with the pacheck
// version or the transport, not with what a spec asks.
var matchIgnored = map[string]bool{"User-Agent": true, "Accept-Encoding": true, "Content-Length": true, "Connection": true}

// Replay answers requests from a recording instead of the network (an http.RoundTripper; use
// it through Options.WrapTransport). A request matches a recorded exchange with the same method,
// URL, request headers (User-Agent and transport headers aside) and body, secrets compared by
// placeholder: a secret the run sends that the recording has not seen binds to the recording's
// placeholder at that place, and from then on stands for it both ways (the recording's responses
// give it back where they held the placeholder). Each recorded exchange answers once, in the
// recorded order; a GET or HEAD asked again after its recorded answers are used gets the last one
// again. Anything else gets a *NotRecordedError. Each answer comes after the recorded time, so a
// replay's timings are the recorded server's; recorded transport errors come back as errors of
// the same kind (timeout, reset, refused...).
type Replay struct {
	dir   string
	index RecordingIndexFile
	ph    *placeholders // byValue: live value -> placeholder bound to it

	mu      sync.Mutex
	byShape map[string][]*replayEntry
	phLive  map[string]string // placeholder -> live value bound to it
	served  int
	missing []string
}

type replayEntry struct {
	ex    *RecordedExchange
	slots []string
	used  bool
}

// maxRecordingFile bounds each file of a recording read for a replay (a recording is input
// from elsewhere: a bug report).
const maxRecordingFile = 4 * DefaultMaxBodyBytes

var reExchangeFile = regexp.MustCompile(`^exchanges/[0-9]{1,9}\.json$`)

// OpenReplay reads the recording in dir.
func OpenReplay(dir string) (*Replay, error) {
	b, err := safefile.ReadFile(filepath.Join(dir, RecordingIndex), maxRecordingFile)
	if err != nil {
		return nil, fmt.Errorf("replay: %s is not a recording (pacheck run --record DIR makes one): %w", dir, err)
	}
	r := &Replay{dir: dir, byShape: map[string][]*replayEntry{}, phLive: map[string]string{}}
	if err := json.Unmarshal(b, &r.index); err != nil {
		return nil, fmt.Errorf("replay: %s: %w", filepath.Join(dir, RecordingIndex), err)
	}
	if r.index.Format != RecordingFormat {
		return nil, fmt.Errorf("replay: %s: format %q, this pacheck reads %q", filepath.Join(dir, RecordingIndex), r.index.Format, RecordingFormat)
	}
	if r.index.Target == "" {
		return nil, fmt.Errorf("replay: %s names no target", filepath.Join(dir, RecordingIndex))
	}
	r.ph = newPlaceholders(r.index.Target)
	for _, e := range r.index.Exchanges {
		if !reExchangeFile.MatchString(e.File) {
			return nil, fmt.Errorf("replay: %s: exchange %d: file %q is not exchanges/N.json", filepath.Join(dir, RecordingIndex), e.Seq, e.File)
		}
		p := filepath.Join(dir, filepath.FromSlash(e.File))
		b, err := safefile.ReadFile(p, maxRecordingFile)
		if err != nil {
			return nil, fmt.Errorf("replay: exchange %d: %w", e.Seq, err)
		}
		ex := &RecordedExchange{}
		if err := json.Unmarshal(b, ex); err != nil {
			return nil, fmt.Errorf("replay: %s: %w", p, err)
		}
		body := ex.RequestBody
		if ex.RequestBase64 {
			raw, err := base64.StdEncoding.DecodeString(body)
			if err != nil {
				return nil, fmt.Errorf("replay: %s: request body: %w", p, err)
			}
			body = string(raw)
		}
		shape, slots := template(matchKey(ex.Method, ex.URL, ex.RequestHeaders, body))
		r.byShape[shape] = append(r.byShape[shape], &replayEntry{ex: ex, slots: slots})
	}
	return r, nil
}

// Index is the recording's index (target, the recorded run's settings).
func (r *Replay) Index() RecordingIndexFile { return r.index }

// Dir is the recording's folder.
func (r *Replay) Dir() string { return r.dir }

// Wrap ignores next: a replay never touches the network.
func (r *Replay) Wrap(http.RoundTripper) http.RoundTripper { return r }

// ReplayStats says how much of the recording a replay used.
type ReplayStats struct {
	Recorded, Served, Unused int
	Missing                  []string // requests not in the recording ("GET url", redacted)
}

// Stats returns what the replay answered so far.
func (r *Replay) Stats() ReplayStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := ReplayStats{Recorded: len(r.index.Exchanges), Served: r.served, Missing: append([]string(nil), r.missing...)}
	for _, es := range r.byShape {
		for _, e := range es {
			if !e.used {
				s.Unused++
			}
		}
	}
	return s
}

// matchKey is what a request is matched on.
func matchKey(method, u string, h map[string][]string, body string) string {
	var b strings.Builder
	b.WriteString(method + " " + u + "\n")
	names := make([]string, 0, len(h))
	for k := range h {
		if !matchIgnored[http.CanonicalHeaderKey(k)] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		b.WriteString(http.CanonicalHeaderKey(k) + ": " + strings.Join(h[k], ", ") + "\n")
	}
	b.WriteString("\n" + body)
	return b.String()
}

// reSlot finds placeholders and the markers of live secrets not bound yet.
var reSlot = regexp.MustCompile(`pacheck-secret-[0-9]+|\x00U[0-9]+\x00`)

// template replaces every secret slot of a key by one marker; slots lists what was there.
func template(key string) (string, []string) {
	var slots []string
	shape := reSlot.ReplaceAllStringFunc(key, func(m string) string {
		slots = append(slots, m)
		return "\x00S\x00"
	})
	return shape, slots
}

func (r *Replay) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxRecordingFile))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	ex, err := r.match(req, body)
	if err != nil {
		return nil, err
	}
	return r.answer(req, ex)
}

// match finds the recorded exchange for a live request and binds its new secrets.
func (r *Replay) match(req *http.Request, body []byte) (*RecordedExchange, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ph := r.ph
	ph.mu.Lock()
	var live []string // live secrets not bound yet, by marker number
	idx := map[string]int{}
	f := func(v string) string {
		if p, ok := ph.byValue[v]; ok {
			return p
		}
		i, ok := idx[v]
		if !ok {
			i = len(live)
			idx[v] = i
			live = append(live, v)
		}
		return "\x00U" + strconv.Itoa(i) + "\x00"
	}
	u := req.URL.String()
	ru := ph.rewrite(u, ph.fhirURL(u), f)
	rb := string(body) // a body that is not UTF-8 is compared as it is (the recording keeps it in base64)
	if utf8.Valid(body) {
		rb = ph.rewrite(rb, false, f)
	}
	hdr := ph.headers(req.Header, f)
	ph.mu.Unlock()
	shape, slots := template(matchKey(req.Method, ru, hdr, rb))
	cands := r.byShape[shape]
	var reuse *replayEntry
	for _, c := range cands {
		bind, ok := r.unify(slots, c.slots, live)
		if !ok {
			continue
		}
		if c.used {
			reuse = c
			continue
		}
		r.commit(bind)
		c.used = true
		r.served++
		return c.ex, nil
	}
	if reuse != nil && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		bind, _ := r.unify(slots, reuse.slots, live)
		r.commit(bind)
		r.served++
		return reuse.ex, nil
	}
	e := &NotRecordedError{Method: req.Method, URL: Redact(StripUserinfo(u)), Dir: r.dir}
	r.missing = append(r.missing, e.Method+" "+e.URL)
	return nil, e
}

// unify checks that a request's slots fit a recorded exchange's placeholders: a bound secret or
// a placeholder sent as such must be the recorded one; an unbound live secret takes the recorded
// placeholder if no other live value holds it. It returns the new bindings (live -> placeholder).
func (r *Replay) unify(slots, rec []string, live []string) (map[string]string, bool) {
	if len(slots) != len(rec) {
		return nil, false
	}
	bind := map[string]string{}
	taken := map[string]string{} // placeholder -> live value, in this request
	for i, s := range slots {
		p := rec[i]
		if !IsPlaceholder(p) {
			return nil, false // a live marker in the recording: not a recording of ours
		}
		v := s
		if !IsPlaceholder(s) {
			n, _ := strconv.Atoi(strings.Trim(s, "\x00U"))
			if n < 0 || n >= len(live) {
				return nil, false
			}
			v = live[n]
		} else if s != p {
			return nil, false
		}
		if b, ok := bind[v]; ok && b != p {
			return nil, false
		}
		if w, ok := taken[p]; ok && w != v {
			return nil, false
		}
		if w, ok := r.phLive[p]; ok && w != v {
			return nil, false
		}
		bind[v], taken[p] = p, v
	}
	return bind, true
}

// commit records bindings (r.mu held).
func (r *Replay) commit(bind map[string]string) {
	r.ph.mu.Lock()
	defer r.ph.mu.Unlock()
	for v, p := range bind {
		r.phLive[p] = v
		if v == p {
			continue
		}
		r.ph.byValue[v] = p
		if strongSecret(v) {
			r.ph.strong[v] = p
		}
	}
}

// restore puts back the live values bound to the placeholders of recorded text.
func (r *Replay) restore(s string) string {
	if !strings.Contains(s, PlaceholderPrefix) {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return rePlaceholder.ReplaceAllStringFunc(s, func(p string) string {
		if v, ok := r.phLive[p]; ok {
			return v
		}
		return p
	})
}

// answer gives the recorded answer after the recorded time, or an error of the recorded kind.
func (r *Replay) answer(req *http.Request, ex *RecordedExchange) (*http.Response, error) {
	ctx := req.Context()
	if ex.Status == 0 {
		if ex.ErrorKind == "timeout" {
			// The recorded request got no answer in time: none comes now either, until the
			// run's own limit ends it (bounded, in case the replay runs with a longer one).
			wait(ctx, time.Duration(ex.TotalMicros)*time.Microsecond+5*time.Second)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, replayTimeout{}
		}
		if err := wait(ctx, time.Duration(ex.TotalMicros)*time.Microsecond); err != nil {
			return nil, err
		}
		return nil, replayError(ex.ErrorKind, r.restore(ex.Error), urlHost(req.URL.String()))
	}
	// An answer the recorded server gave in time is given in time here too, however loaded the
	// replaying machine: the wait stops short of the request's deadline.
	total := time.Duration(ex.TotalMicros) * time.Microsecond
	if dl, ok := ctx.Deadline(); ok && ex.BodyErrorKind == "" {
		total = min(total, time.Until(dl)-answerMargin)
	}
	head := min(time.Duration(ex.HeaderMicros)*time.Microsecond, total)
	if err := wait(ctx, head); err != nil {
		return nil, err
	}
	h := http.Header{}
	for k, vs := range ex.ResponseHeaders {
		for _, v := range vs {
			h.Add(k, r.restore(v))
		}
	}
	var data []byte
	if ex.ResponseBase64 {
		b, err := base64.StdEncoding.DecodeString(ex.ResponseBody)
		if err != nil {
			return nil, fmt.Errorf("replay: exchange %d: response body: %w", ex.Seq, err)
		}
		data = b
	} else {
		data = []byte(r.restore(ex.ResponseBody))
	}
	body := &replayBody{ctx: ctx, r: bytes.NewReader(data), rest: total - head}
	if ex.BodyErrorKind != "" {
		body.err = replayError(ex.BodyErrorKind, ex.BodyError, urlHost(req.URL.String()))
		body.timeout = ex.BodyErrorKind == "timeout"
	}
	return &http.Response{Status: fmt.Sprintf("%d %s", ex.Status, http.StatusText(ex.Status)), StatusCode: ex.Status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Body: body, ContentLength: -1, Request: req}, nil
}

// answerMargin is how long before a request's deadline a replayed answer is given at the latest.
const answerMargin = 50 * time.Millisecond

// wait sleeps d or until ctx ends (then its error).
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// replayTimeout is a timeout as the network gives one.
type replayTimeout struct{}

func (replayTimeout) Error() string   { return "replay: the recorded request timed out" }
func (replayTimeout) Timeout() bool   { return true }
func (replayTimeout) Temporary() bool { return true }

// replayError makes an error the client classifies as it did the recorded one.
func replayError(kind, msg, host string) error {
	switch kind {
	case "refused":
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	case "reset":
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	case "eof":
		return io.ErrUnexpectedEOF
	case "dns":
		return &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	case "header-too-large":
		return errors.New("net/http: server response headers exceeded the limit; aborted")
	case "timeout":
		return replayTimeout{}
	}
	if msg == "" {
		msg = "recorded transport error"
	}
	return errors.New("replay: " + msg)
}

// replayBody gives the recorded body after the rest of the recorded time, then the recorded
// error if reading it failed.
type replayBody struct {
	ctx     context.Context
	r       *bytes.Reader
	rest    time.Duration
	waited  bool
	err     error
	timeout bool
}

func (b *replayBody) Read(p []byte) (int, error) {
	if !b.waited {
		b.waited = true
		if err := wait(b.ctx, b.rest); err != nil {
			return 0, err
		}
	}
	n, err := b.r.Read(p)
	if err == io.EOF && b.err != nil {
		if b.timeout {
			// The recorded body never finished: it ends with the run's limit (bounded, in case
			// the replay runs with a longer one).
			if wait(b.ctx, b.rest+5*time.Second) != nil {
				return n, b.ctx.Err()
			}
			return n, replayTimeout{}
		}
		return n, b.err
	}
	return n, err
}

func (b *replayBody) Close() error { return nil }
