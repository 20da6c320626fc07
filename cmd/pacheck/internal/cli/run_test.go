package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
)

// TestRunWithTokenAgainstRefserver is the one full run of this test binary (Ginkgo allows one per
// process): `pacheck run --auth token --allow-incomplete` against the reference server finds no
// failure and writes every report file. Without a SMART launch (and over http) some selected SHALL
// requirements cannot run: the run is INCOMPLETE, says so with what would enable each, and exits
// 0 as --allow-incomplete asks. It names no --patient: the patient is found with the token.
func TestRunWithTokenAgainstRefserver(t *testing.T) {
	srv := startRefserver(t, refserver.Config{Members: 3, Seed: 1})
	tok := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: "member-1", FHIRUser: "Patient/member-1",
		Scopes: []string{"launch/patient", "openid", "fhirUser", "patient/*.rs"}})
	t.Setenv("PACHECK_TEST_TOKEN", tok)
	out := filepath.Join(t.TempDir(), "report")
	code, stdout, stderr := run("run", "--target", srv.FHIRBase(), "--auth", "token", "--token-env", "PACHECK_TEST_TOKEN",
		"--preset", "cms-patient-access", "--label-filter", "!smart && level:SHALL", "--out", out, "--allow-incomplete")
	t.Logf("stdout:\n%s\nstderr:\n%s", tail(stdout, 40), stderr)
	// no --patient: the run examines the patient the token opens
	if !strings.Contains(stderr, "examining patient member-1") {
		t.Errorf("stderr does not say which patient was found with the token: %q", stderr)
	}
	for _, f := range []string{"index.html", "results.json", "junit.xml", "summary.md", "pacheck-evidence.tar.gz"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	// The run signs nothing here: verify says the bundle is intact and, plainly, unsigned.
	if code, vout, verr := run("verify", filepath.Join(out, "pacheck-evidence.tar.gz")); code != ExitOK || !strings.Contains(vout, "intact") || !strings.Contains(vout, "UNSIGNED") {
		t.Errorf("verify: exit %d, %q %q; want intact and UNSIGNED", code, vout, verr)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Verdict    string
		Counts     struct{ Total, Pass, Fail, Error int }
		Incomplete []struct{ Requirement, Reason, WouldEnable string }
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Counts.Total < 100 || res.Counts.Pass < res.Counts.Total/2 {
		t.Errorf("counts %+v: expected hundreds of specs, most of them passing", res.Counts)
	}
	if code != ExitOK || res.Counts.Fail != 0 || res.Counts.Error != 0 {
		t.Errorf("exit %d with %+v: the reference server has no failure, and --allow-incomplete exits 0", code, res.Counts)
	}
	if res.Verdict != "incomplete" || len(res.Incomplete) == 0 || !strings.Contains(stdout, "INCOMPLETE: ") ||
		!strings.Contains(stdout, "(exit 0: incomplete allowed)") || !strings.Contains(stdout, "selected SHALL requirements did not run:") {
		t.Errorf("verdict %q with %d missing requirements; the console must say INCOMPLETE and list them", res.Verdict, len(res.Incomplete))
	}
	for _, m := range res.Incomplete {
		if m.WouldEnable != "" && !strings.Contains(stdout, "  "+m.Requirement+" (") && len(res.Incomplete) <= maxListed {
			t.Errorf("missing requirement %s is not listed on the console", m.Requirement)
		}
	}
	// The token never reaches the report.
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !strings.HasSuffix(p, ".gz") {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), tok) {
				t.Errorf("%s contains the access token", p)
			}
		}
		return nil
	})
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// childRun runs this test binary as pacheck (see TestMain) with args, in its own process: Ginkgo
// allows one run per process. It returns the exit code, stdout and stderr; the child is killed
// if it outlives limit (a bound on a hung child, not a timing assertion).
func childRun(t *testing.T, env []string, limit time.Duration, args ...string) (int, string, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	defer timer.Stop()
	cmd.Wait()
	return cmd.ProcessState.ExitCode(), o.String(), e.String()
}

type resultsFile struct {
	Verdict string
	Counts  struct{ Total, Pass, Fail, Skip, Error int }
	Run     struct{ Errors []string }
}

