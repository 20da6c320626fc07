package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/fixtures/hostile"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
)

// Guards, not performance figures: a run that exceeds them hangs or balloons. The wall guard is
// generous because the shared 2-core machine is often loaded (at load average 50 a three-spec run
// took 45 s); the hangs of issue 24 lasted five minutes and more.
const (
	hostileWallLimit = 150 * time.Second
	hostileRSSLimit  = 500 << 20
	// A report must stay openable whatever the server sent (9 MiB of headers per response made an
	// 808 MB index.html).
	hostileReportLimit = 64 << 20
)

// Spec selections that keep each run short.
var (
	launchFocus = []string{"--focus", `smart-2.0.0/launch/standalone$`}
	dataFocus   = []string{"--focus", `capability/fhir-version$`, "--focus", `uscore-6.1.0/us-core-patient/(read|search/_id)$`}
	pagingFocus = []string{"--focus", `uscore-6.1.0/us-core-patient/(paging|search/_id)$`}
)

// hostileCase is one run of pacheck against one hostile mode.
type hostileCase struct {
	name    string // subtest name when a mode has several cases (default mode)
	mode    string
	cfg     hostile.Config // Modes and Ref are filled in
	browser bool           // a SMART browser launch (auth mode browser); else auth mode token
	args    []string       // spec selection and other flags
	// attacked: the spec the mode attacks; it must end fail, error or skip, never pass.
	attacked string
	// echo must appear on the console: the server's text did reach it (escaped), so the
	// control-character check below is not vacuous.
	echo string
	// findPatient: token runs name no --patient, so pacheck finds it with GET Patient (and prints it).
	findPatient bool
	exits       []int // acceptable exit codes (never 0 unless listed)
	// needles: at least one must appear in the console output or results.json (a message naming
	// the URL or the limit); none when the mode has no single message to expect.
	needles []string
}

