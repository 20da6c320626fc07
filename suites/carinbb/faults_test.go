package carinbb_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver/fault"
	"github.com/pacheck/pacheck/suites/internal/suitetest"
)

// TestPayerFaults: each business rule and each kind of check fails on its reference-server
// fault, and the other specs of the same run still pass (or skip for want of data). Each fault
// runs in its own child process, focused on the specs it concerns plus a control spec.
func TestPayerFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: fault runs against the reference server take a while")
	}
	const c, p, f = "carinbb-2.0.0/", "pdex-2.0.0/", "formulary-2.0.1/"
	cases := []struct {
		fault    string
		focus    []string // regexps on spec ids
		mustFail []string
		mayFail  []string // regexps of spec ids allowed to fail too (same kind of check)
	}{
		// business rules
		{"eob-no-adjudication", []string{c + "eob-pharmacy/", c + "coverage/read"},
			[]string{c + "eob-pharmacy/rules/adjudication", c + "eob-pharmacy/validation"}, []string{`/must-support$`, `/rules/totals-consistent$`}},
		{"eob-insurer-mismatch", []string{c + "eob-professional-nonclinician/rules/", c + "eob-professional-nonclinician/include/ExplanationOfBenefit-insurer", c + "coverage/read"},
			[]string{c + "eob-professional-nonclinician/rules/insurer-matches-coverage"}, []string{`/include/`}},
		{"eob-outcome-queued", []string{c + "eob-pharmacy/rules/", c + "coverage/read"},
			[]string{c + "eob-pharmacy/rules/outcome-complete"}, nil},
		{"eob-totals-inconsistent", []string{c + "eob-outpatient-institutional/rules/", c + "coverage/read"},
			[]string{c + "eob-outpatient-institutional/rules/totals-consistent"}, nil},
		{"prior-auth-no-status", []string{p + "priorauthorization/", p + "device/read"},
			[]string{p + "priorauthorization/rules/review-status", p + "priorauthorization/rules/pended-handled", p + "priorauthorization/rules/cancelled-handled"},
			[]string{`/validation$`, `/must-support$`, `/rules/decision$`}},
		{"prior-auth-denied-no-reason", []string{p + "priorauthorization/rules/", p + "priorauthorization/read"},
			[]string{p + "priorauthorization/rules/denial-reason"}, nil},
		// the formulary data specs are blocked by public-access (errors), which alone fails
		{"formulary-behind-auth", []string{f + "public-access", f + "formularydrug/", p + "device/read"},
			[]string{f + "public-access"}, []string{`^formulary-2\.0\.1/`}},
		// kinds of check
		{"search-token-ignored", []string{c + "eob-pharmacy/search/", c + "eob-pharmacy/read"},
			[]string{c + "eob-pharmacy/search/patient+type"}, []string{`/search/`}},
		{"search-date-ignored", []string{c + "eob-inpatient-institutional/search/", c + "eob-inpatient-institutional/read"},
			[]string{c + "eob-inpatient-institutional/search/patient+service-date", c + "eob-inpatient-institutional/search/patient+_lastUpdated"}, []string{`/search/`}},
		{"search-string-ignored", []string{f + "payerinsuranceplan/search/", f + "formularydrug/read"},
			[]string{f + "payerinsuranceplan/search/name"}, []string{`/search/`}},
		{"search-reference-ignored", []string{f + "formularyitem/search/", f + "formularydrug/read"},
			[]string{f + "formularyitem/search/subject"}, []string{`/search/`}},
		{"read-mismatch", []string{c + "eob-pharmacy/read", c + "eob-pharmacy/search/_id$"},
			[]string{c + "eob-pharmacy/read"}, nil},
		{"must-support-dropped", []string{c + "patient/must-support", c + "patient/read"},
			[]string{c + "patient/must-support"}, []string{`/validation$`}},
		{"include-ignored", []string{c + "eob-pharmacy/include/", c + "eob-pharmacy/read"},
			[]string{c + "eob-pharmacy/include/ExplanationOfBenefit-patient", c + "eob-pharmacy/include/ExplanationOfBenefit-coverage", c + "eob-pharmacy/include/ExplanationOfBenefit-*"}, []string{`/include/`}},
		{"revinclude-ignored", []string{p + "device/revinclude", p + "medicationdispense/revinclude", p + "device/read"},
			[]string{p + "device/revinclude/provenance", p + "medicationdispense/revinclude/provenance"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.fault, func(t *testing.T) {
			if _, ok := fault.Lookup(tc.fault); !ok {
				t.Skipf("the reference server does not implement fault %s yet", tc.fault)
			}
			rs := child(t, tc.fault, "2.0.0", "", anchor(tc.focus)...)
			if len(rs) == 0 {
				t.Fatalf("no spec ran for focus %v", tc.focus)
			}
			suitetest.ExpectFail(t, rs, tc.mustFail, "")
			if tc.fault == "formulary-behind-auth" {
				for _, id := range []string{f + "formularydrug/search/_id", f + "formularydrug/read"} {
					if r := rs[id]; r.Outcome != "error" || !strings.Contains(r.Failure, "blocked by "+f+"public-access") {
						t.Errorf("%s: %s %q, want an error blocked by %spublic-access", id, r.Outcome, suitetest.FirstLine(r.Failure, 200), f)
					}
				}
			}
			passed := suitetest.ExpectOthersPass(t, "fault "+tc.fault, rs, tc.mustFail, tc.mayFail, refserverGaps)
			if passed == 0 {
				t.Errorf("with fault %s no spec of the run passed (the control spec must): %v", tc.fault, suitetest.Keys(rs))
			}
		})
	}
}

// anchor turns spec-id prefixes into focus regexps anchored at the start.
func anchor(ps []string) []string {
	var out []string
	for _, p := range ps {
		q := regexp.QuoteMeta(strings.TrimSuffix(p, "$"))
		if strings.HasSuffix(p, "$") {
			q += "$"
		}
		out = append(out, "^"+q)
	}
	return out
}
