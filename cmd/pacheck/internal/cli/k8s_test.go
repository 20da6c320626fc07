package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"

	"github.com/pacheck/pacheck/fixtures/refserver"
)

const k8sDir = "../../../../deploy/k8s"

// k8sDocs reads every YAML document of deploy/k8s/*.yaml, as JSON values, keyed "file#n kind".
func k8sDocs(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("deploy/k8s holds %d manifests, want the fleet, merge and secret ones", len(files))
	}
	docs := map[string]map[string]any{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for n := 0; ; n++ {
			var doc any
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: document %d is not YAML: %v", f, n, err)
			}
			j, err := json.Marshal(doc)
			if err != nil {
				t.Fatalf("%s#%d: YAML with non-string keys: %v", f, n, err)
			}
			var m map[string]any
			json.Unmarshal(j, &m)
			kind, _ := m["kind"].(string)
			docs[fmt.Sprintf("%s#%d %s", filepath.Base(f), n, kind)] = m
		}
	}
	return docs
}

// strictSchema compiles a Kubernetes OpenAPI v3 schema of deploy/k8s/testdata/schemas with every
// object schema that lists properties closed to others (as kubeconform's strict mode and the API
// server's field validation do): an unknown or misspelt field fails.
func strictSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(k8sDir, "testdata", "schemas", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var closeObjects func(v any)
	closeObjects = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["properties"].(map[string]any); ok {
				if _, set := x["additionalProperties"]; !set {
					x["additionalProperties"] = false
				}
			}
			for _, c := range x {
				closeObjects(c)
			}
		case []any:
			for _, c := range x {
				closeObjects(c)
			}
		}
	}
	closeObjects(doc)
	b, _ := json.Marshal(doc)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name+".json", bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name + ".json")
	if err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	return s
}

