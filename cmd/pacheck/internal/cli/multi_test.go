package cli

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
)

func TestParseTargets(t *testing.T) {
	in := "\ufeff# endpoints to spot-check\r\n\r\nhttps://fhir.example.org/r4/\r\n  http://127.0.0.1:8080/fhir   # local\r\nhttps://x.org/a#b\n"
	got, err := parseTargets("targets.txt", strings.NewReader(in))
	if err == nil {
		t.Fatalf("a URL with a fragment was accepted: %+v", got)
	}
	if want := `targets.txt:5: "https://x.org/a#b" has a fragment`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want %q", err, want)
	}
	got, err = parseTargets("targets.txt", strings.NewReader(strings.TrimSuffix(in, "https://x.org/a#b\n")))
	if err != nil {
		t.Fatal(err)
	}
	want := []target{{URL: "https://fhir.example.org/r4", Source: "targets.txt:3"}, {URL: "http://127.0.0.1:8080/fhir", Source: "targets.txt:4"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsed %+v, want %+v", got, want)
	}
}

func TestTargetSlugs(t *testing.T) {
	ts := []target{
		{URL: "https://fhir.example.org/r4"},
		{URL: "http://127.0.0.1:8080/fhir/R4/"},
		{URL: "https://FHIR.example.org/r4"}, // same slug as the first: made unique
		{URL: "https://fhir.example.org/r4?"},
		{URL: "https://index.html"}, // would overwrite the combined report
		{URL: "http://[::1]:9/a%20b/~c"},
		{URL: "https://x.org/" + strings.Repeat("p", 200)},
	}
	assignSlugs(ts)
	want := []string{"fhir.example.org-r4", "127.0.0.1-8080-fhir-r4", "fhir.example.org-r4-2", "fhir.example.org-r4-3",
		"index.html-2", "1-9-a-b-c", "x.org-" + strings.Repeat("p", 74)}
	for i, w := range want {
		if ts[i].Slug != w {
			t.Errorf("slug of %s = %q, want %q", ts[i].URL, ts[i].Slug, w)
		}
	}
}

// TestRunTargetsUsageErrors: every mistake in a list or its flags is one line naming the file,
// line or URL, exit 2, before anything runs (no report folder is made).
func TestRunTargetsUsageErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good.txt", "http://127.0.0.1:9/fhir\nhttp://127.0.0.1:10/fhir\n")
	bad := file("targets.txt", "# list\nhttps://fhir.example.org/r4\nftp://x\n")
	out := filepath.Join(dir, "out")
	fifo := filepath.Join(dir, "fifo.txt")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"bad URL", []string{"--targets", bad}, bad + `:3: "ftp://x" is not an http(s) URL`},
		{"FIFO", []string{"--targets", fifo}, fifo + " is a FIFO (named pipe), not a regular file"}, // never a wait
		{"device", []string{"--targets", "/dev/zero"}, "/dev/zero is a device, not a regular file"},
		{"empty list", []string{"--targets", file("empty.txt", "# nothing yet\n\n   \n")}, "empty.txt: no target URL in it"},
		{"missing file", []string{"--targets", filepath.Join(dir, "nope.txt")}, "nope.txt: no such file or directory"},
		{"two words", []string{"--targets", file("words.txt", "https://a.org https://b.org\n")}, `words.txt:1: "https://a.org https://b.org" holds 2 words`},
		{"relative URL", []string{"--targets", file("rel.txt", "\nfhir.example.org/r4\n")}, `rel.txt:2: "fhir.example.org/r4" is not an http(s) URL`},
		{"query", []string{"--targets", file("q.txt", "https://a.org/fhir?x=1\n")}, `q.txt:1: "https://a.org/fhir?x=1" has a query`},
		{"duplicate", []string{"--targets", file("dup.txt", "https://a.org/fhir/\nhttps://a.org/fhir\n")}, `dup.txt:2: "https://a.org/fhir" is already listed at ` + dir + "/dup.txt:1"},
		{"credentials", []string{"--targets", file("cred.txt", "https://me:s3cr3t@a.org/fhir\n")}, `cred.txt:1: "https://me:xxxxx@a.org/fhir" carries credentials`},
		{"--targets with --target", []string{"--targets", good, "--target", "https://a.org/fhir"}, "--targets and --target together"},
		{"repeated --target, bad one", []string{"--target", "https://a.org/fhir", "--target", "ftp://x"}, `--target "ftp://x" is not an http(s) URL`},
		{"repeated --target twice the same", []string{"--target", "https://a.org/fhir", "--target", "https://a.org/fhir/"}, `--target "https://a.org/fhir" is given twice`},
		{"timeout zero", []string{"--targets", good, "--target-timeout", "0s"}, "--target-timeout 0s: give a positive duration"},
		{"timeout without a list", []string{"--target", "https://a.org/fhir", "--target-timeout", "1m"}, "--target-timeout applies to --targets or several --target only"},
		{"bad preset", []string{"--targets", good, "--preset", "nope"}, `unknown preset "nope"`},
		{"token variable unset", []string{"--targets", good, "--token-env", "PACHECK_SURELY_UNSET"}, "PACHECK_SURELY_UNSET: the environment variable is not set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := run(append(append([]string{"run"}, c.args...), "--out", out)...)
			if code != ExitUsage || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, c.want)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 0 {
				t.Errorf("error is %d lines, want one", n+1)
			}
			if stdout != "" || strings.Contains(stderr, "s3cr3t") {
				t.Errorf("stdout %q, stderr %q: nothing may run, no password may be printed", stdout, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was made before the error", out)
			}
		})
	}
}

