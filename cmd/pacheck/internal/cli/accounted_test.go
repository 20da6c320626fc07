package cli

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/suites/runner"
)

// TestEveryRequirementAccounted: every catalogue requirement is tested by a spec of some preset,
// takes the payer's attestation, or says specifically why no spec can test it on the wire
// (untested_reason) — none is left to the boilerplate "no spec in this selection tests it".
func TestEveryRequirementAccounted(t *testing.T) {
	cat, err := profiles.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{}
	for _, preset := range []string{"cms-patient-access", "cms-patient-access-2020", "cms-0057-2027", "public", "provider-directory", "smart-2.2"} {
		f := runFlags{preset: preset}
		p, err := f.resolve(false, func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatalf("preset %s: %v", preset, err)
		}
		rep, err := runner.List(runner.Options{Run: p.run, LabelFilter: p.file.LabelFilter, Focus: p.file.Focus})
		if err != nil {
			t.Fatalf("preset %s: %v", preset, err)
		}
		for _, s := range rep.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped {
				continue
			}
			for _, l := range s.Labels() {
				if id, ok := strings.CutPrefix(l, "req:"); ok {
					tested[id] = true
				}
			}
		}
	}
	for _, r := range cat.All() {
		switch {
		case tested[r.ID]:
			if r.UntestedReason != "" {
				t.Errorf("%s (%s): a spec tests it, yet it says why none can: drop untested_reason", r.ID, r.Source)
			}
		case r.Attestation != "":
		case len(strings.Fields(r.UntestedReason)) >= 12:
		default:
			t.Errorf("%s (%s): no spec of any preset tests it, it takes no attestation and gives no specific untested_reason (why the wire cannot show it, what would)", r.ID, r.Source)
		}
	}
}