// TestK8sManifests checks deploy/k8s against the Kubernetes v1.31 OpenAPI schemas of their kinds
// (strictly: unknown fields fail), then what the fleet needs: an Indexed Job with as many
// completions as targets, each pod running its target by JOB_COMPLETION_INDEX; credentials only
// in the Secret; the pods' and the merge Job's command lines valid pacheck ones (run for real below).
// With kubectl and a reachable cluster (PACHECK_K8S_DRY_RUN=1) it also asks the API server for a
// server-side dry run.
func TestK8sManifests(t *testing.T) {
	docs := k8sDocs(t)
	schemas := map[string]*jsonschema.Schema{}
	for _, k := range []string{"Job", "ConfigMap", "Secret", "PersistentVolumeClaim"} {
		schemas[k] = strictSchema(t, strings.ToLower(k))
	}
	for name, doc := range docs {
		kind, _ := doc["kind"].(string)
		s := schemas[kind]
		if s == nil {
			t.Errorf("%s: kind %q has no schema in testdata", name, kind)
			continue
		}
		if err := s.Validate(doc); err != nil {
			t.Errorf("%s does not validate against the Kubernetes %s schema:\n%v", name, kind, err)
		}
	}
	// The check is not a rubber stamp: a misspelt field and a wrong type fail.
	for _, bad := range []string{
		`{"apiVersion":"batch/v1","kind":"Job","spec":{"template":{"spec":{"containerz":[]}}}}`,
		`{"apiVersion":"batch/v1","kind":"Job","spec":{"completions":"three","template":{"spec":{"containers":[]}}}}`,
	} {
		var v any
		json.Unmarshal([]byte(bad), &v)
		if schemas["Job"].Validate(v) == nil {
			t.Errorf("the Job schema accepted %s", bad)
		}
	}

	job, merge, cm := docOf(t, docs, "pacheck-fleet.yaml", "Job"), docOf(t, docs, "merge-job.yaml", "Job"), docOf(t, docs, "pacheck-fleet.yaml", "ConfigMap")
	data := cm["data"].(map[string]any)
	targets, _ := data["targets.txt"].(string)
	ts, err := parseTargets("targets.txt", strings.NewReader(targets))
	if err != nil {
		t.Fatalf("the ConfigMap's targets.txt: %v", err)
	}
	spec := job["spec"].(map[string]any)
	if spec["completionMode"] != "Indexed" || int(spec["completions"].(float64)) != len(ts) {
		t.Errorf("the Job: completionMode %v, completions %v; want Indexed and %d (one per target)", spec["completionMode"], spec["completions"], len(ts))
	}
	args := containerArgs(t, job)
	if !contains(args, "--target-index=env:JOB_COMPLETION_INDEX") || !contains(args, "--exit-zero-on-verdict") {
		t.Errorf("the Job's pods do not pick their target by JOB_COMPLETION_INDEX: %v", args)
	}
	// No credential in the ConfigMap: a secret-looking key holds only a ${VAR} reference.
	var conf map[string]any
	if err := yaml.Unmarshal([]byte(data["pacheck.yaml"].(string)), &conf); err != nil {
		t.Fatalf("the ConfigMap's pacheck.yaml: %v", err)
	}
	checkNoLiteralSecrets(t, "ConfigMap pacheck.yaml", conf)

	if os.Getenv("PACHECK_K8S_DRY_RUN") == "1" {
		if _, err := exec.LookPath("kubectl"); err != nil {
			t.Errorf("PACHECK_K8S_DRY_RUN=1 but kubectl is not installed")
		}
		files, _ := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
		for _, f := range files {
			if out, err := exec.Command("kubectl", "apply", "--dry-run=server", "-f", f).CombinedOutput(); err != nil {
				t.Errorf("server-side dry run of %s: %v\n%s", f, err, out)
			}
		}
	} else {
		t.Log("server-side dry run not asked (PACHECK_K8S_DRY_RUN=1 with kubectl and a cluster)")
	}

	// The pods, as the Job would start them, against a fleet of reference servers: the manifest's
	// own arguments with its mounts (/etc/pacheck, /reports) mapped to folders here.
	faults := []string{"", refserver.FaultWrongFHIRVersion}
	bases := startFleet(t, faults)
	dir := t.TempDir()
	etc, reportsDir := filepath.Join(dir, "etc"), filepath.Join(dir, "reports")
	os.MkdirAll(etc, 0o755)
	os.WriteFile(filepath.Join(etc, "targets.txt"), []byte(strings.Join(bases, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(etc, "pacheck.yaml"), []byte(data["pacheck.yaml"].(string)), 0o644)
	mapPaths := func(args []string) []string {
		var out []string
		for _, a := range args {
			a = strings.ReplaceAll(a, "/etc/pacheck", etc)
			out = append(out, strings.ReplaceAll(a, "/reports", reportsDir))
		}
		return out
	}
	for i := range bases {
		cmd := exec.Command(os.Args[0], mapPaths(args)...)
		cmd.Env = append(os.Environ(), childEnv+"=1", fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pod %d: %v (the verdict must not fail the pod):\n%s", i, err, b)
		}
	}
	code, stdout, stderr := run(mapPaths(containerArgs(t, merge))...)
	if code != ExitNonConf {
		t.Errorf("the merge Job: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	f := readFleet(t, filepath.Join(reportsDir, "fleet"))
	if len(f.Targets) != len(bases) {
		t.Fatalf("fleet page: %d rows, want %d", len(f.Targets), len(bases))
	}
	for i, tr := range f.Targets {
		wantFleetRow(t, i, faults[i], tr.Verdict, tr.ExitCode, tr.Failed)
	}
}

func docOf(t *testing.T, docs map[string]map[string]any, file, kind string) map[string]any {
	t.Helper()
	for name, d := range docs {
		if strings.HasPrefix(name, file+"#") && strings.HasSuffix(name, " "+kind) {
			return d
		}
	}
	t.Fatalf("%s has no %s", file, kind)
	return nil
}

// containerArgs are the one container's args of a Job.
func containerArgs(t *testing.T, job map[string]any) []string {
	t.Helper()
	cs := job["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	var args []string
	for _, a := range cs[0].(map[string]any)["args"].([]any) {
		args = append(args, a.(string))
	}
	return args
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// checkNoLiteralSecrets fails on a token, secret, password or key value that is not a ${VAR}.
func checkNoLiteralSecrets(t *testing.T, where string, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			lk := strings.ToLower(k)
			if s, ok := c.(string); ok && (strings.Contains(lk, "token") || strings.Contains(lk, "secret") || strings.Contains(lk, "password") || strings.Contains(lk, "private_key")) {
				if !(strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}")) {
					t.Errorf("%s: %s holds a literal value: credentials belong in the Secret, referenced as ${VAR}", where, k)
				}
			}
			checkNoLiteralSecrets(t, where, c)
		}
	case []any:
		for _, c := range x {
			checkNoLiteralSecrets(t, where, c)
		}
	}
}
