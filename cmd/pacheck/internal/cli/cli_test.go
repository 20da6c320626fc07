package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Usage: pacheck"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"run"}, "no target"},
		{[]string{"run", "--target", "ftp://x"}, "is not an http(s) URL"},
		{[]string{"run", "--target", "https://x.org/fhir", "--preset", "nope"}, `unknown preset "nope"`},
		{[]string{"run", "--target", "https://x.org/fhir", "--auth", "magic"}, `--auth "magic"`},
		{[]string{"run", "--target", "https://x.org/fhir", "--token-env", "PACHECK_SURELY_UNSET"}, "PACHECK_SURELY_UNSET: the environment variable is not set"},
		{[]string{"run", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"run", "--config", "/nonexistent/pacheck.yaml"}, "cannot read it"},
		{[]string{"config", "check"}, "expected 'check FILE' or 'example'"},
		{[]string{"list", "--format", "xml"}, `--format "xml"`},
	} {
		code, _, stderr := run(c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("pacheck %v: exit %d, stderr %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 0 && len(c.args) > 0 {
			t.Errorf("pacheck %v: error is %d lines, want one", c.args, n+1)
		}
	}
}

func TestHelpFitsOneScreenWithExample(t *testing.T) {
	code, out, _ := run("help")
	if code != 0 || !strings.Contains(out, "Examples:") {
		t.Fatalf("help: %d %q", code, out)
	}
	for name := range commands {
		code, out, _ := run("help", name)
		if code != 0 {
			t.Errorf("help %s: exit %d", name, code)
		}
		if !strings.Contains(out, "Example") {
			t.Errorf("help %s shows no example", name)
		}
		if n := strings.Count(out, "\n"); n > 50 {
			t.Errorf("help %s is %d lines: more than one screen", name, n)
		}
	}
}

func TestConfigExampleChecks(t *testing.T) {
	code, out, _ := run("config", "example")
	if code != 0 || !strings.Contains(out, "target:") {
		t.Fatalf("config example: %d", code)
	}
}

func TestVersion(t *testing.T) {
	if code, out, _ := run("--version"); code != 0 || !strings.HasPrefix(out, "pacheck ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestFHIRPathCommand(t *testing.T) {
	if code, out, _ := run("fhirpath", "--", "-5.abs() + 2"); code != 0 || strings.TrimSpace(out) != `[{"type":"integer","value":"-3"}]` {
		t.Errorf("expression starting with '-': %d %q", code, out)
	}
	if code, _, errOut := run("fhirpath", "name.(("); code != ExitUsage || !strings.Contains(errOut, "col 6") {
		t.Errorf("syntax error: %d %q", code, errOut)
	}
	if code, _, errOut := run("fhirpath", "(1 | 2).single()"); code != ExitNonConf || errOut == "" {
		t.Errorf("evaluation error: %d %q", code, errOut)
	}
	// trace() goes to stderr, never stdout.
	if code, out, errOut := run("fhirpath", "'abc'.trace('marker-label')"); code != 0 || strings.Contains(out, "marker-label") || !strings.Contains(errOut, "marker-label") {
		t.Errorf("trace: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// --resource reads a regular file only: a device or a FIFO is refused at once, never read or
	// waited on.
	fifo := filepath.Join(t.TempDir(), "r.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/dev/zero": "is a device", fifo: "is a FIFO"} {
		if code, _, errOut := run("fhirpath", "--resource", path, "1"); code != ExitUsage || !strings.Contains(errOut, "--resource: "+path+" "+want) {
			t.Errorf("--resource %s: exit %d, %q", path, code, errOut)
		}
	}
}

func TestRefserverListFaults(t *testing.T) {
	code, out, _ := run("refserver", "--list-faults")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) < 30 {
		t.Fatalf("--list-faults: exit %d, %d faults; want at least 30", code, len(lines))
	}
	for _, l := range lines {
		if f := strings.Split(l, "\t"); len(f) != 3 || f[0] == "" || f[1] == "" || f[2] == "" {
			t.Errorf("fault line %q is not name<TAB>requirements<TAB>description", l)
		}
	}
	if code, _, errOut := run("refserver", "--fault", "no-such-fault"); code != ExitUsage || !strings.Contains(errOut, "no-such-fault") {
		t.Errorf("unknown fault: exit %d %q", code, errOut)
	}
}

func TestValidateCommandWired(t *testing.T) {
	if code, _, errOut := run("validate", "/nonexistent.json"); code != ExitUsage || errOut == "" {
		t.Errorf("validate of a missing file: exit %d %q", code, errOut)
	}
}

// The config keys and flags of the run's limits, allowed origins and allow_incomplete reach the
// Run; a flag wins over the config.
func TestResolveLimitsAndAllowIncomplete(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "pacheck.yaml")
	os.WriteFile(cfg, []byte(`target: https://fhir.example.org/r4
auth:
  mode: none
  allowed_origins: ["https://idp.example.org"]
limits:
  deadline: 20m
  retries: 3
  retry_max_wait: 5s
  max_latency: 2s
allow_incomplete: true
`), 0o644)
	for _, c := range []struct {
		name         string
		f            runFlags
		wantDeadline time.Duration
		wantAllow    bool
	}{
		{"config", runFlags{config: cfg}, 20 * time.Minute, true},
		{"flag wins", runFlags{config: cfg, deadline: 5 * time.Minute}, 5 * time.Minute, true},
		{"flags only", runFlags{target: "https://fhir.example.org/r4", auth: "none", allowIncomplete: true}, 0, true},
		{"defaults", runFlags{target: "https://fhir.example.org/r4", auth: "none"}, 0, false},
	} {
		p, err := c.f.resolve(true, os.LookupEnv)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		l := p.run.Limits
		if l.Deadline != c.wantDeadline || p.allowIncomplete != c.wantAllow {
			t.Errorf("%s: deadline %v allow-incomplete %v, want %v %v", c.name, l.Deadline, p.allowIncomplete, c.wantDeadline, c.wantAllow)
		}
		if c.f.config != "" && (l.RetryAttempts != 3 || l.RetryMaxWait != 5*time.Second || l.MaxLatency != 2*time.Second ||
			len(p.run.Auth.AllowedOrigins) != 1 || p.run.Auth.AllowedOrigins[0] != "https://idp.example.org") {
			t.Errorf("%s: limits %+v, allowed origins %v not taken from the config", c.name, l, p.run.Auth.AllowedOrigins)
		}
	}
	if _, err := (&runFlags{target: "https://x.org/fhir", deadline: -time.Second}).resolve(true, os.LookupEnv); err == nil || !strings.Contains(err.Error(), "--deadline -1s") {
		t.Errorf("negative --deadline: %v", err)
	}
	if code, _, errOut := run("run", "--target", "https://x.org/fhir", "--deadline", "soon"); code != ExitUsage || !strings.Contains(errOut, `"soon" for flag -deadline`) {
		t.Errorf("--deadline soon: exit %d %q", code, errOut)
	}
}
