package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

const patientOK = `{"resourceType":"Patient","id":"p1","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
 "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Jo Doe</div>"},
 "identifier":[{"system":"http://example.org/mrn","value":"123"}],
 "name":[{"family":"Doe","given":["Jo"]}],"gender":"female","birthDate":"1980-02-03"}`

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := RunCLI(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIExitCodesAndFormats(t *testing.T) {
	dir := t.TempDir()
	ok := write(t, dir, "ok.json", patientOK)
	bad := write(t, dir, "sub/bad.json", strings.Replace(patientOK, `"gender":"female"`, `"gender":"woman"`, 1))
	write(t, dir, "sub/.hidden.json", `not json`)
	write(t, dir, "lines.ndjson", strings.ReplaceAll(patientOK, "\n", "")+"\n\n"+`{"resourceType":"Observation"}`+"\n")

	if code, out, errs := runCLI(t, "--ig", "hl7.fhir.us.core#6.1.0", ok); code != 0 {
		t.Fatalf("valid patient: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ := runCLI(t, "--ig", "hl7.fhir.us.core#6.1.0", bad)
	if code != 1 || !strings.Contains(out, "binding @ Patient.gender") {
		t.Fatalf("bad gender: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "--format", "json", "--ig", "hl7.fhir.us.core#6.1.0", dir)
	if code != 1 {
		t.Fatalf("folder: exit %d", code)
	}
	var doc struct {
		Files []struct {
			Path         string   `json:"path"`
			ResourceType string   `json:"resourceType"`
			Profiles     []string `json:"profiles"`
			Issues       []struct{ Severity, Rule string }
		} `json:"files"`
		Summary Summary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	// lines.ndjson has 2 resources, ok.json, sub/bad.json; the dot-file is skipped
	if doc.Summary.Files != 4 || doc.Summary.Valid != 2 || len(doc.Files) != 4 {
		t.Fatalf("summary %+v, files %d\n%s", doc.Summary, len(doc.Files), out)
	}
	if !strings.HasSuffix(doc.Files[0].Path, "lines.ndjson:1") || !strings.HasSuffix(doc.Files[1].Path, "lines.ndjson:3") {
		t.Errorf("ndjson paths: %s, %s", doc.Files[0].Path, doc.Files[1].Path)
	}
	if doc.Files[1].ResourceType != "Observation" || len(doc.Files[1].Issues) == 0 {
		t.Errorf("bare Observation should fail base cardinality: %+v", doc.Files[1])
	}
	code, out, _ = runCLI(t, "--format", "operationoutcome", bad)
	var oo map[string]any
	if err := json.Unmarshal([]byte(out), &oo); err != nil || oo["resourceType"] != "Bundle" || code != 1 {
		t.Fatalf("operationoutcome: exit %d, %v\n%s", code, err, out)
	}
	// the output is itself a valid FHIR Bundle of OperationOutcomes
	v := embedded(t)
	if res := v.Validate(context.Background(), []byte(out), ValidateOptions{}); res.Issues.HasErrors() {
		t.Errorf("OperationOutcome output does not validate: %v", res.Issues.Errors())
	}
}

func TestCLIUnusableInput(t *testing.T) {
	dir := t.TempDir()
	corrupt := write(t, dir, "corrupt.tgz", "\x1f\x8b\x08\x00garbage")
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no input"},
		{[]string{filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"--format", "xml", dir}, "unknown format"},
		{[]string{"--package", corrupt, dir}, "corrupt.tgz"},
		{[]string{"--ig", "no.such.ig#1.0.0", dir}, "no.such.ig#1.0.0"},
		{[]string{"--ig", "garbage", dir}, "expected id#version"},
		{[]string{"--profile", "nope", dir}, "canonical URI"},
		{[]string{"--bogus"}, "bogus"},
		{[]string{empty}, "no *.json"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
		if tc.args != nil && tc.args[0] != "--bogus" && strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: want one line on stderr, got %q", tc.args, errs)
		}
	}
}

func TestBadInputs(t *testing.T) {
	v := embedded(t)
	ctx := context.Background()
	cases := map[string]struct {
		raw  string
		rule string
		want string
	}{
		"truncated":     {patientOK[:len(patientOK)/2], ruleSyntax, ""},
		"not json":      {"hello", ruleSyntax, ""},
		"array":         {"[1,2]", ruleNotRes, ""},
		"non-FHIR JSON": {`{"name":"x","items":[1]}`, "", "resourceType"},
		"unknown type":  {`{"resourceType":"Spaceship"}`, "", "Spaceship"},
		"deep":          {strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), "json-depth", ""},
		"duplicate key": {`{"resourceType":"Basic","code":{},"code":{}}`, "json-duplicate-key", ""},
	}
	for name, tc := range cases {
		res := v.Validate(ctx, []byte(tc.raw), ValidateOptions{})
		found := false
		for _, i := range res.Issues.Errors() {
			if (tc.rule == "" || i.Rule == tc.rule) && strings.Contains(i.Message, tc.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want an error %s mentioning %q, got %v", name, tc.rule, tc.want, res.Issues)
		}
	}
}

// TestLargeFile validates a 50 MB Bundle through the CLI path.
func TestLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB input")
	}
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"collection","entry":[`)
	entry := `{"fullUrl":"urn:uuid:00000000-0000-0000-0000-%012d","resource":{"resourceType":"Observation","id":"o%d","status":"final","code":{"text":"x"},"valueString":"` + strings.Repeat("y", 200) + `"}}`
	for i := 0; b.Len() < 50<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.NewReplacer("%012d", padNum(i, 12), "%d", padNum(i, 1)).Replace(entry))
	}
	b.WriteString(`]}`)
	dir := t.TempDir()
	p := write(t, dir, "big.json", b.String())
	code, out, errs := runCLI(t, "--format", "json", p)
	if code != 0 {
		t.Fatalf("50 MB bundle: exit %d\n%.2000s\n%s", code, out, errs)
	}
	// truncated copy: a clear JSON error, not a panic
	write(t, dir, "big.json", b.String()[:b.Len()-1000])
	code, out, _ = runCLI(t, p)
	if code != 1 || !strings.Contains(out, "json-syntax") {
		t.Fatalf("truncated 50 MB bundle: exit %d\n%.2000s", code, out)
	}
}

func padNum(n, w int) string {
	s := []byte{}
	for n > 0 || len(s) == 0 {
		s = append([]byte{byte('0' + n%10)}, s...)
		n /= 10
	}
	for len(s) < w {
		s = append([]byte{'0'}, s...)
	}
	return string(s)
}

// bigBundle writes a collection Bundle of about size bytes of small Observations and returns its
// path and entry count.
func bigBundle(t *testing.T, dir string, size int) (string, int) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`{"resourceType":"Bundle","type":"collection","entry":[`)
	n := 0
	for ; b.Len() < size; n++ {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"fullUrl":"urn:uuid:00000000-0000-0000-0000-%012d","resource":{"resourceType":"Observation","id":"o%d","status":"final","code":{"text":"x"},"valueString":"%s"}}`, n, n, strings.Repeat("y", 120))
	}
	b.WriteString(`]}`)
	return write(t, dir, "big.json", b.String()), n
}

// TestValidateMemoryBounded: a Bundle over the streaming threshold is validated entry by entry,
// so the heap grows by a small multiple of the file (the whole-file path needed about 10x).
func TestValidateMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("20 MB input")
	}
	dir := t.TempDir()
	p, n := bigBundle(t, dir, 20<<20)
	st, _ := os.Stat(p)
	// Warm up on a small streamed Bundle of the same shape: profiles compile once, on first use,
	// and that one-time cost is not what this test bounds.
	small, _ := bigBundle(t, t.TempDir(), 4<<10)
	streamThreshold = 1 << 10
	code, out, _ := runCLI(t, small)
	streamThreshold = StreamBundleBytes
	if code != 0 || !strings.Contains(out, "information streamed") {
		t.Fatalf("warm-up: exit %d\n%s", code, out)
	}
	var w tailWriter
	peak := heapPeak(func() {
		code = RunCLI(context.Background(), []string{"-j", "2", p}, &w, io.Discard)
	})
	ratio := float64(peak) / float64(st.Size())
	t.Logf("input %d MiB (%d entries); peak heap growth %d MiB = %.1fx the input (%s)", st.Size()>>20, n, peak>>20, ratio, heapLog)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, w.tail)
	}
	if want := fmt.Sprintf("%d files, %d valid", n+1, n+1); !strings.Contains(string(w.tail), want) {
		t.Errorf("summary lacks %q:\n%s", want, w.tail)
	}
	if !w.streamed {
		t.Error("the streamed Bundle does not say it was streamed")
	}
	if ratio > 6 {
		t.Errorf("peak heap growth %.1fx the input; want under 6x", ratio)
	}
}

