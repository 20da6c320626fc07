package pdex_test

import (
	"encoding/json"
	"fmt"
	"github.com/pacheck/pacheck/fixtures/refserver/synth"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/suites/carinbb"
	"github.com/pacheck/pacheck/suites/formulary"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/suitetest"
	"github.com/pacheck/pacheck/suites/pdex"
)

// TestHelperRun is the child process of the tests of this package (suitetest): the CARIN BB,
// PDex and formulary suites against the server the parent started.
func TestHelperRun(t *testing.T) { suitetest.Helper(t, carinbb.Area, pdex.Area, formulary.Area) }

// dataNote returns the count and the placement of a spec's data note ("3 pdex-priorauthorization
// resource(s) found by ...; placed by 3 by use=preauthorization").
func dataNote(t *testing.T, r suitetest.Result) (int, string) {
	t.Helper()
	re := regexp.MustCompile(`^data: (\d+) .*; placed by (.*)$`)
	for _, n := range r.Notes {
		if m := re.FindStringSubmatch(n); m != nil {
			c, _ := strconv.Atoi(m[1])
			return c, m[2]
		}
	}
	t.Fatalf("%s: no data note among %q", r.ID, r.Notes)
	return 0, ""
}

// allLocationsPublic makes the public search of all Locations (no token, no parameter) return
// every Location of the data, the members' US Core Locations too, as the server of issue #15
// did; the reference server itself serves only the formulary's plan locations there.
func allLocationsPublic(srv *refserver.Server, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/Location") || r.URL.RawQuery != "" || r.Header.Get("Authorization") != "" {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var bundle map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &bundle) != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		entries, _ := bundle["entry"].([]any)
		have := map[string]bool{}
		for _, e := range entries {
			em, _ := e.(map[string]any)
			res, _ := em["resource"].(map[string]any)
			have[igdata.ID(res)] = true
		}
		for _, res := range srv.Dataset().Resources {
			if res["resourceType"] == "Location" && !have[igdata.ID(res)] {
				entries = append(entries, map[string]any{"fullUrl": srv.FHIRBase() + "/Location/" + igdata.ID(res),
					"resource": res, "search": map[string]any{"mode": "match"}})
			}
		}
		bundle["entry"] = entries
		if _, ok := bundle["total"]; ok {
			bundle["total"] = len(entries)
		}
		b, _ := json.Marshal(bundle)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b) //nolint:errcheck // the client went away
	})
}

// TestPoolsWithoutProfileClaims (issue #15): against the reference server with meta.profile
// removed from every resource, the PDex prior-authorization pool holds exactly the
// preauthorization ExplanationOfBenefits (no claim, use = claim) and the formulary plan-location
// pool exactly the Locations a formulary payer plan references (no US Core Location, though the
// public Location search returns them: allLocationsPublic), each
// placed by the rule the data note names, and the specs judging them pass.
func TestPoolsWithoutProfileClaims(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the suites against the reference server")
	}
	srv, base, toks := suitetest.StartServerWithoutProfiles(t, allLocationsPublic)
	var preauth, claimEOBs int
	planLocations := map[string]bool{}
	locations := 0
	for _, r := range srv.Dataset().Resources {
		switch r["resourceType"] {
		case "ExplanationOfBenefit":
			if r["use"] == "preauthorization" {
				preauth++
			} else {
				claimEOBs++
			}
		case "Location":
			locations++
		case "InsurancePlan":
			// the formulary's payer plan; the directory's Plan-Net plan has its own locations
			if r["id"] != synth.PayerPlanID {
				continue
			}
			areas, _ := r["coverageArea"].([]any)
			for _, a := range areas {
				am, _ := a.(map[string]any)
				ref, _ := am["reference"].(string)
				if typ, id := igdata.SplitRef(ref); typ == "Location" {
					planLocations[id] = true
				}
			}
		}
	}
	if preauth == 0 || claimEOBs == 0 || len(planLocations) == 0 || locations <= len(planLocations) {
		t.Fatalf("the reference data no longer mixes the kinds this test needs: %d prior authorizations, %d claims, %d plan locations of %d Locations",
			preauth, claimEOBs, len(planLocations), locations)
	}
	rs := suitetest.Child(t, base, toks, suitetest.Options{
		IGs:   map[string][]string{pdex.Area: {"2.0.0"}, formulary.Area: {"2.0.1"}},
		Focus: []string{`^pdex-2\.0\.0/priorauthorization/(validation|must-support|rules/review-status)$`, `^formulary-2\.0\.1/insuranceplanlocation/(validation|must-support|read|search/.*)$`}})
	// pdex-priorauthorization itself requires meta.profile (min 1, slice supportedProfile), so its
	// validation fails here, for that alone: no finding about use or the other claim values.
	onlyMetaProfile := func(failure string) bool {
		lines := strings.Split(failure, "\n")[1:]
		for _, l := range lines {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "... and") && !strings.Contains(l, "ExplanationOfBenefit.meta.profile") {
				return false
			}
		}
		return len(lines) > 0
	}
	for _, tc := range []struct {
		id       string
		count    int
		rule     string
		failMeta bool // fails, only for the missing meta.profile
	}{
		{"pdex-2.0.0/priorauthorization/validation", preauth, fmt.Sprintf("%d by use=preauthorization", preauth), true},
		{"pdex-2.0.0/priorauthorization/must-support", preauth, fmt.Sprintf("%d by use=preauthorization", preauth), false},
		{"pdex-2.0.0/priorauthorization/rules/review-status", preauth, fmt.Sprintf("%d by use=preauthorization", preauth), false},
		{"formulary-2.0.1/insuranceplanlocation/validation", len(planLocations),
			fmt.Sprintf("%d by referenced by usdf-PayerInsurancePlan InsurancePlan.coverageArea", len(planLocations)), false},
		{"formulary-2.0.1/insuranceplanlocation/must-support", len(planLocations),
			fmt.Sprintf("%d by referenced by usdf-PayerInsurancePlan InsurancePlan.coverageArea", len(planLocations)), false},
	} {
		r, ok := rs[tc.id]
		if !ok {
			t.Errorf("%s did not run (ran: %v)", tc.id, suitetest.Keys(rs))
			continue
		}
		switch {
		case tc.failMeta && (r.Outcome != "fail" || !onlyMetaProfile(r.Failure)):
			t.Errorf("%s: %s, want a failure for the missing meta.profile alone: %s", tc.id, r.Outcome, r.Failure)
		case !tc.failMeta && r.Outcome != "pass":
			t.Errorf("%s: %s: %s", tc.id, r.Outcome, r.Failure)
		}
		n, rule := dataNote(t, r)
		if n != tc.count || rule != tc.rule {
			t.Errorf("%s: pool of %d placed by %q, want %d placed by %q", tc.id, n, rule, tc.count, tc.rule)
		}
		if strings.Contains(rule, "meta.profile") {
			t.Errorf("%s: placed by meta.profile though none is claimed: %s", tc.id, rule)
		}
	}
	for id, r := range rs {
		if id != "pdex-2.0.0/priorauthorization/validation" && (r.Outcome == "fail" || r.Outcome == "error") {
			t.Errorf("%s: %s: %s", id, r.Outcome, suitetest.FirstLine(r.Failure, 400))
		}
	}
}
