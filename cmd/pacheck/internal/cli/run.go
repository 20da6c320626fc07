package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/fhirhttp"
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
summary.md and pacheck-evidence.tar.gz to --out.

With --targets FILE (one FHIR base URL a line, # comments) or several --target, each target runs
in turn, in its own process, with the same flags, into --out/HOST-PORT-PATH; --out also gets
targets.json, summary.md and index.html, and the exit code is the worst: 3 > 2 > 1 > 0.

Exit codes:
  0  conformant: every SHALL spec that ran passed (skips are listed with their reasons)
  1  non-conformance found (SHOULD-level failures count only with --strict)
  2  usage or configuration error
  3  environment or tool error: target unreachable, browser missing, a check could not finish

Examples:
  pacheck run --config pacheck.yaml
  pacheck run --target https://fhir.example.org/r4 --preset public
  pacheck run --target https://fhir.example.org/r4 --auth token --token-env FHIR_TOKEN
  pacheck run --targets endpoints.txt --preset public --out spot-check

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
	fs.StringVar(&f.signKey, "sign-key", "", "Ed25519 private key (PEM, PKCS#8) to sign the evidence bundle")
	fs.BoolVar(&f.strict, "strict", false, "SHOULD-level failures fail the run too")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the verdict")
	fs.BoolVar(&f.verbose, "verbose", false, "print every spec and Ginkgo's own output")
	fs.BoolVar(&f.stats, "stats", false, "print wall time, spec count and peak memory")
	return &flagSetWrap{fs}
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := runFlagSet("run", runHelp, stdout, &f)
	m := bindMultiFlags(fs.FlagSet, &f)
	if code, ok := parse(fs.FlagSet, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		errorf(stderr, "run", "unexpected argument %q (flags only; see 'pacheck help run')", fs.Arg(0))
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
	if err := prepareOutDir(p.run.OutDir); err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
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
			dctx, cancel := context.WithTimeout(ctx, p.run.Limits.RequestTimeout)
			id, err := discoverPatient(dctx, c)
			cancel()
			switch {
			case err != nil && !f.quiet:
				fmt.Fprintf(stderr, "pacheck run: no --patient given and none found: %v\n", err)
			case err == nil:
				p.run.Patients = []string{id}
				if !f.quiet {
					fmt.Fprintf(stderr, "pacheck run: no --patient given: examining patient %s, the one the token opens (GET Patient)\n", id)
				}
			}
		}
	}
	if err := framework.Prepare(ctx, p.run); err != nil && !f.quiet {
		fmt.Fprintf(stderr, "pacheck run: preparation: %v (the specs that need it will report it)\n", err)
	}
	prog := newProgress(stdout, f.quiet, f.verbose)
	var ginkgoOut io.Writer
	if f.verbose {
		ginkgoOut = stdout
	}
	rep, err := runner.Run(runner.Options{Run: p.run, LabelFilter: p.file.LabelFilter, Focus: p.file.Focus,
		Output: ginkgoOut, Verbose: f.verbose, Progress: prog.spec})
	prog.finish()
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitEnvError
	}
	cat, err := profiles.Requirements()
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitEnvError
	}
	meta := reports.RunMeta{Target: p.run.Target, PacheckVersion: Version, Config: configMap(p), Start: start, End: time.Now()}
	for _, pkg := range p.run.Profiles.Packages() {
		meta.Packages = append(meta.Packages, reports.PackageInfo{ID: pkg.ID, Version: pkg.Version, SHA256: pkg.SHA256})
	}
	res, err := reports.FromGinkgo(rep, meta, cat)
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitEnvError
	}
	kr := reports.ApplyKnownIssues(res, known, time.Now())
	if err := reports.WriteAll(p.run.OutDir, res, reports.Options{}); err != nil {
		errorf(stderr, "run", "writing the report: %v", err)
		return ExitEnvError
	}
	if err := reports.Bundle(p.run.OutDir, filepath.Join(p.run.OutDir, reports.BundleName), signKey); err != nil {
		errorf(stderr, "run", "writing the evidence bundle: %v", err)
		return ExitEnvError
	}
	code := exitCode(res, p.file.Strict)
	if res.Counts.Total == 0 {
		errorf(stderr, "run", "no spec matched the selection (label filter %q, focus %q): nothing was tested", p.file.LabelFilter, strings.Join(p.file.Focus, ","))
		return ExitUsage
	}
	if err := kr.Err(); err != nil {
		fmt.Fprintf(stderr, "pacheck run: %v\n", err)
		if code == ExitOK {
			code = ExitNonConf
		}
	}
	c := res.Counts
	fmt.Fprintf(stdout, "%s: %d specs, %d passed, %d failed, %d skipped, %d errors, %d known\n",
		strings.ToUpper(verdictWord(code)), c.Total, c.Pass, c.Fail, c.Skip, c.Error, c.Known)
	if line := errorDigest(res); line != "" {
		fmt.Fprintln(stdout, line)
	}
	if !f.quiet {
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(p.run.OutDir, "index.html"))
	}
	if f.stats {
		printStats(stdout, start, c.Total)
	}
	return code
}

