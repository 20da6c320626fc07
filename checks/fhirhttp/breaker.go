package fhirhttp

import (
	"errors"
	"fmt"
	"sync"
)

// DefaultBreakerThreshold is how many consecutive unanswered requests trip a Breaker.
const DefaultBreakerThreshold = 3

// ErrTargetDown is wrapped in the *TransportError of every request a tripped Breaker refuses.
var ErrTargetDown = errors.New("target unreachable")

// Breaker makes a run fail fast on a dead target: after Threshold consecutive requests to the
// BaseURL origin that got no response at all (connection refused or reset, timeout), and no
// response ever received from that origin, every further request to it fails at once with a
// *TransportError wrapping ErrTargetDown that names the root cause. One response from the origin
// disarms it for good: a live server that sometimes drops a connection is judged by the specs,
// not cut off. Share one between the clients of a run through Options.Breaker. The zero value is
// ready; safe for concurrent use.
//
// It also stops retries that do not help: after Threshold consecutive requests to an origin that
// still ended in a 429/503 (or a dropped connection) once their retries were spent, further
// requests to it get one attempt each, until one gets another answer. A throttling storm then
// costs one round trip per request, not the whole retry budget. A Client without a Breaker keeps
// this state for itself.
type Breaker struct {
	Threshold int // default DefaultBreakerThreshold

	mu     sync.Mutex
	states map[string]*breakerState
}

type breakerState struct {
	answered bool  // some response was received from the origin
	misses   int   // consecutive requests without any response
	down     error // set once tripped
	futile   int   // consecutive requests still transient after their retries
}

// targetDown is the root cause a tripped Breaker reports.
type targetDown struct {
	origin string
	n      int
	cause  string
}

func (e *targetDown) Error() string {
	return fmt.Sprintf("target %s unreachable after %d attempts: %s", e.origin, e.n, e.cause)
}

func (e *targetDown) Is(target error) bool { return target == ErrTargetDown }

func (b *Breaker) threshold() int {
	if b.Threshold > 0 {
		return b.Threshold
	}
	return DefaultBreakerThreshold
}

func (b *Breaker) state(origin string) *breakerState {
	if b.states == nil {
		b.states = map[string]*breakerState{}
	}
	s := b.states[origin]
	if s == nil {
		s = &breakerState{}
		b.states[origin] = s
	}
	return s
}

// check returns the root-cause error when the breaker has tripped for origin.
func (b *Breaker) check(origin string) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state(origin).down
}

// answered records that origin sent a response (any status): the breaker never trips for it.
func (b *Breaker) answered(origin string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state(origin)
	s.answered, s.misses = true, 0
}

// missed records a request to origin that got no response; cause is a short root cause
// ("connection refused").
func (b *Breaker) missed(origin, cause string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state(origin)
	if s.answered || s.down != nil {
		return
	}
	s.misses++
	if s.misses >= b.threshold() {
		s.down = &targetDown{origin: origin, n: s.misses, cause: cause}
	}
}

// Down returns the root cause (wrapping ErrTargetDown) when a request to origin
// (scheme://host[:port]) would be refused, or nil.
func (b *Breaker) Down(origin string) error {
	if b == nil {
		return nil
	}
	if u, err := parseOrigin(origin); err == nil {
		origin = u
	}
	return b.check(origin)
}

// retriesFutile reports whether retries to origin are suspended (see Breaker).
func (b *Breaker) retriesFutile(origin string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state(origin).futile >= b.threshold()
}

// transient records how a request to origin ended: still a transient fault after its retries
// (stillTransient), or anything else, which re-enables retries.
func (b *Breaker) transient(origin string, stillTransient bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state(origin)
	if stillTransient {
		s.futile++
	} else {
		s.futile = 0
	}
}
