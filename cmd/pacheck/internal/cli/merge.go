package cli

// `pacheck report merge`: the fleet page of a several-target run, built from report folders made
// anywhere — the pods of deploy/k8s's Indexed Job, runs on several machines, or earlier runs.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pacheck/pacheck/internal/safefile"
	"github.com/pacheck/pacheck/reports"
)

const mergeHelp = `Usage: pacheck report merge [--targets FILE] [--out DIR] REPORT...

Builds the fleet page of several runs (targets.json, summary.md and index.html, as
'pacheck run --targets' writes) from report folders made anywhere: each REPORT is a run's report
folder (with results.json), a several-target report (with targets.json), or a folder holding run
report folders one level down (the shared volume of deploy/k8s's Job). With --targets, the page
lists every target of the file in its order, each matched to the report whose results.json names
it; a target with no report is an error row ("no report": the run did not start or did not end),
so no target of the list goes unaccounted for. The fleet page links each report relative to --out.
Each row's exit code follows its results.json verdict (0 conformant, 1 non-conformant, 4
incomplete, 3 error): --strict, --allow-incomplete and known issues of the original runs are not
known here.
Exit: the worst of the rows' (3 > 2 > 1 > 4 > 0); 2 when a REPORT is unusable.

Examples:
  pacheck report merge --targets targets.txt --out /reports /reports
  pacheck report merge --out fleet east/pacheck-report west/pacheck-report

Flags:
`

// mergedRun is one report folder found by merge.
type mergedRun struct {
	dir    string // as found (absolute)
	target string // results.json run.target
}

func runReportMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report merge", mergeHelp, stdout)
	targets := fs.String("targets", "", "targets file (one FHIR base URL a line): every target gets a row, with or without a report")
	out := fs.String("out", "pacheck-fleet", "folder of the fleet page (targets.json, summary.md, index.html)")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		errorf(stderr, "report merge", "no report folder given (see 'pacheck help report')")
		return ExitUsage
	}
	var found []mergedRun
	for _, d := range fs.Args() {
		rs, err := findRuns(d)
		if err != nil {
			errorf(stderr, "report merge", "%v", err)
			return ExitUsage
		}
		found = append(found, rs...)
	}
	outAbs, err := filepath.Abs(*out)
	if err != nil {
		errorf(stderr, "report merge", "--out %s: %v", *out, err)
		return ExitUsage
	}
	if err := prepareMergeOut(outAbs); err != nil {
		errorf(stderr, "report merge", "%v", err)
		return ExitUsage
	}
	byTarget := map[string][]mergedRun{}
	for _, r := range found {
		byTarget[r.target] = append(byTarget[r.target], r)
	}
	var rows []targetResult
	used := map[string]bool{}
	if *targets != "" {
		fh, _, err := safefile.Open(*targets)
		if err != nil {
			errorf(stderr, "report merge", "--targets: %v", err)
			return ExitUsage
		}
		ts, err := parseTargets(*targets, fh)
		fh.Close()
		if err != nil {
			errorf(stderr, "report merge", "%v", err)
			return ExitUsage
		}
		for _, t := range ts {
			rs := byTarget[t.URL]
			if len(rs) == 0 {
				rows = append(rows, targetResult{URL: t.URL, ExitCode: ExitEnvError, Verdict: "error",
					Error: "no report: the run did not start or did not end (no results.json names this target)"})
				continue
			}
			if len(rs) > 1 {
				errorf(stderr, "report merge", "%s has %d reports (%s and %s): merge one run of each target", t.URL, len(rs), rs[0].dir, rs[1].dir)
				return ExitUsage
			}
			used[rs[0].dir] = true
			rows = append(rows, mergedRow(rs[0], outAbs))
		}
		for _, r := range found {
			if !used[r.dir] {
				errorf(stderr, "report merge", "%s is the report of %s, which %s does not list", r.dir, r.target, *targets)
				return ExitUsage
			}
		}
	} else {
		for _, r := range found {
			rows = append(rows, mergedRow(r, outAbs))
		}
	}
	worst, allowed := ExitOK, ""
	start, end := time.Time{}, time.Time{}
	for _, r := range rows {
		worst = worseExit(worst, r.ExitCode)
		if r.ExitCode == ExitOK && r.ResultsVerdict == reports.VerdictIncomplete {
			allowed = reports.VerdictIncomplete
		}
	}
	for _, r := range found {
		s, e := runTimes(r.dir)
		if !s.IsZero() && (start.IsZero() || s.Before(start)) {
			start = s
		}
		if e.After(end) {
			end = e
		}
	}
	merged := make([]string, 0, fs.NArg())
	merged = append(merged, fs.Args()...)
	sum := multiSummary{Version: Version, Preset: presetsOf(found), Start: start.UTC(), End: end.UTC(), ExitCode: worst,
		Verdict: verdictWord(worst, allowed), Merged: merged, Targets: rows}
	if err := sum.write(outAbs); err != nil {
		errorf(stderr, "report merge", "writing the fleet page: %v", err)
		return ExitEnvError
	}
	for i, r := range rows {
		fmt.Fprintf(stdout, "[%d/%d] %s: %s\n", i+1, len(rows), r.URL, targetLine(&r, *out))
	}
	fmt.Fprintf(stdout, "%s: %d targets merged from %d report(s); fleet page: %s\n", strings.ToUpper(sum.Verdict), len(rows), len(found), filepath.Join(*out, "index.html"))
	return worst
}

