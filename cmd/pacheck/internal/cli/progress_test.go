package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/reports"
)

// Specs the preset or focus did not select are skipped by Ginkgo with no reason; the console must not
// print them as SKIP results (the reports leave them out too), while a Skip with a reason is printed.
func TestProgressIgnoresUnselectedSpecs(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, false)
	spec := func(text string, st types.SpecState, msg string) types.SpecReport {
		r := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: st}
		if msg != "" {
			r.Failure = types.Failure{Message: msg}
		}
		return r
	}
	p.spec(1, spec("unselected", types.SpecStateSkipped, ""))
	p.spec(2, spec("skipped", types.SpecStateSkipped, "no data"))
	p.spec(3, spec("passed", types.SpecStatePassed, ""))
	got := out.String()
	if strings.Contains(got, "unselected") {
		t.Errorf("an unselected spec was printed: %q", got)
	}
	if !strings.Contains(got, "SKIP") || !strings.Contains(got, "skipped") {
		t.Errorf("a skipped spec must be printed as SKIP: %q", got)
	}
	if p.outcome["skip"] != 1 {
		t.Errorf("skip count = %d, want 1", p.outcome["skip"])
	}
}

func TestErrorDigest(t *testing.T) {
	refused := "error: GET http://127.0.0.1:1/fhir/metadata: connection refused"
	res := &reports.Results{Counts: reports.Counts{Total: 4, Error: 3, Pass: 1}, Specs: []reports.Spec{
		{ID: "a", Outcome: reports.Error, Reason: refused},
		{ID: "b", Outcome: reports.Error, Reason: "error: timeout"},
		{ID: "c", Outcome: reports.Error, Reason: refused},
		{ID: "d", Outcome: reports.Pass},
	}}
	want := "most frequent error (2 of 3 errors): GET http://127.0.0.1:1/fhir/metadata: connection refused"
	if got := errorDigest(res); got != want {
		t.Errorf("errorDigest = %q, want %q", got, want)
	}
	if got := errorDigest(&reports.Results{Specs: []reports.Spec{{Outcome: reports.Pass}}}); got != "" {
		t.Errorf("no errors: %q, want empty", got)
	}
}
