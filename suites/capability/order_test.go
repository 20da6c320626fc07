package capability

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/runner"
)

// Stand-ins for the data suites: top-level containers declared after and before the
// availability specs in file order, which Ginkgo would otherwise shuffle around them.
var _ = Describe("aaa-data", func() { It("reads", func() {}) })
var _ = Describe("zzz-data", func() { It("searches", func() {}) })

// TestAvailabilityRunsLast: the availability specs judge the whole run's observations, so they
// must run after every other spec, whatever the container names and the seed.
func TestAvailabilityRunsLast(t *testing.T) {
	rep, err := runner.List(runner.Options{Run: &framework.Run{Target: "http://127.0.0.1:1/fhir"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range rep.SpecReports {
		ids = append(ids, runner.SpecID(s))
	}
	n := len(ids)
	if n < 6 {
		t.Fatalf("only %d specs listed: %v", n, ids)
	}
	if ids[n-2] != "capability/http/available" || ids[n-1] != "capability/http/responsive" {
		t.Errorf("the availability specs are not last: %v", ids)
	}
}
