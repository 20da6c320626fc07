package carinbb_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/internal/shared"
	"github.com/pacheck/pacheck/suites/carinbb"
	"github.com/pacheck/pacheck/suites/formulary"
	"github.com/pacheck/pacheck/suites/internal/suitetest"
	"github.com/pacheck/pacheck/suites/pdex"
)

// The payer suites (carinbb, pdex, formulary) are tested together from this package: one test
// binary, one child process per run.

type specResult = suitetest.Result

var areas = []string{carinbb.Area, pdex.Area, formulary.Area}

// TestHelperRun is the child process (suitetest): one Ginkgo run of the payer suites against the
// reference server with one token per member.
func TestHelperRun(t *testing.T) { suitetest.Helper(t, areas...) }

// child runs the payer suites in a child process against the reference server with the fault
// ("" for none) and returns spec id -> result.
func child(t *testing.T, faultName, carinVersions, labels string, focus ...string) map[string]specResult {
	t.Helper()
	return suitetest.ChildWithFault(t, faultName, options(carinVersions, labels, focus))
}

func options(carinVersions, labels string, focus []string) suitetest.Options {
	return suitetest.Options{IGs: map[string][]string{carinbb.Area: strings.Split(carinVersions, ",")}, Labels: labels, Focus: focus}
}

// refserverGaps are SHALL specs the reference server's data does not satisfy: real findings
// about the reference server (to report to its owner), not pacheck false positives. Each must
// fail for exactly this reason; once fixed, the entry must go (the test says so).
// A key ending in "/" covers every spec under it.
var refserverGaps = suitetest.Gaps{}

func TestPayerSuitesAgainstRefserverClean(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the clean run against the reference server takes a while")
	}
	rs := child(t, "", "1.1.0,2.0.0", "")
	prefixes := []string{"carinbb-1.1.0/", "carinbb-2.0.0/", "pdex-2.0.0/", "formulary-2.0.1/"}
	for _, pre := range prefixes {
		n, counts, levels := suitetest.Tally(t, rs, pre, refserverGaps)
		fmt.Printf("%s: %d specs (SHALL %d, SHOULD %d, MAY %d): pass %d, fail %d, skip %d, error %d\n",
			strings.TrimSuffix(pre, "/"), n, levels["SHALL"], levels["SHOULD"], levels["MAY"], counts["pass"], counts["fail"], counts["skip"], counts["error"])
		if n < 20 {
			t.Errorf("%s: only %d specs generated", pre, n)
		}
		if counts["pass"] < n/2 {
			t.Errorf("%s: only %d of %d specs passed", pre, counts["pass"], n)
		}
	}
	for id := range refserverGaps {
		if r, ok := rs[id]; ok && r.Outcome == "pass" && !strings.HasSuffix(id, "/") {
			t.Errorf("%s passes now: remove it from refserverGaps", id)
		}
	}
	var notPassing []string
	for id, r := range rs {
		if r.Outcome == "skip" && !strings.Contains(r.Failure, "to enable:") {
			t.Errorf("skip without what would enable it: %s: %s", id, suitetest.FirstLine(r.Failure, 300))
		}
		if r.Outcome != "pass" {
			notPassing = append(notPassing, fmt.Sprintf("%s [%s] %s: %s", r.Outcome, r.Level, id, suitetest.FirstLine(r.Failure, 300)))
		}
	}
	sort.Strings(notPassing)
	t.Logf("not passing:\n%s", strings.Join(notPassing, "\n"))
}

// TestPriorAuthPDex210: with the PDex 2.1.0 ci-build loaded (../shared), the prior-authorization
// specs are generated for 2.1.0 too and validate the reference server's prior authorizations
// against that version's profile; the label filter prior-auth selects only them.
func TestPriorAuthPDex210(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against the reference server")
	}
	pkg := shared.Require(t, "fhir-packages/source-builds/hl7.fhir.us.davinci-pdex.r4-2.1.0-cibuild.tgz")
	o := options("2.0.0", "prior-auth", nil)
	o.IGs[pdex.Area] = []string{"2.0.0", "2.1.0"}
	o.Packages = []string{pkg}
	rs := suitetest.ChildWithFault(t, "", o)
	n := 0
	for id, r := range rs {
		if !strings.Contains(id, "/priorauthorization/") {
			t.Errorf("label filter prior-auth ran %s", id)
		}
		if strings.HasPrefix(id, "pdex-2.1.0/") {
			n++
		}
		t.Logf("%s %s: %s", r.Outcome, id, suitetest.FirstLine(r.Failure, 300))
	}
	if n == 0 {
		t.Fatalf("no pdex-2.1.0 spec ran: %v", suitetest.Keys(rs))
	}
	// The reference server's prior authorizations claim the 2.0.0 profile; 2.1.0 requires its own
	// versioned claim in meta.profile (the supportedProfile slice). That must be the only finding:
	// the content conforms to 2.1.0.
	r := rs["pdex-2.1.0/priorauthorization/validation"]
	if r.Outcome == "fail" {
		for _, line := range strings.Split(r.Failure, "\n")[1:] {
			if !strings.Contains(line, "meta.profile") {
				t.Errorf("pdex-2.1.0/priorauthorization/validation: a finding other than the 2.0.0 meta.profile claim: %s", line)
			}
		}
	} else if r.Outcome != "pass" {
		t.Errorf("pdex-2.1.0/priorauthorization/validation: %s: %s", r.Outcome, suitetest.FirstLine(r.Failure, 600))
	}
	for _, id := range []string{"review-status", "denial-reason", "decision", "pended-handled", "cancelled-handled"} {
		if r := rs["pdex-2.1.0/priorauthorization/rules/"+id]; r.Outcome != "pass" {
			t.Errorf("pdex-2.1.0/priorauthorization/rules/%s: %s: %s", id, r.Outcome, suitetest.FirstLine(r.Failure, 300))
		}
	}
}
