package validate

import (
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/reports"
)

// htmlFormatter writes --html-output: one self-contained page (no script, nothing loaded from
// anywhere) with a section of issues per input, streamed as results come, and the summary at
// the end. Everything from the input (paths, resource types, profiles, messages, element paths)
// goes through html/template escaping after reports.PlainText strips control characters; the
// page's colours follow the run report's (reports/assets/report.css).
type htmlFormatter struct {
	w   io.Writer
	n   int
	now func() time.Time
}

const htmlCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'"

const htmlCSS = `:root{--pass:#2e7d32;--fail:#c62828;--warn:#ef6c00;--info:#757575;--fg:#1b1b1b;--mute:#5f6368;--line:#dadce0}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg)}
main{padding:0 1.5rem 2rem;max-width:1400px;margin:0 auto}h1{margin:0;font-size:1.5rem}
.banner{padding:1rem 1.5rem;color:#fff;background:#37474f}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
details.file{border:1px solid var(--line);border-left:6px solid var(--pass);margin:.3rem 0;padding:.2rem .6rem}details.file.o-fail{border-left-color:var(--fail)}
details.file>summary{cursor:pointer}.badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;color:#fff;font-size:.8rem;font-weight:600}
.b-valid{background:var(--pass)}.b-invalid{background:var(--fail)}.s-error{color:var(--fail);font-weight:600}.s-warning{color:var(--warn);font-weight:600}.s-information{color:var(--info)}
table{border-collapse:collapse;width:100%;margin:.3rem 0}th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f1f3f4}
.note{color:var(--mute);font-size:.9em}.counts td{font-variant-numeric:tabular-nums}`

var htmlHead = template.Must(template.New("head").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pacheck validate</title>
<style>{{.CSS}}</style>
</head>
<body>
<header class="banner"><h1>pacheck validate</h1><p>{{.When}} · <a href="#summary" style="color:#fff">summary</a></p></header>
<main>
<h2>Files</h2>
`))

var htmlFile = template.Must(template.New("file").Parse(`<details class="file o-{{if .Errors}}fail{{else}}pass{{end}}" id="f{{.N}}"{{if .Errors}} open{{end}}>
<summary>{{if .Errors}}<span class="badge b-invalid">INVALID</span>{{else}}<span class="badge b-valid">valid</span>{{end}} <code>{{.Path}}</code> {{.Type}} — {{.Errors}} errors, {{.Warnings}} warnings{{if .Others}}, {{.Others}} notes{{end}}</summary>
{{- if .Profiles}}
<p class="note">Validated against {{range $i, $p := .Profiles}}{{if $i}}, {{end}}<code>{{$p}}</code>{{end}}</p>
{{- end}}
{{- if .Issues}}
<table><thead><tr><th>Severity</th><th>Rule</th><th>Path</th><th>Message</th><th>Profile, element</th></tr></thead><tbody>
{{- range .Issues}}
<tr><td class="s-{{.Severity}}">{{.Severity}}</td><td><code>{{.Rule}}</code></td><td><code>{{.Path}}</code></td><td>{{.Message}}{{if .Diagnostics}}<div class="note">{{.Diagnostics}}</div>{{end}}</td><td>{{if .Profile}}<code>{{.Profile}}</code>{{if .ElementID}}<br><code>{{.ElementID}}</code>{{end}}{{end}}</td></tr>
{{- end}}
</tbody></table>
{{- end}}
</details>
`))

var htmlFoot = template.Must(template.New("foot").Parse(`{{if not .Files}}<p>No resources.</p>
{{end}}<h2 id="summary">Summary</h2>
<table class="counts" style="width:auto"><tbody>
<tr><th>Files</th><td>{{.Files}}</td></tr><tr><th>Valid</th><td>{{.Valid}}</td></tr><tr><th>Errors</th><td>{{.Errors}}</td></tr><tr><th>Warnings</th><td>{{.Warnings}}</td></tr>
</tbody></table>
</main>
</body>
</html>
`))

func newHTMLFormatter(w io.Writer) *htmlFormatter { return &htmlFormatter{w: w, now: time.Now} }

func (f *htmlFormatter) head() error {
	return htmlHead.Execute(f.w, map[string]any{
		"CSP": htmlCSP, "CSS": template.CSS(htmlCSS),
		"When": f.now().UTC().Format("2006-01-02 15:04:05 UTC"),
	})
}

func (f *htmlFormatter) Result(r FileResult) error {
	if f.n == 0 {
		if err := f.head(); err != nil {
			return err
		}
	}
	f.n++
	clean := reports.PlainText
	data := struct {
		N                        int
		Path, Type               string
		Profiles                 []string
		Issues                   []issue.Issue
		Errors, Warnings, Others int
	}{N: f.n, Path: clean(r.Path), Type: clean(r.ResourceType)}
	if data.Type == "" {
		data.Type = "?"
	}
	for _, p := range r.Profiles {
		data.Profiles = append(data.Profiles, clean(p))
	}
	for _, is := range r.Issues {
		switch is.Severity {
		case issue.Error:
			data.Errors++
		case issue.Warning:
			data.Warnings++
		default:
			data.Others++
		}
		is.Rule, is.Path, is.Message = clean(is.Rule), clean(is.Path), clean(is.Message)
		is.Diagnostics, is.Profile, is.ElementID = clean(is.Diagnostics), clean(is.Profile), clean(is.ElementID)
		data.Issues = append(data.Issues, is)
	}
	if err := htmlFile.Execute(f.w, data); err != nil {
		return fmt.Errorf("html output: %w", err)
	}
	return nil
}

func (f *htmlFormatter) Close(s Summary) error {
	if f.n == 0 {
		if err := f.head(); err != nil {
			return err
		}
	}
	return htmlFoot.Execute(f.w, s)
}
