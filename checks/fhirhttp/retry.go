package fhirhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Retry defaults (see RetryPolicy).
const (
	DefaultRetryAttempts = 3
	DefaultRetryMaxWait  = 10 * time.Second
)

// RetryPolicy bounds the retries of transient faults: a 429 or 503 answer (any method), and a
// connection reset or closed before the answer on an idempotent request (GET, HEAD; a FHIR search
// POST is not retried). Waits honour Retry-After (seconds or an HTTP date); a Retry-After beyond
// what is left of MaxWait ends the retries at once and the last answer is returned as data.
// Connection refused and timeouts are never retried, so a dead server still fails fast.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, first included (default 3; 1 or negative: no retry)
	MaxWait     time.Duration // total time spent waiting between attempts (default 10s; negative: none)
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP date (RFC 9110 10.2.3). A date
// in the past means no wait.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second) // beyond any budget; avoids overflow
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

// sleepCtx waits d, or less when ctx ends first (then it returns ctx's error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// isReset reports whether err is a connection dropped by the server before the whole answer
// (reset, or closed: EOF), as opposed to refused or timed out.
func isReset(err error) bool {
	if errors.Is(err, ErrTimeout) || errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// rootCause names in a few words why a request got no response, for the Breaker's one line.
func rootCause(err error, timeout time.Duration) string {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, ErrTimeout):
		// The limit that was hit, without the low-level detail: "no response within 30s (Timeout)".
		var ce *causeErr
		if errors.As(err, &ce) {
			if head, _, ok := strings.Cut(ce.msg, ": "); ok {
				return head
			}
		}
		return fmt.Sprintf("no response within %s (Timeout)", timeout)
	case isReset(err):
		return "connection reset"
	case errors.As(err, &dns):
		return "host not found (" + dns.Name + ")"
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te.Err.Error()
	}
	return err.Error()
}
