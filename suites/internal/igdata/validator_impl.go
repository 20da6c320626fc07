package igdata

import (
	"context"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/validate"
	"github.com/pacheck/pacheck/profiles"
)

func init() {
	NewValidator = func(set *profiles.Set) (ValidateFunc, error) {
		v, err := validate.New(set, validate.Options{})
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, raw []byte, profile, ig string) (issue.List, error) {
			r := v.Validate(ctx, raw, validate.ValidateOptions{Profiles: []string{profile}, IG: ig})
			return r.Issues, nil
		}, nil
	}
}
