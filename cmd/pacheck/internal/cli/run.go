package cli

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/internal/safefile"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/reports"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/runner"
)

func init() {
	register(&command{name: "run", summary: "test a Patient Access API and write the compliance report", run: runRun})
}

const runHelp = `Usage: pacheck run [--config FILE] [--target URL] [--preset NAME] [flags]

Runs the selected suites against the target and writes index.html, results.json, junit.xml,
summary.md, results.csv and pacheck-evidence.tar.gz to --out (also when the run is stopped: what ran);
with --pdf also report.pdf, the report printed by headless Chromium for the audit file.
With --targets FILE (one FHIR base URL a line, # comments) or several --target, each target runs
in its own process, with the same flags, into --out/HOST-PORT-PATH; --out also gets targets.json,
summary.md and index.html, and the exit code is the worst: 3 > 2 > 1 > 4 > 0.

Exit codes:
  0  CONFORMANT: every selected SHALL requirement ran and passed
  1  NON-CONFORMANT: a SHALL requirement failed (SHOULD failures count only with --strict)
  2  usage or configuration error
  3  environment or tool error: target unreachable, browser missing, --deadline reached, signal
  4  INCOMPLETE: nothing failed, but a selected SHALL requirement did not run or errored (listed)

Examples:
  pacheck run --target https://fhir.example.org/r4 --preset public --deadline 10m
  pacheck run --target https://fhir.example.org/r4 --auth token --token-env FHIR_TOKEN

Flags:
`

func runFlagSet(name, help string, stdout io.Writer, f *runFlags) *flagSetWrap {
	fs := newFlags(name, help, stdout)
	fs.StringVar(&f.config, "config", "", "configuration file (pacheck config example)")
	fs.StringVar(&f.target, "target", "", "FHIR base URL under test")
	fs.StringVar(&f.preset, "preset", "", "preset (pacheck presets); default cms-patient-access")
	fs.StringVar(&f.auth, "auth", "", "browser, token or none")
	fs.StringVar(&f.tokenEnv, "token-env", "", "environment variable holding a bearer token (implies --auth token)")
	fs.StringVar(&f.out, "out", "", "report folder (default pacheck-report)")
	fs.StringVar(&f.labelFilter, "label-filter", "", "Ginkgo label-filter expression, e.g. 'level:SHALL'")
	fs.Var(&f.focus, "focus", "regular expression on spec ids (repeatable)")
	fs.Var(&f.packages, "package", "extra FHIR package .tgz or folder (repeatable)")
	fs.Var(&f.patients, "patient", "patient id to examine besides the launch patient (repeatable); with --auth token and none given, the patient GET Patient returns")
	fs.StringVar(&f.knownIssues, "known-issues", "", "YAML of accepted deviations (spec id, reason, expires)")
	fs.StringVar(&f.attestations, "attestations", "", "YAML of the payer's attestations (id, who, when, evidence, statement) for requirements not observable on the wire")
	fs.StringVar(&f.signKey, "sign-key", "", "Ed25519 private key (PEM, PKCS#8) to sign the evidence bundle")
	fs.DurationVar(&f.deadline, "deadline", 0, "time limit of the whole run (limits.deadline; default 2m + 2s per selected spec)")
	fs.BoolVar(&f.allowIncomplete, "allow-incomplete", false, "exit 0 instead of 4 when the run is INCOMPLETE (allow_incomplete)")
	fs.BoolVar(&f.strict, "strict", false, "SHOULD-level failures fail the run too")
	fs.BoolVar(&f.attestMustSupport, "attest-must-support", false, "state that the test members' records hold every must-support element: an element no returned resource populates fails (config attest.must_support_complete)")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the verdict")
	fs.BoolVar(&f.verbose, "verbose", false, "print every spec and Ginkgo's own output")
	fs.BoolVar(&f.stats, "stats", false, "print wall time, spec count and peak memory")
	fs.BoolVar(&f.pdf, "pdf", false, "also print the report to report.pdf with headless Chromium (for the audit file)")
	return &flagSetWrap{fs}
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := runFlagSet("run", runHelp, stdout, &f)
	m := bindMultiFlags(fs.FlagSet, &f)
	bindRecordFlags(fs.FlagSet, &f, true)
	if code, ok := parse(fs.FlagSet, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		errorf(stderr, "run", "unexpected argument %q (flags only; see 'pacheck help run')", fs.Arg(0))
		return ExitUsage
	}
	if msg := recordFlagsError(&f, m.file != "" || len(m.targets.all) > 1); msg != "" {
		errorf(stderr, "run", "%s", msg)
		return ExitUsage
	}
	if code, done := m.dispatch(ctx, fs.FlagSet, &f, stdout, stderr); done {
		return code
	}
	p, err := f.resolve(true, os.LookupEnv)
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
	return execute(ctx, p, &f, stdout, stderr)
}

