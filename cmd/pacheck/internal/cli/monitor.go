package cli

// `pacheck monitor`: a light check set against one target on a schedule, for the "routine testing
// and monitoring" the rule asks of payers between audits. Each check is a child `pacheck run`
// (Ginkgo runs once per process) into HISTORY/runs/STAMP; each result is a line of
// HISTORY/history.jsonl; HISTORY/index.html shows availability and latency trends; a regression
// (a spec that passed and now fails, or a run that can no longer judge the target) exits or calls
// a webhook.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pacheck/pacheck/internal/safefile"
	"github.com/pacheck/pacheck/reports"
)

func init() {
	register(&command{name: "monitor", summary: "run a light check set on a schedule: history, trends, metrics, regression alerts", run: runMonitor})
}

const monitorHelp = `Usage: pacheck monitor (--config FILE | --target URL) --history DIR [--every 15m] [flags]

Runs a light check set against one target on a schedule, for routine monitoring between audits:
the CapabilityStatement and HTTP checks, SMART discovery, the token refresh (when signing in), a
read and a search by patient (or _id) per profile, and the public formulary — unless --focus
names other specs. Each check is a full pacheck run of those specs into DIR/runs/STAMP (the last
--keep are kept); each result is a line of DIR/history.jsonl; DIR/index.html shows availability,
verdicts and 95th-percentile latency over time (inline SVG). A regression is a spec that passed
(or skipped) and now fails or errors, or a check that can no longer reach a verdict: it is
written to the history, posted to --webhook as JSON, and with --on-regression exit (the default)
ends the monitor with exit 1. --metrics-addr serves Prometheus metrics (/metrics).
Exit: 0 stopped (--count reached, SIGINT/SIGTERM), 1 a regression (--on-regression exit), 2 usage.

Examples:
  pacheck monitor --config pacheck.yaml --every 15m --history monitor/
  pacheck monitor --target https://fhir.example.org/r4 --preset public --every 5m --history mon/ \
      --metrics-addr 127.0.0.1:9464 --webhook https://alerts.example.org/hook --on-regression continue

Flags:
`

// monitorFocus is the light check set (regular expressions on spec ids).
var monitorFocus = []string{
	`^capability/`,
	`^smart-[0-9.]+/discovery/`,
	`^smart-[0-9.]+/token/refresh$`,
	`^public/`,
	`^formulary-[0-9.]+/public-access$`,
	`^(uscore|carinbb|pdex|formulary)-[0-9.]+/\S+/(read|search/patient|search/_id)$`,
}

const (
	minMonitorEvery  = 10 * time.Second
	webhookTimeout   = 10 * time.Second
	historyReadLimit = 64 << 20 // history.jsonl bytes read at start (the last lines matter)
	statusTicks      = 500      // ticks drawn on the status page
)

// monitorOnly are monitor's own flags, not passed to the runs.
var monitorOnly = map[string]bool{"every": true, "history": true, "metrics-addr": true, "webhook": true,
	"on-regression": true, "count": true, "keep": true, "out": true, "pdf": true}

type monitorFlags struct {
	every        time.Duration
	history      string
	metricsAddr  string
	webhook      string
	onRegression string
	count        int
	keep         int
}

// tick is one line of history.jsonl.
type tick struct {
	Time     time.Time `json:"time"`
	Seconds  float64   `json:"seconds"`
	ExitCode int       `json:"exitCode"`
	Verdict  string    `json:"verdict"` // as targets.json: conformant, non-conformant, incomplete, error
	Counts   *counts   `json:"counts,omitempty"`
	Failed   []string  `json:"failedRequirements,omitempty"`
	// LatencyP95MS is the 95th-percentile response time capability/http/responsive observed.
	LatencyP95MS *float64 `json:"latencyP95Ms,omitempty"`
	// Regressed are the specs that passed or skipped in the previous check and now fail or error,
	// or "(run)" when this check could not reach a verdict and the previous one could.
	Regressed []string `json:"regressed,omitempty"`
	Folder    string   `json:"folder"` // runs/STAMP, relative to the history folder
	Error     string   `json:"error,omitempty"`
}

