package cli

// `pacheck run --targets FILE` (or several --target): the same preset and flags against each target.
// Ginkgo allows one RunSpecs per process, so each target runs in a child process, the current
// binary re-executed as `run --target URL --out OUT/SLUG <the other flags>`, up to --parallel at
// once. --target-index runs one target of the list in this process instead (one Kubernetes
// Indexed Job pod per target; deploy/k8s), its report merged later with `pacheck report merge`.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pacheck/pacheck/reports"
)

// childExecutable is the binary re-executed for each target (tests may point it elsewhere).
var childExecutable = os.Executable

const (
	defaultTargetTimeout = 30 * time.Minute
	maxTargetsFileBytes  = 1 << 20
	maxTargets           = 1000
	// childStopGrace: SIGTERM, then SIGKILL after this long. On SIGTERM a child ends its specs at
	// once, closes its browser and writes the report of what ran, which takes seconds.
	childStopGrace = 30 * time.Second
)

// targetsFlag replaces run's --target: repeatable; the last value stays in runFlags.target, so a
// single --target behaves as before.
type targetsFlag struct {
	f   *runFlags
	all []string
}

func (t *targetsFlag) String() string {
	if t == nil {
		return ""
	}
	return strings.Join(t.all, ",")
}

func (t *targetsFlag) Set(v string) error {
	t.all = append(t.all, v)
	t.f.target = v
	return nil
}

// multiFlags are the flags of a run against several targets.
type multiFlags struct {
	file     string
	targets  *targetsFlag
	timeout  time.Duration
	parallel int
	memory   byteSize
	index    string
	// zeroOnVerdict: with --target-index, exit 0 whenever the run reached a verdict.
	zeroOnVerdict bool
}

// bindMultiFlags makes --target repeatable and adds --targets and --target-timeout to run's flags.
func bindMultiFlags(fs *flag.FlagSet, f *runFlags) *multiFlags {
	m := &multiFlags{targets: &targetsFlag{f: f}}
	if tf := fs.Lookup("target"); tf != nil {
		tf.Value = m.targets
		tf.Usage = "FHIR base URL under test (repeat it to test several, as --targets does)"
	}
	fs.StringVar(&m.file, "targets", "", "file of FHIR base URLs, one a line (# comments): each runs in its own process")
	fs.DurationVar(&m.timeout, "target-timeout", defaultTargetTimeout, "time limit of each target's run with --targets (default 30m; it is then stopped)")
	fs.IntVar(&m.parallel, "parallel", 1, fmt.Sprintf("targets run at once with --targets (1 to %d), each in its own process with its own browser", maxParallel))
	m.memory = defaultTargetMemory
	fs.Var(&m.memory, "target-memory", "memory bound of each target's run with --targets, its browser included (default 2GiB; it is then stopped)")
	fs.BoolVar(&m.zeroOnVerdict, "exit-zero-on-verdict", false, "with --target-index: exit 0 whenever the run reached a verdict (conformant, non-conformant, incomplete), so a Job retries only runs that could not judge (exit 2, 3)")
	fs.StringVar(&m.index, "target-index", "", "with --targets: run only the target at this 0-based index, in this process, its report in OUT/SLUG; env:VAR reads the index from VAR (env:JOB_COMPLETION_INDEX in a Kubernetes Indexed Job)")
	return m
}

// dispatch runs the several-target mode when it was asked for; done is false for a plain run.
func (m *multiFlags) dispatch(ctx context.Context, fs *flag.FlagSet, f *runFlags, stdout, stderr io.Writer) (code int, done bool) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if m.index != "" {
		return runIndexed(ctx, fs, f, m, set, stdout, stderr), true
	}
	if m.file == "" && len(m.targets.all) < 2 {
		for _, n := range []string{"target-timeout", "parallel", "target-memory", "exit-zero-on-verdict"} {
			if set[n] {
				errorf(stderr, "run", "--%s applies to --targets or several --target only", n)
				return ExitUsage, true
			}
		}
		return 0, false
	}
	return runMulti(ctx, fs, f, m, stdout, stderr), true
}

// target is one URL of the list with where it came from (file:line or --target).
type target struct {
	URL    string
	Source string
	Slug   string
}