// execute runs a resolved plan end to end and returns the exit code.
func execute(ctx context.Context, p *plan, f *runFlags, stdout, stderr io.Writer) int {
	start := time.Now()
	defer p.recording.finish(stdout, f.quiet) // the index is written whatever path the run ends by
	var signKey ed25519.PrivateKey
	if f.signKey != "" {
		k, err := readSignKey(f.signKey)
		if err != nil {
			errorf(stderr, "run", "%v", err)
			return ExitUsage
		}
		signKey = k
	}
	var known []reports.KnownIssue
	if p.file.KnownIssues != "" {
		k, err := reports.LoadKnownIssues(p.file.KnownIssues)
		if err != nil {
			errorf(stderr, "run", "%v", err)
			return ExitUsage
		}
		known = k
	}
	attestations, err := loadAttestations(p.file.Attestations)
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
	if err := prepareOutDir(p.run.OutDir); err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
	// The run context is the parent of every network call of the run: cancelled by a signal
	// (ctx), or when the whole-run deadline passes. An explicit deadline counts from here (the
	// framework bounds the context with it); the default one is sized once the selection is known.
	base, stopBase := context.WithCancelCause(ctx)
	defer stopBase(nil)
	p.run.SetContext(base)
	defer p.run.Stop()
	rctx := p.run.Context()
	stopTimer := func() bool { return false }
	// On a signal or at the deadline the browser closes at once (sign-ins in flight end with an
	// error instead of running to their own time limits), and whatever path the run ends by, no
	// Chromium or temporary profile outlives it.
	defer browser.CloseAll()
	stopWatch := context.AfterFunc(rctx, func() { _ = browser.CloseAll() })
	defer stopWatch()
	if p.run.Auth.Mode == "token" {
		opts := p.run.ClientOptions()
		opts.TokenSource = fhirhttp.StaticToken(p.run.Auth.Token)
		c, err := fhirhttp.New(opts)
		if err != nil {
			errorf(stderr, "run", "%v", err)
			return ExitUsage
		}
		p.run.SetClient(c)
		if len(p.run.Patients) == 0 {
			dctx, cancel := context.WithTimeout(rctx, p.run.Limits.RequestTimeout)
			id, err := discoverPatient(dctx, c)
			cancel()
			switch {
			case err != nil && !f.quiet:
				fmt.Fprintf(stderr, "pacheck run: no --patient given and none found: %s\n", termSafe(err.Error(), false))
			case err == nil:
				p.run.Patients = []string{id}
				if !f.quiet {
					fmt.Fprintf(stderr, "pacheck run: no --patient given: examining patient %s, the one the token opens (GET Patient)\n", termSafe(id, false))
				}
			}
		}
	}
	if err := framework.Prepare(rctx, p.run); err != nil && !f.quiet && ctx.Err() == nil {
		// The first line: a sign-in's diagnosis adds suggested steps on further lines (the report has them).
		first, _, _ := strings.Cut(err.Error(), "\n")
		fmt.Fprintf(stderr, "pacheck run: preparation: %s (the specs that need it will report it)\n", termSafe(first, false))
	}
	// The default deadline is sized from the selection, which Ginkgo counts when the suite starts
	// (before any spec runs): its reporter line "N/M specs" arms the timer and gives the progress
	// line its total. (Previewing the tree instead would cost a second build of the tree and, in
	// Ginkgo, drop the runner's top-level nodes from the real run.)
	limit, limitSource := p.run.Limits.Deadline, "--deadline or limits.deadline"
	backstop := max(time.Until(start.Add(limit)), 0) + deadlineGrace
	prog := newProgress(stdout, f.quiet, f.verbose)
	var arm sync.Once
	selected := func(n int) {
		arm.Do(func() {
			prog.total = n
			if limit > 0 {
				return
			}
			limit, limitSource = defaultDeadline(n), fmt.Sprintf("the default for %d specs; raise it with --deadline or limits.deadline", n)
			if n < 0 { // the count was not found in Ginkgo's output
				limit, limitSource = fallbackDeadline, "the default; raise it with --deadline or limits.deadline"
			}
			t := time.AfterFunc(time.Until(start.Add(limit)), func() {
				stopBase(fmt.Errorf("%w (%v; raise limits.deadline or --deadline)", framework.ErrDeadline, limit))
			})
			stopTimer = t.Stop
		})
	}
	if limit == 0 {
		// Ginkgo's suite timeout is the backstop for work that ignores the run context; with the
		// deadline not known yet it allows the largest selection.
		backstop = defaultDeadline(maxSizedSpecs) + deadlineGrace
	}
	defer func() { stopTimer() }()
	var ginkgoOut *termWriter
	var next io.Writer = io.Discard
	if f.verbose {
		ginkgoOut = &termWriter{w: stdout}
		next = ginkgoOut
	}
	opts := runner.Options{Run: p.run, LabelFilter: p.file.LabelFilter, Focus: p.file.Focus,
		Verbose: f.verbose, Timeout: backstop, Output: &selectionSniffer{next: next, found: selected},
		Progress: func(done int, s types.SpecReport) {
			selected(-1) // no-op once the count was read
			prog.spec(done, s)
		}}
	rep, err := runner.Run(opts)
	cause := context.Cause(rctx) // before Stop: why the run context ended, if it did
	if ginkgoOut != nil {
		ginkgoOut.Flush()
	}
	prog.finish()
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitEnvError
	}
	// Why the run stopped early, if it did, in the report's run errors and on the console.
	var stopped string
	switch {
	case ctx.Err() != nil:
		stopped = "interrupted by a signal: the specs not yet run were not run; the report shows what ran"
	case errors.Is(cause, framework.ErrDeadline) || slices.Contains(rep.SpecialSuiteFailureReasons, "Suite Timeout Elapsed"):
		stopped = fmt.Sprintf("the run reached its deadline of %v (%s): the specs not yet run were not run; the report shows what ran", limit, limitSource)
	}
	cat, err := profiles.Requirements()
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitEnvError
	}
	meta := reports.RunMeta{Target: p.run.Target, PacheckVersion: Version, Config: configMap(p, limit), Start: start, End: time.Now(),
		Attestations: attestations}
	for _, pkg := range p.run.Profiles.Packages() {
		meta.Packages = append(meta.Packages, reports.PackageInfo{ID: pkg.ID, Version: pkg.Version, SHA256: pkg.SHA256})
	}
	res, err := reports.FromGinkgo(rep, meta, cat)
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitEnvError
	}
	p.recording.outcomes(res)
	if stopped == "" && signInCaptcha(res) {
		// Not a verdict on the server: the tool cannot sign in unattended there (issue #16).
		stopped = "the sign-in stopped at a CAPTCHA, which an unattended run does not pass (root cause below): give login steps for a test account without one, or auth.mode: token"
	}
	if stopped != "" {
		res.Run.Errors = append(res.Run.Errors, stopped)
		res.Verdict = reports.VerdictError
		errorf(stderr, "run", "%s", stopped)
	}
	if res.Counts.Total == 0 && stopped == "" {
		errorf(stderr, "run", "no spec matched the selection (label filter %q, focus %q): nothing was tested", p.file.LabelFilter, strings.Join(p.file.Focus, ","))
		return ExitUsage
	}
	kr := reports.ApplyKnownIssues(res, known, time.Now())
	if err := reports.WriteAll(p.run.OutDir, res, reports.Options{}); err != nil {
		errorf(stderr, "run", "writing the report: %v", err)
		return ExitEnvError
	}
	if f.pdf {
		// Before the bundle, so that the audit file's PDF is sealed with the rest. A PDF that
		// cannot be printed leaves the verdict and the other files as they are.
		if _, err := writePDF(ctx, p.run.OutDir); err != nil {
			errorf(stderr, "run", "%v (the HTML report and results are written)", err)
		}
	}
	if err := reports.Bundle(p.run.OutDir, filepath.Join(p.run.OutDir, reports.BundleName), signKey); err != nil {
		errorf(stderr, "run", "writing the evidence bundle: %v", err)
		return ExitEnvError
	}
	if err := p.recording.finish(stdout, f.quiet); err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitEnvError
	}
	code := exitCode(res, p.file.Strict, p.allowIncomplete)
	if stopped != "" {
		code = ExitEnvError
	}
	if err := kr.Err(); err != nil {
		// an expired entry is a run error: the verdict is ERROR, exit 3, until it is fixed or renewed
		fmt.Fprintf(stderr, "pacheck run: %s\n", termSafe(err.Error(), false))
	}
	printVerdict(stdout, res, code, f.quiet)
	if !f.quiet {
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(p.run.OutDir, "index.html"))
	}
	if f.stats {
		printStats(stdout, start, res.Counts.Total)
	}
	return code
}

