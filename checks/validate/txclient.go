package validate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/reports"
)

// TerminologyServer answers whether a code is in a value set that pacheck cannot expand
// offline (Options.Terminology). An error means the question was not answered: the binding is
// then reported as "not checked: <error>" information, never as a failure of the resource.
type TerminologyServer interface {
	ValidateCode(ctx context.Context, valueSet, system, code string) (TxAnswer, error)
}

// TxAnswer is a terminology server's verdict on one code.
type TxAnswer struct {
	Result  bool   // the code is in the value set
	Message string // the server's explanation, if any (plain text, bounded)
}

// TxOptions bounds a TxClient; zero values take the defaults.
type TxOptions struct {
	Timeout      time.Duration // per request (default 10s)
	MaxBodyBytes int64         // per answer (default 1 MiB)
	MaxRequests  int           // distinct questions asked in the run (default 1000)
	Transport    http.RoundTripper
}

// TxClient asks a FHIR R4 terminology server ValueSet/$validate-code (GET, url + system + code),
// through pacheck's HTTP client (fhirhttp: timeouts, body bound, redirect policy, a breaker that
// fails fast once the server looks dead). Answers (and failures) are cached per (value set,
// system, code) for the run, and the run asks at most MaxRequests distinct questions, so hostile
// input cannot make it send an unbounded number of requests nor grow the cache without bound.
// Safe for concurrent use.
type TxClient struct {
	c     *fhirhttp.Client
	max   int
	asked atomic.Int64
	cache sync.Map // txKey -> *txEntry
}

type txKey struct{ vs, system, code string }

type txEntry struct {
	ready chan struct{}
	ans   TxAnswer
	err   error
}

// NewTxClient returns a client for the terminology server at base (an http(s) FHIR base).
func NewTxClient(base string, o TxOptions) (*TxClient, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = 1000
	}
	c, err := fhirhttp.New(fhirhttp.Options{
		BaseURL: base, Timeout: o.Timeout, MaxBodyBytes: o.MaxBodyBytes, MaxEvidenceBody: 1,
		Transport: o.Transport, Breaker: &fhirhttp.Breaker{Threshold: 3},
		Retry: fhirhttp.RetryPolicy{MaxAttempts: 2, MaxWait: 2 * time.Second},
	})
	if err != nil {
		return nil, err
	}
	return &TxClient{c: c, max: o.MaxRequests}, nil
}

// ValidateCode asks the server once per (value set, system, code) and run.
func (t *TxClient) ValidateCode(ctx context.Context, valueSet, system, code string) (TxAnswer, error) {
	k := txKey{valueSet, system, code}
	if v, ok := t.cache.Load(k); ok {
		return t.wait(ctx, v.(*txEntry))
	}
	if t.asked.Add(1) > int64(t.max) {
		return TxAnswer{}, fmt.Errorf("the terminology server request limit of this run (%d) is reached", t.max)
	}
	e := &txEntry{ready: make(chan struct{})}
	if v, loaded := t.cache.LoadOrStore(k, e); loaded {
		t.asked.Add(-1)
		return t.wait(ctx, v.(*txEntry))
	}
	e.ans, e.err = t.ask(ctx, k)
	close(e.ready)
	return e.ans, e.err
}

func (t *TxClient) wait(ctx context.Context, e *txEntry) (TxAnswer, error) {
	select {
	case <-e.ready:
		return e.ans, e.err
	case <-ctx.Done():
		return TxAnswer{}, ctx.Err()
	}
}

func (t *TxClient) ask(ctx context.Context, k txKey) (TxAnswer, error) {
	q := url.Values{}
	vs, version, _ := strings.Cut(k.vs, "|")
	q.Set("url", vs)
	if version != "" {
		q.Set("valueSetVersion", version)
	}
	if k.system != "" {
		q.Set("system", k.system)
	}
	q.Set("code", k.code)
	resp, err := t.c.Do(ctx, &fhirhttp.Request{URL: "ValueSet/$validate-code?" + q.Encode(), NoToken: true})
	if err != nil {
		var te *fhirhttp.TransportError
		if errors.As(err, &te) {
			err = te.Err // the URL is ours; the cause is what matters
		}
		return TxAnswer{}, fmt.Errorf("terminology server did not answer: %s", txText(err.Error()))
	}
	if resp.Status != http.StatusOK {
		why := ""
		if resp.ResourceType() == "OperationOutcome" {
			why = ooText(resp.Resource)
		}
		if why != "" {
			return TxAnswer{}, fmt.Errorf("terminology server answered HTTP %d: %s", resp.Status, why)
		}
		return TxAnswer{}, fmt.Errorf("terminology server answered HTTP %d", resp.Status)
	}
	if resp.ResourceType() != "Parameters" {
		return TxAnswer{}, errors.New("terminology server answer is not a FHIR Parameters resource")
	}
	var ans TxAnswer
	found := false
	params, _ := resp.Resource["parameter"].([]any)
	for _, p := range params {
		pm, _ := p.(map[string]any)
		switch pm["name"] {
		case "result":
			ans.Result, found = pm["valueBoolean"].(bool)
		case "message":
			s, _ := pm["valueString"].(string)
			ans.Message = txText(s)
		}
	}
	if !found {
		return TxAnswer{}, errors.New("terminology server answer has no boolean result parameter")
	}
	return ans, nil
}

// ooText is the first issue's text of an OperationOutcome (details.text, else diagnostics).
func ooText(oo map[string]any) string {
	iss, _ := oo["issue"].([]any)
	for _, i := range iss {
		im, _ := i.(map[string]any)
		d, _ := im["details"].(map[string]any)
		if s, _ := d["text"].(string); s != "" {
			return txText(s)
		}
		if s, _ := im["diagnostics"].(string); s != "" {
			return txText(s)
		}
	}
	return ""
}

// txText makes server text fit an issue message: plain, one line, at most 200 characters.
func txText(s string) string {
	s = strings.Join(strings.Fields(reports.PlainText(s)), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
