package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
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