// fallbackDeadline is the whole-run deadline when the selection could not be counted;
// maxSizedSpecs bounds the selection a default deadline is sized for (Ginkgo's backstop).
const (
	fallbackDeadline = 30 * time.Minute
	maxSizedSpecs    = 4000
)

// selectionSniffer passes Ginkgo's reporter output on to next and calls found with the number
// of specs the run selects, from the line Ginkgo prints when the suite starts ("- N/M specs"
// when succinct, "Will run N of M specs" when verbose).
type selectionSniffer struct {
	next  io.Writer
	found func(int)
	done  bool
	buf   []byte
}

var selectionRE = regexp.MustCompile(`(?:- (\d+)/\d+ specs|Will run (\d+) of \d+ specs)`)

func (s *selectionSniffer) Write(p []byte) (int, error) {
	if !s.done {
		s.buf = append(s.buf, p...)
		if m := selectionRE.FindSubmatch(s.buf); m != nil {
			n, _ := strconv.Atoi(string(m[1]) + string(m[2]))
			s.done, s.buf = true, nil
			s.found(n)
		} else if len(s.buf) > 64<<10 {
			s.done, s.buf = true, nil // not in the banner: the progress callback falls back
		}
	}
	return s.next.Write(p)
}

// deadlineGrace is how long work in flight at the deadline may take to notice it.
const deadlineGrace = 15 * time.Second

