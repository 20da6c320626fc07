package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
	"github.com/pacheck/pacheck/reports"
)

// reportFaults are four data faults of different kinds; each one's failures must form one group
// in the report, however many specs, requirements and IGs they span.
var reportFaults = []string{refserver.FaultSearchDateIgnored, refserver.FaultMustSupportDropped, refserver.FaultWrongContentType, refserver.FaultReadMismatch}

// TestReportGroupsFourFaults runs `pacheck run` (token mode, as the fault catalogue does) against
// the reference server with four faults and checks that the report groups the failures into
// four causes, in results (reports.FailureGroups) and in index.html.
func TestReportGroupsFourFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the four-fault run takes about a minute")
	}
	set := fault.Set{}
	for _, f := range reportFaults {
		set[f] = true
	}
	srv, err := refserver.New(refserver.Config{Members: 3, Seed: 1, Faults: set})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tok := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: "member-1", FHIRUser: "Patient/member-1",
		Scopes: []string{"launch/patient", "openid", "fhirUser", "patient/*.rs"}})
	out := filepath.Join(t.TempDir(), "report")
	conf := filepath.Join(t.TempDir(), "pacheck.yaml")
	yaml := fmt.Sprintf("target: %s\npreset: cms-patient-access\nauth:\n  mode: token\n  token: ${PACHECK_T_TOKEN}\npatients: [member-1]\nattest:\n  must_support_complete: true\nout: %s\n", srv.FHIRBase(), out)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "run", "--quiet", "--pdf", "--config", conf)
	cmd.Env = append(os.Environ(), childEnv+"=1", "PACHECK_T_TOKEN="+tok)
	b, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != ExitNonConf {
		t.Fatalf("exit %d (%v), want %d: %s", code, err, ExitNonConf, tail(string(b), 10))
	}
	r, err := loadResults(out)
	if err != nil {
		t.Fatal(err)
	}
	groups := reports.FailureGroups(r)
	for _, g := range groups {
		t.Logf("%s: %d specs: %s (rules %v; broken %v)", g.ID, len(g.Specs), g.Title, g.Rules, g.Broken)
	}
	if len(groups) != len(reportFaults) {
		t.Errorf("%d cause groups for %d faults (%d failed specs)", len(groups), len(reportFaults), r.Counts.Fail)
	}
	page, err := os.ReadFile(filepath.Join(out, reports.FileHTML))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(page, []byte(`<details class="cause"`)); n != len(groups) {
		t.Errorf("index.html shows %d cause groups, results have %d", n, len(groups))
	}
	causes := []string{"date search parameters ignored", "must-support elements are never populated", "read returns a resource that differs"}
	for _, want := range causes {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html lacks the cause %q", want)
		}
	}
	// run --pdf printed the same report, failures and their evidence included.
	if _, err := browser.FindChromium(""); err != nil {
		t.Skipf("no Chromium: report.pdf not checked: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, FilePDF)); err != nil {
		t.Fatalf("run --pdf wrote no PDF: %v: %s", err, tail(string(b), 10))
	}
	checkPDF(t, filepath.Join(out, FilePDF), append(causes, "NON-CONFORMANT", "Representative exchange", groups[0].Line)...)
}
