package carinbb_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/claims"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/suites/internal/suitetest"
)

// The reference server has no fault for some business rules (outcome, claim type, look-back,
// prior-authorization details, Provenance agents, formulary tiers). These tests break the data
// on the wire instead: the reference server's handler is wrapped and every resource it returns
// (alone or in a Bundle) goes through a mutation before the suites see it.

type mutation func(r map[string]any)

func each(v any, f mutation) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if t, _ := m["resourceType"].(string); t == "Bundle" {
		es, _ := m["entry"].([]any)
		for _, e := range es {
			em, _ := e.(map[string]any)
			each(em["resource"], f)
		}
		return
	}
	f(m)
}

// startMutated starts the reference server (3 members) behind a handler applying mut.
func startMutated(t *testing.T, mut mutation) (string, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := refserver.New(refserver.Config{Members: 3, Seed: 1, BaseURL: "http://" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if strings.Contains(rec.Header().Get("Content-Type"), "json") {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			var v any
			if dec.Decode(&v) == nil {
				each(v, mut)
				if b, err := json.Marshal(v); err == nil {
					body = b
				}
			}
		}
		for k, vs := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(body) //nolint:errcheck
	})}
	go hs.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { hs.Close() })
	return srv.FHIRBase(), suitetest.Tokens(srv)
}

func isType(r map[string]any, t string) bool { rt, _ := r["resourceType"].(string); return rt == t }

func isClaim(r map[string]any) bool {
	return isType(r, "ExplanationOfBenefit") && !claims.IsPriorAuth(r)
}