// defaultDeadline sizes the whole-run deadline from the selection: 2 minutes for discovery and
// the sign-in, then 2 s a spec, well above what a responsive server needs (the demo's 863 specs
// take about 25 s) and small enough that a server answering each request slowly ends in minutes.
func defaultDeadline(specs int) time.Duration {
	return 2*time.Minute + time.Duration(specs)*2*time.Second
}

// verdictWord is the console and targets.json word for a run's outcome. resultsVerdict
// (results.json's verdict, "" when unknown) tells an INCOMPLETE run that --allow-incomplete
// mapped to exit 0 from a conformant one.
func verdictWord(code int, resultsVerdict string) string {
	switch code {
	case ExitOK:
		if resultsVerdict == reports.VerdictIncomplete {
			return "incomplete"
		}
		return "conformant"
	case ExitNonConf:
		return "non-conformant"
	case ExitIncomplete:
		return "incomplete"
	case ExitUsage:
		return "usage error"
	default:
		return "error"
	}
}

// exitCode derives the exit code from the results' verdict: error 3, fail 1 (or any failed spec
// with strict), incomplete 4 (0 with allowIncomplete), pass 0. Known deviations are not failures.
// Results without a verdict (not from reports.FromGinkgo or Recount) are judged by their specs.
func exitCode(r *reports.Results, strict, allowIncomplete bool) int {
	if r.Verdict == reports.VerdictError || len(r.Run.Errors) > 0 {
		return ExitEnvError
	}
	if r.Verdict == reports.VerdictFail {
		return ExitNonConf
	}
	incomplete := r.Verdict == reports.VerdictIncomplete || len(r.Incomplete) > 0
	for _, s := range r.Specs {
		switch {
		case s.Outcome == reports.Fail && (strict || r.Verdict == "" && (s.Level == "" || s.Level == "SHALL")):
			return ExitNonConf
		case s.Outcome == reports.Error && r.Verdict == "":
			incomplete = true // some requirement did not run
		}
	}
	if incomplete && !allowIncomplete {
		return ExitIncomplete
	}
	return ExitOK
}

