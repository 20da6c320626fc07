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
	}{
		{"claim-outcome-queued", func(r map[string]any) {
			if isClaim(r) {
				r["outcome"] = "queued"
			}
		}, []string{c + "eob-pharmacy/rules/", c + "coverage/read"}, []string{c + "eob-pharmacy/rules/outcome-complete"}},
		{"claim-type-data-absent", func(r map[string]any) {
			if isClaim(r) {
				r["type"] = map[string]any{"coding": []any{map[string]any{"system": claims.SysDataAbsent, "code": "unknown"}}}
			}
		}, []string{c + "eob-professional-nonclinician/rules/type-coded", c + "coverage/read"}, nil},
		{"claim-before-2016", func(r map[string]any) {
			if isClaim(r) {
				r["billablePeriod"] = map[string]any{"start": "2015-06-01", "end": "2015-06-02"}
			}
		}, []string{c + "eob-oral/rules/lookback", c + "coverage/read"}, []string{c + "eob-oral/rules/lookback"}},
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
		}, []string{p + "priorauthorization/rules/", p + "device/read"}, []string{p + "priorauthorization/rules/decision"}},
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
		}, []string{p + "provenance/rules/agents", p + "device/read"}, []string{p + "provenance/rules/agents"}},
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
		}, []string{f + "formularyitem/rules/links", f + "formularydrug/read"}, []string{f + "formularyitem/rules/links"}},
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
		})
	}
}

// childAt runs the payer suites in a child process against base.
func childAt(t *testing.T, base, toks string, focus ...string) map[string]specResult {
	t.Helper()
	return suitetest.Child(t, base, toks, options("2.0.0", "", focus))
}