func TestPayerRulesOnMutatedData(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against the reference server")
	}
	const c, p, f = "carinbb-2.0.0/", "pdex-2.0.0/", "formulary-2.0.1/"
	cases := []struct {
		name     string
		mut      mutation
		focus    []string
		mustFail []string // nil: the first focus, the rule spec itself
		mustPass []string // specs that must pass (legal data the rules once failed)
	}{
		{"claim-outcome-queued", func(r map[string]any) {
			if isClaim(r) {
				r["outcome"] = "queued"
			}
		}, []string{c + "eob-pharmacy/rules/", c + "coverage/read"}, []string{c + "eob-pharmacy/rules/outcome-complete"}, nil},
		// what the IGs' own examples do is legal: outcome partial (a warning only), and claims
		// whose lines carry amounts but no payment or member cost-sharing category
		{"claim-outcome-partial", func(r map[string]any) {
			if isClaim(r) {
				r["outcome"] = "partial"
			}
		}, []string{c + "eob-pharmacy/rules/", c + "eob-pharmacy/validation", c + "coverage/read"}, []string{},
			[]string{c + "eob-pharmacy/rules/outcome-complete", c + "eob-pharmacy/validation"}},
		{"claim-amounts-without-payment-or-member-share", func(r map[string]any) {
			if !isClaim(r) {
				return
			}
			dropPaidAndMember(r)
			items, _ := r["item"].([]any)
			for _, it := range items {
				im, _ := it.(map[string]any)
				dropPaidAndMember(im)
			}
		}, []string{c + "eob-pharmacy/rules/adjudication", c + "eob-pharmacy/validation", c + "eob-outpatient-institutional/rules/adjudication", c + "eob-outpatient-institutional/validation", c + "coverage/read"}, []string{},
			[]string{c + "eob-pharmacy/rules/adjudication", c + "eob-pharmacy/validation", c + "eob-outpatient-institutional/rules/adjudication", c + "eob-outpatient-institutional/validation"}},
		{"claim-type-data-absent", func(r map[string]any) {
			if isClaim(r) {
				r["type"] = map[string]any{"coding": []any{map[string]any{"system": claims.SysDataAbsent, "code": "unknown"}}}
			}
		}, []string{c + "eob-professional-nonclinician/rules/type-coded", c + "coverage/read"}, nil, nil},
		{"claim-before-2016", func(r map[string]any) {
			if isClaim(r) {
				r["billablePeriod"] = map[string]any{"start": "2015-06-01", "end": "2015-06-02"}
			}
		}, []string{c + "eob-oral/rules/lookback", c + "coverage/read"}, []string{c + "eob-oral/rules/lookback"}, nil},
		{"priorauth-no-quantities", func(r map[string]any) {
			if !isType(r, "ExplanationOfBenefit") || !claims.IsPriorAuth(r) {
				return
			}
			items, _ := r["item"].([]any)
			for _, it := range items {
				im, _ := it.(map[string]any)
				adjs, _ := im["adjudication"].([]any)
				var keep []any
				for _, a := range adjs {
					am, _ := a.(map[string]any)
					if s := strings.Join(claims.Codings(am["category"]), ","); !strings.Contains(s, "units") {
						keep = append(keep, a)
					}
				}
				im["adjudication"] = keep
			}
			delete(r, "total")
		}, []string{p + "priorauthorization/rules/", p + "device/read"}, []string{p + "priorauthorization/rules/decision"}, nil},
		{"provenance-no-transmitter", func(r map[string]any) {
			if !isType(r, "Provenance") {
				return
			}
			ags, _ := r["agent"].([]any)
			var keep []any
			for _, a := range ags {
				am, _ := a.(map[string]any)
				if !strings.Contains(strings.Join(claims.Codings(am["type"]), ","), "transmitter") {
					keep = append(keep, a)
				}
			}
			r["agent"] = keep
		}, []string{p + "provenance/rules/agents", p + "device/read"}, []string{p + "provenance/rules/agents"}, nil},
		{"formulary-tier-unknown", func(r map[string]any) {
			if !isType(r, "Basic") {
				return
			}
			es, _ := r["extension"].([]any)
			for _, e := range es {
				em, _ := e.(map[string]any)
				if em["url"] == claims.ExtDrugTier {
					em["valueCodeableConcept"] = map[string]any{"coding": []any{map[string]any{"system": "urn:pacheck:tiers", "code": "no-such-tier"}}}
				}
			}
		}, []string{f + "formularyitem/rules/links", f + "formularydrug/read"}, []string{}, []string{f + "formularyitem/rules/links"}}, // a warning: the IG's own example does it
		{"formulary-subject-unresolvable", func(r map[string]any) {
			if isType(r, "Basic") {
				r["subject"] = map[string]any{"reference": "MedicationKnowledge/does-not-exist"}
			}
		}, []string{f + "formularyitem/rules/links", f + "formularydrug/read"}, []string{f + "formularyitem/rules/links"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, toks := startMutated(t, tc.mut)
			rs := childAt(t, base, toks, anchor(tc.focus)...)
			if len(rs) == 0 {
				t.Fatalf("no spec ran for focus %v", tc.focus)
			}
			must := tc.mustFail
			if must == nil { // the focused rule spec
				must = []string{strings.TrimSuffix(tc.focus[0], "$")}
			}
			suitetest.ExpectFail(t, rs, must, "")
			suitetest.ExpectOthersPass(t, "mutation "+tc.name, rs, must, nil, nil)
			for _, id := range tc.mustPass {
				if r := rs[id]; r.Outcome != "pass" {
					t.Errorf("mutation %s: %s is %q, want pass: %s", tc.name, id, r.Outcome, suitetest.FirstLine(r.Failure, 300))
				}
			}
		})
	}
}

// dropPaidAndMember removes the payment and member cost-sharing amounts from an adjudication
// list (header or line), keeping submitted, eligible, noncovered, discount and the non-amount
// slices: no CARIN BB slice requires the removed categories.
func dropPaidAndMember(m map[string]any) {
	adjs, ok := m["adjudication"].([]any)
	if !ok {
		return
	}
	drop := map[string]bool{"paidtoprovider": true, "paidtopatient": true, "paidbypatient": true, "benefit": true,
		"memberliability": true, "deductible": true, "copay": true, "coinsurance": true}
	var keep []any
	for _, a := range adjs {
		am, _ := a.(map[string]any)
		paid := false
		for _, c := range claims.Codings(am["category"]) {
			_, code, _ := strings.Cut(c, "|")
			paid = paid || drop[code]
		}
		if !paid {
			keep = append(keep, a)
		}
	}
	m["adjudication"] = keep
}

// childAt runs the payer suites in a child process against base.
func childAt(t *testing.T, base, toks string, focus ...string) map[string]specResult {
	t.Helper()
	return suitetest.Child(t, base, toks, options("2.0.0", "", focus))
}