func readResults(t *testing.T, dir string) resultsFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatalf("the report of what ran was not written: %v", err)
	}
	var r resultsFile
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRunDeadline: a run that reaches --deadline ends as an environment error (exit 3) naming the
// limit, and the report of what ran is still written: against a server that answers every request
// 2 s late (mid-run), and with a deadline already over when the specs would start.
func TestRunDeadline(t *testing.T) {
	for _, c := range []struct {
		name     string
		faults   fault.Set
		deadline string
	}{
		{"slow server", fault.Set{refserver.FaultSlowResponses: true}, "6s"},
		{"over before the specs", nil, "1ns"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := startRefserver(t, refserver.Config{Members: 1, Seed: 1, Faults: c.faults})
			tok := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: "member-1", FHIRUser: "Patient/member-1",
				Scopes: []string{"launch/patient", "openid", "fhirUser", "patient/*.rs"}})
			out := filepath.Join(t.TempDir(), "report")
			code, stdout, stderr := childRun(t, []string{"PACHECK_TEST_TOKEN=" + tok}, 5*time.Minute,
				"run", "--target", srv.FHIRBase(), "--auth", "token", "--token-env", "PACHECK_TEST_TOKEN", "--patient", "member-1",
				"--label-filter", "!smart && level:SHALL", "--deadline", c.deadline, "--out", out)
			t.Logf("stdout:\n%s\nstderr:\n%s", tail(stdout, 20), stderr)
			want := "the run reached its deadline of " + c.deadline + " (--deadline or limits.deadline)"
			if code != ExitEnvError || !strings.Contains(stderr, want) {
				t.Errorf("exit %d, stderr lacks %q; want exit 3 naming the limit", code, want)
			}
			if !strings.HasPrefix(stdout, "ERROR: ") && !strings.Contains(stdout, "\nERROR: ") {
				t.Errorf("the verdict line does not say ERROR:\n%s", stdout)
			}
			res := readResults(t, out)
			joined := strings.Join(res.Run.Errors, "; ")
			if res.Verdict != "error" || !strings.Contains(joined, want) {
				t.Errorf("results.json: verdict %q, run errors %q; want error naming the deadline", res.Verdict, joined)
			}
			if res.Counts.Pass+res.Counts.Fail == res.Counts.Total {
				t.Errorf("counts %+v: every spec ran, the deadline stopped nothing", res.Counts)
			}
		})
	}
}

// TestRunInterrupted: SIGINT during `pacheck demo` (the browser started) ends the run with exit 3
// and the report of what ran; the browser is closed and its temporary profile removed.
func TestRunInterrupted(t *testing.T) {
	if _, err := exec.LookPath("chromium"); err != nil {
		if _, err := os.Stat("/usr/bin/chromium"); err != nil {
			t.Skip("no Chromium (apt-get install -y chromium): the demo needs a browser")
		}
	}
	tmp := t.TempDir() // Chromium's profile goes here: it must be empty at the end
	out := filepath.Join(t.TempDir(), "report")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer // read after Wait only
	cmd := exec.Command(exe, "demo", "--members", "1", "--out", out)
	cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR="+tmp)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second // a leftover grandchild holding the pipes does not hang the test
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill := time.AfterFunc(5*time.Minute, func() { cmd.Process.Kill() }) // bounds a hung child
	defer kill.Stop()
	// Interrupt once the browser's profile exists (the run is under way), or after 3 minutes.
	for i := 0; i < 1800 && len(chromiumProfiles(t, tmp)) == 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if len(chromiumProfiles(t, tmp)) == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no Chromium profile appeared in %s: stderr %s", tmp, stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	if code != ExitEnvError || !strings.Contains(stderr.String(), "interrupted by a signal") {
		t.Errorf("exit %d; want 3 and the interruption named on stderr", code)
	}
	res := readResults(t, out)
	if res.Verdict != "error" || !strings.Contains(strings.Join(res.Run.Errors, "; "), "interrupted by a signal") {
		t.Errorf("results.json: verdict %q, run errors %q; want error, interrupted", res.Verdict, res.Run.Errors)
	}
	if left := chromiumProfiles(t, tmp); len(left) > 0 {
		t.Errorf("Chromium profile left behind: %v", left)
	}
}

func chromiumProfiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "pacheck-chromium-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A selection that matches no spec is a usage error found before anything runs (exit 2, one
// line), not an empty report. In a child process: the count builds the spec tree, which Ginkgo
// refuses after this process's one run.
func TestRunNoSpecMatched(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report")
	code, stdout, stderr := childRun(t, nil, 5*time.Minute, "run", "--target", "http://127.0.0.1:9/fhir", "--auth", "none",
		"--preset", "public", "--focus", "^no-such-spec$", "--out", out)
	want := `pacheck run: no spec matched the selection (label filter "", focus "^no-such-spec$"): nothing was tested`
	if code != ExitUsage || strings.TrimSpace(stderr) != want || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(out, "results.json")); err == nil {
		t.Error("a report was written for a run that tested nothing")
	}
}
