package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"
)

const ciDir = "../../../../deploy/ci"

// TestCITemplates checks the CI templates in deploy/ci against the published JSON schemas of
// GitHub Actions (workflow, action metadata) and GitLab CI (vendored in deploy/ci/testdata), then
// what they must do for pacheck: publish JUnit and the report even when the run fails, put
// summary.md in the job summary, fail on pacheck's non-zero exit, use only flags `pacheck run`
// has, and hold shell scripts bash can parse.
func TestCITemplates(t *testing.T) {
	for _, tc := range []struct {
		file, schema string
		wants        []string
	}{
		{"github/pacheck.yml", "github-workflow.json", []string{"pacheck-report/junit.xml", "actions/upload-artifact", "GITHUB_STEP_SUMMARY", "if: always()", "exit 1"}},
		{"github/action.yml", "github-action.json", []string{"actions/upload-artifact", "GITHUB_STEP_SUMMARY", "if: always()", `exit "$CODE"`}},
		{"gitlab/pacheck.gitlab-ci.yml", "gitlab-ci.json", []string{"junit: pacheck-report/junit.xml", "when: always", "summary.md", "exit ${code:-0}"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(ciDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("not YAML: %v", err)
			}
			// through JSON, as the schema sees it
			j, err := json.Marshal(doc)
			if err != nil {
				t.Fatalf("YAML with non-string keys: %v", err)
			}
			var inst any
			json.Unmarshal(j, &inst)
			sch, err := jsonschema.Compile(filepath.Join(ciDir, "testdata", "schemas", tc.schema))
			if err != nil {
				t.Fatalf("schema: %v", err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("%s does not validate against %s:\n%v", tc.file, tc.schema, err)
			}
			for _, w := range tc.wants {
				if !bytes.Contains(raw, []byte(w)) {
					t.Errorf("%s lacks %q", tc.file, w)
				}
			}
			checkPacheckFlags(t, string(raw))
			checkShell(t, tc.file, inst)
		})
	}
	// The schema check is not a rubber stamp: a job with an unknown keyword fails.
	sch, _ := jsonschema.Compile(filepath.Join(ciDir, "testdata", "schemas", "github-workflow.json"))
	var bad any
	json.Unmarshal([]byte(`{"on":"push","jobs":{"x":{"runs-on":"ubuntu-latest","stepz":[]}}}`), &bad)
	if sch.Validate(bad) == nil {
		t.Error("the workflow schema accepted a job without steps and with an unknown key")
	}
}

// checkPacheckFlags: every --flag after "pacheck run" in a template is one `pacheck run` has.
func checkPacheckFlags(t *testing.T, text string) {
	t.Helper()
	_, help, _ := run("help", "run")
	for _, line := range strings.Split(text, "\n") {
		i := strings.Index(line, "pacheck\" run")
		if i < 0 {
			i = strings.Index(line, "pacheck run")
		}
		if i < 0 {
			continue
		}
		for _, m := range regexp.MustCompile(`--[a-z][a-z-]*`).FindAllString(line[i:], -1) {
			if !strings.Contains(help, "  "+m+" ") {
				t.Errorf("template uses %s, which pacheck run does not have: %s", m, strings.TrimSpace(line))
			}
		}
	}
	// the composite action builds its arguments in an array
	for _, m := range regexp.MustCompile(`args(?:\+)?=\((?:run )?(--[a-z-]+)`).FindAllStringSubmatch(text, -1) {
		if !strings.Contains(help, "  "+m[1]+" ") {
			t.Errorf("action passes %s, which pacheck run does not have", m[1])
		}
	}
}

// checkShell parses every run:/script: shell text with bash -n.
func checkShell(t *testing.T, name string, doc any) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		return
	}
	var scripts []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "run" {
					scripts = append(scripts, s)
				}
				if l, ok := c.([]any); ok && (k == "script" || k == "before_script") {
					for _, e := range l {
						if s, ok := e.(string); ok {
							scripts = append(scripts, s)
						}
					}
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	if len(scripts) == 0 {
		t.Errorf("%s: no shell scripts found", name)
	}
	for _, s := range scripts {
		cmd := exec.Command(bash, "-n")
		cmd.Stdin = strings.NewReader(s)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: bash -n: %v %s\n%s", name, err, out, s)
		}
	}
}
