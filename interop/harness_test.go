//go:build interop

package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/internal/shared"
)

// TestInterop starts the interop stack (node server.js), runs `pacheck run --config
// interop/pacheck.yaml` against it unattended (headless Chromium through oidc-provider's own
// pages), and fails on any spec whose outcome differs from expected.yaml. The report stays in
// interop/report (git-ignored) for reading the evidence. Run it with `make interop`.
func TestInterop(t *testing.T) {
	// INTEROP_RESULTS=path/results.json judges a finished run against the table without rerunning.
	if f := os.Getenv("INTEROP_RESULTS"); f != "" {
		table, err := LoadTable("expected.yaml")
		if err != nil {
			t.Fatal(err)
		}
		judge(t, table, f)
		return
	}
	pkgs := shared.Require(t, "fhir-packages")
	for _, tool := range []string{"node", "chromium"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: %s is not on PATH (make interop needs node >= 20.19 and chromium; .ci/interop installs them)", tool)
		}
	}
	if _, err := os.Stat("node_modules/oidc-provider/package.json"); err != nil {
		t.Skip("skipped: interop/node_modules is not installed; run `make interop` (it runs npm ci first)")
	}
	table, err := LoadTable("expected.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bin := os.Getenv("PACHECK_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "pacheck")
		build := exec.Command("go", "build", "-o", bin, "../cmd/pacheck")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	bin, _ = filepath.Abs(bin)

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	origin, stop := startStack(t, ctx, pkgs)
	defer stop()

	out, _ := filepath.Abs("report")
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run := exec.CommandContext(ctx, bin, "run", "--config", "pacheck.yaml")
	run.Env = append(os.Environ(), "INTEROP_ORIGIN="+origin, "INTEROP_OUT="+out)
	console, err := run.CombinedOutput()
	if err := os.WriteFile(filepath.Join(os.TempDir(), "interop-console.log"), console, 0o644); err != nil {
		t.Log(err)
	}
	var exit *exec.ExitError
	// 0 conformant, 1 non-conformant and 4 incomplete are verdicts; the table judges them.
	if err != nil && !(errors.As(err, &exit) && (exit.ExitCode() == 1 || exit.ExitCode() == 4)) {
		t.Fatalf("pacheck run: %v\n%s", err, tail(console, 40))
	}
	t.Logf("pacheck run took %s (console in %s)", time.Since(start).Round(time.Second), filepath.Join(os.TempDir(), "interop-console.log"))

	judge(t, table, filepath.Join(out, "results.json"))
}

// judge fails t on every difference between the run's results.json and the table.
func judge(t *testing.T, table *Table, results string) {
	res, err := LoadResults(results)
	if err != nil {
		t.Fatal(err)
	}
	diffs, counts, unused := Compare(table, res)
	t.Logf("%d specs: %d pass, %d fail, %d skip, %d error (%s)", len(res.Specs), counts["pass"], counts["fail"], counts["skip"], counts["error"], results)
	for _, d := range diffs {
		t.Errorf("%s", d)
	}
	for _, u := range unused {
		t.Errorf("expected.yaml: %q matches no spec of the run (stale entry)", u)
	}
}

// startStack starts node server.js on a free loopback port and returns its origin once it
// listens; stop ends it.
func startStack(t *testing.T, ctx context.Context, pkgs string) (origin string, stop func()) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "node", "server.js", "--port", "0", "--packages", pkgs)
	cmd.Stderr = &prefixWriter{t: t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node server.js: %v", err)
	}
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		var info struct{ Origin string }
		if !ok || json.Unmarshal([]byte(l), &info) != nil || info.Origin == "" {
			stop()
			t.Fatalf("node server.js did not report where it listens (first line %q)", l)
		}
		return info.Origin, stop
	case <-time.After(2 * time.Minute):
		stop()
		t.Fatal("node server.js did not start within 2 minutes")
	}
	return "", stop
}

// prefixWriter logs the stack's stderr lines through t.Log.
type prefixWriter struct{ t *testing.T }

func (w *prefixWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if l != "" && !strings.Contains(l, "oidc-provider WARNING") {
			w.t.Log(l)
		}
	}
	return len(p), nil
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return fmt.Sprint(strings.Join(lines, "\n"))
}