// maxRunErrors bounds the run errors printed after the verdict.
const maxRunErrors = 5

// maxListed bounds the requirements and root causes printed after the verdict; the report has all.
const maxListed = 20

// printVerdict prints the verdict line and, unless quiet, what explains it: each selected SHALL
// requirement that did not run with what would enable it, each root cause once with the number of
// specs it blocked, and the most frequent other error.
func printVerdict(w io.Writer, res *reports.Results, code int, quiet bool) {
	c := res.Counts
	line := fmt.Sprintf("%s: %d specs, %d passed, %d failed, %d skipped, %d errors, %d known",
		strings.ToUpper(verdictWord(code, res.Verdict)), c.Total, c.Pass, c.Fail, c.Skip, c.Error, c.Known)
	if c.Review > 0 {
		// only when there are some: the line's shape is what CI logs grep
		line += fmt.Sprintf(", %d for a person to review", c.Review)
	}
	if code == ExitOK && res.Verdict == reports.VerdictIncomplete {
		line += " (exit 0: incomplete allowed)"
	}
	fmt.Fprintln(w, line)
	if quiet {
		return
	}
	for i, e := range res.Run.Errors {
		if i == maxRunErrors {
			fmt.Fprintf(w, "… and %d more run errors (see the report)\n", len(res.Run.Errors)-maxRunErrors)
			break
		}
		fmt.Fprintln(w, termSafe("run error: "+oneLine(e), false))
	}
	if n := len(res.Incomplete); n > 0 && res.Verdict == reports.VerdictIncomplete {
		fmt.Fprintf(w, "%d selected SHALL %s did not run:\n", n, plural(n, "requirement", "requirements"))
		for i, m := range res.Incomplete {
			if i == maxListed {
				fmt.Fprintf(w, "  … and %d more (summary.md lists them all)\n", n-maxListed)
				break
			}
			l := fmt.Sprintf("  %s (%s): %s", m.Requirement, m.Status, oneLine(m.Reason))
			if rc := blockingCause(res, m); rc != "" {
				// the root cause's reason is printed once, below
				l = fmt.Sprintf("  %s (%s): blocked by %s (root cause below)", m.Requirement, m.Status, rc)
			} else if m.WouldEnable != "" {
				l += "; would run with: " + oneLine(m.WouldEnable)
			}
			fmt.Fprintln(w, termSafe(l, false))
		}
	}
	for i, rc := range res.RootCauses {
		if i == maxListed {
			fmt.Fprintf(w, "… and %d more root causes (see the report)\n", len(res.RootCauses)-maxListed)
			break
		}
		fmt.Fprintln(w, termSafe(fmt.Sprintf("root cause: %s — %s: %d %s blocked", rc.Cause, oneLine(rc.Reason), rc.Blocked,
			plural(rc.Blocked, "spec", "specs")), false))
	}
	if l := errorDigest(res); l != "" {
		fmt.Fprintln(w, l)
	}
}

