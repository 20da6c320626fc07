// Package validatetest gives tests of other packages pacheck's validator over the embedded
// packages, compiled once per test binary.
package validatetest

import (
	"sync"
	"testing"

	"github.com/pacheck/pacheck/checks/validate"
	"github.com/pacheck/pacheck/profiles"
)

var (
	once sync.Once
	v    *validate.Validator
	err  error
)

// Embedded returns the validator over profiles.Embedded(), failing the test when it cannot be built.
func Embedded(t testing.TB) *validate.Validator {
	t.Helper()
	once.Do(func() {
		var set *profiles.Set
		if set, err = profiles.Embedded(); err == nil {
			v, err = validate.New(set, validate.Options{})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