func verdictWord(code int) string {
	switch code {
	case ExitOK:
		return "conformant"
	case ExitNonConf:
		return "non-conformant"
	default:
		return "incomplete (errors)"
	}
}

// exitCode: errors dominate (nothing is known), then SHALL failures (or any failure when strict).
func exitCode(r *reports.Results, strict bool) int {
	code := ExitOK
	for _, s := range r.Specs {
		switch s.Outcome {
		case reports.Error:
			code = ExitEnvError
		case reports.Fail:
			if code == ExitOK && (strict || s.Level == "" || s.Level == "SHALL") {
				code = ExitNonConf
			}
		}
	}
	return code
}

func configMap(p *plan) map[string]any {
	return reports.MaskConfig(map[string]any{
		"target": p.run.Target, "preset": p.preset.Name, "suites": p.run.Suites, "igs": p.run.IGs,
		"auth": map[string]any{"mode": p.file.Auth.Mode, "client_id": p.file.Auth.ClientID,
			"client_secret": p.file.Auth.ClientSecret, "token": p.file.Auth.Token, "redirect_uri": p.file.Auth.RedirectURI,
			"scopes": p.file.Auth.Scopes},
		"patients": p.run.Patients, "label_filter": p.file.LabelFilter, "focus": p.file.Focus, "strict": p.file.Strict,
	})
}

func readSignKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--sign-key %s: %v", path, err)
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
	fmt.Fprintf(w, "stats: wall %.1fs, %d specs, peak RSS %d MiB (Go heap in use %d MiB)\n",
		time.Since(start).Seconds(), specs, ru.Maxrss/1024, ms.HeapInuse>>20)
}

// progress prints a live line on a terminal and plain lines elsewhere.
type progress struct {
	w       io.Writer
	tty     bool
	quiet   bool
	verbose bool
	start   time.Time
	failed  int
	outcome map[string]int
}

func newProgress(w io.Writer, quiet, verbose bool) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, quiet: quiet, verbose: verbose, start: time.Now(), outcome: map[string]int{}}
}

func (p *progress) spec(done int, s types.SpecReport) {
	if s.State.Is(types.SpecStateSkipped) && s.Failure.IsZero() {
		return // not selected by the preset, labels or focus: not a result (reports count it apart)
	}
	o := runner.Outcome(s)
	p.outcome[o]++
	if o == "fail" || o == "error" {
		p.failed++
	}
	if p.quiet {
		return
	}
	id := runner.SpecID(s)
	if p.tty && !p.verbose {
		line := fmt.Sprintf("\r[%d done, %d failed, %.0fs] %s", done, p.failed, time.Since(p.start).Seconds(), id)
		if len(line) > 120 {
			line = line[:120]
		}
		fmt.Fprintf(p.w, "%-121s", line)
		return
	}
	if o != "pass" || p.verbose {
		fmt.Fprintf(p.w, "%-5s %s\n", strings.ToUpper(o), id)
	}
}

func (p *progress) finish() {
	if p.tty && !p.quiet && !p.verbose {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", 121)+"\r")
	}
}

// errorDigest names the most frequent error reason, so that a run against an unreachable or
// misconfigured target says why in one line instead of only counting errors ("" when none).
func errorDigest(res *reports.Results) string {
	n := map[string]int{}
	best := ""
	for _, s := range res.Specs {
		if s.Outcome != reports.Error || s.Reason == "" {
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
	line := strings.TrimPrefix(best, "error: ")
	if r := []rune(line); len(r) > 300 {
		line = string(r[:300]) + "…"
	}
	return fmt.Sprintf("most frequent error (%d of %d errors): %s", n[best], res.Counts.Error, line)
}