// blockingCause is the root cause (a spec id) that left requirement m without a result, when
// its reason is that block; "" otherwise.
func blockingCause(res *reports.Results, m reports.Missing) string {
	for _, rc := range res.RootCauses {
		if strings.Contains(m.Reason, "blocked by "+rc.Cause+":") {
			return rc.Cause
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// oneLine keeps the first line of a reason, at most 300 characters.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// configMap is the run's configuration as the report records it (secrets masked); deadline is
// the whole-run limit in force (the default one when none was given).
func configMap(p *plan, deadline time.Duration) map[string]any {
	l := p.run.Limits
	return reports.MaskConfig(map[string]any{
		"target": p.run.Target, "preset": p.preset.Name, "suites": p.run.Suites, "igs": p.run.IGs,
		"auth": map[string]any{"mode": p.file.Auth.Mode, "client_id": p.file.Auth.ClientID,
			"client_secret": p.file.Auth.ClientSecret, "token": p.file.Auth.Token, "redirect_uri": p.file.Auth.RedirectURI,
			"scopes": p.file.Auth.Scopes, "allowed_origins": p.run.Auth.AllowedOrigins},
		"patients": p.run.Patients, "label_filter": p.file.LabelFilter, "focus": p.file.Focus, "strict": p.file.Strict,
		"allow_incomplete": p.allowIncomplete,
		"attest":           map[string]any{"must_support_complete": p.run.MustSupportAttested},
		"limits": map[string]any{"deadline": deadline.String(), "request_timeout": l.RequestTimeout.String(),
			"max_pages": l.MaxPages, "max_body_bytes": l.MaxBodyBytes, "max_redirects": l.MaxRedirects,
			"retries": l.RetryAttempts, "retry_max_wait": l.RetryMaxWait.String(), "max_latency": l.MaxLatency.String(), "max_patients": cmp.Or(l.MaxPatients, framework.DefaultMaxPatients)},
	})
}

func readSignKey(path string) (ed25519.PrivateKey, error) {
	// A key is small: a device (/dev/zero), a FIFO or a huge file is refused at once.
	b, err := safefile.ReadFile(path, safefile.SmallLimit)
	if err != nil {
		return nil, fmt.Errorf("--sign-key: %v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("--sign-key %s: not a PEM file (want an Ed25519 PKCS#8 private key)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("--sign-key %s: %v", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("--sign-key %s: not an Ed25519 key", path)
	}
	return ek, nil
}

func printStats(w io.Writer, start time.Time, specs int) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// CPU beside wall: on a busy machine the wall time says little, the CPU time of pacheck and
	// of Chromium's whole process tree says where the work went.
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	browserCPU, signIns, tabs := browser.Usage()
	fmt.Fprintf(w, "stats: wall %.1fs, %d specs, peak RSS %d MiB (Go heap in use %d MiB), CPU %.1fs",
		time.Since(start).Seconds(), specs, ru.Maxrss/1024, ms.HeapInuse>>20, cpu)
	if signIns > 0 {
		fmt.Fprintf(w, ", Chromium %.1fs CPU for %d sign-ins in %d tabs", browserCPU.Seconds(), signIns, tabs)
	}
	fmt.Fprintln(w)
}

// progress prints a live line on a terminal and plain lines elsewhere. Specs blocked by a root
// cause are counted, not listed: the first of each cause prints one line naming it.
type progress struct {
	w       io.Writer
	tty     bool
	quiet   bool
	verbose bool
	start   time.Time
	total   int // specs the run selects (0: unknown)
	done    int // selected specs that ended
	failed  int
	blocked int
	notRun  int // ended at once after the deadline or an interrupt
	causes  map[string]bool
	outcome map[string]int
}

func newProgress(w io.Writer, quiet, verbose bool) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, quiet: quiet, verbose: verbose, start: time.Now(), causes: map[string]bool{}, outcome: map[string]int{}}
}

// spec counts one ended spec. Ginkgo reports the specs the selection left out too (skipped, no
// message); they are not counted, so done/total counts only what the run selected.
func (p *progress) spec(_ int, s types.SpecReport) {
	if s.State.Is(types.SpecStateSkipped) && s.Failure.IsZero() {
		return // not selected by the preset, labels or focus, or not run: not a result here
	}
	p.done++
	o := runner.Outcome(s)
	p.outcome[o]++
	b, blocked := blockedBy(s)
	notRun := o == "error" && strings.HasPrefix(s.Failure.Message, notRunPrefix)
	switch {
	case blocked:
		p.blocked++
	case notRun:
		p.notRun++
	case o == "fail" || o == "error":
		p.failed++
	}
	if p.quiet {
		return
	}
	id := termSafe(runner.SpecID(s), false)
	if p.tty && !p.verbose {
		line := "\r[" + p.counter(time.Now()) + fmt.Sprintf(", %d failed", p.failed)
		if p.blocked > 0 {
			line += fmt.Sprintf(", %d blocked", p.blocked)
		}
		if p.notRun > 0 {
			line += fmt.Sprintf(", %d not run", p.notRun)
		}
		line += fmt.Sprintf(", %.0fs] %s", time.Since(p.start).Seconds(), id)
		if r := []rune(line); len(r) > 120 {
			line = string(r[:120])
		}
		fmt.Fprintf(p.w, "%-121s", line)
		return
	}
	if notRun {
		if p.notRun == 1 {
			fmt.Fprintln(p.w, termSafe("NOT RUN: "+oneLine(strings.TrimPrefix(s.Failure.Message, notRunPrefix))+
				" (the specs still to run end at once; counted after the verdict, not listed)", false))
		}
		return
	}
	if blocked {
		if !p.causes[b.Cause] {
			p.causes[b.Cause] = true
			fmt.Fprintln(p.w, termSafe(fmt.Sprintf("BLOCKED by %s: %s (the specs it blocks are counted after the verdict, not listed)", b.Cause, oneLine(b.Reason)), false))
		}
		return
	}
	if o != "pass" || p.verbose {
		// the failure's or skip's first line says what is wrong, as in the reports (redacted
		// like them, and cut: the reports carry the whole text)
		why := ""
		msg := strings.TrimPrefix(s.Failure.Message, "error: ")
		if o == "fail" {
			// the line the report's list, JUnit, summary.md and results.csv show
			msg, _, _ = strings.Cut(msg, "\n")
			if h := reports.Headline(s); h != "" {
				msg = strings.TrimPrefix(h, "error: ")
			}
		}
		if o != "pass" && msg != "" {
			if r := []rune(oneLine(reports.Redact(msg))); len(r) > 160 {
				msg = string(r[:160]) + "…"
			} else {
				msg = string(r)
			}
			why = ": " + termSafe(msg, false)
		}
		fmt.Fprintf(p.w, "%-5s %s%s\n", strings.ToUpper(o), id, why)
	}
}

// counter is "done/total done, ETA 1m20s" (the ETA from the mean time per spec so far, once a
// tenth of the specs or 20 of them ended), or "n done" when the total is not known.
func (p *progress) counter(now time.Time) string {
	if p.total <= 0 {
		return fmt.Sprintf("%d done", p.done)
	}
	c := fmt.Sprintf("%d/%d done", p.done, p.total)
	if left := p.total - p.done; left > 0 && p.done >= min(20, max(p.total/10, 1)) {
		per := now.Sub(p.start) / time.Duration(p.done)
		c += ", ETA " + (per * time.Duration(left)).Round(time.Second).String()
	}
	return c
}

func (p *progress) finish() {
	if p.tty && !p.quiet && !p.verbose {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", 121)+"\r")
	}
}

// notRunPrefix starts the error of a spec the runner ended at once because the run's deadline
// passed or the run was interrupted (framework.Run.DeadlineErr).
const notRunPrefix = "error: not run: "

// blockedBy returns the root cause a spec's pacheck.blocked entry names, if it has one.
func blockedBy(s types.SpecReport) (evidence.Blocked, bool) {
	for _, e := range s.ReportEntries {
		if e.Name != evidence.BlockedEntryName {
			continue
		}
		switch v := e.GetRawValue().(type) {
		case evidence.Blocked:
			return v, true
		case *evidence.Blocked:
			if v != nil {
				return *v, true
			}
		}
		return evidence.Blocked{Cause: "an earlier failure", Reason: e.StringRepresentation()}, true
	}
	return evidence.Blocked{}, false
}

// errorDigest names the most frequent error reason, so that a run against an unreachable or
// misconfigured target says why in one line instead of only counting errors ("" when none).
// Specs blocked by a root cause the console already printed are left out.
func errorDigest(res *reports.Results) string {
	n := map[string]int{}
	best := ""
	causes := map[string]bool{}
	for _, rc := range res.RootCauses {
		causes[rc.Cause] = true
	}
	for _, s := range res.Specs {
		// blocked specs and the root causes themselves are on the root-cause lines already
		if s.Outcome != reports.Error || s.Reason == "" || (s.Blocked != nil && len(res.RootCauses) > 0) || causes[s.ID] {
			continue
		}
		n[s.Reason]++
		if best == "" || n[s.Reason] > n[best] {
			best = s.Reason
		}
	}
	if best == "" {
		return ""
	}
	line := oneLine(strings.TrimPrefix(best, "error: "))
	return termSafe(fmt.Sprintf("most frequent error (%d of %d errors): %s", n[best], res.Counts.Error, line), false)
}

// termSafe returns s with every character a terminal could act on shown escaped instead: C0
// controls except tab (and newline when keepNewlines: the line structure is ours), DEL, C1
// controls, bytes that are not UTF-8, and the bidirectional overrides that reorder what is shown.
// Everything that reaches the console from the server or the run goes through it, so a server
// cannot set the window title (OSC 0), clear the screen (CSI 2J), write the clipboard (OSC 52) or
// overwrite a line with a carriage return.
func termSafe(s string, keepNewlines bool) string {
	clean := true
	for i := 0; i < len(s) && clean; {
		r, n := utf8.DecodeRuneInString(s[i:])
		clean = !unsafeRune(r, n, keepNewlines)
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafeRune(r, n, keepNewlines):
			b.WriteString(s[i : i+n])
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

func unsafeRune(r rune, size int, keepNewlines bool) bool {
	switch {
	case r == utf8.RuneError && size == 1: // not UTF-8: a lone 0x9b is CSI to some terminals
		return true
	case r == '\t', r == '\n' && keepNewlines:
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings and isolates
		return true
	}
	return false
}

// termWriter passes a stream (Ginkgo's --verbose output, which quotes server text) to a terminal
// through termSafe, keeping newlines. A UTF-8 sequence split across writes is held until whole.
type termWriter struct {
	w       io.Writer
	pending []byte
}

func (t *termWriter) Write(p []byte) (int, error) {
	buf := append(t.pending, p...)
	cut := len(buf)
	for i := len(buf) - 1; i >= 0 && i >= len(buf)-utf8.UTFMax; i-- {
		if utf8.RuneStart(buf[i]) {
			if !utf8.FullRune(buf[i:]) {
				cut = i
			}
			break
		}
	}
	t.pending = append([]byte(nil), buf[cut:]...)
	if _, err := io.WriteString(t.w, termSafe(string(buf[:cut]), true)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what an unfinished UTF-8 sequence held back, escaped.
func (t *termWriter) Flush() {
	if len(t.pending) > 0 {
		io.WriteString(t.w, termSafe(string(t.pending), true))
		t.pending = nil
	}
}

// signInCaptcha reports whether a root cause of the run is a sign-in the browser's default
// strategy stopped at a CAPTCHA (browser.ErrCaptcha).
func signInCaptcha(r *reports.Results) bool {
	for _, rc := range r.RootCauses {
		if strings.Contains(rc.Reason, browser.ErrCaptcha.Error()) {
			return true
		}
	}
	return false
}
