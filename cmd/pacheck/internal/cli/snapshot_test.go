package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// myPatient is a profile with only a differential, on the R4 core Patient (embedded).
const myPatient = `{"resourceType":"StructureDefinition","url":"http://example.org/fhir/StructureDefinition/my-patient",
"name":"MyPatient","status":"draft","kind":"resource","abstract":false,"type":"Patient","derivation":"constraint",
"baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient",
"differential":{"element":[{"id":"Patient.identifier","path":"Patient.identifier","min":1},
{"id":"Patient.name.family","path":"Patient.name.family","min":1}]}}`

func TestSnapshotCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	code, out, errOut := run("snapshot", write("ok.json", myPatient))
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var sd struct {
		Snapshot struct {
			Element []struct {
				ID  string `json:"id"`
				Min int    `json:"min"`
			} `json:"element"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal([]byte(out), &sd); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	mins := map[string]int{}
	for _, e := range sd.Snapshot.Element {
		mins[e.ID] = e.Min
	}
	if len(sd.Snapshot.Element) < 40 || mins["Patient.identifier"] != 1 || mins["Patient.name.family"] != 1 || mins["Patient.name.given"] != 0 {
		t.Fatalf("snapshot of %d elements, mins %v", len(sd.Snapshot.Element), mins)
	}

	for _, c := range []struct {
		name, body, want string
	}{
		{"notjson.json", "{", "notjson.json: not valid JSON"},
		{"patient.json", `{"resourceType":"Patient"}`, "patient.json: a Patient, not a StructureDefinition"},
		{"nobase.json", strings.Replace(myPatient, "StructureDefinition/Patient\"", "StructureDefinition/Nope\"", 1),
			"unknown StructureDefinition http://hl7.org/fhir/StructureDefinition/Nope"},
		{"badelem.json", strings.ReplaceAll(myPatient, "Patient.name.family", "Patient.name.nope"),
			"element Patient.name.nope: no element nope under name"},
	} {
		code, out, errOut := run("snapshot", write(c.name, c.body))
		if code != ExitUsage || out != "" || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", c.name, code, out, errOut, c.want)
		}
	}
	if code, _, _ := run("snapshot"); code != ExitUsage {
		t.Errorf("no file: exit %d", code)
	}
	if code, _, errOut := run("snapshot", filepath.Join(dir, "missing.json")); code != ExitUsage || strings.Count(errOut, "\n") != 1 {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
	if code, out, _ := run("help", "snapshot"); code != ExitOK || !strings.Contains(out, "Usage: pacheck snapshot") {
		t.Errorf("help snapshot: exit %d, %q", code, out)
	}
}
