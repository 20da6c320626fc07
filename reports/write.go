package reports

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Output file names inside the report folder.
const (
	FileResults = "results.json"
	FileJUnit   = "junit.xml"
	FileSummary = "summary.md"
	FileHTML    = "index.html"
	DirBodies   = "bodies" // full HTTP bodies too large to inline in index.html
)

// Options tune the writers. The zero value is usable.
type Options struct {
	Title string // report title; default "pacheck conformance report"
	// InlineBodyLimit is how many bytes of each HTTP body index.html embeds; longer bodies are
	// written to bodies/<sha256>.txt and linked. Default 64 KiB.
	InlineBodyLimit int
	// InlineBudget caps the bytes of bodies index.html embeds in total; past it bodies are only
	// linked. Default 32 MiB.
	InlineBudget int64
	// InlineImageLimit: screenshots up to this size are embedded as data: URIs; larger ones are
	// linked. Default 2 MiB.
	InlineImageLimit int64
	// InlinePassBodies embeds passing specs' HTTP bodies in index.html too; by default they are
	// written to bodies/ and linked, which halves a large report (the failures' bodies stay inline).
	InlinePassBodies bool
}

func (o Options) withDefaults() Options {
	if o.Title == "" {
		o.Title = "pacheck conformance report"
	}
	if o.InlineBodyLimit <= 0 {
		o.InlineBodyLimit = 64 << 10
	}
	if o.InlineBudget <= 0 {
		o.InlineBudget = 32 << 20
	}
	if o.InlineImageLimit <= 0 {
		o.InlineImageLimit = 2 << 20
	}
	return o
}

// WriteAll writes results.json, junit.xml, summary.md, results.csv and index.html (plus bodies/ for large
// HTTP bodies) into dir, creating it. Evidence files the specs reference (screenshots) are
// expected to be in dir already, at their relative paths.
func WriteAll(dir string, r *Results, opts Options) error {
	if r == nil {
		return fmt.Errorf("reports: no results to write")
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: create output folder: %w", err)
	}
	write := func(name string, fn func(io.Writer) error) error {
		return writeFile(filepath.Join(dir, name), fn)
	}
	if err := write(FileResults, func(w io.Writer) error { return WriteJSON(w, r) }); err != nil {
		return err
	}
	if err := write(FileJUnit, func(w io.Writer) error { return WriteJUnit(w, r) }); err != nil {
		return err
	}
	if err := write(FileSummary, func(w io.Writer) error { return WriteSummary(w, r) }); err != nil {
		return err
	}
	if err := write(FileCSV, func(w io.Writer) error { return WriteCSV(w, r) }); err != nil {
		return err
	}
	return writeHTMLFile(dir, r, opts)
}

// writeFile writes a file through a buffer, to a temporary name first so a reader never sees
// half a file.
func writeFile(p string, fn func(io.Writer) error) error {
	tmp := p + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = fn(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("reports: write %s: %w", filepath.Base(p), err)
	}
	return nil
}

// WriteJSON writes results.json (compact: it may hold 100 MB of evidence). The bytes are those
// of json.NewEncoder(w).Encode(r), but the specs are encoded one at a time, so the whole
// document is never held in memory.
func WriteJSON(w io.Writer, r *Results) error {
	if r == nil {
		_, err := io.WriteString(w, "null\n")
		return err
	}
	var err error
	put := func(s string) {
		if err == nil {
			_, err = io.WriteString(w, s)
		}
	}
	val := func(v any) {
		if err != nil {
			return
		}
		var b []byte
		if b, err = json.Marshal(v); err == nil {
			_, err = w.Write(b)
		}
	}
	// Field order and names as in Results (TestWriteJSONStreams keeps them in step).
	put(`{"schemaVersion":`)
	val(r.SchemaVersion)
	put(`,"run":`)
	val(&r.Run)
	put(`,"verdict":`)
	val(r.Verdict)
	put(`,"counts":`)
	val(&r.Counts)
	put(`,"specs":`)
	if r.Specs == nil {
		put("null")
	} else {
		put("[")
		for i := range r.Specs {
			if i > 0 {
				put(",")
			}
			val(&r.Specs[i])
		}
		put("]")
	}
	put(`,"requirements":`)
	val(r.Requirements)
	if len(r.KnownIssues) > 0 {
		put(`,"knownIssues":`)
		val(r.KnownIssues)
	}
	if len(r.Attestations) > 0 {
		put(`,"attestations":`)
		val(r.Attestations)
	}
	if len(r.Incomplete) > 0 {
		put(`,"incomplete":`)
		val(r.Incomplete)
	}
	if len(r.RootCauses) > 0 {
		put(`,"rootCauses":`)
		val(r.RootCauses)
	}
	put("}\n")
	return err
}

