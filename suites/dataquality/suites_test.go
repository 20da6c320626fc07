package dataquality_test

import (
	"cmp"
	"sort"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver"
	_ "github.com/pacheck/pacheck/suites/carinbb"
	"github.com/pacheck/pacheck/suites/dataquality"
	"github.com/pacheck/pacheck/suites/internal/suitetest"
	_ "github.com/pacheck/pacheck/suites/uscore"
)

// TestHelperRun is the child process (suitetest): the dataquality suite alone, so it fetches
// the data itself (with the IG suites it reuses theirs).
func TestHelperRun(t *testing.T) { suitetest.Helper(t, dataquality.Area) }

func child(t *testing.T, faultName string) map[string]suitetest.Result {
	t.Helper()
	return suitetest.ChildWithFault(t, faultName, suitetest.Options{IGs: map[string][]string{"uscore": {"6.1.0"}}})
}

func dump(t *testing.T, rs map[string]suitetest.Result) {
	ids := suitetest.Keys(rs)
	sort.Strings(ids)
	for _, id := range ids {
		r := rs[id]
		t.Logf("%s %s: %s\n  %s", r.Outcome, id, suitetest.FirstLine(r.Failure, 300), strings.Join(r.Notes, "\n  "))
	}
}

// The clean reference server passes every spec; each data-quality fault fails exactly its spec
// (or, for a finding a person judges, makes it end review) and leaves the others passing.
func TestDataQualityFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against the reference server")
	}
	const p = "dataquality-1/"
	specs := []string{p + "duplicates", p + "dangling-references", p + "stale-data", p + "completeness", p + "oldest-data", p + "code-quality", p + "claims-vs-clinical"}
	cases := []struct{ fault, fails, outcome string }{
		{"", "", ""},
		{refserver.FaultDuplicateEntries, p + "duplicates", "fail"},
		{refserver.FaultDanglingReference, p + "dangling-references", "fail"},
		{refserver.FaultStaleData, p + "stale-data", "fail"},
		{refserver.FaultCodeOutsideValueSet, p + "code-quality", "review"},
		{refserver.FaultEOBClinicalMismatch, p + "claims-vs-clinical", "fail"},
	}
	for _, c := range cases {
		t.Run(cmp.Or(c.fault, "clean"), func(t *testing.T) {
			rs := child(t, c.fault)
			for _, id := range specs {
				r, ok := rs[id]
				want := "pass"
				if id == c.fails {
					want = c.outcome
				}
				if !ok || r.Outcome != want {
					t.Errorf("%s: outcome %q, want %s: %s", id, r.Outcome, want, suitetest.FirstLine(r.Failure, 400))
					continue
				}
				if want != "pass" {
					t.Logf("%s: %s", id, suitetest.FirstLine(r.Failure, 400))
				}
			}
			if t.Failed() {
				dump(t, rs)
			}
		})
	}
}
