package cli

// The combined report of a several-target run: targets.json, summary.md and index.html.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pacheck/pacheck/internal/safefile"
)

// readChildResults reads the counts, verdict and failed requirement ids (SHALL first) of one
// target's results.json.
func readChildResults(path string) (*counts, string, []string, error) {
	b, err := safefile.ReadFile(path, maxResultsBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil, fmt.Errorf("wrote no %s", filepath.Base(path))
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("%s is unreadable: %v", filepath.Base(path), unwrapPathErr(err))
	}
	var res struct {
		Verdict      string  `json:"verdict"`
		Counts       *counts `json:"counts"`
		Requirements []struct {
			ID     string `json:"id"`
			Level  string `json:"level"`
			Status string `json:"status"`
		} `json:"requirements"`
	}
	if err := json.Unmarshal(b, &res); err != nil || res.Counts == nil || res.Verdict == "" {
		return nil, "", nil, fmt.Errorf("%s is not a pacheck results file", filepath.Base(path))
	}
	var shall, other []string
	for _, q := range res.Requirements {
		if q.Status != "fail" {
			continue
		}
		if q.Level == "SHALL" {
			shall = append(shall, q.ID)
		} else {
			other = append(other, q.ID)
		}
	}
	return res.Counts, res.Verdict, append(shall, other...), nil
}

// maxResultsBytes bounds a results.json read for a fleet page (a full run writes a few MB).
const maxResultsBytes = 256 << 20

// prepareMultiOut makes --out ready: a new or empty folder is used as it is; a previous
// several-target report is replaced (only the files and folders its targets.json names, each
// folder only when it holds nothing but a pacheck report); anything else is refused.
func prepareMultiOut(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return fmt.Errorf("report folder %s: %v", dir, unwrapPathErr(err))
	}
	if len(entries) == 0 {
		return nil
	}
	ours := map[string]bool{}
	for k := range reservedNames {
		ours[k] = true
	}
	if b, err := os.ReadFile(filepath.Join(dir, "targets.json")); err == nil {
		var prev multiSummary
		if json.Unmarshal(b, &prev) == nil {
			for _, t := range prev.Targets {
				for _, n := range []string{t.Folder, t.Log} {
					if plainName(n) {
						ours[n] = true
					}
				}
			}
		}
	}
	for _, e := range entries {
		if !ours[e.Name()] {
			return fmt.Errorf("report folder %s holds %q, which pacheck did not write: choose an empty or new folder with --out", dir, e.Name())
		}
		if e.IsDir() {
			sub, err := os.ReadDir(filepath.Join(dir, e.Name()))
			if err != nil {
				return fmt.Errorf("report folder %s: %v", filepath.Join(dir, e.Name()), unwrapPathErr(err))
			}
			for _, s := range sub {
				if !pacheckOutputs[s.Name()] {
					return fmt.Errorf("report folder %s holds %q, which pacheck did not write: choose an empty or new folder with --out", filepath.Join(dir, e.Name()), s.Name())
				}
			}
		}
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("report folder %s: cannot replace the previous report (%v)", dir, err)
		}
	}
	return nil
}

func plainName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}

