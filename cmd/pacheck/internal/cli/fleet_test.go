package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
)

// fleetFaults are the public preset's faults a fleet test mixes with clean servers; "" is clean.
var fleetFaults = []string{"", refserver.FaultWrongFHIRVersion, "", refserver.FaultFormularyBehindAuth, "", refserver.FaultWrongContentType}

// startFleet starts one reference server per fault name and returns their FHIR bases.
func startFleet(t *testing.T, faults []string) []string {
	t.Helper()
	var bases []string
	for _, f := range faults {
		cfg := refserver.Config{Members: 1, Seed: 1}
		if f != "" {
			cfg.Faults = fault.Set{f: true}
		}
		bases = append(bases, startRefserver(t, cfg).FHIRBase())
	}
	return bases
}

// wantFleetRow checks one target's row: clean servers are INCOMPLETE (served over http, the TLS
// requirement cannot run), a faulty one NON-CONFORMANT with its fault's requirements among the
// failed ones.
func wantFleetRow(t *testing.T, i int, faultName string, verdict string, code int, failed []string) {
	t.Helper()
	if faultName == "" {
		if verdict != "incomplete" || code != ExitIncomplete || len(failed) != 0 {
			t.Errorf("target %d (clean): %s, exit %d, failed %v; want incomplete, exit 4, nothing failed", i+1, verdict, code, failed)
		}
		return
	}
	f, _ := fault.Lookup(faultName)
	if verdict != "non-conformant" || code != ExitNonConf {
		t.Errorf("target %d (%s): %s, exit %d; want non-conformant, exit 1", i+1, faultName, verdict, code)
	}
	for _, req := range f.Requirements {
		if !slices.Contains(failed, req) {
			t.Errorf("target %d (%s): failed requirements %v lack %s", i+1, faultName, failed, req)
		}
	}
}

type fleetFile struct {
	ExitCode int
	Verdict  string
	Parallel int
	PeakMiB  int64 `json:"peakMemoryMiB"`
	Merged   []string
	Targets  []struct {
		URL, Folder, Verdict, Report, Error string
		ExitCode                            int
		Failed                              []string `json:"failedRequirements"`
		PeakMiB                             int64    `json:"peakMemoryMiB"`
	}
}

func readFleet(t *testing.T, out string) fleetFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fleetFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// runSpan is a child's run time from its results.json.
func runSpan(t *testing.T, dir string) (time.Time, time.Time) {
	t.Helper()
	s, e := runTimes(dir)
	if s.IsZero() || e.IsZero() {
		t.Fatalf("%s: no run start and end in results.json", dir)
	}
	return s, e
}