func hostileCases() []hostileCase {
	nonPass := []int{ExitNonConf, ExitEnvError, ExitIncomplete}
	return []hostileCase{
		{mode: hostile.AuthorizeFileURL, browser: true, attacked: "smart-2.0.0/launch/standalone", args: launchFocus, exits: nonPass, needles: []string{"file:///etc/passwd"}},
		{mode: hostile.AuthorizeFileRoot, browser: true, attacked: "smart-2.0.0/launch/standalone", args: launchFocus, exits: nonPass, needles: []string{`"file:///"`, "file:/// ", "file:///:", "file:///)"}},
		{mode: hostile.AuthorizeDataURL, browser: true, attacked: "smart-2.0.0/launch/standalone", args: launchFocus, exits: nonPass, needles: []string{"data:"}},
		{mode: hostile.LoginPostsElsewhere, browser: true, attacked: "smart-2.0.0/launch/standalone", args: launchFocus, exits: nonPass, needles: []string{"{attacker}"}},
		{mode: hostile.TokenQueryRedirect, browser: true, attacked: "smart-2.0.0/probes/token-in-query", args: []string{"--focus", `smart-2.0.0/probes/token-in-query$`},
			exits: []int{ExitOK, ExitNonConf, ExitEnvError, ExitIncomplete}, needles: []string{"redirect"}},
		{mode: hostile.TokenEndpoint307, browser: true, attacked: "smart-2.0.0/launch/standalone", args: launchFocus, exits: nonPass, needles: []string{"307", "redirect"}},
		{mode: hostile.Introspect307, browser: true, attacked: "smart-2.0.0/introspection/active", args: []string{"--focus", `smart-2.0.0/introspection/active$`}, exits: nonPass, needles: []string{"307", "redirect"}},
		{mode: hostile.Revoke307, browser: true, attacked: "smart-2.0.0/revocation/revoked-token-refused", args: []string{"--focus", `smart-2.0.0/revocation/revoked-token-refused$`}, exits: nonPass, needles: []string{"307", "redirect"}},
		{mode: hostile.HTTPEndpointsOnHTTPS, browser: true, attacked: "smart-2.0.0/launch/standalone", args: launchFocus, exits: nonPass, needles: []string{"{plain}"}},
		{mode: hostile.UserinfoURLs, browser: true, args: launchFocus, exits: []int{ExitOK, ExitNonConf, ExitEnvError, ExitIncomplete}},
		{mode: hostile.JSDialogs, browser: true, attacked: "smart-2.0.0/launch/standalone", args: launchFocus, exits: nonPass, needles: []string{"dialog"}},
		{mode: hostile.LoginNeverLoads, browser: true, attacked: "smart-2.0.0/launch/standalone", args: launchFocus, cfg: hostile.Config{MaxStall: 5 * time.Minute},
			exits: []int{ExitEnvError, ExitIncomplete}, needles: []string{"/auth/authorize"}},
		{mode: hostile.NextLinkElsewhere, attacked: "uscore-6.1.0/us-core-patient/paging", args: pagingFocus, exits: nonPass, needles: []string{"{attacker}"}},
		// Found with GET Patient, the patient id carries the escapes (pacheck prints the id it found).
		{mode: hostile.TerminalEscapes, findPatient: true, args: append([]string{"--verbose"}, dataFocus...), exits: nonPass},
		// The data specs quote the poisoned names and diagnostics.
		{name: hostile.TerminalEscapes + "-data", mode: hostile.TerminalEscapes, echo: "hostile-title",
			args: append([]string{"--verbose"}, "--focus", `uscore-6.1.0/us-core-patient/(read|validation|search/name)$`), exits: nonPass},
		// The token response's patient reaches the console through the launch (verbose prints it).
		{name: hostile.TerminalEscapes + "-launch", mode: hostile.TerminalEscapes, browser: true, echo: "hostile-title",
			args: append([]string{"--verbose"}, "--focus", `smart-2.0.0/(launch/standalone|token/patient-context)$`), exits: nonPass},
		{mode: hostile.HugeHeaders, attacked: "capability/fhir-version", args: dataFocus, exits: nonPass, needles: []string{"header"}},
		{mode: hostile.GzipBomb, attacked: "capability/fhir-version", args: dataFocus, exits: nonPass, needles: []string{"size limit", "MaxBodyBytes"}},
		{mode: hostile.HugeBody, attacked: "capability/fhir-version", args: dataFocus, exits: nonPass, needles: []string{"size limit", "MaxBodyBytes"}},
		{mode: hostile.SlowDrip, attacked: "capability/fhir-version", args: dataFocus, cfg: hostile.Config{MaxStall: 5 * time.Minute}, exits: []int{ExitEnvError, ExitIncomplete},
			needles: []string{"deadline", "timeout", "timed out", "too slow", "bytes/s"}},
		// Its 3 specs need 4 responses of 2 s each: the 5 s deadline ends the run.
		{mode: hostile.SlowResponses, args: append([]string{"--deadline", "5s"}, dataFocus...), exits: []int{ExitEnvError, ExitIncomplete},
			needles: []string{"deadline"}},
		{mode: hostile.DeadTarget, attacked: "uscore-6.1.0/us-core-patient/search/_id", args: dataFocus, exits: []int{ExitEnvError, ExitIncomplete}, needles: []string{"connection refused"}},
		{mode: hostile.Storm429, attacked: "capability/fhir-version", args: dataFocus, exits: nonPass, needles: []string{"429"}},
		{mode: hostile.Storm503, attacked: "capability/fhir-version", args: dataFocus, exits: nonPass, needles: []string{"503"}},
	}
}

// TestHostileEveryModeHasATest keeps the catalogue and the tests in step.
func TestHostileEveryModeHasATest(t *testing.T) {
	have := map[string]bool{}
	for _, c := range hostileCases() {
		have[c.mode] = true
	}
	for _, m := range hostile.Modes() {
		if !have[m.Name] {
			t.Errorf("hostile mode %s has no case in hostileCases", m.Name)
		}
	}
}

// TestHostile runs pacheck against each hostile mode (one child process each: Ginkgo allows one
// run per process) and checks what must hold whatever the server does.
func TestHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the hostile runs take a few minutes of CPU")
	}
	for _, tc := range hostileCases() {
		name := tc.name
		if name == "" {
			name = tc.mode
		}
		t.Run(name, func(t *testing.T) {
			if tc.browser {
				if _, err := browser.FindChromium(""); err != nil {
					t.Skipf("needs Chromium for the SMART browser launch: %v", err)
				}
			}
			t.Parallel()
			r := runHostile(t, tc)
			r.check(t, tc)
		})
	}
}

