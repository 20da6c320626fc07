package structure

import (
	"sync"
	"testing"

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
