package igdata

import (
	"context"
	"sync"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/suites/framework"
)

// ValidateFunc validates one resource against a profile canonical within an IG package context
// ("hl7.fhir.us.core#6.1.0") and returns the issues.
type ValidateFunc func(ctx context.Context, raw []byte, profile, ig string) (issue.List, error)

// NewValidator builds the validator from a package set. It is installed by validator_impl.go
// when pacheck's validator (checks/validate) is part of the build; while it is nil, validation
// specs are skipped with that reason and reference targets are checked by type.
var NewValidator func(set *profiles.Set) (ValidateFunc, error)

// PackageSet is the run's package set, or the embedded one.
func PackageSet(run *framework.Run) (*profiles.Set, error) {
	if run != nil && run.Profiles != nil {
		return run.Profiles, nil
	}
	return profiles.Embedded()
}

var (
	valMu  sync.Mutex
	valFns = map[*profiles.Set]ValidateFunc{}
)

// Validator returns the profile validator for the run's package set, built once per set (nil
// when the build has none).
func Validator(run *framework.Run) (ValidateFunc, error) {
	if NewValidator == nil {
		return nil, nil
	}
	set, err := PackageSet(run)
	if err != nil {
		return nil, err
	}
	valMu.Lock()
	defer valMu.Unlock()
	if f, ok := valFns[set]; ok {
		return f, nil
	}
	f, err := NewValidator(set)
	if err != nil {
		return nil, err
	}
	valFns[set] = f
	return f, nil
}
