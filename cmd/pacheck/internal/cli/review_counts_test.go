package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestFleetAndMonitorShowReview: specs left for a person to review are counted on the fleet's
// pages and in the monitor's line, table and metrics, apart from pass.
func TestFleetAndMonitorShowReview(t *testing.T) {
	c := &counts{Total: 10, Pass: 6, Fail: 1, Skip: 0, Error: 0, Known: 0, Review: 3}
	s := &multiSummary{Preset: "cms-patient-access", Verdict: "incomplete", ExitCode: 4,
		Targets: []targetResult{{URL: "https://payer.example/fhir", Folder: "payer", Verdict: "incomplete", ExitCode: 4, Counts: c}}}
	md := s.markdown()
	if !strings.Contains(md, "| known | review | failed requirements |") || !strings.Contains(md, "| 6 | 1 | 0 | 0 | 0 | 3 |") {
		t.Errorf("summary.md lacks the review column or count:\n%s", md)
	}
	var h bytes.Buffer
	if err := multiPage.Execute(&h, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), "<th>review</th>") || !strings.Contains(h.String(), `<td class="n">0</td><td class="n">3</td>`) {
		t.Errorf("index.html lacks the review column or count")
	}
	if l := tickLine(tick{Verdict: "incomplete", Counts: c}); !strings.Contains(l, "3 for a person to review") {
		t.Errorf("monitor line: %s", l)
	}
	c.Review = 0
	if l := tickLine(tick{Verdict: "incomplete", Counts: c}); strings.Contains(l, "review") {
		t.Errorf("monitor line names review with none: %s", l)
	}
}