// TestFleetParallel: six reference servers, three with a fault, under --parallel 3: every verdict
// right, the failed requirements named per target, runs that overlap in time (they did run at
// once), memory figures recorded, and targets.json in the list's order.
func TestFleetParallel(t *testing.T) {
	bases := startFleet(t, fleetFaults)
	t.Setenv(childEnv, "1")
	dir := t.TempDir()
	list := filepath.Join(dir, "targets.txt")
	os.WriteFile(list, []byte(strings.Join(bases, "\n")+"\n"), 0o644)
	out := filepath.Join(dir, "fleet")
	code, stdout, stderr := run("run", "--targets", list, "--preset", "public", "--parallel", "3", "--out", out)
	if code != ExitNonConf {
		t.Fatalf("exit %d, want 1\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	f := readFleet(t, out)
	if f.Parallel != 3 || len(f.Targets) != len(bases) {
		t.Fatalf("targets.json: parallel %d, %d targets", f.Parallel, len(f.Targets))
	}
	overlap := false
	var spans [][2]time.Time
	for i, tr := range f.Targets {
		if tr.URL != bases[i] {
			t.Errorf("targets.json row %d is %s, want %s (the list's order)", i+1, tr.URL, bases[i])
		}
		wantFleetRow(t, i, fleetFaults[i], tr.Verdict, tr.ExitCode, tr.Failed)
		s, e := runSpan(t, filepath.Join(out, tr.Folder))
		for _, o := range spans {
			overlap = overlap || (s.Before(o[1]) && o[0].Before(e))
		}
		spans = append(spans, [2]time.Time{s, e})
		if tr.PeakMiB <= 0 {
			t.Errorf("target %d: no peak memory recorded", i+1)
		}
	}
	if !overlap {
		t.Errorf("no two runs overlapped in time: --parallel 3 ran them one after another: %v", spans)
	}
	if f.PeakMiB <= 0 {
		t.Error("targets.json: no fleet peak memory")
	}
	md, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	if !strings.Contains(string(md), "Up to 3 targets ran at once") || !strings.Contains(string(md), "| 1: capability.fhir-version |") {
		t.Errorf("summary.md lacks the parallelism or the failed requirement of target 2:\n%s", md)
	}
}

// TestFleetMemoryBound: a target whose run passes --target-memory is stopped and reported as an
// error naming the bound; the other target of the fleet is unaffected.
func TestFleetMemoryBound(t *testing.T) {
	t.Setenv(childEnv, "hog-port9")
	out := filepath.Join(t.TempDir(), "out")
	start := time.Now()
	code, stdout, stderr := run("run", "--target", "http://127.0.0.1:9/fhir", "--target", "http://127.0.0.1:10/fhir",
		"--preset", "public", "--parallel", "2", "--target-memory", "128MiB", "--out", out)
	if code != ExitEnvError {
		t.Errorf("exit %d, want 3\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if d := time.Since(start); d > 5*time.Minute {
		t.Errorf("the hog was not stopped: %v", d) // it sleeps 10 minutes when left alone
	}
	f := readFleet(t, out)
	if len(f.Targets) != 2 {
		t.Fatalf("targets.json: %+v", f)
	}
	hog, other := f.Targets[0], f.Targets[1]
	if hog.ExitCode != ExitEnvError || !strings.HasPrefix(hog.Error, "stopped: the run used ") || !strings.HasSuffix(hog.Error, "of memory, more than --target-memory 128MiB") {
		t.Errorf("the hog: exit %d, error %q; want 3 and the memory bound named", hog.ExitCode, hog.Error)
	}
	if other.ExitCode != ExitIncomplete || other.Error != "" {
		t.Errorf("the other target: exit %d, error %q; want 4 and no error", other.ExitCode, other.Error)
	}
}

func TestFleetFlagErrors(t *testing.T) {
	list := filepath.Join(t.TempDir(), "targets.txt")
	os.WriteFile(list, []byte("http://127.0.0.1:9/fhir\nhttp://127.0.0.1:10/fhir\n"), 0o644)
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--targets", list, "--parallel", "0"}, "", "--parallel 0: give 1 to 16"},
		{[]string{"--targets", list, "--parallel", "17"}, "", "--parallel 17: give 1 to 16"},
		{[]string{"--targets", list, "--target-memory", "lots"}, "", `"lots" is not a size: give e.g. 512MiB or 2GiB`},
		{[]string{"--targets", list, "--target-memory", "1MiB"}, "", `"1MiB" is too small for a run (at least 64MiB)`},
		{[]string{"--target", "http://127.0.0.1:9/fhir", "--parallel", "2"}, "", "--parallel applies to --targets or several --target only"},
		{[]string{"--target-index", "0", "--target", "http://127.0.0.1:9/fhir"}, "", "--target-index needs --targets FILE"},
		{[]string{"--targets", list, "--target-index", "2"}, "", "--target-index: the list has 2 target(s), indexes 0 to 1"},
		{[]string{"--targets", list, "--target-index", "-1"}, "", "--target-index: give a 0-based index into the targets list"},
		{[]string{"--targets", list, "--target-index", "env:JOB_COMPLETION_INDEX"}, "", "the environment variable JOB_COMPLETION_INDEX is not set"},
		{[]string{"--targets", list, "--target-index", "env:JOB_COMPLETION_INDEX"}, "x", `--target-index env:JOB_COMPLETION_INDEX (JOB_COMPLETION_INDEX="x"): give a 0-based index`},
		{[]string{"--targets", list, "--target-index", "0", "--parallel", "2"}, "", "--parallel does not apply to --target-index"},
	} {
		t.Run(strings.Join(c.args[2:], " ")+" "+c.env, func(t *testing.T) {
			if c.env != "" {
				t.Setenv("JOB_COMPLETION_INDEX", c.env)
			} else {
				os.Unsetenv("JOB_COMPLETION_INDEX")
			}
			code, _, stderr := run(append([]string{"run", "--preset", "public"}, c.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, stderr, c.want)
			}
		})
	}
}

// TestIndexedJobAndMerge does what deploy/k8s's Indexed Job does, without a cluster: one process
// per completion index with JOB_COMPLETION_INDEX set, each running its target of the shared list
// into a shared folder; then `pacheck report merge --targets` builds the fleet page from that
// folder. One target of the list has no pod (a Job whose pod never ran): its row is an error.
func TestIndexedJobAndMerge(t *testing.T) {
	faults := []string{"", refserver.FaultWrongFHIRVersion}
	bases := startFleet(t, faults)
	dir := t.TempDir()
	list := filepath.Join(dir, "targets.txt")
	never := "http://127.0.0.1:9/never-ran"
	os.WriteFile(list, []byte(strings.Join(append(bases, never), "\n")+"\n"), 0o644)
	shared := filepath.Join(dir, "reports")
	for i := range bases {
		cmd := exec.Command(os.Args[0], "run", "--targets", list, "--target-index", "env:JOB_COMPLETION_INDEX", "--preset", "public", "--out", shared, "--quiet")
		cmd.Env = append(os.Environ(), childEnv+"=1", fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i))
		b, err := cmd.CombinedOutput()
		want := []int{ExitIncomplete, ExitNonConf}[i]
		if cmd.ProcessState.ExitCode() != want {
			t.Fatalf("pod %d: exit %d (%v), want %d:\n%s", i, cmd.ProcessState.ExitCode(), err, want, b)
		}
	}
	ents, _ := os.ReadDir(shared)
	if len(ents) != len(bases) {
		t.Fatalf("the shared folder holds %d entries, want one report folder per pod", len(ents))
	}
	out := filepath.Join(shared, "fleet")
	code, stdout, stderr := run("report", "merge", "--targets", list, "--out", out, shared)
	if code != ExitEnvError {
		t.Errorf("merge: exit %d, want 3 (the target that never ran is an error)\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	f := readFleet(t, out)
	if len(f.Targets) != 3 || len(f.Merged) != 1 || f.Merged[0] != shared {
		t.Fatalf("targets.json: %+v", f)
	}
	for i, tr := range f.Targets[:2] {
		if tr.URL != bases[i] {
			t.Errorf("row %d: %s, want %s", i+1, tr.URL, bases[i])
		}
		wantFleetRow(t, i, faults[i], tr.Verdict, tr.ExitCode, tr.Failed)
		if tr.Report == "" || !strings.HasPrefix(tr.Report, "../") {
			t.Errorf("row %d: report link %q, want one relative to the fleet page", i+1, tr.Report)
		} else if _, err := os.Stat(filepath.Join(out, tr.Report)); err != nil {
			t.Errorf("row %d: the link %q does not reach the report: %v", i+1, tr.Report, err)
		}
	}
	if last := f.Targets[2]; last.URL != never || last.ExitCode != ExitEnvError || !strings.HasPrefix(last.Error, "no report") {
		t.Errorf("the target without a pod: %+v; want an error row saying no report", last)
	}
	// Without --targets, the rows are the reports found; the page can be rebuilt in place.
	code, _, stderr = run("report", "merge", "--out", out, shared)
	if code != ExitNonConf || len(readFleet(t, out).Targets) != 2 {
		t.Errorf("merge without --targets: exit %d, want 1 and two rows: %s", code, stderr)
	}
}

func TestReportMergeErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	junk := filepath.Join(dir, "junk")
	os.MkdirAll(junk, 0o755)
	os.WriteFile(filepath.Join(junk, "results.json"), []byte(`{"hello":1}`), 0o644)
	single := filepath.Join(dir, "single")
	os.MkdirAll(single, 0o755)
	os.WriteFile(filepath.Join(single, "index.html"), []byte("<html>"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "merge"}, "no report folder given"},
		{[]string{"report", "merge", filepath.Join(dir, "missing")}, "report folder " + filepath.Join(dir, "missing")},
		{[]string{"report", "merge", empty}, empty + " holds no pacheck report"},
		{[]string{"report", "merge", junk}, "results.json is not a pacheck results file"},
		{[]string{"report", "merge", "--out", single, junk}, "results.json is not a pacheck results file"},
	} {
		code, _, stderr := run(c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestFleetTwentyFigures (PACHECK_FLEET_FIGURES=1; minutes) is the figure of issue #22: a fleet of
// 20 reference servers, one in four with a fault, run with the public preset sequentially and with
// --parallel 4 side by side; every verdict must be right in both, and the wall time and the
// fleet's peak memory of each are logged.
func TestFleetTwentyFigures(t *testing.T) {
	if os.Getenv("PACHECK_FLEET_FIGURES") != "1" {
		t.Skip("PACHECK_FLEET_FIGURES=1 measures a 20-server fleet sequentially and with --parallel 4")
	}
	var faults []string
	for i := 0; i < 20; i++ {
		faults = append(faults, fleetFaults[i%len(fleetFaults)])
	}
	bases := startFleet(t, faults)
	t.Setenv(childEnv, "1")
	dir := t.TempDir()
	list := filepath.Join(dir, "targets.txt")
	os.WriteFile(list, []byte(strings.Join(bases, "\n")+"\n"), 0o644)
	for _, par := range []string{"1", "4"} {
		out := filepath.Join(dir, "fleet-"+par)
		start := time.Now()
		code, stdout, stderr := run("run", "--targets", list, "--preset", "public", "--parallel", par, "--out", out, "--quiet")
		wall := time.Since(start)
		if code != ExitNonConf {
			t.Errorf("--parallel %s: exit %d, want 1\n%s%s", par, code, stdout, stderr)
		}
		f := readFleet(t, out)
		var peakOne int64
		for i, tr := range f.Targets {
			wantFleetRow(t, i, faults[i], tr.Verdict, tr.ExitCode, tr.Failed)
			peakOne = max(peakOne, tr.PeakMiB)
		}
		t.Logf("--parallel %s: 20 targets in %v; fleet peak memory %d MiB (largest single run %d MiB)", par, wall.Round(100*time.Millisecond), f.PeakMiB, peakOne)
	}
}
