package cli

import (
	"context"
	"io"

	"github.com/pacheck/pacheck/checks/validate"
)

func init() {
	register(&command{name: "validate", summary: "validate FHIR resources against profiles (no server needed)", run: runValidate})
}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return validate.RunCLI(ctx, args, stdout, stderr)
}
