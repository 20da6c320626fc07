package cli

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacheck/pacheck/fixtures/refserver"
)

// TestMonitorCatchesFault: the monitor's first check of a conformant server records it; a fault
// switched on in the server before the second check is a regression: the second history line
// names the regressed specs and the failed requirement, the webhook receives it, the status page
// shows both checks, the metrics served between them describe the first, and the monitor exits 1.
func TestMonitorCatchesFault(t *testing.T) {
	srv := startRefserver(t, refserver.Config{Members: 1, Seed: 1})
	t.Setenv(childEnv, "1")
	var mu sync.Mutex
	var posts []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		posts = append(posts, m)
		mu.Unlock()
	}))
	defer hook.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	dir := filepath.Join(t.TempDir(), "mon")
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, o, e := run("monitor", "--target", srv.FHIRBase(), "--preset", "public", "--every", "10s", "--history", dir,
			"--count", "3", "--webhook", hook.URL, "--metrics-addr", addr)
		done <- result{code, o, e}
	}()
	// After the first check: metrics, then the fault.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if b, _ := os.ReadFile(filepath.Join(dir, "history.jsonl")); strings.Count(string(b), "\n") >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no first check within 3 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"# TYPE pacheck_monitor_runs_total counter", `pacheck_monitor_runs_total{target="` + srv.FHIRBase() + `"} 1`,
		`pacheck_monitor_up{target="` + srv.FHIRBase() + `"} 1`, `pacheck_monitor_regressions_total{target="` + srv.FHIRBase() + `"} 0`,
		`pacheck_monitor_specs{target="` + srv.FHIRBase() + `",outcome="pass"} `, "pacheck_monitor_latency_p95_seconds"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics after the first check lack %q:\n%s", want, metrics)
		}
	}
	if err := srv.SetFault(refserver.FaultFormularyBehindAuth, true); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != ExitNonConf {
		t.Fatalf("exit %d, want 1 (a regression)\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	ticks, err := readHistory(filepath.Join(dir, "history.jsonl"))
	if err != nil || len(ticks) != 2 {
		t.Fatalf("history: %d lines (%v), want 2 (the monitor stops at the regression)", len(ticks), err)
	}
	if len(ticks[0].Regressed) != 0 || ticks[0].Counts == nil || ticks[0].LatencyP95MS == nil {
		t.Errorf("first check: %+v; want counts, a latency and no regression", ticks[0])
	}
	if len(ticks[1].Regressed) == 0 || !slices.Contains(ticks[1].Failed, "formulary.public-access") || ticks[1].Verdict != "non-conformant" {
		t.Errorf("second check: %+v; want non-conformant, regressed specs and formulary.public-access failed", ticks[1])
	}
	if d := ticks[1].Time.Sub(ticks[0].Time); d < 10*time.Second {
		t.Errorf("checks %v apart, want --every 10s", d)
	}
	mu.Lock()
	if len(posts) != 1 || posts[0]["event"] != "regression" || posts[0]["target"] != srv.FHIRBase() {
		t.Errorf("webhook posts: %v; want one regression of the target", posts)
	}
	mu.Unlock()
	page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, want := range []string{"<svg", "aria-label=\"verdict of each check", "95th-percentile latency per check", "non-conformant", ticks[1].Folder + "/index.html"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Contains(string(page), "<script") {
		t.Error("status page has a script")
	}
	for _, tk := range ticks {
		if _, err := os.Stat(filepath.Join(dir, tk.Folder, "results.json")); err != nil {
			t.Errorf("check %s: report not kept: %v", tk.Folder, err)
		}
	}
	if !strings.Contains(r.stdout, "REGRESSION: ") {
		t.Errorf("stdout does not say REGRESSION:\n%s", r.stdout)
	}
}

func TestMonitorUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "history.jsonl"), []byte("{\"time\":\"2026-01-01T00:00:00Z\"}\nnot json\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", "http://127.0.0.1:9/fhir"}, "--history DIR is required"},
		{[]string{"--target", "http://127.0.0.1:9/fhir", "--history", dir, "--every", "1s"}, "--every 1s: give at least 10s"},
		{[]string{"--target", "http://127.0.0.1:9/fhir", "--history", dir, "--on-regression", "panic"}, `--on-regression "panic": use exit or continue`},
		{[]string{"--target", "http://127.0.0.1:9/fhir", "--history", dir, "--webhook", "ftp://x"}, `--webhook "ftp://x" is not an http(s) URL`},
		{[]string{"--target", "http://127.0.0.1:9/fhir", "--history", dir, "--keep", "0"}, "--keep 0: keep at least 1"},
		{[]string{"--history", dir}, "no target"},
		{[]string{"--target", "http://127.0.0.1:9/fhir", "--history", bad}, "history.jsonl:2 is not a pacheck monitor line"},
	} {
		code, _, stderr := run(append([]string{"monitor", "--preset", "public"}, c.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	// The history the monitor refused is left as it was.
	if b, _ := os.ReadFile(filepath.Join(bad, "history.jsonl")); !strings.Contains(string(b), "not json") {
		t.Error("the unreadable history was changed")
	}
}
