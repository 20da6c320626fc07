// Package shared locates the read-only official specification data (FHIR packages, the FHIRPath
// test suite, the R4 JSON schema) that lives beside the project as ../shared. Tests read it from
// there; it is never copied into the repository.
package shared

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides where the shared data lives.
const EnvVar = "PACHECK_SHARED"

// Dir returns the shared data folder: $PACHECK_SHARED, else ../shared beside the module root.
func Dir() (string, error) {
	if d := os.Getenv(EnvVar); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvVar, d, err)
		}
		return d, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	d := filepath.Join(filepath.Dir(root), "shared")
	if _, err := os.Stat(d); err != nil {
		return "", fmt.Errorf("shared data not found at %s (set %s): %w", d, EnvVar, err)
	}
	return d, nil
}

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("go.mod not found above " + wd)
		}
	}
}

// Path returns the shared file or folder rel (slash-separated), or an error naming what is missing.
func Path(rel string) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(d, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("shared data %s is missing: %w", rel, err)
	}
	return p, nil
}

// Require returns the shared path rel or skips the test, saying exactly what is missing.
func Require(t testing.TB, rel string) string {
	t.Helper()
	p, err := Path(rel)
	if err != nil {
		t.Skipf("skipped: needs the official data ../shared/%s (%v); set %s to its folder", rel, err, EnvVar)
	}
	return p
}
