package validate

import (
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
