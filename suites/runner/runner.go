// Package runner runs pacheck's Ginkgo specs in-process: it installs the run context, turns the
// run options into Ginkgo's suite and reporter configuration, runs (or previews) the tree once,
// and hands the finished report to the caller. Ginkgo allows one RunSpecs per process, so a
// process runs one suite; tests that need several runs re-execute their test binary.
package runner

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/reports"
	"github.com/pacheck/pacheck/suites/framework"
)

// Options of one run.
type Options struct {
	Run         *framework.Run
	LabelFilter string   // Ginkgo label-filter expression
	Focus       []string // regexps on spec ids
	Skip        []string
	Timeout     time.Duration // whole run; default 30 minutes
	// Output receives Ginkgo's own reporter output (nil: discarded).
	Output  io.Writer
	Verbose bool
	// Progress is called after each spec with its report (for live progress lines).
	Progress func(done int, spec types.SpecReport)
}

var (
	mu       sync.Mutex
	progress func(int, types.SpecReport)
	done     int
	ran      bool
)

// The progress hook lives in the tree for every run; it is a no-op without a callback.
var _ = ginkgo.ReportAfterEach(func(r types.SpecReport) {
	mu.Lock()
	defer mu.Unlock()
	if r.LeafNodeType != types.NodeTypeIt {
		return
	}
	done++
	if progress != nil {
		progress(done, r)
	}
})

// A spec that starts after the run's deadline passed (or the run was interrupted) ends at once
// as an error naming the deadline, instead of each waiting for its own timeout.
var _ = ginkgo.BeforeEach(func() {
	if run := framework.Current(); run != nil {
		if err := run.DeadlineErr(); err != nil {
			framework.Infra(err)
		}
	}
})

// testingT adapts Ginkgo's failure signal; the verdict is read from the report, not from it.
type testingT struct{ failed bool }

func (t *testingT) Fail() { t.failed = true }

func configs(o Options, dryRun bool) (types.SuiteConfig, types.ReporterConfig) {
	sc, rc := ginkgo.GinkgoConfiguration()
	sc.RandomSeed = 1 // deterministic order: reports diff cleanly run to run
	sc.RandomizeAllSpecs = false
	sc.LabelFilter = o.LabelFilter
	sc.FocusStrings = specIDPatterns(o.Focus)
	sc.SkipStrings = specIDPatterns(o.Skip)
	sc.DryRun = dryRun
	sc.Timeout = o.Timeout
	if sc.Timeout <= 0 && o.Run != nil && o.Run.Limits.Deadline > 0 {
		// the run context ends the specs at the deadline; Ginkgo's own limit is the backstop
		sc.Timeout = o.Run.Limits.Deadline + time.Minute
	}
	if sc.Timeout <= 0 {
		sc.Timeout = 30 * time.Minute
	}
	sc.ParallelProcess, sc.ParallelTotal = 1, 1
	rc.NoColor = true
	rc.Succinct = !o.Verbose
	rc.Verbose = o.Verbose
	rc.SilenceSkips = !o.Verbose
	return sc, rc
}

// Run executes the specs and returns Ginkgo's report. It can be called once per process.
func Run(o Options) (types.Report, error) {
	mu.Lock()
	if ran {
		mu.Unlock()
		return types.Report{}, errors.New("runner: one run per process (Ginkgo's RunSpecs limit)")
	}
	ran = true
	progress = o.Progress
	mu.Unlock()
	if o.Run == nil {
		return types.Report{}, errors.New("runner: no run context")
	}
	framework.Set(o.Run)
	o.Run.Context() // the deadline counts from here unless the caller set the run context earlier
	if err := checkTree(); err != nil {
		return types.Report{}, err
	}
	out := o.Output
	if out == nil {
		out = io.Discard
	}
	prevOut := formatter.ColorableStdOut
	formatter.ColorableStdOut = out
	defer func() { formatter.ColorableStdOut = prevOut }()

	var report types.Report
	capture := ginkgo.ReportAfterSuite("pacheck report capture", func(r types.Report) { report = r })
	_ = capture
	sc, rc := configs(o, false)
	ginkgo.RunSpecs(&testingT{}, "pacheck", sc, rc)
	return report, nil
}

// List builds the tree without running anything and returns the specs a run would execute.
func List(o Options) (types.Report, error) {
	if o.Run == nil {
		o.Run = &framework.Run{}
	}
	framework.Set(o.Run)
	sc, _ := configs(o, true)
	r := ginkgo.PreviewSpecs("pacheck", sc)
	if err := checkTree(); err != nil {
		return r, err
	}
	return r, nil
}

// checkTree refuses specs that name requirement ids the catalogue lacks. Ids are recorded while
// the tree is built, so it is meaningful after PreviewSpecs/RunSpecs built it.
func checkTree() error {
	if unk := framework.UnknownRequirements(); len(unk) > 0 {
		return fmt.Errorf("specs name requirement ids missing from profiles/requirements: %s", strings.Join(unk, ", "))
	}
	return nil
}

// SpecID is a spec's addressable id: its container texts and its own text joined by "/".
func SpecID(s types.SpecReport) string { return reports.SpecID(s) }

// Outcome classifies a spec with pacheck's four honest outcomes.
func Outcome(s types.SpecReport) string {
	switch s.State {
	case types.SpecStatePassed:
		for _, e := range s.ReportEntries {
			if e.Name == evidence.ReviewEntryName {
				return "review" // passed, with something a person must confirm (framework.Review)
			}
		}
		return "pass"
	case types.SpecStateSkipped, types.SpecStatePending:
		return "skip"
	case types.SpecStateFailed:
		for _, e := range s.ReportEntries {
			if e.Name == evidence.ErrorEntryName {
				return "error"
			}
		}
		return "fail"
	default: // panicked, interrupted, aborted, timed out: the tool did not finish the check
		return "error"
	}
}

// Level is the spec's requirement level label (SHALL when none).
func Level(s types.SpecReport) string {
	for _, l := range s.Labels() {
		if strings.HasPrefix(l, "level:") {
			return strings.TrimPrefix(l, "level:")
		}
	}
	return "SHALL"
}

// ExitCode maps a finished report to pacheck's exit codes: 0 conformant, 1 non-conformance,
// 3 environment/tool error. A SHOULD-level failure counts only when strict.
func ExitCode(r types.Report, strict bool) int {
	code := 0
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			if s.State.Is(types.SpecStateFailureStates) {
				code = 3 // a suite-level node failed: setup trouble
			}
			continue
		}
		switch Outcome(s) {
		case "error":
			code = 3
		case "fail":
			if (strict || Level(s) == "SHALL") && code == 0 {
				code = 1
			}
		}
	}
	return code
}

// specIDPatterns lets focus and skip regexps be written against spec ids (parts joined by "/",
// anchored at the id's start), while Ginkgo matches them against the spec's full text: the suite
// description, then the same parts joined by spaces (some parts contain "/" themselves).
func specIDPatterns(res []string) []string {
	out := make([]string, len(res))
	for i, re := range res {
		re = strings.ReplaceAll(re, "/", "[ /]")
		if strings.HasPrefix(re, "^") {
			// " +": an unnamed group container adds a second space (see SpecID)
			re = "^pacheck +" + re[1:]
		}
		out[i] = re
	}
	return out
}
