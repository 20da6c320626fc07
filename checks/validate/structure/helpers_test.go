package structure

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/pacheck/pacheck/internal/shared"
	"github.com/pacheck/pacheck/profiles"
)

var (
	testOnce sync.Once
	testV    *Validator
	testErr  error
)

// validator returns the shared validator over the embedded packages.
func validator(t testing.TB) *Validator {
	t.Helper()
	testOnce.Do(func() {
		set, err := profiles.Embedded()
		if err != nil {
			testErr = err
			return
		}
		testV, testErr = New(set)
	})
	if testErr != nil {
		t.Fatal(testErr)
	}
	return testV
}

var (
	exOnce sync.Once
	exPkgs []*profiles.Package
	exErr  error
)

// examplePackages loads (once) every package of ../shared/fhir-packages with its examples.
func examplePackages(t testing.TB) []*profiles.Package {
	t.Helper()
	dir := shared.Require(t, "fhir-packages")
	exOnce.Do(func() {
		files, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
		for _, f := range files {
			p, err := profiles.Load(f, profiles.LoadOptions{Examples: true})
			if err != nil {
				exErr = err
				return
			}
			exPkgs = append(exPkgs, p)
		}
	})
	if exErr != nil {
		t.Fatal(exErr)
	}
	if len(exPkgs) == 0 {
		t.Skip("no packages in " + dir)
	}
	return exPkgs
}