// tailWriter keeps the end of the output and whether the streamed note went by, so the test's
// own buffer does not count as the validator's memory.
type tailWriter struct {
	tail     []byte
	streamed bool
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.streamed = w.streamed || bytes.Contains(p, []byte("information streamed @ Bundle"))
	w.tail = append(w.tail, p...)
	if len(w.tail) > 4<<10 {
		w.tail = append([]byte(nil), w.tail[len(w.tail)-2<<10:]...)
	}
	return len(p), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// heapLog describes the last heapPeak measurement.
var heapLog string

// heapPeak runs fn while sampling HeapAlloc (every millisecond) and returns the largest growth
// over the heap before it.
func heapPeak(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var livePeak uint64
	defer func() { heapLog = fmt.Sprintf("heap before %d MiB; live heap peak %d MiB", base>>20, livePeak>>20) }()
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak {
				peak = m.HeapAlloc - base
			}
			metrics.Read(live)
			if v := live[0].Value.Uint64(); v > livePeak {
				livePeak = v
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	return <-done
}

// TestCLIRefusesNonRegularAndOversize: a FIFO named *.json (in a folder or named directly), a
// device, an oversize file, NDJSON line or Bundle entry each give one input error naming the file
// and what to do, without blocking and without stopping the other inputs.
func TestCLIRefusesNonRegularAndOversize(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "ok.json", patientOK)
	big := write(t, t.TempDir(), "big.json", `{"resourceType":"Basic","code":{"text":"`+strings.Repeat("x", 3000)+`"}}`)
	lines := write(t, t.TempDir(), "l.ndjson", `{"resourceType":"Basic","code":{"text":"`+strings.Repeat("x", 3000)+`"}}`+"\n"+`{"resourceType":"Basic","code":{"text":"y"}}`+"\n")
	bundle := write(t, t.TempDir(), "b.json", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Basic","code":{"text":"`+strings.Repeat("x", 3000)+`"}}},{"resource":{"resourceType":"Basic","code":{"text":"y"}}}]}`)
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"fifo in a folder", []string{dir}, []string{"pipe.json: ? INVALID", "pipe.json is a FIFO (named pipe), not a regular file", "ok.json: Patient valid"}},
		{"fifo named", []string{fifo}, []string{"is a FIFO (named pipe), not a regular file"}},
		{"device", []string{"/dev/zero"}, []string{"/dev/zero is a device, not a regular file"}},
		{"oversize file", []string{"--max-resource-bytes", "2KiB", big}, []string{"big.json is 3043 bytes, over the 2 KiB limit for one resource; split it (e.g. as NDJSON) or raise --max-resource-bytes"}},
		{"oversize line", []string{"--max-resource-bytes", "2KiB", lines}, []string{"l.ndjson:1: ? INVALID", "line is over the 2 KiB limit", "l.ndjson:2: Basic valid"}},
		{"oversize entry", []string{"--max-resource-bytes", "2KiB", bundle}, []string{"b.json:entry[0]: ? INVALID", "entry is over the 2 KiB limit", "b.json:entry[1]: Basic valid", "information streamed @ Bundle"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, c.args...)
			if code != 1 {
				t.Errorf("exit %d, want 1 (input errors)\n%s%s", code, out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if code, _, errs := runCLI(t, "--max-resource-bytes", "lots", dir); code != 2 || !strings.Contains(errs, `"lots" is not a size such as 64MiB`) {
		t.Errorf("bad --max-resource-bytes: exit %d, %q", code, errs)
	}
}

// TestStreamedBundleMatchesWhole: streaming a Bundle (forced with a low bound) reports the same
// issues at the same paths as validating it whole, entry issues split per entry.
func TestStreamedBundleMatchesWhole(t *testing.T) {
	raw := `{"resourceType":"Bundle","type":"collection","entry":[` +
		`{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"}}},` +
		`{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","gender":"x"}},` +
		`{"fullUrl":"urn:uuid:3","request":{"method":"GET","url":"x"}}]}`
	p := write(t, t.TempDir(), "b.json", raw)
	issues := func(args ...string) []string {
		code, out, errs := runCLI(t, append(args, "--format", "json", p)...)
		if code != 1 {
			t.Fatalf("exit %d: %s%s", code, out, errs)
		}
		var doc struct {
			Files []FileResult `json:"files"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range doc.Files {
			for _, i := range f.Issues {
				if i.Rule != "streamed" {
					got = append(got, string(i.Severity)+" "+i.Rule+" @ "+i.Path)
				}
			}
		}
		sort.Strings(got)
		return got
	}
	whole := issues()
	streamThreshold = 64
	defer func() { streamThreshold = StreamBundleBytes }()
	streamed := issues()
	if strings.Join(whole, "\n") != strings.Join(streamed, "\n") {
		t.Errorf("whole:\n%s\nstreamed:\n%s", strings.Join(whole, "\n"), strings.Join(streamed, "\n"))
	}
	if len(whole) < 4 {
		t.Errorf("too few issues to compare: %v", whole)
	}
	// A cut-off streamed Bundle is a json-syntax error, not a hang or a panic.
	write(t, filepath.Dir(p), "b.json", raw[:len(raw)-40])
	code, out, _ := runCLI(t, p)
	if code != 1 || !strings.Contains(out, "json-syntax") || !strings.Contains(out, "unexpected end of file at byte") {
		t.Errorf("cut-off Bundle: exit %d\n%s", code, out)
	}
}

// FuzzStreamBundle: the streaming reader of large Bundles, on any bytes, ends with inputs or a
// syntax error, never a panic or a hang, and never hands on a resource over its bound.
func FuzzStreamBundle(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"p\"}"}},{"request":{"method":"GET","url":"x"}}],"total":2}`))
	f.Add([]byte(`{"entry":[],"resourceType":"Bundle"}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{},{"resource":[1,2]},{"resource":{"meta":{"versionId":7}}}]}  `))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Basic","x":"` + strings.Repeat("y", 300) + `"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"a":[[[[["\\\""]]]]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ir := inputReader{limit: 256, stream: 0}
		var shell *shellBundle
		n := 0
		err := ir.streamBundle(bytes.NewReader(data), "f.json", int64(len(data)), func(in cliInput) error {
			n++
			if int64(len(in.Raw)) > ir.limit {
				t.Fatalf("input of %d bytes over the %d bound", len(in.Raw), ir.limit)
			}
			if in.shell != nil {
				shell = in.shell
			}
			return nil
		})
		if err != nil {
			t.Fatalf("streamBundle returned %v; problems are inputs", err)
		}
		if n == 0 {
			t.Fatal("no input at all")
		}
		if shell != nil {
			shell.windows(func(raw []byte, first int, lead bool) bool {
				if !json.Valid(raw) && json.Valid(data) {
					t.Fatalf("valid Bundle, invalid window %q", raw)
				}
				return true
			})
		}
	})
}
