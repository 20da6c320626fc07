package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
)

// A recording turns into a regression test by being copied to testdata/recordings/NAME (the
// folder pacheck run --record wrote, outcomes.json included): TestRecordings replays it offline
// and requires every spec's outcome to be the one outcomes.json gives. When a pacheck fix
// changes the right answer, edit that spec's outcome in outcomes.json.
//
// The recordings made against the reference server are listed here; PACHECK_RERECORD=1 makes
// them again (after a change in what the specs ask for, say).
var referenceRecordings = []struct {
	name   string
	faults fault.Set
	args   []string
}{
	// US Core problem Conditions with a clinicalStatus outside the required value set: the
	// validation spec fails, the others pass.
	{"binding-broken", fault.Set{refserver.FaultBindingBroken: true},
		[]string{"--focus", "uscore-6.1.0/us-core-condition-problems-health-concerns/"}},
	// Every 4th FHIR request answers 503 with Retry-After: 0: the replay gives the 503s back in
	// the recorded order, the client retries as it did, and the availability spec fails again.
	{"intermittent-503", fault.Set{refserver.FaultIntermittent503: true},
		[]string{"--focus", "uscore-6.1.0/us-core-condition-problems-health-concerns/", "--focus", "capability/http/"}},
}

func TestRecordings(t *testing.T) {
	if os.Getenv("PACHECK_RERECORD") != "" {
		for _, r := range referenceRecordings {
			rerecord(t, filepath.Join("testdata", "recordings", r.name), r.faults, r.args)
		}
	}
	idx, _ := filepath.Glob(filepath.Join("testdata", "recordings", "*", fhirhttp.RecordingIndex))
	if len(idx) == 0 {
		t.Fatal("no recording in testdata/recordings")
	}
	for _, f := range idx {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) { replayRecording(t, dir) })
	}
}

// replayRecording replays the recording in dir offline and fails the test unless every spec's
// outcome is the one dir/outcomes.json gives.
func replayRecording(t *testing.T, dir string, args ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, outcomesFile))
	if err != nil {
		t.Fatalf("%s: the recorded outcomes: %v", dir, err)
	}
	var want []specOutcome
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", filepath.Join(dir, outcomesFile), err)
	}
	out := filepath.Join(t.TempDir(), "report")
	code, stdout, stderr := childRun(t, nil, 10*time.Minute, append([]string{"replay", dir, "--out", out}, args...)...)
	got, why := specOutcomes(t, out)
	var g []specOutcome
	for id, o := range got {
		g = append(g, specOutcome{ID: id, Outcome: o, Reason: why[id]})
	}
	if d := diffOutcomes(want, g); len(d) > 0 {
		t.Errorf("replay of %s (exit %d): %d specs' outcomes differ from %s:\n%s\nconsole:\n%s\n%s", dir, code, len(d), outcomesFile,
			strings.Join(d, "\n"), tail(stdout, 10), tail(stderr, 5))
	}
	if !strings.Contains(stdout, "every spec's outcome equals the recorded run's") {
		t.Errorf("the console does not say the outcomes equal the recorded run's:\n%s", tail(stdout, 10))
	}
}

// rerecord makes a recording of a token run against the reference server with faults.
func rerecord(t *testing.T, dir string, faults fault.Set, args []string) {
	t.Helper()
	srv := startRefserver(t, refserver.Config{Members: 2, Seed: 1, Faults: faults})
	defer srv.Close()
	tok := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: "member-1", FHIRUser: "Patient/member-1",
		Scopes: []string{"launch/patient", "openid", "fhirUser", "patient/*.rs"}})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := childRun(t, []string{"PACHECK_TEST_TOKEN=" + tok}, 10*time.Minute, append([]string{"run",
		"--target", srv.FHIRBase(), "--auth", "token", "--token-env", "PACHECK_TEST_TOKEN", "--record", dir,
		"--out", filepath.Join(t.TempDir(), "report")}, args...)...)
	t.Logf("re-recorded %s: exit %d\n%s\n%s", dir, code, tail(stdout, 5), tail(stderr, 5))
}
