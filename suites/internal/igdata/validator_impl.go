package igdata

import (
	"context"
	"fmt"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/validate"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/suites/framework"
)

// engines are the validators built, one per package set (guarded by valMu): the profile
// validation and the binding figures (BoundValues) share one, with its compiled profiles and
// value-set expansions.
var engines = map[*profiles.Set]*validate.Validator{}

// engine returns set's validator, built once; valMu is held.
func engine(set *profiles.Set) (*validate.Validator, error) {
	if v, ok := engines[set]; ok {
		return v, nil
	}
	v, err := validate.New(set, validate.Options{})
	if err != nil {
		return nil, fmt.Errorf("building the profile validator: %w", err)
	}
	engines[set] = v
	return v, nil
}

// newValidator builds pacheck's validator (checks/validate) for a package set; valMu is held.
func newValidator(set *profiles.Set) (ValidateFunc, error) {
	v, err := engine(set)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, raw []byte, profile, ig string) (issue.List, error) {
		r := v.Validate(ctx, raw, validate.ValidateOptions{Profiles: []string{profile}, IG: ig})
		return r.Issues, nil
	}, nil
}

// BoundValues lists the coded values of r at the elements of profile (in package context ig)
// bound with one of strengths, judged as the validator's binding rule judges them
// (validate.Validator.BoundValues).
func BoundValues(ctx context.Context, run *framework.Run, r map[string]any, profile, ig string, strengths ...string) ([]validate.BoundValue, error) {
	set, err := PackageSet(run)
	if err != nil {
		return nil, err
	}
	valMu.Lock()
	v, err := engine(set)
	valMu.Unlock()
	if err != nil {
		return nil, err
	}
	return v.BoundValues(ctx, r, profile, ig, strengths...)
}
