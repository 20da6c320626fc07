package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/profiles/registry/registrytest"
)

// pacheck packages install puts a package that is not embedded (US Core 5.0.1) and its
// dependencies into the package cache, list shows them, and validate --ig finds it there.
func TestPackagesInstallThenValidate(t *testing.T) {
	reg := registrytest.New(t, "hl7.fhir.us.core-5.0.1.tgz", "hl7.fhir.r4.core-4.0.1.tgz")
	cache := t.TempDir()
	t.Setenv("FHIR_PACKAGE_CACHE", cache)
	code, out, errOut := run("packages", "install", "--registry", reg.URL, "hl7.fhir.us.core#5.0.1")
	if code != ExitOK || !strings.Contains(out, "installed hl7.fhir.us.core#5.0.1") || !strings.Contains(out, "installed hl7.fhir.r4.core#4.0.1 (dependency)") {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}
	// dependencies the registry lacks are named, not fatal
	if !strings.Contains(out, "warning: hl7.terminology.r4#") {
		t.Errorf("install does not report the missing terminology dependency:\n%s", out)
	}
	if code, out, _ := run("packages", "list"); code != ExitOK || out != "hl7.fhir.r4.core#4.0.1\nhl7.fhir.us.core#5.0.1\n" {
		t.Errorf("list: exit %d %q", code, out)
	}
	// a Patient missing what US Core 5.0.1 requires (identifier, name, gender)
	dir := t.TempDir()
	patient := filepath.Join(dir, "patient.json")
	os.WriteFile(patient, []byte(`{"resourceType":"Patient","id":"p1","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|5.0.1"]}}`), 0o644)
	code, out, errOut = run("validate", "--ig", "hl7.fhir.us.core#5.0.1", patient)
	if code != ExitNonConf || !strings.Contains(out, "Patient.identifier") {
		t.Errorf("validate --ig from the cache: exit %d, want 1 with a Patient.identifier cardinality error\n%s\n%s", code, out, errOut)
	}
	// not installed: the error says how to get it
	_, _, errOut = run("validate", "--ig", "hl7.fhir.us.core#4.0.0", patient)
	if !strings.Contains(errOut, "pacheck packages install hl7.fhir.us.core#4.0.0") {
		t.Errorf("validate --ig of a package not installed: %q", errOut)
	}
}

// A corrupted tarball: exit 3, a one-line error naming the checksum, nothing in the cache.
func TestPackagesInstallCorrupted(t *testing.T) {
	reg := registrytest.New(t, "hl7.fhir.us.core-3.1.1.tgz")
	reg.Tamper["hl7.fhir.us.core#3.1.1"] = true
	cache := t.TempDir()
	code, _, errOut := run("packages", "install", "--registry", reg.URL, "--cache", cache, "hl7.fhir.us.core#3.1.1")
	if code != ExitEnvError || !strings.Contains(errOut, "SHA-1") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("exit %d, stderr %q: want 3 and one line naming the SHA-1 mismatch", code, errOut)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("%d entries in the cache after a refused install", len(entries))
	}
	for _, args := range [][]string{{"packages"}, {"packages", "install"}, {"packages", "install", "hl7.fhir.us.core"}, {"packages", "list", "x"}} {
		if code, _, _ := run(args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
