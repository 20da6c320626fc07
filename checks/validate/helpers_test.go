package validate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/pacheck/pacheck/internal/shared"
	"github.com/pacheck/pacheck/profiles"
)

var (
	corpusOnce sync.Once
	corpusSet  *profiles.Set
	corpusPkgs []*profiles.Package
	corpusErr  error
	corpusV    *Validator
)

// corpus loads every official package in ../shared/fhir-packages (with examples) on top of the
// embedded set.
func corpus(t testing.TB) (*Validator, []*profiles.Package) {
	t.Helper()
	dir := shared.Require(t, "fhir-packages")
	corpusOnce.Do(func() {
		set, err := profiles.Embedded()
		if err != nil {
			corpusErr = err
			return
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
		more, _ := filepath.Glob(filepath.Join(dir, "source-builds", "*.tgz"))
		files = append(files, more...)
		sort.Strings(files)
		for _, f := range files {
			p, err := profiles.Load(f, profiles.LoadOptions{Examples: true})
			if err != nil {
				corpusErr = err
				return
			}
			set.Add(p)
			corpusPkgs = append(corpusPkgs, p)
		}
		corpusSet = set
		corpusV, corpusErr = New(set, Options{})
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpusV, corpusPkgs
}

var (
	embOnce sync.Once
	embV    *Validator
	embErr  error
)

func embedded(t testing.TB) *Validator {
	t.Helper()
	embOnce.Do(func() {
		set, err := profiles.Embedded()
		if err != nil {
			embErr = err
			return
		}
		embV, embErr = New(set, Options{})
	})
	if embErr != nil {
		t.Fatal(embErr)
	}
	return embV
}

// validatorWithPackage adds a one-profile package (name, on R4 core) holding prof, written as
// StructureDefinition-<id>.json, to set and returns a validator over it.
func validatorWithPackage(t testing.TB, set *profiles.Set, name, id string, prof map[string]any) *Validator {
	t.Helper()
	dir := t.TempDir()
	write := func(file string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", map[string]any{"name": name, "version": "0.1.0",
		"dependencies": map[string]string{"hl7.fhir.r4.core": "4.0.1"}})
	write("StructureDefinition-"+id+".json", prof)
	p, err := profiles.LoadDir(dir, profiles.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	set.Add(p)
	v, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