func runMonitor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := runFlagSet("monitor", monitorHelp, stdout, &f)
	var m monitorFlags
	fs.DurationVar(&m.every, "every", 15*time.Minute, "time from one check's start to the next (at least 10s)")
	fs.StringVar(&m.history, "history", "", "folder of history.jsonl, index.html and the checks' reports (required)")
	fs.StringVar(&m.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address (host:port), at /metrics")
	fs.StringVar(&m.webhook, "webhook", "", "POST each regression as JSON to this http(s) URL")
	fs.StringVar(&m.onRegression, "on-regression", "exit", "exit (exit 1 after recording it) or continue")
	fs.IntVar(&m.count, "count", 0, "stop after this many checks (0: until interrupted)")
	fs.IntVar(&m.keep, "keep", 96, "checks whose report folders are kept (older ones are removed; history.jsonl keeps every line)")
	if code, ok := parse(fs.FlagSet, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		errorf(stderr, "monitor", "unexpected argument %q (flags only; see 'pacheck help monitor')", fs.Arg(0))
		return ExitUsage
	}
	if err := m.check(); err != nil {
		errorf(stderr, "monitor", "%v", err)
		return ExitUsage
	}
	// The configuration is checked once, before the first check.
	p, err := f.resolve(true, os.LookupEnv)
	if err != nil {
		errorf(stderr, "monitor", "%v", err)
		return ExitUsage
	}
	target := p.run.Target
	runsDir := filepath.Join(m.history, "runs")
	if err := os.MkdirAll(runsDir, 0o755); err != nil {
		errorf(stderr, "monitor", "--history %s: %v", m.history, unwrapPathErr(err))
		return ExitUsage
	}
	ticks, err := readHistory(filepath.Join(m.history, "history.jsonl"))
	if err != nil {
		errorf(stderr, "monitor", "%v", err)
		return ExitUsage
	}
	exe, err := childExecutable()
	if err != nil {
		errorf(stderr, "monitor", "cannot find pacheck's own executable: %v", err)
		return ExitEnvError
	}
	pass := passArgs(fs.FlagSet, monitorOnly)
	if len(f.focus) == 0 {
		for _, re := range monitorFocus {
			pass = append(pass, "--focus="+re)
		}
	}
	met := &monitorMetrics{target: target}
	if m.metricsAddr != "" {
		ln, err := net.Listen("tcp", m.metricsAddr)
		if err != nil {
			errorf(stderr, "monitor", "--metrics-addr %s: %v", m.metricsAddr, err)
			return ExitUsage
		}
		srv := &http.Server{Handler: met, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(stdout, "metrics: http://%s/metrics\n", ln.Addr())
	}
	var prev *reports.Results
	if len(ticks) > 0 {
		prev, _ = loadResults(filepath.Join(m.history, ticks[len(ticks)-1].Folder)) // gone: no baseline
	}
	prevJudged := len(ticks) == 0 || ticks[len(ticks)-1].Counts != nil
	for n := 0; m.count == 0 || n < m.count; n++ {
		if n > 0 {
			wait := m.every - time.Since(ticks[len(ticks)-1].Time)
			select {
			case <-ctx.Done():
			case <-time.After(max(wait, 0)):
			}
		}
		if ctx.Err() != nil {
			break
		}
		start := time.Now().UTC()
		stamp := start.Format("20060102T150405Z")
		r := targetResult{URL: target, Folder: stamp, Log: stamp + ".log"}
		runTarget(ctx, exe, append(append([]string{"run"}, pass...), "--out="+filepath.Join(runsDir, stamp), "--quiet"),
			childLimits{timeout: max(m.every, time.Minute), memory: int64(defaultTargetMemory)}, runsDir, &r)
		if ctx.Err() != nil {
			break // interrupted mid-check: nothing to record
		}
		t := tick{Time: start, Seconds: r.Seconds, ExitCode: r.ExitCode, Verdict: r.Verdict, Counts: r.Counts, Failed: r.Failed,
			Folder: "runs/" + stamp, Error: r.Error}
		cur, _ := loadResults(filepath.Join(runsDir, stamp))
		if cur != nil {
			t.LatencyP95MS = latencyP95(cur)
		}
		judged := t.Counts != nil && t.ExitCode != ExitEnvError
		switch {
		case !judged && prevJudged:
			t.Regressed = []string{"(run)"}
		case cur != nil && prev != nil:
			for _, e := range reports.Diff(prev, cur).Regressed {
				t.Regressed = append(t.Regressed, e.ID)
			}
		}
		if cur != nil {
			prev = cur
		}
		prevJudged = judged
		ticks = append(ticks, t)
		if err := appendHistory(filepath.Join(m.history, "history.jsonl"), t); err != nil {
			errorf(stderr, "monitor", "%v", err)
			return ExitEnvError
		}
		if err := writeStatusPage(m.history, target, ticks); err != nil {
			errorf(stderr, "monitor", "writing the status page: %v", err)
			return ExitEnvError
		}
		pruneRuns(m.history, ticks, m.keep)
		met.record(t)
		fmt.Fprintf(stdout, "%s %s: %s\n", start.Format(time.RFC3339), target, tickLine(t))
		if len(t.Regressed) > 0 {
			if m.webhook != "" {
				if err := postWebhook(ctx, m.webhook, target, t); err != nil {
					errorf(stderr, "monitor", "%v", err) // the regression is in the history regardless
				}
			}
			if m.onRegression == "exit" {
				fmt.Fprintf(stdout, "REGRESSION: %s; status page: %s\n", strings.Join(t.Regressed, ", "), filepath.Join(m.history, "index.html"))
				return ExitNonConf
			}
		}
	}
	return ExitOK
}

func (m *monitorFlags) check() error {
	switch {
	case m.history == "":
		return errors.New("--history DIR is required (where the history, status page and reports go)")
	case m.every < minMonitorEvery:
		return fmt.Errorf("--every %v: give at least %v", m.every, minMonitorEvery)
	case m.onRegression != "exit" && m.onRegression != "continue":
		return fmt.Errorf("--on-regression %q: use exit or continue", m.onRegression)
	case m.count < 0:
		return fmt.Errorf("--count %d: give 0 (until interrupted) or more", m.count)
	case m.keep < 1:
		return fmt.Errorf("--keep %d: keep at least 1 check's report", m.keep)
	}
	if m.webhook != "" {
		u, err := url.Parse(m.webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--webhook %q is not an http(s) URL", shorten(redactURL(m.webhook, u)))
		}
	}
	return nil
}

func tickLine(t tick) string {
	s := strings.ToUpper(t.Verdict)
	if c := t.Counts; c != nil {
		s += fmt.Sprintf(": %d specs, %d passed, %d failed, %d skipped, %d errors", c.Total, c.Pass, c.Fail, c.Skip, c.Error)
		if c.Review > 0 {
			s += fmt.Sprintf(", %d for a person to review", c.Review)
		}
	}
	if t.LatencyP95MS != nil {
		s += fmt.Sprintf("; p95 %.0f ms", *t.LatencyP95MS)
	}
	if t.Error != "" {
		s += ": " + termSafe(t.Error, false)
	}
	if len(t.Regressed) > 0 {
		s += fmt.Sprintf("; %d regressed", len(t.Regressed))
	}
	return s
}

// p95Note is capability/http/responsive's note: "...; median 0s, 95th percentile 3ms, slowest ...".
var p95Note = regexp.MustCompile(`95th percentile ([0-9.]+[a-zµ]+)`)

// latencyP95 is the run's 95th-percentile response time in ms, from capability/http/responsive.
func latencyP95(r *reports.Results) *float64 {
	for _, s := range r.Specs {
		if s.ID != "capability/http/responsive" {
			continue
		}
		for _, e := range s.Evidence {
			if m := p95Note.FindStringSubmatch(e.Text); m != nil {
				if d, err := time.ParseDuration(m[1]); err == nil {
					v := float64(d.Microseconds()) / 1000
					return &v
				}
			}
		}
	}
	return nil
}

// readHistory reads history.jsonl (absent: empty). A line it cannot read is an error naming the
// line: the monitor never overwrites a history it does not understand.
func readHistory(path string) ([]tick, error) {
	f, st, err := safefile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history: %v", err)
	}
	defer f.Close()
	if st.Size() > historyReadLimit {
		return nil, fmt.Errorf("history %s is %s, over %s: start a new --history folder", path, safefile.Bytes(st.Size()), safefile.Bytes(historyReadLimit))
	}
	var out []tick
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var t tick
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil || t.Time.IsZero() {
			return nil, fmt.Errorf("history %s:%d is not a pacheck monitor line: choose a new --history folder or repair the file", path, n)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("history %s: %v", path, err)
	}
	return out, nil
}