// TestChildArgs: each target's run gets the flags given, but its own --target and --out, and
// never a token (only the name of the variable holding it, which the child inherits).
func TestChildArgs(t *testing.T) {
	var f runFlags
	fs := runFlagSet("run", "", io.Discard, &f)
	bindMultiFlags(fs.FlagSet, &f)
	t.Setenv("PACHECK_TEST_TOKEN", "tok-never-on-a-command-line")
	err := fs.Parse([]string{"--targets", "t.txt", "--target-timeout", "5m", "--out", "o", "--preset", "public",
		"--focus", "a b", "--focus", "c", "--strict", "--token-env", "PACHECK_TEST_TOKEN", "--label-filter", "level:SHALL"})
	if err != nil {
		t.Fatal(err)
	}
	got := childArgs(fs.FlagSet)
	want := []string{"--focus=a b", "--focus=c", "--label-filter=level:SHALL", "--preset=public", "--strict=true", "--token-env=PACHECK_TEST_TOKEN"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("child flags %q, want %q", got, want)
	}
}

type targetsFile struct {
	ExitCode int
	Verdict  string
	Targets  []struct {
		URL, Folder, Log, Verdict, Report, Error string
		ExitCode                                 int
		Counts                                   *struct{ Total, Pass, Fail, Error int }
	}
}

func readTargetsJSON(t *testing.T, out string) targetsFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tf targetsFile
	if err := json.Unmarshal(b, &tf); err != nil {
		t.Fatal(err)
	}
	return tf
}

