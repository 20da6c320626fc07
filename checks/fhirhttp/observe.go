package fhirhttp

import (
	"sort"
	"sync"
	"time"
)

// Observations collects what a run saw of the target's availability: every logical request a
// Client sends (one Do, whatever its retries), whether it needed a retry, whether it failed in the
// end, and the latency of each attempt. Share one between the clients of a run through
// Options.Observer; the capability.http.available specs judge its Snapshot. Safe for concurrent
// use; the zero value is ready.
type Observations struct {
	mu        sync.Mutex
	requests  int
	retried   int
	failed    int
	attempts  int
	latencies []time.Duration
}

// ObservationSummary is a copy of what was observed.
type ObservationSummary struct {
	Requests  int             // logical requests that reached (or tried to reach) the network
	Retried   int             // requests that needed at least one retry (429, 503, reset)
	Failed    int             // requests that ended in a transport error, or a 429/503 after the retries
	Attempts  int             // attempts in all (Requests plus retries)
	Latencies []time.Duration // one per attempt that got a response, in arrival order
}

// Percentile returns the p-th percentile (0 < p <= 100) of the latencies, or 0 when none.
func (s ObservationSummary) Percentile(p float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	l := append([]time.Duration(nil), s.Latencies...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	i := int(float64(len(l))*p/100+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(l) {
		i = len(l) - 1
	}
	return l[i]
}

// Observe records one logical request: the latency of each attempt that got a response, whether
// it needed a retry, and whether it failed in the end.
func (o *Observations) Observe(latencies []time.Duration, attempts int, retried, failed bool) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests++
	o.attempts += attempts
	if retried {
		o.retried++
	}
	if failed {
		o.failed++
	}
	o.latencies = append(o.latencies, latencies...)
}

// Snapshot returns a copy of what was observed so far.
func (o *Observations) Snapshot() ObservationSummary {
	if o == nil {
		return ObservationSummary{}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return ObservationSummary{Requests: o.requests, Retried: o.retried, Failed: o.failed, Attempts: o.attempts,
		Latencies: append([]time.Duration(nil), o.latencies...)}
}