// multiSummary is targets.json.
type multiSummary struct {
	Version  string    `json:"pacheckVersion"`
	Preset   string    `json:"preset"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	ExitCode int       `json:"exitCode"` // the worst of the targets' (3 > 2 > 1 > 4 > 0)
	Verdict  string    `json:"verdict"`
	Parallel int       `json:"parallel,omitempty"` // targets run at once (--parallel)
	// PeakMiB is the peak of the running targets' summed resident memory (browsers included).
	PeakMiB int64 `json:"peakMemoryMiB,omitempty"`
	// Merged names the report folders `pacheck report merge` read, when it made this page.
	Merged  []string       `json:"merged,omitempty"`
	Targets []targetResult `json:"targets"`
}

func (s *multiSummary) write(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "targets.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(s.markdown()), 0o644); err != nil {
		return err
	}
	var h bytes.Buffer
	if err := multiPage.Execute(&h, s); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.html"), h.Bytes(), 0o644)
}

// mdCell makes server- or user-supplied text safe in a Markdown table cell.
func mdCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "`", "\\`", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

func (s *multiSummary) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# pacheck: %d targets, %s\n\n", len(s.Targets), s.Verdict)
	fmt.Fprintf(&b, "Preset `%s`, pacheck %s, %s to %s. Exit code %d (the worst of the targets': 3 > 2 > 1 > 4 > 0).\n\n",
		mdCell(s.Preset), mdCell(s.Version), s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339), s.ExitCode)
	if s.Parallel > 1 {
		fmt.Fprintf(&b, "Up to %d targets ran at once.", s.Parallel)
		if s.PeakMiB > 0 {
			fmt.Fprintf(&b, " Peak memory of the running targets together: %d MiB.", s.PeakMiB)
		}
		b.WriteString("\n\n")
	}
	for _, m := range s.Merged {
		fmt.Fprintf(&b, "- merged from `%s`\n", mdCell(m))
	}
	if len(s.Merged) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| # | target | verdict | exit | specs | pass | fail | skip | error | known | review | failed requirements | report |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i, t := range s.Targets {
		c := counts{}
		num := func(n int) string { return fmt.Sprint(n) }
		if t.Counts != nil {
			c = *t.Counts
		} else {
			num = func(int) string { return "–" }
		}
		rep := "–"
		if t.Report != "" {
			rep = "[" + mdCell(t.Folder) + "](" + t.Report + ")"
		}
		verdict := mdCell(t.Verdict)
		if t.Error != "" {
			verdict += ": " + mdCell(t.Error)
		}
		failed := "–"
		if len(t.Failed) > 0 {
			failed = fmt.Sprintf("%d: %s", len(t.Failed), mdCell(strings.Join(t.Failed, ", ")))
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", i+1, mdCell(t.URL), verdict, t.ExitCode,
			num(c.Total), num(c.Pass), num(c.Fail), num(c.Skip), num(c.Error), num(c.Known), num(c.Review), failed, rep)
	}
	return b.String()
}

// multiCSP: nothing loads or runs; only the inline style.
const multiCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

var multiPage = template.Must(template.New("targets").Funcs(template.FuncMap{
	"csp":   func() string { return multiCSP },
	"inc":   func(i int) int { return i + 1 },
	"class": verdictClass,
	"time":  func(t time.Time) string { return t.Format(time.RFC3339) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{csp}}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="pacheck {{.Version}}">
<title>pacheck · {{len .Targets}} targets · {{.Verdict}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2em;color:#1b1b1b}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right}.url{font-family:ui-monospace,monospace;word-break:break-all}
.ok{color:#0a6b2d;font-weight:600}.inc{color:#6b4f00;font-weight:600}.fail{color:#b3261e;font-weight:600}.err{color:#8a5300;font-weight:600}
.msg{color:#555;font-size:90%}
</style>
</head>
<body>
<h1>pacheck: {{len .Targets}} targets, <span class="{{class .ExitCode}}">{{.Verdict}}</span></h1>
<p>Preset <code>{{.Preset}}</code>, pacheck {{.Version}}, {{time .Start}} to {{time .End}}.
Exit code {{.ExitCode}}: the worst of the targets' (3 environment or tool error &gt; 2 usage or configuration error &gt; 1 non-conformant &gt; 4 incomplete &gt; 0 conformant).{{if gt .Parallel 1}} Up to {{.Parallel}} targets ran at once.{{end}}</p>
{{if .Merged}}<p>Merged from {{range $i, $m := .Merged}}{{if $i}}, {{end}}<code>{{$m}}</code>{{end}}.</p>{{end}}
<table>
<thead><tr><th>#</th><th>target</th><th>verdict</th><th>exit</th><th>specs</th><th>pass</th><th>fail</th><th>skip</th><th>error</th><th>known</th><th>review</th><th>failed requirements</th><th>report</th></tr></thead>
<tbody>
{{range $i, $t := .Targets}}<tr>
<td class="n">{{inc $i}}</td>
<td class="url">{{$t.URL}}</td>
<td><span class="{{class $t.ExitCode}}">{{$t.Verdict}}</span>{{if $t.Error}}<div class="msg">{{$t.Error}}</div>{{end}}</td>
<td class="n">{{$t.ExitCode}}</td>
{{with $t.Counts}}<td class="n">{{.Total}}</td><td class="n">{{.Pass}}</td><td class="n">{{.Fail}}</td><td class="n">{{.Skip}}</td><td class="n">{{.Error}}</td><td class="n">{{.Known}}</td><td class="n">{{.Review}}</td>{{else}}<td class="n" colspan="7">no results</td>{{end}}
<td>{{if $t.Failed}}<details><summary>{{len $t.Failed}}</summary><div class="msg">{{range $j, $q := $t.Failed}}{{if $j}}, {{end}}<code>{{$q}}</code>{{end}}</div></details>{{else}}–{{end}}</td>
<td>{{if $t.Report}}<a href="{{$t.Report}}">{{$t.Folder}}</a>{{else}}–{{end}}{{if $t.Log}} · <a href="{{$t.Log}}">log</a>{{end}}</td>
</tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

func verdictClass(code int) string {
	switch code {
	case ExitOK:
		return "ok"
	case ExitNonConf:
		return "fail"
	case ExitIncomplete:
		return "inc"
	default:
		return "err"
	}
}
