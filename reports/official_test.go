package reports

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/profiles"
)

// TestOfficialIDs: results carry, per requirement, the IGs' numbered ids the committed mapping
// gives it (profiles/requirements/official), and the HTML report shows them beside ours.
func TestOfficialIDs(t *testing.T) {
	cat, err := profiles.LoadRequirements(fstest.MapFS{"smart.yaml": {Data: []byte(
		"- id: smart.discovery.well-known\n  statement: Well-known.\n  level: SHALL\n  cfr: [\"42 CFR 422.119\"]\n" +
			"- id: t.unmapped\n  statement: No official id.\n  level: SHALL\n  cfr: [\"42 CFR 422.119\"]\n")}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	rep := types.Report{SuiteDescription: "t", StartTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	rep.SpecReports = append(rep.SpecReports, vspec{id: "wk", outcome: Pass, reqs: []string{"smart.discovery.well-known"}}.report(t))
	r, err := FromGinkgo(rep, RunMeta{Target: "https://fhir.example"}, cat)
	if err != nil {
		t.Fatal(err)
	}
	const want = "hl7.fhir.uv.smart-app-launch_2.2.0@372" // the .well-known/smart-configuration document
	for _, q := range r.Requirements {
		switch q.ID {
		case "smart.discovery.well-known":
			if !slices.Contains(q.OfficialIDs, want) {
				t.Errorf("officialIds %v lack %s", q.OfficialIDs, want)
			}
		case "t.unmapped":
			if q.OfficialIDs != nil {
				t.Errorf("t.unmapped: officialIds %v, want none", q.OfficialIDs)
			}
		}
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<div class="note official">Official: `) || !strings.Contains(b.String(), want) {
		t.Error("the HTML report does not show the official ids")
	}
}
