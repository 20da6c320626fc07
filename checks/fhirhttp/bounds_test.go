package fhirhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer silent.Close()
	var mu sync.Mutex
	down := false
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d := down
		mu.Unlock()
		if d {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		fmt.Fprint(w, `{}`)
	}))
	defer flaky.Close()

	cases := []struct {
		name      string
		base      string
		threshold int
		timeout   time.Duration
		before    func()
		requests  int
		tripAfter int    // requests after which every further one is refused; 0: never trips
		cause     string // in the ErrTargetDown text
	}{
		{"refused trips after 3", deadURL, 0, 0, nil, 5, 3, "unreachable after 3 attempts: connection refused"},
		{"threshold 2", deadURL, 2, 0, nil, 4, 2, "unreachable after 2 attempts: connection refused"},
		{"timeouts trip", silent.URL, 2, 100 * time.Millisecond, nil, 3, 2, "unreachable after 2 attempts: no response within 100ms (Timeout)"},
		{"a target that once answered never trips", flaky.URL, 0, 0, nil, 6, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &Breaker{Threshold: tc.threshold}
			rec := &recorded{}
			obs := &Observations{}
			c := newClient(t, tc.base, Options{Breaker: b, Timeout: tc.timeout, Recorder: rec.rec, Observer: obs,
				Retry: RetryPolicy{MaxAttempts: 1}})
			c.sleep = func(context.Context, time.Duration) error { return nil }
			if tc.base == flaky.URL {
				if _, err := c.Get(context.Background(), "metadata"); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				down = true
				mu.Unlock()
			}
			rec.mu.Lock()
			start := len(rec.ex)
			rec.mu.Unlock()
			for i := 1; i <= tc.requests; i++ {
				_, err := c.Get(context.Background(), "Patient")
				tripped := errors.Is(err, ErrTargetDown)
				if !IsTransport(err) {
					t.Fatalf("request %d: want a transport error, got %v", i, err)
				}
				if want := tc.tripAfter > 0 && i > tc.tripAfter; tripped != want {
					t.Fatalf("request %d: tripped %v, want %v (%v)", i, tripped, want, err)
				}
				if tripped && (!strings.Contains(err.Error(), tc.cause) || !strings.Contains(err.Error(), "target "+tc.base)) {
					t.Errorf("root cause: %v, want %q", err, tc.cause)
				}
			}
			rec.mu.Lock()
			sent := len(rec.ex) - start
			rec.mu.Unlock()
			wantSent := tc.requests
			if tc.tripAfter > 0 {
				wantSent = tc.tripAfter
			}
			if sent != wantSent {
				t.Errorf("%d requests reached the network, want %d (refused ones must not)", sent, wantSent)
			}
			if got := obs.Snapshot().Requests; got != wantSent+btoi(tc.base == flaky.URL) {
				t.Errorf("observed %d requests; refused ones are not observations", got)
			}
			// A copy of the client shares the breaker; Down reports the same root cause.
			if tc.tripAfter > 0 {
				if _, err := c.WithToken(nil).Get(context.Background(), "x"); !errors.Is(err, ErrTargetDown) {
					t.Errorf("copy not refused: %v", err)
				}
				if err := b.Down(tc.base); !errors.Is(err, ErrTargetDown) {
					t.Errorf("Down: %v", err)
				}
			} else if err := b.Down(tc.base); err != nil {
				t.Errorf("Down: %v", err)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestBreakerOnlyTarget: failures at another origin (an identity provider, a next link) neither
// trip the breaker nor are refused by it.
func TestBreakerOnlyTarget(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) }))
	defer live.Close()
	b := &Breaker{}
	c := newClient(t, live.URL, Options{Breaker: b})
	for i := 0; i < 5; i++ {
		if _, err := c.Get(context.Background(), deadURL+"/x"); errors.Is(err, ErrTargetDown) || !IsTransport(err) {
			t.Fatalf("other origin: %v", err)
		}
	}
	if _, err := c.Get(context.Background(), "metadata"); err != nil {
		t.Errorf("target refused after another origin failed: %v", err)
	}
	var zero *Breaker
	if zero.Down(live.URL) != nil {
		t.Error("nil breaker reports down")
	}
}

func TestHeaderBounds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge":
			w.Header().Set("X-Big", strings.Repeat("a", 2<<20))
		case "/many":
			for i := 0; i < 100; i++ {
				w.Header().Set(fmt.Sprintf("X-H%03d", i), strings.Repeat("b", 1<<10))
			}
			w.Header().Set("X-Long", strings.Repeat("c", 20<<10))
		case "/small":
			w.Header().Set("X-Small", "ok")
		}
		fmt.Fprint(w, `{}`)
	}))
	defer srv.Close()
	rec := &recorded{}
	c := newClient(t, srv.URL, Options{Recorder: rec.rec})
	_, err := c.Get(context.Background(), "/huge")
	if !errors.Is(err, ErrHeaderTooLarge) || !strings.Contains(err.Error(), "MaxResponseHeaderBytes") || !strings.Contains(err.Error(), "/huge") {
		t.Errorf("2 MiB of headers: want ErrHeaderTooLarge naming the limit and URL, got %v", err)
	}
	for _, tc := range []struct {
		path      string
		opts      Options
		truncated bool
	}{
		{"/many", Options{}, true},
		{"/huge", Options{MaxResponseHeaderBytes: 4 << 20}, true},
		{"/small", Options{}, false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := &recorded{}
			o := tc.opts
			o.Recorder = rec.rec
			c := newClient(t, srv.URL, o)
			if _, err := c.Get(context.Background(), tc.path); err != nil {
				t.Fatal(err)
			}
			ex := rec.ex[0]
			total := 0
			for k, vs := range ex.ResponseHeaders {
				total += len(k)
				for _, v := range vs {
					if len(v) > MaxEvidenceHeaderValue {
						t.Errorf("%s: %d bytes kept, bound %d", k, len(v), MaxEvidenceHeaderValue)
					}
					total += len(v)
				}
			}
			if total > MaxEvidenceHeaders || ex.Truncated != tc.truncated {
				t.Errorf("%d header bytes kept (bound %d), truncated %v want %v", total, MaxEvidenceHeaders, ex.Truncated, tc.truncated)
			}
			if ex.ResponseHeaders["Content-Type"] == nil && ex.ResponseHeaders["Content-Length"] == nil {
				t.Errorf("ordinary headers lost: %v", len(ex.ResponseHeaders))
			}
		})
	}
}

// TestSlowBodies: a server dribbling its body (1 byte/s) or holding its headers ends at the
// limit with a transport error naming the limit and the URL.
func TestSlowBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", FHIRJSON)
		w.WriteHeader(200)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; i < 600; i++ {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		path, limit string
		opts        Options
	}{
		{"/drip", "(Timeout)", Options{Timeout: 1500 * time.Millisecond}},
		{"/hold", "(ResponseHeaderTimeout)", Options{Timeout: time.Minute, ResponseHeaderTimeout: 300 * time.Millisecond}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c := newClient(t, srv.URL, tc.opts)
			_, err := c.Get(context.Background(), tc.path)
			if !IsTransport(err) || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), tc.limit) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("want a timeout naming %s and the URL, got %v", tc.limit, err)
			}
		})
	}
}
