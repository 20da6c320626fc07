package fhirhttp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// script is a server answering each request with the next step of a script: a status with an
// optional Retry-After, or "reset" (the connection is dropped with a TCP RST before any answer).
type script struct {
	mu    sync.Mutex
	steps []string
	n     int
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	step := "200"
	if s.n < len(s.steps) {
		step = s.steps[s.n]
	}
	s.n++
	s.mu.Unlock()
	status, after, _ := strings.Cut(step, " ")
	if status == "reset" {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}
		return
	}
	if after != "" {
		w.Header().Set("Retry-After", after)
	}
	var code int
	fmt.Sscan(status, &code)
	w.Header().Set("Content-Type", FHIRJSON)
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"resourceType":"OperationOutcome","id":"%d"}`, s.n)
}

func (s *script) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

func TestRetries(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	date := now.Add(3 * time.Second).Format(http.TimeFormat)
	cases := []struct {
		name     string
		method   string
		steps    []string
		retry    RetryPolicy
		status   int             // final status; 0: a transport error
		attempts int             // requests the server saw
		waits    []time.Duration // waits asked between attempts
		retried  bool            // observed as retried
		failed   bool            // observed as failed
	}{
		{"503 then 200 with Retry-After seconds", "GET", []string{"503 2", "200"}, RetryPolicy{}, 200, 2, []time.Duration{2 * time.Second}, true, false},
		{"429 with Retry-After date", "GET", []string{"429 " + date, "200"}, RetryPolicy{}, 200, 2, []time.Duration{3 * time.Second}, true, false},
		{"429 on POST is retried too", "POST", []string{"429 1", "200"}, RetryPolicy{}, 200, 2, []time.Duration{time.Second}, true, false},
		{"no Retry-After: backoff, then the last 503 as data", "GET", []string{"503", "503", "503", "200"}, RetryPolicy{}, 503, 3,
			[]time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, true, true},
		{"Retry-After beyond the budget: give up at once", "GET", []string{"503 60", "200"}, RetryPolicy{}, 503, 1, nil, false, true},
		{"budget spent across waits", "GET", []string{"503 6", "503 6", "200"}, RetryPolicy{}, 503, 2, []time.Duration{6 * time.Second}, true, true},
		{"MaxAttempts 1: no retry", "GET", []string{"503 1", "200"}, RetryPolicy{MaxAttempts: 1}, 503, 1, nil, false, true},
		{"MaxAttempts 5", "GET", []string{"503 1", "503 1", "503 1", "503 1", "200"}, RetryPolicy{MaxAttempts: 5}, 200, 5,
			[]time.Duration{time.Second, time.Second, time.Second, time.Second}, true, false},
		{"other statuses are data", "GET", []string{"500", "200"}, RetryPolicy{}, 500, 1, nil, false, false},
		{"reset on GET is retried", "GET", []string{"reset", "200"}, RetryPolicy{}, 200, 2, []time.Duration{250 * time.Millisecond}, true, false},
		{"reset on HEAD is retried", "HEAD", []string{"reset", "200"}, RetryPolicy{}, 200, 2, []time.Duration{250 * time.Millisecond}, true, false},
		{"reset on POST (search) is not retried", "POST", []string{"reset", "200"}, RetryPolicy{}, 0, 1, nil, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{steps: tc.steps}
			srv := httptest.NewServer(s)
			defer srv.Close()
			rec := &recorded{}
			obs := &Observations{}
			c := newClient(t, srv.URL, Options{Retry: tc.retry, Recorder: rec.rec, Observer: obs})
			var waits []time.Duration
			c.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			c.now = func() time.Time { return now }
			var body []byte
			if tc.method == "POST" {
				body = []byte("patient=1")
			}
			resp, err := c.Do(context.Background(), &Request{Method: tc.method, URL: "Patient", Body: body})
			if tc.status == 0 {
				if !IsTransport(err) {
					t.Fatalf("want a transport error, got %v %v", resp, err)
				}
			} else if err != nil || resp.Status != tc.status || resp.Attempts != tc.attempts {
				t.Fatalf("want %d after %d attempts, got %+v %v", tc.status, tc.attempts, resp, err)
			}
			if s.count() != tc.attempts {
				t.Errorf("server saw %d attempts, want %d", s.count(), tc.attempts)
			}
			if fmt.Sprint(waits) != fmt.Sprint(tc.waits) {
				t.Errorf("waits %v, want %v", waits, tc.waits)
			}
			rec.mu.Lock()
			if len(rec.ex) != tc.attempts {
				t.Errorf("%d exchanges recorded, want one per attempt (%d)", len(rec.ex), tc.attempts)
			}
			for i, ex := range rec.ex {
				if ex.Attempt != i+1 {
					t.Errorf("exchange %d has Attempt %d", i, ex.Attempt)
				}
			}
			rec.mu.Unlock()
			sum := obs.Snapshot()
			if sum.Requests != 1 || sum.Attempts != tc.attempts || (sum.Retried == 1) != tc.retried || (sum.Failed == 1) != tc.failed {
				t.Errorf("observed %+v, want 1 request, %d attempts, retried %v, failed %v", sum, tc.attempts, tc.retried, tc.failed)
			}
		})
	}
}

// TestNoRetryOnRefusedOrTimeout: a dead server (refused) and a silent one (timeout) cost one
// attempt each: retries are for servers that answer.
func TestNoRetryOnRefusedOrTimeout(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	var mu sync.Mutex
	hits := 0
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		<-r.Context().Done()
	}))
	defer silent.Close()
	for _, tc := range []struct {
		name, base string
		timeout    time.Duration
		want       error
	}{
		{"refused", deadURL, 0, nil},
		{"timeout", silent.URL, 300 * time.Millisecond, ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorded{}
			c := newClient(t, tc.base, Options{Timeout: tc.timeout, Recorder: rec.rec})
			slept := 0
			c.sleep = func(context.Context, time.Duration) error { slept++; return nil }
			_, err := c.Get(context.Background(), "metadata")
			if !IsTransport(err) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v", err)
			}
			if slept != 0 || len(rec.ex) != 1 {
				t.Errorf("retried: %d waits, %d exchanges", slept, len(rec.ex))
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if hits > 1 {
		t.Errorf("silent server saw %d requests, want at most 1", hits)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"5", 5 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"99999999999999999999", 0, false},
		{"999999999", 24 * time.Hour, true},
	} {
		got, ok := retryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestFutileRetriesSuspended: once three requests in a row are still throttled after their
// retries, further requests get one attempt each, until one gets a real answer; then retries
// resume. Shared through a Breaker, the state spans clients.
func TestFutileRetriesSuspended(t *testing.T) {
	var steps []string
	for i := 0; i < 9+2; i++ {
		steps = append(steps, "429 0") // 3 requests x 3 attempts, then 2 single attempts
	}
	steps = append(steps, "200", "429 0", "429 0", "200")
	s := &script{steps: steps}
	srv := httptest.NewServer(s)
	defer srv.Close()
	b := &Breaker{}
	c1 := newClient(t, srv.URL, Options{Breaker: b})
	c2 := newClient(t, srv.URL, Options{Breaker: b})
	for _, c := range []*Client{c1, c2} {
		c.sleep = func(context.Context, time.Duration) error { return nil }
	}
	want := []struct {
		status, attempts int
	}{{429, 3}, {429, 3}, {429, 3}, {429, 1}, {429, 1}, {200, 1}, {200, 3}}
	for i, w := range want {
		c := []*Client{c1, c2}[i%2]
		resp, err := c.Get(context.Background(), "Patient")
		if err != nil || resp.Status != w.status || resp.Attempts != w.attempts {
			t.Fatalf("request %d: want %d after %d attempts, got %+v %v", i+1, w.status, w.attempts, resp, err)
		}
	}
	if b.Down(srv.URL) != nil {
		t.Error("a throttling server is not down")
	}
}