// TestRunTargetsAgainstTwoRefservers runs `--preset public` against a conformant reference server
// and one whose CapabilityStatement declares FHIR 3.0.2; each target runs in a child process (this
// test binary, see TestMain).
func TestRunTargetsAgainstTwoRefservers(t *testing.T) {
	var bases []string
	for _, faults := range []fault.Set{nil, {"wrong-fhir-version": true}} {
		bases = append(bases, startRefserver(t, refserver.Config{Members: 1, Seed: 1, Faults: faults}).FHIRBase())
	}
	t.Setenv(childEnv, "1")
	dir := t.TempDir()
	list := filepath.Join(dir, "targets.txt")
	os.WriteFile(list, []byte("# spot check\n"+bases[0]+"\n\n"+bases[1]+"/   # the faulty one\n"), 0o644)
	out := filepath.Join(dir, "spot")
	code, stdout, stderr := run("run", "--targets", list, "--preset", "public", "--out", out)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != ExitNonConf {
		t.Errorf("exit %d, want 1 (one target non-conformant, which outranks one incomplete)", code)
	}
	// The conformant server is served over http: its TLS requirement cannot run, so it is INCOMPLETE.
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "INCOMPLETE, exit 4") || !strings.Contains(lines[1], "NON-CONFORMANT, exit 1") ||
		!strings.HasPrefix(lines[2], "NON-CONFORMANT: 2 targets, 0 conformant, 1 non-conformant, 1 incomplete, 0 with errors") {
		t.Errorf("stdout is not one line per target and a final line:\n%s", stdout)
	}
	tf := readTargetsJSON(t, out)
	if tf.ExitCode != ExitNonConf || len(tf.Targets) != 2 {
		t.Fatalf("targets.json: exit %d, %d targets", tf.ExitCode, len(tf.Targets))
	}
	for i, want := range []struct {
		code    int
		verdict string
	}{{ExitIncomplete, "incomplete"}, {ExitNonConf, "non-conformant"}} {
		tr := tf.Targets[i]
		if tr.URL != bases[i] || tr.ExitCode != want.code || tr.Verdict != want.verdict || tr.Counts == nil || tr.Counts.Total < 10 {
			t.Errorf("target %d: %+v; want %s, exit %d, counts", i+1, tr, want.verdict, want.code)
			continue
		}
		if (tr.Counts.Fail > 0) != (want.code == ExitNonConf) || tr.Counts.Error != 0 {
			t.Errorf("target %d counts %+v do not match exit %d", i+1, *tr.Counts, tr.ExitCode)
		}
		for _, f := range []string{tr.Folder + "/results.json", tr.Report, tr.Log} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil || f == "" {
				t.Errorf("target %d: %q not written: %v", i+1, f, err)
			}
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	if !strings.Contains(string(md), "| 2 | "+bases[1]+" | non-conformant | 1 |") {
		t.Errorf("summary.md has no row for the faulty target:\n%s", md)
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	for _, want := range []string{`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`,
		`<a href="` + tf.Targets[0].Report + `">`, `<a href="` + tf.Targets[1].Report + `">`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(string(page), "<script") {
		t.Error("index.html has a script")
	}

	// Again into the same folder: the previous combined report is replaced, not refused.
	os.WriteFile(list, []byte(bases[1]+"\n"), 0o644)
	code, stdout, stderr = run("run", "--target", bases[1], "--target", bases[0], "--preset", "public", "--out", out, "--quiet")
	if code != ExitNonConf {
		t.Errorf("second run into the same folder: exit %d\n%s%s", code, stdout, stderr)
	}
	if tf := readTargetsJSON(t, out); len(tf.Targets) != 2 || tf.Targets[0].URL != bases[1] {
		t.Errorf("second run: targets.json not rewritten: %+v", tf)
	}
}

// TestRunTargetsChildFailures: a child that could not run, claims success without results, or
// outlives --target-timeout is an error for its target, never a pass; the exit code is the worst.
func TestRunTargetsChildFailures(t *testing.T) {
	for _, c := range []struct {
		mode, timeout, wantErr string
	}{
		{"fail-early", "1m", "pacheck run: simulated: the target could not be reached"},
		{"exit0-no-results", "1m", "exited 0 but wrote no results.json"},
		{"hang", "1s", "stopped: the run took longer than --target-timeout 1s"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			t.Setenv(childEnv, c.mode)
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := run("run", "--target", "http://127.0.0.1:9/fhir", "--target", "http://127.0.0.1:10/fhir",
				"--preset", "public", "--target-timeout", c.timeout, "--out", out)
			if code != ExitEnvError {
				t.Errorf("exit %d, want 3\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			tf := readTargetsJSON(t, out)
			if tf.ExitCode != ExitEnvError || len(tf.Targets) != 2 {
				t.Fatalf("targets.json: %+v", tf)
			}
			for _, tr := range tf.Targets {
				if tr.ExitCode != ExitEnvError || tr.Verdict != "error" || tr.Error != c.wantErr || tr.Counts != nil || tr.Report != "" {
					t.Errorf("target %+v: want exit 3, verdict error, error %q, no counts or report", tr, c.wantErr)
				}
			}
			if !strings.Contains(stdout, "ERROR, exit 3: "+c.wantErr) || !strings.Contains(stdout, "ERROR: 2 targets, 0 conformant, 0 non-conformant, 0 incomplete, 2 with errors") {
				t.Errorf("stdout:\n%s", stdout)
			}
		})
	}
}

// TestRunTargetsIncomplete: INCOMPLETE targets (exit 4) make the several-target run exit 4 and say
// so per target; with --allow-incomplete a child exits 0 but is still counted and shown incomplete.
func TestRunTargetsIncomplete(t *testing.T) {
	for _, c := range []struct {
		mode     string
		wantCode int
		wantLine string
	}{
		{"incomplete", ExitIncomplete, "INCOMPLETE, exit 4: 3 specs"},
		{"incomplete-allowed", ExitOK, "INCOMPLETE, exit 0: 3 specs"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			t.Setenv(childEnv, c.mode)
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := run("run", "--target", "http://127.0.0.1:9/fhir", "--target", "http://127.0.0.1:10/fhir",
				"--preset", "public", "--out", out)
			if code != c.wantCode || strings.Count(stdout, c.wantLine) != 2 ||
				!strings.Contains(stdout, "INCOMPLETE: 2 targets, 0 conformant, 0 non-conformant, 2 incomplete, 0 with errors") {
				t.Errorf("exit %d, want %d\nstdout %s\nstderr %s", code, c.wantCode, stdout, stderr)
			}
			tf := readTargetsJSON(t, out)
			if tf.ExitCode != c.wantCode || tf.Verdict != "incomplete" || len(tf.Targets) != 2 || tf.Targets[0].Verdict != "incomplete" {
				t.Errorf("targets.json: %+v", tf)
			}
		})
	}
}
