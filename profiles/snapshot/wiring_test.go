package snapshot_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/validate"
	"github.com/pacheck/pacheck/profiles"
)

// A payer's package with profiles that have only a differential, written for this test.
const (
	payerPatient = `{"resourceType":"StructureDefinition","url":"http://payer.example/fhir/StructureDefinition/member",
		"name":"Member","status":"draft","kind":"resource","abstract":false,"type":"Patient","derivation":"constraint",
		"baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient",
		"differential":{"element":[{"id":"Patient.identifier","path":"Patient.identifier","min":1},
			{"id":"Patient.identifier.system","path":"Patient.identifier.system","min":1,"fixedUri":"http://payer.example/member-id"}]}}`
	payerBroken = `{"resourceType":"StructureDefinition","url":"http://payer.example/fhir/StructureDefinition/broken",
		"name":"Broken","status":"draft","kind":"resource","abstract":false,"type":"Patient","derivation":"constraint",
		"baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient",
		"differential":{"element":[{"id":"Patient.nickname","path":"Patient.nickname","min":1}]}}`
)

func TestValidatorUsesGeneratedSnapshots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "package")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"package.json":                    `{"name":"payer.example","version":"0.1.0","dependencies":{"hl7.fhir.r4.core":"4.0.1"}}`,
		"StructureDefinition-member.json": payerPatient, "StructureDefinition-broken.json": payerBroken}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := profiles.Load(dir, profiles.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	set.Add(p)
	v, err := validate.New(set, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(profile, patient string) []string {
		t.Helper()
		var m map[string]any
		_ = json.Unmarshal([]byte(patient), &m)
		m["meta"] = map[string]any{"profile": []any{profile}}
		b, _ := json.Marshal(m)
		var out []string
		for _, e := range v.Validate(context.Background(), b, validate.ValidateOptions{IG: p.Ref()}).Issues.Errors() {
			out = append(out, e.Rule+" "+e.Path+" "+e.Message)
		}
		return out
	}
	member := "http://payer.example/fhir/StructureDefinition/member"
	if errs := check(member, `{"resourceType":"Patient","identifier":[{"system":"http://payer.example/member-id","value":"1"}]}`); len(errs) != 0 {
		t.Errorf("valid member: %v", errs)
	}
	errs := check(member, `{"resourceType":"Patient"}`)
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "cardinality Patient.identifier ") {
		t.Errorf("member without identifier: %v", errs)
	}
	errs = check(member, `{"resourceType":"Patient","identifier":[{"system":"http://other.example","value":"1"}]}`)
	if len(errs) != 1 || !strings.Contains(errs[0], "Patient.identifier[0].system") {
		t.Errorf("member with another identifier system: %v", errs)
	}
	errs = check("http://payer.example/fhir/StructureDefinition/broken", `{"resourceType":"Patient"}`)
	want := "generating it from the differential failed at element Patient.nickname: no element nickname under Patient"
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "profile-unknown ") || !strings.Contains(errs[0], want) {
		t.Errorf("broken profile: %v, want one profile-unknown error with %q", errs, want)
	}
}
