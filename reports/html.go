package reports

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pacheck/pacheck/checks/evidence"
)

//go:embed assets/report.js
var reportJS string

//go:embed assets/report.css
var reportCSS string

//go:embed assets/report.html
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(n, total int) string {
		if total == 0 {
			return "0"
		}
		return fmt.Sprintf("%.1f", 100*float64(n)/float64(total))
	},
	"add":        func(a, b int) int { return a + b },
	"covBuckets": func() []string { return covBuckets },
	"covLabel":   func(b string) string { return covLabels[b] },
	"chartList":  func(c ...coverageChart) []coverageChart { return c },
}).Parse(reportHTML))

// scriptHash is the CSP source for the inline script.
var scriptHash = func() string {
	h := sha256.Sum256([]byte(reportJS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}()

// CSP is the Content-Security-Policy index.html declares: nothing loads from anywhere; only the
// report's own inline script (by hash) runs; images only from data: URIs.
var CSP = "default-src 'none'; script-src " + scriptHash + "; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

// ---- view model ----

type htmlData struct {
	Title     string
	Label     string // CONFORMANT, NON-CONFORMANT, INCOMPLETE, ERROR
	Sentence  string // what the verdict means for this run
	CSP       string
	CSS       template.CSS
	JS        template.JS
	Data      template.JS // JSON, with <, >, & escaped as \u003c ... so </script> cannot occur
	R         *Results
	Donut     []donutSeg
	Outcomes  []outcomeCount
	Groups    []groupRow
	CFR       []cfrRow
	Profiles  []groupRow
	Reqs      []string
	ConfigTxt string
	Untested  []RequirementInfo
	Regs      []regulationLine // one plain sentence per CFR section
	ChartArea coverageChart
	ChartCFR  coverageChart
	Causes    []causeView // failed specs grouped by cause
	Reviews   []Spec      // specs a person must confirm, listed apart from pass and fail
	DQ        *dqCharts   // the member's data (suite dataquality); nil when the run has none
}

// causeView is a failure group as the report shows it, with its representative exchange's
// response body pretty-printed and clipped.
type causeView struct {
	FailureGroup
	Reqs      []RequirementInfo // the broken requirements, for their statements
	Body      string
	BodyNote  string   // "first 8 KiB of 120 KiB" when clipped
	MoreSpecs int      // specs beyond those listed
	Listed    []string // the first specs of the group
}

type outcomeCount struct {
	Outcome Outcome
	N       int
}

type donutSeg struct {
	Outcome          Outcome
	Dash, Gap, Start string
}

type barSeg struct {
	Outcome Outcome
	X, W    string
	N       int
}

type groupRow struct {
	Name   string
	Counts Counts
	Bar    []barSeg
}

// cfrRows totals the requirements per regulation citation, sorted by citation, and lists the
// untested requirements. A citation's status is its specs' worst outcome, except that a
// citation whose specs all passed is "partial" when a requirement citing it is untested or not
// judged, or a spec skipped: an auditor must not read "pass" for a paragraph that was only partly
// tested.
func cfrRows(reqs []RequirementInfo) (rows []cfrRow, untested []RequirementInfo) {
	byCFR := map[string]*cfrRow{}
	for _, q := range reqs {
		for _, c := range q.CFR {
			row := byCFR[c]
			if row == nil {
				row = &cfrRow{Citation: c}
				byCFR[c] = row
			}
			row.Reqs = append(row.Reqs, q)
			row.Cov.add(q.Status)
			if q.Counts.Total == 0 {
				row.Untested++
			}
			if q.Status == StatusNotJudged {
				row.NotJudged++
			}
			row.Counts.Total += q.Counts.Total
			row.Counts.Pass += q.Counts.Pass
			row.Counts.Fail += q.Counts.Fail
			row.Counts.Error += q.Counts.Error
			row.Counts.Skip += q.Counts.Skip
			row.Counts.Known += q.Counts.Known
			row.Counts.NotJudged += q.Counts.NotJudged
		}
		if q.Counts.Total == 0 && q.Status != StatusAttested {
			untested = append(untested, q)
		}
	}
	for _, row := range byCFR {
		row.Status = requirementStatus(row.Counts)
		if row.Status == string(Pass) && (row.Untested > 0 || row.Counts.Skip > 0 || row.NotJudged > 0) {
			row.Status = StatusPartial
		}
		row.CovStatus = covStatus(row.Cov)
		row.Sentence = covSentence(row.Cov)
		// Failed and untested requirements first: they are what the paragraph lacks.
		sort.SliceStable(row.Reqs, func(i, j int) bool {
			return covRank[covBucket(row.Reqs[i].Status)] < covRank[covBucket(row.Reqs[j].Status)]
		})
		rows = append(rows, *row)
	}
	sort.Slice(rows, func(i, j int) bool { return citationLess(rows[i].Citation, rows[j].Citation) })
	return rows, untested
}

// StatusPartial is a regulation citation whose specs that ran all passed while some of its
// requirements are untested or some specs skipped.
const StatusPartial = "partial"

type cfrRow struct {
	Citation  string
	Reqs      []RequirementInfo
	Counts    Counts
	Untested  int
	NotJudged int // requirements whose only specs failed on other requirements
	Status    string
	Cov       coverage // its requirements per coverage bucket
	CovStatus string   // status from the requirements: fail, partial, pass, untested, known
	Sentence  string   // "2 requirements fail, 1 untested, 5 pass (of 8)"
}

var covRank = func() map[string]int {
	m := map[string]int{}
	for i, b := range covBuckets {
		m[b] = i
	}
	return m
}()

type jsSpec struct {
	ID       string            `json:"id"`
	O        Outcome           `json:"o"`
	G        string            `json:"g"`
	Reqs     []string          `json:"reqs,omitempty"`
	Level    string            `json:"lvl,omitempty"`
	Profiles []string          `json:"prof,omitempty"`
	Res      []string          `json:"res,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Fail     *Failure          `json:"fail,omitempty"`
	Known    *KnownIssue       `json:"known,omitempty"`
	Broken   []string          `json:"broken,omitempty"` // failed specs: the requirements broken; the other cited ones are not judged
	Blk      *evidence.Blocked `json:"blk,omitempty"`
	Loc      string            `json:"loc,omitempty"`
	Dur      int64             `json:"dur"`
	Quotes   []string          `json:"quotes,omitempty"`
	Ev       []jsEvidence      `json:"ev,omitempty"`
	Out      string            `json:"out,omitempty"`
	Cause    string            `json:"c,omitempty"`    // failed specs: the id of their failure group
	Line     string            `json:"line,omitempty"` // failed specs: the line that says what is wrong
}

type jsEvidence struct {
	evidence.Entry
	ReqBodyFile  string `json:"reqBodyFile,omitempty"`
	ReqBodySize  int    `json:"reqBodySize,omitempty"`
	RespBodyFile string `json:"respBodyFile,omitempty"`
	RespBodySize int    `json:"respBodySize,omitempty"`
	Img          string `json:"img,omitempty"`     // data: URI of an inlined screenshot
	ImgFile      string `json:"imgFile,omitempty"` // relative path of a linked screenshot
	ImgNote      string `json:"imgNote,omitempty"`
}

type jsReq struct {
	Statement string   `json:"statement"`
	Level     string   `json:"level"`
	CFR       []string `json:"cfr,omitempty"`
	Section   string   `json:"section,omitempty"`
	Note      string   `json:"note,omitempty"`
	Unknown   bool     `json:"unknown,omitempty"`
	Official  []string `json:"official,omitempty"` // the IGs' numbered ids it covers
}

type jsData struct {
	Specs []jsSpec         `json:"specs"`
	Reqs  map[string]jsReq `json:"reqs"`
}

// WriteHTML renders index.html for r into w. Large bodies are clipped without links and
// screenshots are linked, not inlined; use WriteAll (or Rerender) to get bodies/ files and inline
// screenshots.
func WriteHTML(w io.Writer, r *Results, opts Options) error {
	return renderHTML(w, r, opts.withDefaults(), nil)
}

func writeHTMLFile(dir string, r *Results, opts Options) error {
	fw := &fileSink{dir: dir, written: map[string]bool{}}
	err := writeFile(filepath.Join(dir, FileHTML), func(w io.Writer) error {
		if err := renderHTML(w, r, opts, fw); err != nil {
			return err
		}
		return fw.err
	})
	if err != nil {
		return fmt.Errorf("index.html: %w", err)
	}
	return nil
}

// fileSink writes clipped bodies beside the report and reads screenshots to inline.
type fileSink struct {
	dir     string
	written map[string]bool
	err     error
}

func (f *fileSink) body(s string) string {
	h := sha256.Sum256([]byte(s))
	rel := path.Join(DirBodies, hex.EncodeToString(h[:])+".txt")
	if f.written[rel] || f.err != nil {
		return rel
	}
	if err := os.MkdirAll(filepath.Join(f.dir, DirBodies), 0o755); err != nil {
		f.err = err
		return rel
	}
	if err := os.WriteFile(filepath.Join(f.dir, filepath.FromSlash(rel)), []byte(s), 0o644); err != nil {
		f.err = err
	}
	f.written[rel] = true
	return rel
}

var inlineMedia = map[string]bool{"image/png": true, "image/jpeg": true, "image/webp": true, "image/gif": true}

func (f *fileSink) image(file *evidence.File, limit int64) (dataURI, note string) {
	if !safeRel(file.Path) {
		return "", "screenshot path is not a relative path inside the report folder"
	}
	if !inlineMedia[file.Media] {
		return "", "not an inline image type"
	}
	p := filepath.Join(f.dir, filepath.FromSlash(file.Path))
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		return "", "screenshot file missing"
	}
	if st.Size() > limit {
		return "", "screenshot too large to inline"
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", "screenshot unreadable"
	}
	if file.SHA256 != "" {
		h := sha256.Sum256(b)
		if !strings.EqualFold(hex.EncodeToString(h[:]), file.SHA256) {
			return "", "screenshot file does not match its recorded SHA-256"
		}
	}
	return "data:" + file.Media + ";base64," + base64.StdEncoding.EncodeToString(b), ""
}

func renderHTML(w io.Writer, r *Results, opts Options, sink *fileSink) error {
	d := htmlData{Title: opts.Title, Label: VerdictLabel(r.Verdict), Sentence: verdictSentence(r), CSP: CSP, CSS: template.CSS(reportCSS), JS: template.JS(reportJS), R: r}
	total := r.Counts.Total
	// Donut: circumference of r=15.9155 is 100, so dash lengths are percentages.
	start := 25.0
	for _, o := range Outcomes {
		n := r.Counts.Of(o)
		d.Outcomes = append(d.Outcomes, outcomeCount{o, n})
		if n == 0 || total == 0 {
			continue
		}
		p := 100 * float64(n) / float64(total)
		d.Donut = append(d.Donut, donutSeg{Outcome: o, Dash: f2(p), Gap: f2(100 - p), Start: f2(start)})
		start = math.Mod(start-p+100, 100)
	}
	for _, s := range r.Specs {
		if s.Outcome == Review {
			d.Reviews = append(d.Reviews, s)
		}
	}
	groups := map[string]*Counts{}
	profs := map[string]*Counts{}
	for _, s := range r.Specs {
		if groups[s.Group] == nil {
			groups[s.Group] = &Counts{}
		}
		groups[s.Group].Add(s.Outcome)
		for _, p := range s.Profiles {
			if profs[p] == nil {
				profs[p] = &Counts{}
			}
			profs[p].Add(s.Outcome)
		}
	}
	d.Groups = rows(groups)
	d.Profiles = rows(profs)
	d.DQ = dataQualityCharts(r.Specs)
	d.CFR, d.Untested = cfrRows(r.Requirements)
	d.Regs = regulationLines(r.Requirements)
	d.ChartArea, d.ChartCFR = coverageCharts(r.Requirements)
	fgroups := FailureGroups(r)
	d.Causes = causeViews(fgroups, r.Requirements)
	causeOf := make(map[string]string, r.Counts.Fail)
	for _, g := range fgroups {
		for _, id := range g.Specs {
			causeOf[id] = g.ID
		}
	}
	if len(r.Run.Config) > 0 {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // the template escapes; keep the text readable
		enc.SetIndent("", "  ")
		if err := enc.Encode(r.Run.Config); err == nil {
			d.ConfigTxt = b.String()
		}
	}

	// The requirement ids the specs name (the filter list), known before the data is streamed.
	reqSet := map[string]bool{}
	for _, s := range r.Specs {
		for _, q := range s.Requirements {
			reqSet[q.ID] = true
		}
		for _, id := range s.Broken {
			reqSet[id] = true
		}
	}
	for id := range reqSet {
		d.Reqs = append(d.Reqs, id)
	}
	sort.Strings(d.Reqs)

	// The page is rendered around a marker that the embedded data then replaces: the data (all
	// the evidence, screenshots inlined) is encoded spec by spec straight into w, never held whole.
	var mb [12]byte
	if _, err := rand.Read(mb[:]); err != nil {
		return err
	}
	marker := "pacheck-data-" + hex.EncodeToString(mb[:])
	d.Data = template.JS(marker)
	var page bytes.Buffer
	if err := reportTmpl.Execute(&page, d); err != nil {
		return err
	}
	head, tail, ok := bytes.Cut(page.Bytes(), []byte(marker))
	if !ok || bytes.Contains(tail, []byte(marker)) {
		return fmt.Errorf("reports: the report template must embed the data exactly once")
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	if err := writeData(w, r, opts, sink, causeOf); err != nil {
		return err
	}
	_, err := w.Write(tail)
	return err
}

// writeData writes the page's embedded JSON ({"specs":[...],"reqs":{...}}) as json.Marshal of a
// jsData would: <, >, & escaped as \u003c ... so </script> cannot occur.
func writeData(w io.Writer, r *Results, opts Options, sink *fileSink, causeOf map[string]string) error {
	reqs := map[string]jsReq{}
	for _, q := range r.Requirements {
		reqs[q.ID] = jsReq{Statement: q.Statement, Level: q.Level, CFR: q.CFR, Section: q.Section, Note: q.Note, Official: q.OfficialIDs}
	}
	if _, err := io.WriteString(w, `{"specs":[`); err != nil {
		return err
	}
	budget := opts.InlineBudget
	for i, s := range r.Specs {
		js := jsSpec{ID: s.ID, O: s.Outcome, G: s.Group, Level: s.Level, Profiles: s.Profiles, Res: s.Resources,
			Reason: s.Reason, Fail: s.Failure, Known: s.Known, Blk: s.Blocked, Loc: s.Location, Dur: s.DurationMS, Quotes: s.Quotes, Out: s.Output, Cause: causeOf[s.ID]}
		if s.Outcome == Fail || s.Outcome == Known {
			js.Line = specHeadline(s)
		}
		if s.Outcome == Fail || s.Outcome == Known {
			for _, a := range attribute(s) {
				if !a.notJudged {
					js.Broken = append(js.Broken, a.id)
				}
			}
		}
		for _, q := range s.Requirements {
			js.Reqs = append(js.Reqs, q.ID)
			if _, ok := reqs[q.ID]; !ok {
				reqs[q.ID] = jsReq{Statement: q.Statement, Level: q.Level, CFR: q.CFR, Section: q.Section, Unknown: q.Unknown}
			}
		}
		// A passing spec's bodies are half of a demo report's weight and rarely read: with a
		// folder to write to they are linked from bodies/, not embedded; the failures' stay inline.
		bodyLimit := opts.InlineBodyLimit
		if s.Outcome == Pass && sink != nil && !opts.InlinePassBodies {
			bodyLimit = 0
		}
		for _, e := range s.Evidence {
			je := jsEvidence{Entry: e}
			if !r.evidenceRedacted {
				je.Entry = RedactEntry(e)
			}
			if x := je.Exchange; x != nil {
				xc := *x
				xc.RequestBody, je.ReqBodyFile, je.ReqBodySize = clipBody(xc.RequestBody, bodyLimit, &budget, sink)
				xc.ResponseBody, je.RespBodyFile, je.RespBodySize = clipBody(xc.ResponseBody, bodyLimit, &budget, sink)
				je.Exchange = &xc
			}
			if sc := je.Screenshot; sc != nil {
				switch {
				case sink == nil:
					je.ImgNote = "screenshot not inlined"
				default:
					je.Img, je.ImgNote = sink.image(sc, opts.InlineImageLimit)
					if je.Img != "" {
						budget -= int64(len(je.Img))
					}
				}
				if je.Img == "" && safeRel(sc.Path) {
					je.ImgFile = sc.Path
				}
			}
			js.Ev = append(js.Ev, je)
		}
		b, err := json.Marshal(js)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	b, err := json.Marshal(reqs)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, `],"reqs":`); err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err = io.WriteString(w, "}")
	return err
}

// clipBody keeps up to limit bytes of a body inline (within the budget); the whole body goes to
// a file when a sink is available.
func clipBody(body string, limit int, budget *int64, sink *fileSink) (inline, file string, size int) {
	if body == "" {
		return "", "", 0
	}
	keep := min(len(body), limit)
	if int64(keep) > *budget {
		keep = int(max(*budget, 0))
	}
	if keep == len(body) {
		*budget -= int64(keep)
		return body, "", 0
	}
	for keep > 0 && keep < len(body) && (body[keep]&0xC0) == 0x80 { // do not cut inside a UTF-8 rune
		keep--
	}
	*budget -= int64(keep)
	if sink != nil {
		file = sink.body(body)
	}
	return body[:keep], file, len(body)
}

// causeBodyLimit bounds the representative response body shown in a failure group.
const causeBodyLimit = 8 << 10

// causeListLimit bounds the spec ids listed in a failure group; the list view filtered by the
// group has them all.
const causeListLimit = 50

func causeViews(groups []FailureGroup, reqs []RequirementInfo) []causeView {
	byID := make(map[string]RequirementInfo, len(reqs))
	for _, q := range reqs {
		byID[q.ID] = q
	}
	out := make([]causeView, 0, len(groups))
	for _, g := range groups {
		v := causeView{FailureGroup: g, Listed: g.Specs}
		if len(v.Listed) > causeListLimit {
			v.Listed, v.MoreSpecs = v.Listed[:causeListLimit], len(v.Listed)-causeListLimit
		}
		for _, id := range g.Broken {
			q, ok := byID[id]
			if !ok {
				q = RequirementInfo{}
				q.ID = id
			}
			v.Reqs = append(v.Reqs, q)
		}
		if x := g.Exchange; x != nil && x.ResponseBody != "" {
			v.Body = prettyJSON(x.ResponseBody)
			if len(v.Body) > causeBodyLimit {
				keep := causeBodyLimit
				for keep > 0 && (v.Body[keep]&0xC0) == 0x80 {
					keep--
				}
				v.BodyNote = fmt.Sprintf("first %d of %d bytes; the spec's evidence has the whole body", keep, len(v.Body))
				v.Body = v.Body[:keep]
			}
		}
		out = append(out, v)
	}
	return out
}

// prettyJSON indents a JSON body; anything else is returned as it is.
func prettyJSON(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}

func rows(m map[string]*Counts) []groupRow {
	var out []groupRow
	for name, c := range m {
		row := groupRow{Name: name, Counts: *c}
		x := 0.0
		for _, o := range Outcomes {
			n := c.Of(o)
			if n == 0 || c.Total == 0 {
				continue
			}
			wd := 100 * float64(n) / float64(c.Total)
			row.Bar = append(row.Bar, barSeg{Outcome: o, X: f2(x), W: f2(wd), N: n})
			x += wd
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func f2(f float64) string { return fmt.Sprintf("%.2f", f) }

// Rerender writes index.html (and bodies/) into dir from results, offline. Screenshots are read
// from dir at their recorded relative paths and checked against their SHA-256.
func Rerender(r *Results, dir string) error {
	if r == nil {
		return fmt.Errorf("reports: no results to render")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	return writeHTMLFile(dir, r, Options{}.withDefaults())
}
