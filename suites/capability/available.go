package capability

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
)

// Rules of the availability specs.
const (
	RuleAvailable  = "capability.http.available"
	RuleResponsive = "capability.http.responsive"
)

// Bounds of the availability specs. They judge what every client of this run observed of the
// target (framework.Run.Observations), so they run after every other spec: the container has
// the lowest priority, and Ginkgo runs lower priorities last whatever the seed.
const (
	// MaxUnavailableShare is the share of requests that may need a retry (429/503/reset) or fail
	// after the retries before the API counts as not available.
	MaxUnavailableShare = 0.01
	// DefaultMaxLatency is the 95th-percentile response time accepted when Limits.MaxLatency is 0.
	DefaultMaxLatency = 2 * time.Second
	// MinObserved is the fewest requests (responses, for latency) a judgement needs.
	MinObserved = 20
)

// AvailabilityVerdict judges an observation summary: "" when available, else why not.
func AvailabilityVerdict(o fhirhttp.ObservationSummary) string {
	if o.Requests == 0 {
		return ""
	}
	retried := float64(o.Retried) / float64(o.Requests)
	failed := float64(o.Failed) / float64(o.Requests)
	switch {
	case retried > MaxUnavailableShare:
		return fmt.Sprintf("expected at most %.0f%% of requests to need a retry, got %d of %d (%.1f%%) answered 429/503 or reset first",
			MaxUnavailableShare*100, o.Retried, o.Requests, retried*100)
	case failed > MaxUnavailableShare:
		return fmt.Sprintf("expected at most %.0f%% of requests to fail after the retries, got %d of %d (%.1f%%)",
			MaxUnavailableShare*100, o.Failed, o.Requests, failed*100)
	}
	return ""
}

// LatencyVerdict judges the 95th-percentile latency against bound: "" when within it.
func LatencyVerdict(o fhirhttp.ObservationSummary, bound time.Duration) string {
	if p := o.Percentile(95); p > bound {
		return fmt.Sprintf("expected the 95th-percentile response time within %s, got %s over %d responses",
			bound, p.Round(time.Millisecond), len(o.Latencies))
	}
	return ""
}

func maxLatency(r *framework.Run) time.Duration {
	if r != nil && r.Limits.MaxLatency > 0 {
		return r.Limits.MaxLatency
	}
	return DefaultMaxLatency
}

var _ = Describe("capability", Label("area:capability"), SpecPriority(-1), func() {
	run := framework.Current()
	if run != nil && !run.Wants(Area) {
		return
	}
	const enable = "a run that selects more specs (the data suites send most of the requests)"
	Describe("http", func() {
		framework.Spec("available", []string{"capability.http.available"}, func() {
			o := framework.Current().Observations().Snapshot()
			if o.Requests < MinObserved {
				framework.SkipBecause(fmt.Sprintf("only %d request(s) to the target were observed in this run; judging availability needs at least %d", o.Requests, MinObserved), enable)
			}
			framework.Note("observed", "%d requests, %d attempts, %d needed a retry, %d failed after the retries", o.Requests, o.Attempts, o.Retried, o.Failed)
			if v := AvailabilityVerdict(o); v != "" {
				framework.ExpectConformant("availability", issue.List{{Severity: issue.Error, Rule: RuleAvailable, Requirement: "capability.http.available", Message: v}})
			}
		})
		framework.Spec("responsive", []string{"capability.http.responsive"}, func() {
			run := framework.Current()
			o := run.Observations().Snapshot()
			if len(o.Latencies) < MinObserved {
				framework.SkipBecause(fmt.Sprintf("only %d response(s) from the target were observed in this run; judging latency needs at least %d", len(o.Latencies), MinObserved), enable)
			}
			bound := maxLatency(run)
			framework.Note("observed", "%d responses; median %s, 95th percentile %s, slowest %s (bound %s)", len(o.Latencies),
				o.Percentile(50).Round(time.Millisecond), o.Percentile(95).Round(time.Millisecond), o.Percentile(100).Round(time.Millisecond), bound)
			if v := LatencyVerdict(o, bound); v != "" {
				framework.ExpectConformant("latency", issue.List{{Severity: issue.Error, Rule: RuleResponsive, Requirement: "capability.http.responsive", Message: v}})
			}
		})
	})
})
