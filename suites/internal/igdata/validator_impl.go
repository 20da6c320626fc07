package igdata

import (
	"context"
	"fmt"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/validate"
	"github.com/pacheck/pacheck/profiles"
)

// newValidator builds pacheck's validator (checks/validate) for a package set.
func newValidator(set *profiles.Set) (ValidateFunc, error) {
	v, err := validate.New(set, validate.Options{})
	if err != nil {
		return nil, fmt.Errorf("building the profile validator: %w", err)
	}
	return func(ctx context.Context, raw []byte, profile, ig string) (issue.List, error) {
		r := v.Validate(ctx, raw, validate.ValidateOptions{Profiles: []string{profile}, IG: ig})
		return r.Issues, nil
	}, nil
}