// TestRefserverHostileFlags: --list-hostile prints every mode; an unknown mode is a usage error
// naming --list-hostile.
func TestRefserverHostileFlags(t *testing.T) {
	code, stdout, _ := run("refserver", "--list-hostile")
	if code != ExitOK || strings.Count(stdout, "\n") != len(hostile.Modes()) {
		t.Errorf("--list-hostile: exit %d, %d lines, want %d", code, strings.Count(stdout, "\n"), len(hostile.Modes()))
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if f := strings.Split(line, "\t"); len(f) != 3 || f[0] == "" || f[1] == "" || f[2] == "" {
			t.Errorf("--list-hostile line %q: want name, protection, description (tab-separated)", line)
		}
	}
	code, _, stderr := run("refserver", "--hostile", "gzip-bomb,no-such-mode")
	if code != ExitUsage || !strings.Contains(stderr, "no-such-mode") || !strings.Contains(stderr, "--list-hostile") {
		t.Errorf("unknown mode: exit %d, stderr %q; want %d naming the mode and --list-hostile", code, stderr, ExitUsage)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &hostileBuffer{}
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"refserver", "--addr", "127.0.0.1:0", "--hostile", "next-link-elsewhere"}, out, io.Discard)
	}()
	for i := 0; !strings.Contains(out.String(), "serving until interrupted"); i++ {
		if i == 1500 {
			cancel()
			t.Fatalf("refserver --hostile did not start: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != ExitOK || !strings.Contains(out.String(), "Attacker origin (records every request): http://127.0.0.1:") {
		t.Errorf("exit %d, output %q: want the attacker origin printed", code, out.String())
	}
}

// hostileBuffer lets the test read what a running command printed.
type hostileBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (h *hostileBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.b.Write(p)
}

func (h *hostileBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.b.String()
}

// hostileRun is what one run left behind.
type hostileRun struct {
	srv            *hostile.Server
	code           int
	stdout, stderr string
	wall           time.Duration
	maxRSS         int64 // bytes, the child (pacheck) and the processes it waited for
	cpu            time.Duration
	out            string
	before, after  map[string]bool // files under HOME and TMPDIR
	home, tmp      string
}

func runHostile(t *testing.T, tc hostileCase) *hostileRun {
	t.Helper()
	cfg := tc.cfg
	cfg.Modes = []string{tc.mode}
	cfg.Ref = refserver.Config{Members: 2, Seed: 1}
	srv, err := hostile.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	// A short root: Chromium's singleton socket under TMPDIR must fit a Unix socket path (108 bytes).
	root, err := os.MkdirTemp("", "hx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	r := &hostileRun{srv: srv, home: filepath.Join(root, "h"), tmp: filepath.Join(root, "t"), out: filepath.Join(root, "out", "report")}
	for _, d := range []string{r.home, r.tmp, filepath.Join(root, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := childEnvironment(map[string]string{childEnv: "1", "HOME": r.home, "TMPDIR": r.tmp,
		"XDG_CONFIG_HOME": filepath.Join(r.home, ".config"), "XDG_CACHE_HOME": filepath.Join(r.home, ".cache")})
	if pem := srv.CACertPEM(); pem != nil {
		ca := filepath.Join(root, "etc", "ca.pem")
		if err := os.WriteFile(ca, pem, 0o644); err != nil {
			t.Fatal(err)
		}
		env = append(env, "SSL_CERT_FILE="+ca) // how the Go client trusts the test CA
	}
	args := []string{"run", "--preset", "cms-patient-access", "--out", r.out}
	if tc.browser {
		conf := filepath.Join(root, "etc", "pacheck.yaml")
		u := auth.MemberUser(1)
		y := fmt.Sprintf(`target: %s
auth:
  mode: browser
  client_id: pacheck-public
  redirect_uri: %s/auth/callback
  scopes: [launch/patient, openid, fhirUser, offline_access, patient/*.rs]
  login:
    username: %s
    password: %s
`, srv.FHIRBase(), srv.Origin(), u.Username, u.Password)
		if err := os.WriteFile(conf, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", conf)
	} else {
		tok := srv.Ref().Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: "member-1", FHIRUser: "Patient/member-1",
			Scopes: []string{"launch/patient", "openid", "fhirUser", "patient/*.rs"}})
		srv.AddSecret(tok)
		env = append(env, "PACHECK_HOSTILE_TOKEN="+tok)
		args = append(args, "--target", srv.FHIRBase(), "--auth", "token", "--token-env", "PACHECK_HOSTILE_TOKEN")
		if !tc.findPatient {
			args = append(args, "--patient", "member-1")
		}
	}
	args = append(args, tc.args...)
	r.before = listFiles(t, r.home, r.tmp)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The hang guard: twice the wall limit, so an over-long run is still reported with its output.
	ctx, cancel := context.WithTimeout(context.Background(), 2*hostileWallLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = env
	cmd.WaitDelay = 10 * time.Second
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err = cmd.Run()
	r.wall = time.Since(start)
	r.stdout, r.stderr = so.String(), se.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Errorf("pacheck did not exit by itself after %v: %v\nstdout:\n%s\nstderr:\n%s", r.wall.Round(time.Second), err, tail(r.stdout, 30), tail(r.stderr, 30))
		r.code = -1
	}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss << 10 // KiB on Linux
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	r.after = listFiles(t, r.home, r.tmp)
	t.Logf("%s: exit %d in %v (CPU %v), peak RSS %d MiB; the target got %d requests, the attacker %d\nstdout:\n%s\nstderr:\n%s", tc.mode, r.code, r.wall.Round(100*time.Millisecond),
		r.cpu.Round(100*time.Millisecond), r.maxRSS>>20, len(srv.Seen().Requests()), len(srv.Attacker().Requests()), tail(r.stdout, 25), tail(r.stderr, 15))
	return r
}

// childEnvironment is this process's environment with set overriding (and no inherited GOMEMLIMIT,
// so the heap guard sees pacheck's own default).
func childEnvironment(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, over := set[k]; over || k == "GOMEMLIMIT" || k == "SSL_CERT_FILE" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

func listFiles(t *testing.T, dirs ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && p != d {
				out[p] = true
			}
			return nil
		})
	}
	return out
}

func (r *hostileRun) check(t *testing.T, tc hostileCase) {
	t.Helper()
	console := r.stdout + "\n" + r.stderr
	// No panic.
	if strings.Contains(console, "panic:") || strings.Contains(console, "goroutine ") && strings.Contains(console, "[running]") {
		t.Errorf("pacheck panicked:\n%s", tail(r.stderr, 40))
	}
	// Bounded wall time and memory.
	if r.wall > hostileWallLimit {
		t.Errorf("the run took %v (guard %v): a wait is not bounded", r.wall.Round(time.Second), hostileWallLimit)
	}
	if r.maxRSS > hostileRSSLimit {
		t.Errorf("peak RSS %d MiB (guard %d MiB): memory is not bounded", r.maxRSS>>20, hostileRSSLimit>>20)
	}
	// The right outcome.
	ok := false
	for _, c := range tc.exits {
		ok = ok || r.code == c
	}
	if !ok {
		t.Errorf("exit %d, want one of %v (never a pass against this server)", r.code, tc.exits)
	}
	results, _ := os.ReadFile(filepath.Join(r.out, "results.json"))
	var res struct {
		Specs []struct{ ID, Outcome, Reason string }
	}
	if err := json.Unmarshal(results, &res); err != nil || len(res.Specs) == 0 {
		t.Errorf("results.json: %v, %d specs: want the report of the specs that ran", err, len(res.Specs))
	}
	if tc.attacked != "" {
		outcome := "not run"
		for _, sp := range res.Specs {
			if sp.ID == tc.attacked {
				outcome = sp.Outcome
			}
		}
		if outcome == "pass" || outcome == "not run" {
			t.Errorf("spec %s: %s; want fail, error or skip against this server", tc.attacked, outcome)
		}
	}
	if len(tc.needles) > 0 {
		hay := console + string(results)
		found := false
		for _, n := range tc.needles {
			n = strings.NewReplacer("{attacker}", strings.TrimPrefix(r.srv.Attacker().URL(), "http://"),
				"{plain}", strings.TrimPrefix(r.srv.Plain().URL(), "http://")).Replace(n)
			found = found || strings.Contains(hay, n)
		}
		if !found {
			t.Errorf("neither the console nor results.json names the URL or limit (one of %q); the most frequent error: %q",
				tc.needles, errorLine(r.stdout))
		}
	}
	if tc.echo != "" && !strings.Contains(console, tc.echo) {
		t.Errorf("the console never shows the server's %q: the escapes did not reach it, the check proves nothing", tc.echo)
	}
	// No credential at the other origins.
	secrets := r.srv.Secrets()
	for _, l := range r.srv.Attacker().Leaks(secrets...) {
		t.Errorf("credential at the attacker origin: %s", l)
	}
	if p := r.srv.Plain(); p != nil {
		for _, l := range p.Leaks(secrets...) {
			t.Errorf("credential over plain http to an https target's endpoint: %s", l)
		}
	}
	for _, l := range r.srv.UserinfoUsed() {
		t.Errorf("the userinfo of a server-supplied URL was sent as credentials: %s", l)
	}
	// No file left outside --out.
	var added []string
	for p := range r.after {
		if !r.before[p] {
			added = append(added, p)
		}
	}
	if len(added) > 0 {
		if len(added) > 5 {
			added = append(added[:5], fmt.Sprintf("and %d more", len(added)-5))
		}
		t.Errorf("files created outside --out (HOME/TMPDIR): %s", strings.Join(added, ", "))
	}
	// Nothing from file: and no secret in the report; screenshots only of http(s) pages.
	files := reportFiles(t, r.out)
	size := 0
	for name, b := range files {
		if !strings.Contains(name, "!") { // bundle members are counted in the bundle
			size += len(b)
		}
	}
	if size > hostileReportLimit {
		t.Errorf("the report files hold %d MiB (guard %d MiB): evidence is not clipped", size>>20, hostileReportLimit>>20)
	}
	for name, b := range files {
		s := string(b)
		if strings.Contains(s, "root:x:0:0") {
			t.Errorf("%s holds the content of /etc/passwd", name)
		}
		if strings.HasSuffix(name, ".png") {
			continue
		}
		for i, sec := range append(secrets, hostile.UserinfoPassword) {
			if len(sec) >= 6 && strings.Contains(s, sec) {
				t.Errorf("%s holds a credential (secret #%d of %d)", name, i+1, len(secrets)+1)
			}
		}
	}
	for _, u := range screenshotURLs(results) {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Errorf("a screenshot of %.80q is in the report: only http(s) pages may be captured", u)
		}
	}
	// No control byte in the console or summary.md.
	summary, _ := os.ReadFile(filepath.Join(r.out, "summary.md"))
	for name, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "summary.md": string(summary)} {
		if c, at := controlChar(s); c >= 0 {
			t.Errorf("%s has control character %U at byte %d: %q", name, c, at, around(s, at))
		}
	}
}

