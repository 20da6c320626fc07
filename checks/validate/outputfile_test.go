package validate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCLIOutputFile: --output writes the results to a file in the format --format names, or
// else the file name implies; stdout keeps only the summary line.
func TestCLIOutputFile(t *testing.T) {
	dir := t.TempDir()
	in := t.TempDir()
	bad := write(t, in, "bad.json", `{"resourceType":"Patient","gender":"robot"}`)
	for _, tc := range []struct {
		name   string
		format string
		check  func(string) bool
	}{
		{"out.json", "", func(s string) bool {
			var d struct{ Summary Summary }
			return json.Unmarshal([]byte(s), &d) == nil && d.Summary.Files == 1 && d.Summary.Errors == 1
		}},
		{"out.txt", "", func(s string) bool {
			return strings.Contains(s, "binding @ Patient.gender") && strings.Contains(s, "1 files, 0 valid")
		}},
		{"out.oo.json", "", func(s string) bool {
			return strings.HasPrefix(s, `{"resourceType": "Bundle"`) && strings.Contains(s, "OperationOutcome")
		}},
		{"forced.json", "operationoutcome", func(s string) bool { return strings.Contains(s, "OperationOutcome") }},
		{"forced.txt", "json", func(s string) bool { return strings.HasPrefix(s, `{"files": [`) }},
	} {
		out := filepath.Join(dir, tc.name)
		args := []string{"--output", out, bad}
		if tc.format != "" {
			args = append([]string{"--format", tc.format}, args...)
		}
		code, stdout, errs := runCLI(t, args...)
		if code != 1 || errs != "" || stdout != "1 files, 0 valid, 1 errors, 1 warnings; results in "+out+"\n" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tc.name, code, stdout, errs)
			continue
		}
		if s := readString(t, out); !tc.check(s) {
			t.Errorf("%s: unexpected content:\n%.600s", tc.name, s)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestCLIOutputNeverClobbers: an output naming an input (a file argument or a file a folder
// argument reads), a folder, or a missing folder is refused before anything runs; a run that
// fails leaves an existing output file as it was and no temporary file behind.
func TestCLIOutputNeverClobbers(t *testing.T) {
	in := t.TempDir()
	const patient = `{"resourceType":"Patient","gender":"female"}`
	p := write(t, in, "p.json", patient)
	nested := write(t, in, "sub/q.json", patient)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--output", p, p}, "is an input of this run"},
		{[]string{"--html-output", p, p}, "is an input of this run"},
		{[]string{"--output", nested, in}, "is an input of this run (in " + in},
		{[]string{"--output", in, p}, "is a folder"},
		{[]string{"--output", filepath.Join(in, "nope", "out.json"), p}, "folder does not exist"},
		{[]string{"--output", filepath.Join(in, "x.json"), "--html-output", filepath.Join(in, "x.json"), p}, "same file"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
	if readString(t, p) != patient || readString(t, nested) != patient {
		t.Fatal("an input was changed")
	}
	// a failed run (a missing input) keeps the previous output
	outDir := t.TempDir()
	prev := write(t, outDir, "out.json", "previous")
	if code, _, _ := runCLI(t, "--output", prev, p, filepath.Join(in, "missing.json")); code != 2 {
		t.Fatalf("missing input: exit %d, want 2", code)
	}
	if readString(t, prev) != "previous" {
		t.Error("a failed run replaced the output file")
	}
	if left, _ := filepath.Glob(filepath.Join(outDir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestCLIHTMLOutput: --html-output writes a page with a section per input, the summary, and
// everything that came from the input escaped (file names, unknown keys, messages) with control
// characters removed; no script, a restrictive CSP.
func TestCLIHTMLOutput(t *testing.T) {
	in := t.TempDir()
	write(t, in, "ok.json", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Jo</div>"},"gender":"female"}`)
	write(t, in, "x<b>&.json", `{"resourceType":"Patient","<script>alert(1)</script>":1,"gender":"\u001b[31mrobot"}`)
	page := filepath.Join(t.TempDir(), "report.html")
	code, stdout, errs := runCLI(t, "--html-output", page, in)
	if code != 1 || errs != "" || !strings.Contains(stdout, "2 files, 1 valid") {
		t.Fatalf("exit %d, stderr %q\n%s", code, errs, stdout)
	}
	s := readString(t, page)
	for _, want := range []string{
		"<!DOCTYPE html>", "Content-Security-Policy", "default-src &#39;none&#39;",
		"x&lt;b&gt;&amp;.json", "&lt;script&gt;alert(1)&lt;/script&gt;", "unknown-element",
		`<span class="badge b-valid">valid</span>`, `<span class="badge b-invalid">INVALID</span>`,
		`<h2 id="summary">Summary</h2>`, "<tr><th>Files</th><td>2</td></tr>", "</html>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "x<b>", "\x1b"} {
		if strings.Contains(s, bad) {
			t.Errorf("page holds unescaped %q", bad)
		}
	}
	// no input: a page all the same (and the usage error says why)
	empty := t.TempDir()
	if code, _, _ := runCLI(t, "--html-output", page, empty); code != 2 {
		t.Errorf("empty folder: exit %d, want 2", code)
	}
}