// parseTargets reads a targets file: one FHIR base URL a line; blank lines and # comments (whole
// line, or after whitespace) are ignored. Every error names file:line.
func parseTargets(name string, r io.Reader) ([]target, error) {
	var out []target
	seen := map[string]string{}
	sc := bufio.NewScanner(io.LimitReader(r, maxTargetsFileBytes+1))
	sc.Buffer(make([]byte, 64*1024), maxTargetsFileBytes+1)
	n, size := 0, 0
	for sc.Scan() {
		n++
		size += len(sc.Bytes()) + 1
		if size > maxTargetsFileBytes {
			return nil, fmt.Errorf("%s: larger than %d bytes: is it a list of URLs?", name, maxTargetsFileBytes)
		}
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if i := strings.Index(line, "#"); i == 0 {
			continue
		} else if i > 0 && (line[i-1] == ' ' || line[i-1] == '\t') {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		src := fmt.Sprintf("%s:%d", name, n)
		if f := strings.Fields(line); len(f) > 1 {
			return nil, fmt.Errorf("%s: %q holds %d words: give one URL per line", src, shorten(line), len(f))
		}
		u, err := checkTargetURL(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", src, err)
		}
		if prev, ok := seen[u]; ok {
			return nil, fmt.Errorf("%s: %q is already listed at %s", src, u, prev)
		}
		seen[u] = src
		if len(out) == maxTargets {
			return nil, fmt.Errorf("%s: more than %d targets", src, maxTargets)
		}
		out = append(out, target{URL: u, Source: src})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", name, n+1, maxTargetsFileBytes)
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no target URL in it (one FHIR base URL a line; # starts a comment)", name)
	}
	return out, nil
}

// checkTargetURL accepts an http(s) FHIR base URL without credentials, query or fragment and
// returns it without a trailing slash. Errors quote the URL (credentials redacted).
func checkTargetURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%q is not an http(s) URL", shorten(redactURL(s, u)))
	}
	switch {
	case u.User != nil:
		return "", fmt.Errorf("%q carries credentials: give a token with --token-env instead", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("%q has a query: give the FHIR base URL", shorten(s))
	case u.Fragment != "":
		return "", fmt.Errorf("%q has a fragment: give the FHIR base URL", shorten(s))
	}
	return strings.TrimRight(s, "/"), nil
}

func redactURL(s string, u *url.URL) string {
	if u != nil && u.User != nil {
		return u.Redacted()
	}
	if i := strings.Index(s, "@"); i >= 0 { // unparseable: never echo what may be a password
		return "…" + s[i:]
	}
	return s
}

func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// reservedNames are the files the several-target run writes next to the targets' folders.
var reservedNames = map[string]bool{"targets.json": true, "summary.md": true, "index.html": true}

// assignSlugs names each target's folder host[-port][-path], sanitized, unique; SLUG.log is its log.
func assignSlugs(ts []target) {
	taken := map[string]bool{}
	for k := range reservedNames {
		taken[k] = true
	}
	for i := range ts {
		base := slugOf(ts[i].URL)
		s := base
		for n := 2; taken[s] || taken[s+".log"]; n++ {
			s = fmt.Sprintf("%s-%d", base, n)
		}
		taken[s], taken[s+".log"] = true, true
		ts[i].Slug = s
	}
}

func slugOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "target"
	}
	s := u.Hostname()
	if p := u.Port(); p != "" {
		s += "-" + p
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		s += "-" + p
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_'
		if !ok {
			if !dash {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(r)
		dash = false
	}
	out := b.String()
	if len(out) > 80 {
		out = out[:80]
	}
	out = strings.Trim(out, "-._")
	if out == "" {
		return "target"
	}
	return out
}

// childArgs are the flags passed through to each target's run: every flag set on the command
// line except the target and report folder ones, in --name=value form. Tokens are never flags
// (--token-env names a variable the children inherit), so none reaches a command line.
func childArgs(fs *flag.FlagSet) []string { return passArgs(fs, multiOnly) }

// multiOnly are the flags of the several-target run itself, not passed to its children.
var multiOnly = map[string]bool{"target": true, "targets": true, "target-timeout": true, "out": true,
	"parallel": true, "target-memory": true, "target-index": true, "exit-zero-on-verdict": true}

// passArgs are the flags set on the command line except those in skip, as --name=value.
func passArgs(fs *flag.FlagSet, skip map[string]bool) []string {
	var args []string
	fs.Visit(func(fl *flag.Flag) {
		if skip[fl.Name] {
			return
		}
		if m, ok := fl.Value.(*multi); ok {
			for _, v := range *m {
				args = append(args, "--"+fl.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+fl.Name+"="+fl.Value.String())
	})
	return args
}

// targetResult is one target's line of targets.json.
type targetResult struct {
	URL      string  `json:"url"`
	Folder   string  `json:"folder"`
	Log      string  `json:"log,omitempty"` // FOLDER.log: the run's own output
	ExitCode int     `json:"exitCode"`
	Verdict  string  `json:"verdict"` // conformant, non-conformant, incomplete, usage error, error, not run
	Counts   *counts `json:"counts,omitempty"`
	Report   string  `json:"report,omitempty"` // FOLDER/index.html when the run wrote it
	Error    string  `json:"error,omitempty"`
	Seconds  float64 `json:"seconds"`
	// ResultsVerdict is results.json's verdict (pass, fail, incomplete, error); informative, the
	// exit code also weighs --strict, --allow-incomplete and known issues.
	ResultsVerdict string `json:"resultsVerdict,omitempty"`
	// Failed are the requirement ids results.json marks failed, SHALL first.
	Failed []string `json:"failedRequirements,omitempty"`
	// PeakMiB is the peak resident memory of the run's processes (its browser included), sampled
	// twice a second; 0 where it could not be read.
	PeakMiB int64 `json:"peakMemoryMiB,omitempty"`
}

// counts are a child's results.json counts.
type counts = reports.Counts

func runMulti(ctx context.Context, fs *flag.FlagSet, f *runFlags, m *multiFlags, stdout, stderr io.Writer) int {
	if m.file != "" && len(m.targets.all) > 0 {
		errorf(stderr, "run", "--targets and --target together: give every URL in one place")
		return ExitUsage
	}
	if m.timeout <= 0 {
		errorf(stderr, "run", "--target-timeout %v: give a positive duration, e.g. 30m", m.timeout)
		return ExitUsage
	}
	if m.zeroOnVerdict {
		errorf(stderr, "run", "--exit-zero-on-verdict applies to --target-index only (the fleet's exit code is the worst of its targets')")
		return ExitUsage
	}
	if m.parallel < 1 || m.parallel > maxParallel {
		errorf(stderr, "run", "--parallel %d: give 1 to %d", m.parallel, maxParallel)
		return ExitUsage
	}
	ts, err := m.list()
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
	// The rest of the configuration is checked once, before anything runs.
	f.target = ts[0].URL
	p, err := f.resolve(true, os.LookupEnv)
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
	out := p.file.Out
	assignSlugs(ts)
	if err := prepareMultiOut(out); err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
	exe, err := childExecutable()
	if err != nil {
		errorf(stderr, "run", "cannot find pacheck's own executable to run each target: %v", err)
		return ExitEnvError
	}
	pass := childArgs(fs)
	start := time.Now()
	results := make([]targetResult, len(ts))
	lim := childLimits{timeout: m.timeout, memory: int64(m.memory), fleet: &fleetMemory{}}
	stopSampling := make(chan struct{})
	go lim.fleet.sample(stopSampling)
	// Up to --parallel children at once; each prints its line when it ends, numbered by its place
	// in the list, and targets.json keeps the list's order.
	var printMu sync.Mutex
	sem := make(chan struct{}, m.parallel)
	var wg sync.WaitGroup
	for i, t := range ts {
		r := &results[i]
		*r = targetResult{URL: t.URL, Folder: t.Slug, Log: t.Slug + ".log"}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if ctx.Err() != nil {
				r.ExitCode, r.Verdict, r.Error, r.Log = ExitEnvError, "not run", "not run: interrupted", ""
			} else {
				args := append([]string{"run"}, pass...)
				args = append(args, "--target="+t.URL, "--out="+filepath.Join(out, t.Slug))
				runTarget(ctx, exe, args, lim, out, r)
			}
			printMu.Lock()
			fmt.Fprintf(stdout, "[%d/%d] %s: %s\n", i+1, len(ts), t.URL, targetLine(r, out))
			printMu.Unlock()
		}()
	}
	wg.Wait()
	close(stopSampling)
	worst, allowed := ExitOK, ""
	for _, r := range results {
		worst = worseExit(worst, r.ExitCode)
		if r.ExitCode == ExitOK && r.ResultsVerdict == reports.VerdictIncomplete {
			allowed = reports.VerdictIncomplete // --allow-incomplete: exit 0, still said
		}
	}
	sum := multiSummary{Version: Version, Preset: p.preset.Name, Start: start.UTC(), End: time.Now().UTC(),
		ExitCode: worst, Verdict: verdictWord(worst, allowed), Parallel: m.parallel, PeakMiB: lim.fleet.peakMiB(), Targets: results}
	if err := sum.write(out); err != nil {
		errorf(stderr, "run", "writing the combined report: %v", err)
		return ExitEnvError
	}
	var nOK, nFail, nInc, nErr int
	for _, r := range results {
		switch {
		case r.ExitCode == ExitIncomplete || r.ExitCode == ExitOK && r.ResultsVerdict == reports.VerdictIncomplete:
			nInc++
		case r.ExitCode == ExitOK:
			nOK++
		case r.ExitCode == ExitNonConf:
			nFail++
		default:
			nErr++
		}
	}
	fmt.Fprintf(stdout, "%s: %d targets, %d conformant, %d non-conformant, %d incomplete, %d with errors; report: %s\n",
		strings.ToUpper(verdictWord(worst, allowed)), len(ts), nOK, nFail, nInc, nErr, filepath.Join(out, "index.html"))
	return worst
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// runTarget runs one child and fills r. A child that wrote no results.json is an error for its
// target, whatever it exited with.
func runTarget(ctx context.Context, exe string, args []string, lim childLimits, out string, r *targetResult) {
	timeout := lim.timeout
	start := time.Now()
	defer func() { r.Seconds = float64(time.Since(start).Milliseconds()) / 1000 }()
	logf, err := os.Create(filepath.Join(out, r.Log))
	if err != nil {
		r.ExitCode, r.Verdict, r.Error = ExitEnvError, "error", fmt.Sprintf("cannot write the log: %v", err)
		return
	}
	defer logf.Close()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var tail tailBuffer
	cmd := exec.CommandContext(cctx, exe, args...)
	cmd.Stdout = logf
	cmd.Stderr = io.MultiWriter(logf, &tail)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its browser too is stopped with it
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = childStopGrace
	if lim.memory > 0 {
		// The Go runtime of the child keeps its heap below most of the bound; the watchdog
		// stops the whole group (the browser too) when its resident memory passes it.
		cmd.Env = append(os.Environ(), fmt.Sprintf("GOMEMLIMIT=%dMiB", lim.memory*3/4>>20))
	}
	var overMemory, peak atomic.Int64
	if err = cmd.Start(); err == nil {
		stopWatch := make(chan struct{})
		go watchMemory(cmd.Process.Pid, lim.memory, &peak, stopWatch, func(rss int64) {
			overMemory.Store(rss)
			cancel()
		})
		if lim.fleet != nil {
			lim.fleet.add(cmd.Process.Pid)
		}
		err = cmd.Wait()
		close(stopWatch)
		if lim.fleet != nil {
			lim.fleet.remove(cmd.Process.Pid)
		}
		r.PeakMiB = peak.Load() >> 20
	}
	if cmd.Process != nil && cctx.Err() != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever of its group is left
	}
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	var errLine string
	switch {
	case overMemory.Load() > 0 && ctx.Err() == nil:
		errLine = fmt.Sprintf("stopped: the run used %d MiB of memory, more than --target-memory %s", overMemory.Load()>>20, (*byteSize)(&lim.memory))
		code = ExitEnvError
	case errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		errLine = fmt.Sprintf("stopped: the run took longer than --target-timeout %v", timeout)
		code = ExitEnvError
	case ctx.Err() != nil:
		errLine = "stopped: interrupted"
		code = ExitEnvError
	case code < 0 || code > ExitIncomplete:
		errLine = fmt.Sprintf("the run ended abnormally: %v", err)
		code = ExitEnvError
	}
	if errLine == "" && (code == ExitUsage || code == ExitEnvError) {
		errLine = tail.lastLine()
	}
	folder := filepath.Join(out, r.Folder)
	c, v, failed, rerr := readChildResults(filepath.Join(folder, "results.json"))
	r.Failed = failed
	switch {
	case rerr != nil && (code == ExitOK || code == ExitNonConf || code == ExitIncomplete):
		code = ExitEnvError
		errLine = fmt.Sprintf("exited %d but %v", cmd.ProcessState.ExitCode(), rerr)
	case rerr != nil && errLine == "":
		errLine = fmt.Sprintf("exit %d and %v", code, rerr)
	}
	r.ExitCode, r.Counts, r.ResultsVerdict, r.Error = code, c, v, errLine
	if errLine == "" && (code == ExitUsage || code == ExitEnvError) && c == nil {
		r.Error = fmt.Sprintf("exit %d (see %s)", code, r.Log)
	}
	switch {
	case rerr != nil:
		r.Verdict = "error"
	default:
		r.Verdict = verdictWord(code, v)
	}
	if _, err := os.Stat(filepath.Join(folder, "index.html")); err == nil {
		r.Report = r.Folder + "/index.html"
	}
}

// tailBuffer keeps the last 8 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 8<<10 {
		t.b = t.b[len(t.b)-8<<10:]
	}
	return len(p), nil
}

// lastLine is the child's last "pacheck ..." line (its one-line error), else its last line.
func (t *tailBuffer) lastLine() string {
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(t.b, []byte("?")))), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "pacheck ") {
			return shorten(strings.TrimSpace(lines[i]))
		}
	}
	return shorten(strings.TrimSpace(lines[len(lines)-1]))
}

func targetLine(r *targetResult, out string) string {
	s := fmt.Sprintf("%s, exit %d", strings.ToUpper(r.Verdict), r.ExitCode)
	if c := r.Counts; c != nil {
		s += fmt.Sprintf(": %d specs, %d passed, %d failed, %d skipped, %d errors, %d known", c.Total, c.Pass, c.Fail, c.Skip, c.Error, c.Known)
	}
	if r.Error != "" {
		s += ": " + termSafe(r.Error, false) // the child's last line may quote its target
	}
	if r.Report != "" {
		s += "; report: " + filepath.Join(out, r.Report)
	}
	return s
}