// ReadJSON reads results.json, checking the schema version.
func ReadJSON(rd io.Reader) (*Results, error) {
	var r Results
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("results.json: %w", err)
	}
	// Version 1 has the same fields; only its verdict and requirement statuses meant less.
	if r.SchemaVersion != SchemaVersion && r.SchemaVersion != "1" {
		return nil, fmt.Errorf("results.json: schemaVersion %q, this pacheck reads \"1\" and %q; use the pacheck that wrote it", r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// ReadResultsFile reads a results.json file.
func ReadResultsFile(path string) (*Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ---- JUnit ----

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	ID         int             `xml:"id,attr"`
	Package    string          `xml:"package,attr"`
	Properties *junitProps     `xml:"properties,omitempty"`
	Cases      []junitTestCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	Time      string `xml:"time,attr"`
	// Review specs pass in JUnit (a person's confirmation is not a failure); the property and
	// system-out say what to confirm.
	Properties *junitProps   `xml:"properties,omitempty"`
	Skipped    *junitMessage `xml:"skipped,omitempty"`
	Error      *junitMessage `xml:"error,omitempty"`
	Failure    *junitMessage `xml:"failure,omitempty"`
	SystemOut  string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(ms int64) string { return fmt.Sprintf("%d.%03d", ms/1000, ms%1000) }

// junitPlace is where a spec goes in junit.xml: its testsuite, classname and name. CI tools read
// a classname as <package>.<class>, split at its last dot (Jenkins, GitLab, Azure DevOps), so the
// classname is "<ig>.<profile>" with the dots of the IG version replaced ("uscore-6_1_0.us-core-patient"),
// and the name is the rest of the spec id ("search/patient+category"); the whole id is the first
// line of the case's text. A spec id with two segments or fewer (capability/fhir-version) has
// its group as the class's package and its first segment as the class.
type junitPlace struct{ suite, pkg, classname, name string }

func junitPlaceOf(s Spec) junitPlace {
	group := s.Group
	if group == "" {
		group = "pacheck"
	}
	parts := strings.Split(s.ID, "/")
	if len(parts) > 0 && parts[0] == group {
		parts = parts[1:]
	}
	class := group
	if len(parts) >= 2 {
		class, parts = parts[0], parts[1:]
	}
	name := strings.Join(parts, "/")
	if name == "" {
		name = s.ID
	}
	pkg := strings.ReplaceAll(group, ".", "_")
	cls := strings.ReplaceAll(class, ".", "_")
	suite := group
	if class != group {
		suite = group + "/" + class
	}
	return junitPlace{suite: suite, pkg: pkg, classname: pkg + "." + cls, name: name}
}

// WriteJUnit writes junit.xml: one testsuite per IG version and profile (else area), see
// junitPlace. Known failures are written as skipped with the known-issue reason; errors as
// <error>, failures as <failure>, each with the first line of the failure as its message and the
// whole text (spec id, failure, expected/actual, requirements) as its body. Only PHI-free text
// goes here: failure messages and reasons, never evidence.
func WriteJUnit(w io.Writer, r *Results) error {
	// Every text is stripped of control characters: most are not allowed in XML 1.0, and the rest
	// would reach a CI console.
	x := PlainText
	out := junitSuites{Name: x("pacheck " + r.Run.Target), Time: seconds(r.Run.DurationMS)}
	byGroup := map[string]*junitSuite{}
	var order []string
	var groupMS = map[string]int64{}
	for _, s := range r.Specs {
		pl := junitPlaceOf(s)
		g, ok := byGroup[pl.suite]
		if !ok {
			g = &junitSuite{Name: x(pl.suite), Package: x(pl.pkg)}
			if !r.Run.Start.IsZero() {
				g.Timestamp = r.Run.Start.UTC().Format("2006-01-02T15:04:05")
			}
			byGroup[pl.suite] = g
			order = append(order, pl.suite)
		}
		tc := junitTestCase{Name: x(pl.name), Classname: x(pl.classname), Time: seconds(s.DurationMS)}
		reqs := reqIDs(s)
		text := "spec: " + s.ID + "\n" + caseText(s, reqs)
		switch s.Outcome {
		case Fail:
			tc.Failure = &junitMessage{Message: x(failHeadline(s)), Type: "non-conformance", Text: x(text)}
			g.Failures++
		case Error:
			tc.Error = &junitMessage{Message: x(firstLine(s.Reason)), Type: "error", Text: x(text)}
			g.Errors++
		case Skip:
			tc.Skipped = &junitMessage{Message: x(firstLine(s.Reason)), Text: x("spec: " + s.ID + "\n" + s.Reason)}
			g.Skipped++
		case Known:
			msg := "known issue"
			if s.Known != nil {
				msg = fmt.Sprintf("known issue (expires %s): %s", s.Known.Expires, s.Known.Reason)
			}
			tc.Skipped = &junitMessage{Message: x(firstLine(msg)), Type: "known", Text: x(msg + "\n\n" + text)}
			g.Skipped++
		case Review:
			tc.Properties = &junitProps{Props: []junitProp{{Name: "pacheck.outcome", Value: string(Review)}}}
			tc.SystemOut = x("pacheck review: a person must confirm: " + s.Reason + "\n" + text)
		}
		g.Tests++
		groupMS[pl.suite] += s.DurationMS
		g.Cases = append(g.Cases, tc)
	}
	for i, name := range order {
		g := byGroup[name]
		g.ID = i
		g.Time = seconds(groupMS[name])
		g.Properties = &junitProps{Props: []junitProp{
			{Name: "pacheck.target", Value: x(r.Run.Target)},
			{Name: "pacheck.version", Value: x(r.Run.PacheckVersion)},
			{Name: "pacheck.verdict", Value: r.Verdict},
		}}
		out.Suites = append(out.Suites, *g)
		out.Tests += g.Tests
		out.Failures += g.Failures
		out.Errors += g.Errors
	}
	// Requirements no spec can observe: attested ones are the payer's claim, never a passed
	// case, so both they and those lacking an attestation are written as skipped, by type.
	as := junitSuite{Name: "pacheck-attestations", Package: "pacheck.attestations", ID: len(order), Time: "0.000"}
	for _, q := range r.Requirements {
		if q.Attestation == "" || q.Counts.Total > 0 {
			continue
		}
		tc := junitTestCase{Name: x(q.ID), Classname: "pacheck.attestations", Time: "0.000"}
		if a := q.Attested; a != nil {
			msg := fmt.Sprintf("attested by %s on %s (the payer's claim, not tested)", a.Who, a.When)
			tc.Skipped = &junitMessage{Message: x(msg), Type: "attested", Text: x(msg + "\n" + a.Statement + "\nevidence: " + a.Evidence)}
		} else {
			tc.Skipped = &junitMessage{Message: x("untested: " + q.MissingAttestation), Type: "untested", Text: x(q.MissingAttestation)}
		}
		as.Cases = append(as.Cases, tc)
		as.Tests++
		as.Skipped++
	}
	if as.Tests > 0 {
		out.Suites = append(out.Suites, as)
		out.Tests += as.Tests
	}
	if len(r.Run.Errors) > 0 {
		// Run-level errors (expired known issues, failed suite nodes) get a suite of their own so
		// CI shows them even when every spec passed.
		rs := junitSuite{Name: "pacheck-run", Package: "pacheck.run", ID: len(out.Suites), Time: "0.000"}
		for i, e := range r.Run.Errors {
			rs.Cases = append(rs.Cases, junitTestCase{Name: fmt.Sprintf("run error %d", i+1), Classname: "pacheck.run", Time: "0.000",
				Error: &junitMessage{Message: x(firstLine(e)), Type: "run-error", Text: x(e)}})
			rs.Tests++
			rs.Errors++
		}
		out.Suites = append(out.Suites, rs)
		out.Tests += rs.Tests
		out.Errors += rs.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// failHeadline is the one line that says what is wrong with a failed spec, the same in the
// report's list, junit.xml, summary.md and results.csv (specHeadline, else "failed").
func failHeadline(s Spec) string {
	if h := specHeadline(s); h != "" {
		return h
	}
	return firstLine(failMessage(s))
}

func failMessage(s Spec) string {
	if s.Failure != nil && s.Failure.Message != "" {
		return s.Failure.Message
	}
	return "failed"
}

func reqIDs(s Spec) []string {
	var ids []string
	for _, q := range s.Requirements {
		ids = append(ids, q.ID)
	}
	return ids
}

func caseText(s Spec, reqs []string) string {
	var b strings.Builder
	if s.Outcome == Error && s.Reason != "" {
		b.WriteString(s.Reason)
		b.WriteString("\n")
	}
	if s.Failure != nil {
		b.WriteString(s.Failure.Message)
		b.WriteString("\n")
		if s.Failure.Expected != "" || s.Failure.Actual != "" {
			fmt.Fprintf(&b, "expected: %s\nactual: %s\n", s.Failure.Expected, s.Failure.Actual)
		}
		if s.Failure.Panic != "" {
			fmt.Fprintf(&b, "panic: %s\n", s.Failure.Panic)
		}
		if s.Failure.Location != "" {
			fmt.Fprintf(&b, "at %s\n", s.Failure.Location)
		}
	}
	if (s.Outcome == Fail || s.Outcome == Known) && len(s.Requirements)+len(s.Broken) > 0 {
		fmt.Fprintf(&b, "requirements broken: %s\n", brokenText(s))
	} else if len(reqs) > 0 {
		fmt.Fprintf(&b, "requirements: %s\n", strings.Join(reqs, ", "))
	}
	if s.Blocked != nil {
		fmt.Fprintf(&b, "blocked by: %s\n", s.Blocked.Cause)
	}
	return b.String()
}

// ---- summary.md ----

// maxRootCauseSpecs bounds the spec ids summary.md lists under one root cause.
const maxRootCauseSpecs = 100

// WriteSummary writes summary.md, sized for a CI step summary: verdict, counts, per-group table,
// the SHALL requirements not shown met with what would enable them, root causes with their
// blocked specs, up to 50 failures and other errors, known issues, run errors and warnings.
// Server-controlled text is stripped of control characters and escaped.
func WriteSummary(w io.Writer, r *Results) error {
	var b strings.Builder
	icon := map[string]string{VerdictPass: "✅", VerdictFail: "❌", VerdictIncomplete: "🟡", VerdictError: "⚠️"}[r.Verdict]
	fmt.Fprintf(&b, "# %s pacheck: %s\n\n", icon, VerdictLabel(r.Verdict))
	fmt.Fprintf(&b, "%s\n\n", verdictSentence(r))
	fmt.Fprintf(&b, "Target `%s` · pacheck %s · %s · %s\n\n", mdCode(r.Run.Target), mdText(r.Run.PacheckVersion),
		r.Run.Start.UTC().Format("2006-01-02 15:04:05Z"), seconds(r.Run.DurationMS)+" s")
	c := r.Counts
	b.WriteString("| total | pass | fail | error | skip | known |\n|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d |\n\n", c.Total, c.Pass, c.Fail, c.Error, c.Skip, c.Known)
	if r.Run.NotSelected > 0 {
		fmt.Fprintf(&b, "%d specs not selected by the label filter or focus.\n\n", r.Run.NotSelected)
	}
	groups := map[string]*Counts{}
	for _, s := range r.Specs {
		if groups[s.Group] == nil {
			groups[s.Group] = &Counts{}
		}
		groups[s.Group].Add(s.Outcome)
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	if len(names) > 0 {
		b.WriteString("| IG / area | pass | fail | error | skip | known |\n|---|---:|---:|---:|---:|---:|\n")
		for _, g := range names {
			gc := groups[g]
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", mdText(g), gc.Pass, gc.Fail, gc.Error, gc.Skip, gc.Known)
		}
		b.WriteString("\n")
	}
	if len(r.Run.Errors) > 0 {
		b.WriteString("## Run errors\n\n")
		for _, e := range r.Run.Errors {
			fmt.Fprintf(&b, "- %s\n", mdText(e))
		}
		b.WriteString("\n")
	}
	if len(r.Incomplete) > 0 {
		fmt.Fprintf(&b, "## SHALL requirements not shown met (%d)\n\n", len(r.Incomplete))
		for _, m := range r.Incomplete {
			fmt.Fprintf(&b, "- %s (%s): %s", missingName(m), mdText(m.Status), mdText(firstLine(m.Reason)))
			if m.WouldEnable != "" {
				fmt.Fprintf(&b, " — **to enable:** %s", mdText(firstLine(m.WouldEnable)))
			}
			if m.Spec != "" {
				fmt.Fprintf(&b, " (spec `%s`)", mdCode(m.Spec))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	if len(r.RootCauses) > 0 {
		b.WriteString("## Root causes\n\n| root cause | reason | blocked specs |\n|---|---|---:|\n")
		for _, rc := range r.RootCauses {
			fmt.Fprintf(&b, "| `%s` | %s | %d |\n", mdCode(rc.Cause), mdText(firstLine(rc.Reason)), rc.Blocked)
		}
		b.WriteString("\n")
		for _, rc := range r.RootCauses {
			fmt.Fprintf(&b, "<details><summary>%d specs blocked by %s</summary>\n\n", rc.Blocked, mdText(rc.Cause))
			for i, id := range rc.Specs {
				if i == maxRootCauseSpecs {
					fmt.Fprintf(&b, "- … %d more in results.json / index.html\n", len(rc.Specs)-i)
					break
				}
				fmt.Fprintf(&b, "- `%s`\n", mdCode(id))
			}
			b.WriteString("\n</details>\n\n")
		}
	}
	const maxList = 50
	listed := 0
	for _, o := range []Outcome{Error, Fail} {
		first := true
		for _, s := range r.Specs {
			if s.Outcome != o || s.Blocked != nil { // blocked specs are listed under their root cause
				continue
			}
			if first {
				title := map[Outcome]string{Error: "Errors (tool or environment)", Fail: "Failures"}[o]
				fmt.Fprintf(&b, "## %s\n\n", title)
				first = false
			}
			if listed == maxList {
				fmt.Fprintf(&b, "- … more in results.json / index.html\n")
				listed++
				continue
			}
			if listed > maxList {
				continue
			}
			listed++
			msg, reqs := s.Reason, strings.Join(reqIDs(s), ", ")
			if o == Fail {
				msg, reqs = failHeadline(s), brokenText(s)
			}
			fmt.Fprintf(&b, "- `%s` %s — %s\n", mdCode(s.ID), mdText(reqs), mdText(firstLine(msg)))
		}
		if !first {
			b.WriteString("\n")
		}
	}
	if c.Review > 0 {
		// Apart from the outcome table above (whose columns CI parsers may rely on): what a person
		// must confirm, which never changes the verdict.
		fmt.Fprintf(&b, "## For a person to review (%d)\n\n", c.Review)
		n := 0
		for _, s := range r.Specs {
			if s.Outcome != Review {
				continue
			}
			if n++; n > maxList {
				fmt.Fprintf(&b, "- … %d more in results.json / index.html\n", c.Review-maxList)
				break
			}
			fmt.Fprintf(&b, "- `%s` — %s\n", mdCode(s.ID), mdText(firstLine(s.Reason)))
		}
		b.WriteString("\n")
	}
	if c.Known > 0 {
		b.WriteString("## Known issues\n\n")
		for _, s := range r.Specs {
			if s.Outcome == Known && s.Known != nil {
				fmt.Fprintf(&b, "- `%s` until %s: %s\n", mdCode(s.ID), mdText(s.Known.Expires), mdText(s.Known.Reason))
			}
		}
		b.WriteString("\n")
	}
	if len(r.Run.Warnings) > 0 {
		b.WriteString("<details><summary>Warnings</summary>\n\n")
		for _, e := range r.Run.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdText(e))
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func missingName(m Missing) string {
	if m.Requirement == "" {
		return "spec `" + mdCode(m.Spec) + "`"
	}
	return "`" + mdCode(m.Requirement) + "`"
}

// brokenText names the requirements a failed spec broke, and the ones it cites but did not judge.
func brokenText(s Spec) string {
	var broke, other []string
	for _, a := range attribute(s) {
		if a.notJudged {
			other = append(other, a.id)
		} else {
			broke = append(broke, a.id)
		}
	}
	t := strings.Join(broke, ", ")
	if len(other) > 0 {
		t += " (not judged: " + strings.Join(other, ", ") + ")"
	}
	return t
}

// verdictSentence says in one line what the verdict means for this run.
func verdictSentence(r *Results) string {
	switch r.Verdict {
	case VerdictPass:
		if r.Counts.Pass == 0 {
			return "No failure, no error — but no spec passed: nothing was shown to conform."
		}
		s := "Every SHALL requirement the run selected ran and passed."
		if r.Counts.Known > 0 {
			s += fmt.Sprintf(" %d known failures are listed below.", r.Counts.Known)
		}
		return s
	case VerdictFail:
		return "The target does not meet at least one SHALL requirement."
	case VerdictIncomplete:
		return fmt.Sprintf("Nothing failed, but %d SHALL requirements the run selected did not run, errored or were not judged; each is listed below with what would enable it.", len(r.Incomplete))
	case VerdictError:
		return "The run itself failed (see the run errors): nothing can be concluded."
	}
	return ""
}

var mdEscaper = strings.NewReplacer("\\", "\\\\", "|", "\\|", "<", "&lt;", ">", "&gt;", "&", "&amp;",
	"*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "`", "\\`", "\n", " ", "\r", " ")

// mdText strips control characters and escapes text for a Markdown table cell or list item.
func mdText(s string) string { return mdEscaper.Replace(PlainText(s)) }

var mdCodeEscaper = strings.NewReplacer("`", "'", "\n", " ", "\r", " ", "|", "\\|")

// mdCode strips control characters and makes s safe inside single backticks.
func mdCode(s string) string { return mdCodeEscaper.Replace(PlainText(s)) }