// reportFiles reads every file under out, and the members of the evidence bundle.
func reportFiles(t *testing.T, out string) map[string][]byte {
	files := map[string][]byte{}
	filepath.WalkDir(out, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("report file %s: %v", p, err)
			return nil
		}
		rel, _ := filepath.Rel(out, p)
		files[rel] = b
		if !strings.HasSuffix(p, ".tar.gz") {
			return nil
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			m, _ := io.ReadAll(io.LimitReader(tr, 256<<20))
			files[rel+"!"+h.Name] = m
		}
		return nil
	})
	return files
}

// screenshotURLs returns the page URL of every screenshot recorded in results.json.
func screenshotURLs(results []byte) []string {
	var v any
	if json.Unmarshal(results, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if sc, ok := t["screenshot"].(map[string]any); ok {
				u, _ := sc["url"].(string)
				out = append(out, u)
			}
			for _, x := range t {
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// controlChar returns the first control character other than \n and \t (C0, DEL, C1) and its
// byte offset, or -1.
func controlChar(s string) (rune, int) {
	for i, c := range s {
		switch {
		case c == '\n' || c == '\t':
		case c < 0x20, c == 0x7f, c >= 0x80 && c <= 0x9f:
			return c, i
		case c == utf8.RuneError && strings.HasPrefix(s[i:], "\x9b"):
			return 0x9b, i
		}
	}
	return -1, 0
}

func around(s string, i int) string {
	lo, hi := max(0, i-40), min(len(s), i+40)
	return s[lo:hi]
}

func errorLine(stdout string) string {
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "most frequent error") {
			return l
		}
	}
	return ""
}

// TestHostileCheckers: the checks the hostile runs rely on catch what they look for.
func TestHostileCheckers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want rune
	}{
		{"plain text\n\twith tabs", -1},
		{"title \x1b]0;x\x07", 0x1b},
		{"bell \x07", 0x07},
		{"carriage\rreturn", '\r'},
		{"del \x7f", 0x7f},
		{"C1 \u009b31m", 0x9b},
		{"raw C1 byte \x9b", 0x9b},
		{"accents é and ✓ are fine", -1},
	} {
		if got, _ := controlChar(tc.in); got != tc.want {
			t.Errorf("controlChar(%q) = %U, want %U", tc.in, got, tc.want)
		}
	}
	res := []byte(`{"specs":[{"evidence":[{"screenshot":{"url":"file:///etc/passwd"}},{"screenshot":{"url":"http://a/b"}}]}]}`)
	if got := screenshotURLs(res); len(got) != 2 || got[0] != "file:///etc/passwd" {
		t.Errorf("screenshotURLs = %q", got)
	}
}
