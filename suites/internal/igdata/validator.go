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

// Validator returns the profile validator for the run's package set, built once per set.
func Validator(run *framework.Run) (ValidateFunc, error) {
	set, err := PackageSet(run)
	if err != nil {
		return nil, err
	}
	valMu.Lock()
	defer valMu.Unlock()
	if f, ok := valFns[set]; ok {
		return f, nil
	}
	f, err := newValidator(set)
	if err != nil {
		return nil, err
	}
	valFns[set] = f
	return f, nil
}
