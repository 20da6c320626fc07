package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{[]string{"--profile", "nope", dir}, "canonical URL"},
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
		"unknown profile": {`{"resourceType":"Patient","meta":{"profile":["http://example.org/StructureDefinition/nope"]}}`,
			"profile-unknown", "http://example.org/StructureDefinition/nope"},
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