// findRuns lists the run report folders under d: d itself (results.json), the folders a
// targets.json in d names, or d's subfolders that hold a results.json.
func findRuns(d string) ([]mergedRun, error) {
	abs, err := filepath.Abs(d)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", d, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("report folder %s: %v", d, unwrapPathErr(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder: give report folders (with results.json or targets.json)", d)
	}
	if r, err := readRun(abs); err == nil {
		return []mergedRun{r}, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %v", d, err)
	}
	var dirs []string
	if b, err := safefile.ReadFile(filepath.Join(abs, "targets.json"), maxResultsBytes); err == nil {
		var prev multiSummary
		if err := json.Unmarshal(b, &prev); err != nil {
			return nil, fmt.Errorf("%s: targets.json is not a pacheck fleet file: %v", d, err)
		}
		for _, t := range prev.Targets {
			if plainName(t.Folder) {
				dirs = append(dirs, filepath.Join(abs, t.Folder))
			}
		}
	} else {
		ents, err := os.ReadDir(abs)
		if err != nil {
			return nil, fmt.Errorf("report folder %s: %v", d, unwrapPathErr(err))
		}
		for _, e := range ents {
			if e.IsDir() {
				dirs = append(dirs, filepath.Join(abs, e.Name()))
			}
		}
	}
	var out []mergedRun
	for _, sub := range dirs {
		r, err := readRun(sub)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a folder without a report (a run that did not end): --targets shows it
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", sub, err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no pacheck report (results.json, targets.json, or run folders one level down)", d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dir < out[j].dir })
	return out, nil
}

// readRun reads the target of the run report in dir; fs.ErrNotExist when dir has no results.json.
func readRun(dir string) (mergedRun, error) {
	b, err := safefile.ReadFile(filepath.Join(dir, "results.json"), maxResultsBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return mergedRun{}, fs.ErrNotExist
		}
		return mergedRun{}, err
	}
	var res struct {
		Verdict string `json:"verdict"`
		Run     struct {
			Target string `json:"target"`
		} `json:"run"`
	}
	if err := json.Unmarshal(b, &res); err != nil || res.Verdict == "" || res.Run.Target == "" {
		return mergedRun{}, fmt.Errorf("results.json is not a pacheck results file")
	}
	return mergedRun{dir: dir, target: strings.TrimRight(res.Run.Target, "/")}, nil
}

// mergedRow is a fleet row for the run in r, its links relative to out.
func mergedRow(r mergedRun, out string) targetResult {
	rel, err := filepath.Rel(out, r.dir)
	if err != nil {
		rel = r.dir
	}
	rel = filepath.ToSlash(rel)
	row := targetResult{URL: r.target, Folder: rel}
	c, v, failed, err := readChildResults(filepath.Join(r.dir, "results.json"))
	if err != nil {
		row.ExitCode, row.Verdict, row.Error = ExitEnvError, "error", err.Error()
		return row
	}
	row.Counts, row.ResultsVerdict, row.Failed = c, v, failed
	switch v {
	case reports.VerdictPass:
		row.ExitCode = ExitOK
	case reports.VerdictFail:
		row.ExitCode = ExitNonConf
	case reports.VerdictIncomplete:
		row.ExitCode = ExitIncomplete
	default:
		row.ExitCode = ExitEnvError
	}
	row.Verdict = verdictWord(row.ExitCode, v)
	if _, err := os.Stat(filepath.Join(r.dir, "index.html")); err == nil {
		row.Report = rel + "/index.html"
	}
	if s, e := runTimes(r.dir); !s.IsZero() {
		row.Seconds = e.Sub(s).Seconds()
	}
	return row
}

// runTimes are a run's start and end from its results.json (zero when unreadable).
func runTimes(dir string) (time.Time, time.Time) {
	b, err := safefile.ReadFile(filepath.Join(dir, "results.json"), maxResultsBytes)
	if err != nil {
		return time.Time{}, time.Time{}
	}
	var res struct {
		Run struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		} `json:"run"`
	}
	if json.Unmarshal(b, &res) != nil {
		return time.Time{}, time.Time{}
	}
	return res.Run.Start, res.Run.End
}

// presetsOf names the presets of the merged runs ("a, b" when they differ).
func presetsOf(rs []mergedRun) string {
	seen := map[string]bool{}
	var names []string
	for _, r := range rs {
		b, err := safefile.ReadFile(filepath.Join(r.dir, "results.json"), maxResultsBytes)
		if err != nil {
			continue
		}
		var res struct {
			Run struct {
				Config map[string]any `json:"config"`
			} `json:"run"`
		}
		if json.Unmarshal(b, &res) != nil {
			continue
		}
		if p, _ := res.Run.Config["preset"].(string); p != "" && !seen[p] {
			seen[p] = true
			names = append(names, p)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// prepareMergeOut makes out ready for the fleet page: a new folder, or one whose index.html (if
// any) is a fleet page's (targets.json beside it). A single run's report folder is refused: its
// index.html would be overwritten.
func prepareMergeOut(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("--out %s: %v", out, unwrapPathErr(err))
	}
	_, htmlErr := os.Stat(filepath.Join(out, "index.html"))
	_, fleetErr := os.Stat(filepath.Join(out, "targets.json"))
	if htmlErr == nil && fleetErr != nil {
		return fmt.Errorf("--out %s holds a run's report (index.html without targets.json): choose another folder for the fleet page", out)
	}
	return nil
}
