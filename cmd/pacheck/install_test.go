package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestGoInstall: `go install ./cmd/pacheck` in a clean clone, into an empty GOPATH, gives a
// binary that shows a real version (from the build information: module pseudo-version with the
// commit, not "dev") and validates with its embedded IG data, without ../shared. The module
// cache is the machine's (GOPROXY=off: no network), the build cache too (so it is quick).
func TestGoInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds pacheck from a clone")
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed: cannot make a clean clone")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout (%v): the install test needs one to clone", err)
	}
	modcache, err := exec.Command(goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	clone := filepath.Join(t.TempDir(), "pacheck")
	if out, err := exec.Command(gitPath, "clone", "-q", "--no-local", strings.TrimSpace(string(root)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	gopath := t.TempDir()
	cmd := exec.Command(goBin, "install", "./cmd/pacheck")
	cmd.Dir = clone
	cmd.Env = append(os.Environ(), "GOPATH="+gopath, "GOBIN=", "GOMODCACHE="+strings.TrimSpace(string(modcache)),
		"GOPROXY=off", "GOFLAGS=-buildvcs=true", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	bin := filepath.Join(gopath, "bin", "pacheck")
	out, err := exec.Command(bin, "version").CombinedOutput()
	first := strings.SplitN(string(out), "\n", 2)[0]
	if err != nil || !strings.HasPrefix(first, "pacheck v") || strings.Contains(first, "dev") {
		t.Errorf("pacheck version: %q (%v); want a module version from the build information", out, err)
	}
	// embedded IG data, no ../shared: a Patient claiming US Core 6.1.0 without a name is invalid
	res := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(res, []byte(`{"resourceType":"Patient","id":"x","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]}}`), 0o644)
	v := exec.Command(bin, "validate", "--ig", "hl7.fhir.us.core#6.1.0", res)
	v.Env = append(os.Environ(), "PACHECK_SHARED=/nonexistent")
	vout, err := v.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(vout), "Patient.name") {
		t.Errorf("installed pacheck validate: %v\n%s\nwant exit 1 with a Patient.name error", err, vout)
	}
}
