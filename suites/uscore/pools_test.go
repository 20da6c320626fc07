package uscore_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/suites/internal/suitetest"
	"github.com/pacheck/pacheck/suites/uscore"
)

// TestPoolsWithoutProfileClaims (issue #15): against the reference server with meta.profile
// removed from every resource, each Observation and Condition profile's pool holds exactly the
// resources that claimed it (or a profile derived from it) on the unaltered server, now placed by
// the profile's discriminating values, which the data note names.
func TestPoolsWithoutProfileClaims(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the suites against the reference server")
	}
	srv, base, toks := suitetest.StartServerWithoutProfiles(t, nil)
	const usCore = "http://hl7.org/fhir/us/core/StructureDefinition/"
	cases := []struct {
		profile string
		claims  []string // the profile and those derived from it the reference data claims
		rule    string
	}{
		{"us-core-observation-lab", []string{"us-core-observation-lab"}, "category=laboratory"},
		{"us-core-body-weight", []string{"us-core-body-weight"}, "category=vital-signs, code=29463-7"},
		{"us-core-blood-pressure", []string{"us-core-blood-pressure"}, "category=vital-signs, code=85354-9"},
		{"us-core-vital-signs", []string{"us-core-vital-signs", "us-core-blood-pressure", "us-core-heart-rate", "us-core-respiratory-rate",
			"us-core-body-temperature", "us-core-body-weight", "us-core-body-height", "us-core-bmi", "us-core-head-circumference",
			"us-core-pulse-oximetry", "pediatric-bmi-for-age", "pediatric-weight-for-height", "head-occipital-frontal-circumference-percentile",
			"us-core-average-blood-pressure"}, "category=vital-signs"}, // 7.0.0 derives it from vital-signs
		{"us-core-smokingstatus", []string{"us-core-smokingstatus"}, "category=social-history, code in us-core-smoking-status-observation-codes"},
		{"us-core-condition-encounter-diagnosis", []string{"us-core-condition-encounter-diagnosis"}, "category=encounter-diagnosis"},
		{"us-core-condition-problems-health-concerns", []string{"us-core-condition-problems-health-concerns"}, "category in us-core-problem-or-health-concern"},
	}
	want := map[string]int{}
	for _, r := range srv.Dataset().Resources {
		meta, _ := r["meta"].(map[string]any)
		ps, _ := meta["profile"].([]any)
		for _, tc := range cases {
			if slices.ContainsFunc(ps, func(p any) bool {
				s, _ := p.(string)
				return slices.ContainsFunc(tc.claims, func(c string) bool { return s == usCore+c })
			}) {
				want[tc.profile]++
			}
		}
	}
	var focus []string
	for _, tc := range cases {
		if want[tc.profile] == 0 {
			t.Fatalf("the reference data no longer holds a %s", tc.profile)
		}
		focus = append(focus, `^uscore-6\.1\.0/`+regexp.QuoteMeta(tc.profile)+`/(validation|must-support)$`)
	}
	rs := suitetest.Child(t, base, toks, suitetest.Options{IGs: map[string][]string{uscore.Area: {"6.1.0"}}, Focus: focus})
	note := regexp.MustCompile(`^data: (\d+) .*; placed by (.*)$`)
	for _, tc := range cases {
		for _, spec := range []string{"validation", "must-support"} {
			id := "uscore-6.1.0/" + tc.profile + "/" + spec
			r, ok := rs[id]
			if !ok {
				t.Errorf("%s did not run (ran: %v)", id, suitetest.Keys(rs))
				continue
			}
			if r.Outcome != "pass" {
				t.Errorf("%s: %s: %s", id, r.Outcome, suitetest.FirstLine(r.Failure, 600))
			}
			var got string
			for _, n := range r.Notes {
				if m := note.FindStringSubmatch(n); m != nil {
					if c, _ := strconv.Atoi(m[1]); c != want[tc.profile] {
						t.Errorf("%s: %d resources in the pool, %d claimed the profile on the unaltered server", id, c, want[tc.profile])
					}
					got = m[2]
				}
			}
			if wantRule := fmt.Sprintf("%d by %s", want[tc.profile], tc.rule); got != wantRule {
				t.Errorf("%s: placed by %q, want %q", id, got, wantRule)
			}
			if strings.Contains(got, "meta.profile") {
				t.Errorf("%s: placed by meta.profile though none is claimed", id)
			}
		}
	}
}