func appendHistory(path string, t tick) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("history: %v", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("history %s: %v", path, err)
	}
	return f.Close()
}

// pruneRuns removes the report folders (and logs) of all but the last keep checks; only folders
// the history names, so nothing else in the folder is touched.
func pruneRuns(dir string, ticks []tick, keep int) {
	for i := 0; i < len(ticks)-keep; i++ {
		stamp := strings.TrimPrefix(ticks[i].Folder, "runs/")
		if !plainName(stamp) {
			continue
		}
		os.RemoveAll(filepath.Join(dir, "runs", stamp))
		os.Remove(filepath.Join(dir, "runs", stamp+".log"))
	}
}

// postWebhook posts a regression as JSON. Bounded: a timeout, no redirects followed, the answer
// read no further than its status.
func postWebhook(ctx context.Context, hook, target string, t tick) error {
	body, _ := json.Marshal(map[string]any{"event": "regression", "target": target, "time": t.Time, "verdict": t.Verdict,
		"regressed": t.Regressed, "failedRequirements": t.Failed, "report": t.Folder + "/index.html"})
	cctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, hook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--webhook: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("--webhook: %v", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("--webhook answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// monitorMetrics serves the Prometheus text exposition of the last check.
type monitorMetrics struct {
	target string
	mu     sync.Mutex
	runs   int
	regr   int
	last   *tick
}

func (m *monitorMetrics) record(t tick) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs++
	if len(t.Regressed) > 0 {
		m.regr++
	}
	m.last = &t
}

// promLabel escapes a label value (backslash, quote, newline).
func promLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func (m *monitorMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l := `{target="` + promLabel(m.target) + `"}`
	var b strings.Builder
	metric := func(name, typ, help string, lines ...string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, x := range lines {
			b.WriteString(x + "\n")
		}
	}
	metric("pacheck_monitor_runs_total", "counter", "Checks run since the monitor started.", fmt.Sprintf("pacheck_monitor_runs_total%s %d", l, m.runs))
	metric("pacheck_monitor_regressions_total", "counter", "Checks that found a regression.", fmt.Sprintf("pacheck_monitor_regressions_total%s %d", l, m.regr))
	if t := m.last; t != nil {
		up, conf := 0, 0
		if t.Counts != nil && t.ExitCode != ExitEnvError {
			up = 1
		}
		if t.Verdict == "conformant" {
			conf = 1
		}
		metric("pacheck_monitor_up", "gauge", "1 when the last check reached a verdict.", fmt.Sprintf("pacheck_monitor_up%s %d", l, up))
		metric("pacheck_monitor_conformant", "gauge", "1 when the last check's verdict was conformant.", fmt.Sprintf("pacheck_monitor_conformant%s %d", l, conf))
		metric("pacheck_monitor_last_run_timestamp_seconds", "gauge", "Start of the last check (Unix time).", fmt.Sprintf("pacheck_monitor_last_run_timestamp_seconds%s %d", l, t.Time.Unix()))
		metric("pacheck_monitor_last_run_duration_seconds", "gauge", "Duration of the last check.", fmt.Sprintf("pacheck_monitor_last_run_duration_seconds%s %.3f", l, t.Seconds))
		if c := t.Counts; c != nil {
			var lines []string
			for _, o := range []struct {
				k string
				n int
			}{{"pass", c.Pass}, {"fail", c.Fail}, {"skip", c.Skip}, {"error", c.Error}, {"review", c.Review}} {
				lines = append(lines, fmt.Sprintf(`pacheck_monitor_specs{target="%s",outcome="%s"} %d`, promLabel(m.target), o.k, o.n))
			}
			metric("pacheck_monitor_specs", "gauge", "Specs of the last check by outcome.", lines...)
		}
		if t.LatencyP95MS != nil {
			metric("pacheck_monitor_latency_p95_seconds", "gauge", "95th-percentile response time of the last check.", fmt.Sprintf("pacheck_monitor_latency_p95_seconds%s %.4f", l, *t.LatencyP95MS/1000))
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	io.WriteString(w, b.String())
}

// statusPage is what index.html shows.
type statusPage struct {
	Target       string
	Last         tick
	Checks       int
	Available    float64 // share of checks that reached a verdict
	Conformant   float64 // share of checks whose verdict was conformant
	Since        time.Time
	VerdictSVG   template.HTML
	LatencySVG   template.HTML
	Recent       []tick
	Regressions  int
	GeneratedUTC time.Time
}

func writeStatusPage(dir, target string, all []tick) error {
	ticks := all
	if len(ticks) > statusTicks {
		ticks = ticks[len(ticks)-statusTicks:]
	}
	p := statusPage{Target: target, Last: ticks[len(ticks)-1], Checks: len(ticks), Since: ticks[0].Time, GeneratedUTC: time.Now().UTC()}
	var up, conf int
	for _, t := range ticks {
		if t.Counts != nil && t.ExitCode != ExitEnvError {
			up++
		}
		if t.Verdict == "conformant" {
			conf++
		}
		if len(t.Regressed) > 0 {
			p.Regressions++
		}
	}
	p.Available = 100 * float64(up) / float64(len(ticks))
	p.Conformant = 100 * float64(conf) / float64(len(ticks))
	p.VerdictSVG = verdictStrip(ticks)
	p.LatencySVG = latencyChart(ticks)
	for i := len(ticks) - 1; i >= 0 && len(p.Recent) < 20; i-- {
		p.Recent = append(p.Recent, ticks[i])
	}
	var b bytes.Buffer
	if err := statusTmpl.Execute(&b, p); err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".index.html.tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "index.html"))
}

var verdictColor = map[string]string{"conformant": "#1a7f37", "incomplete": "#b08800", "non-conformant": "#cf222e"}

// verdictStrip draws one square per check, colored by verdict (grey: no verdict), oldest left.
func verdictStrip(ticks []tick) template.HTML {
	const w, gap = 8, 2
	var b strings.Builder
	width := len(ticks) * (w + gap)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="verdict of each check, oldest first" width="%d" height="%d" viewBox="0 0 %d %d">`, width, 24, width, 24)
	for i, t := range ticks {
		c, ok := verdictColor[t.Verdict]
		if !ok {
			c = "#8c959f"
		}
		fmt.Fprintf(&b, `<rect x="%d" y="2" width="%d" height="20" fill="%s"><title>%s %s</title></rect>`, i*(w+gap), w, c,
			t.Time.Format(time.RFC3339), template.HTMLEscapeString(t.Verdict))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// latencyChart draws the 95th-percentile latency of each check as a polyline with its scale.
func latencyChart(ticks []tick) template.HTML {
	const w, h, pad = 600, 120, 30
	var pts []struct {
		i int
		v float64
	}
	top := 0.0
	for i, t := range ticks {
		if t.LatencyP95MS != nil {
			pts = append(pts, struct {
				i int
				v float64
			}{i, *t.LatencyP95MS})
			top = max(top, *t.LatencyP95MS)
		}
	}
	if len(pts) == 0 {
		return template.HTML(`<p class="msg">No latency figure yet (capability/http/responsive did not run).</p>`)
	}
	top = max(top*1.1, 1)
	n := max(len(ticks)-1, 1)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="95th-percentile latency per check, up to %.0f ms" width="%d" height="%d" viewBox="0 0 %d %d">`, top, w+pad, h+pad, w+pad, h+pad)
	fmt.Fprintf(&b, `<line x1="%d" y1="0" x2="%d" y2="%d" stroke="#999"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`, pad, pad, h, pad, h, w+pad, h)
	fmt.Fprintf(&b, `<text x="0" y="10" font-size="10">%.0f ms</text><text x="0" y="%d" font-size="10">0</text>`, top, h)
	var poly []string
	for _, p := range pts {
		x := pad + float64(p.i)*float64(w)/float64(n)
		y := float64(h) - p.v/top*float64(h)
		poly = append(poly, fmt.Sprintf("%.1f,%.1f", x, y))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="#0969da"><title>%s: %.1f ms</title></circle>`, x, y, ticks[p.i].Time.Format(time.RFC3339), p.v)
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="%s"/>`, strings.Join(poly, " "))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var statusTmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"csp":   func() string { return multiCSP },
	"time":  func(t time.Time) string { return t.Format(time.RFC3339) },
	"pct":   func(f float64) string { return fmt.Sprintf("%.1f%%", f) },
	"color": func(v string) string { return verdictColor[v] },
	"join": func(l []string) string {
		s := append([]string(nil), l...)
		sort.Strings(s)
		return strings.Join(s, ", ")
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{csp}}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pacheck monitor · {{.Target}} · {{.Last.Verdict}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2em;color:#1b1b1b}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.msg{color:#555;font-size:90%}code{word-break:break-all}
</style>
</head>
<body>
<h1>pacheck monitor: <code>{{.Target}}</code></h1>
<p>Last check {{time .Last.Time}}: <strong style="color:{{color .Last.Verdict}}">{{.Last.Verdict}}</strong>{{if .Last.Error}} — {{.Last.Error}}{{end}}.
{{.Checks}} checks since {{time .Since}}: a verdict reached in {{pct .Available}}, conformant in {{pct .Conformant}}; {{.Regressions}} with a regression.</p>
<h2>Verdict of each check</h2>
<p class="msg">Oldest left; green conformant, amber incomplete, red non-conformant, grey no verdict (unreachable, error).</p>
{{.VerdictSVG}}
<h2>95th-percentile latency</h2>
{{.LatencySVG}}
<h2>Recent checks</h2>
<table>
<thead><tr><th>time</th><th>verdict</th><th>pass / fail / skip / error / review</th><th>regressed</th><th>report</th></tr></thead>
<tbody>
{{range .Recent}}<tr><td>{{time .Time}}</td><td>{{.Verdict}}{{if .Error}}<div class="msg">{{.Error}}</div>{{end}}</td>
<td>{{with .Counts}}{{.Pass}} / {{.Fail}} / {{.Skip}} / {{.Error}} / {{.Review}}{{else}}–{{end}}</td>
<td>{{if .Regressed}}<code>{{join .Regressed}}</code>{{else}}–{{end}}</td>
<td><a href="{{.Folder}}/index.html">report</a></td></tr>
{{end}}</tbody>
</table>
<p class="msg">Written {{time .GeneratedUTC}} by pacheck monitor; history in history.jsonl.</p>
</body>
</html>
`))
