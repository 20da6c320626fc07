package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/fhirpath"
	"github.com/pacheck/pacheck/internal/safefile"
)

func init() {
	register(&command{name: "fhirpath", summary: "evaluate a FHIRPath expression on a resource", run: runFHIRPath})
}

const fhirpathHelp = `Usage: pacheck fhirpath [--resource FILE.json] [--] EXPR

Prints the result collection as one JSON array of {"type": T, "value": V}, as the official
FHIRPath test files write results. trace() output goes to stderr. '--' ends the flags, so an
expression may begin with '-'.
Exit: 0 evaluated, 1 evaluation error, 2 syntax/semantic error or unusable input.

Examples:
  pacheck fhirpath --resource patient.json "name.where(use = 'official').given.first()"
  pacheck fhirpath -- "-5.abs() + @2024-01-01.toString().length()"

Flags:
`

func runFHIRPath(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fhirpath", fhirpathHelp, stdout)
	resFile := fs.String("resource", "", "JSON resource to evaluate on (default: none)")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		errorf(stderr, "fhirpath", "expected exactly one expression (quote it; see 'pacheck help fhirpath')")
		return ExitUsage
	}
	expr, err := fhirpath.Compile(fs.Arg(0))
	if err != nil {
		errorf(stderr, "fhirpath", "%s", strings.TrimPrefix(err.Error(), "fhirpath: "))
		return ExitUsage
	}
	var input any
	if *resFile != "" {
		b, err := readBounded(*resFile, 64<<20)
		if err != nil {
			errorf(stderr, "fhirpath", "%v", err)
			return ExitUsage
		}
		if input, err = fhirpath.DecodeJSON(b); err != nil {
			errorf(stderr, "fhirpath", "%s: not valid JSON (%v)", *resFile, err)
			return ExitUsage
		}
	}
	ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := expr.Evaluate(ectx, input, &fhirpath.Env{Trace: stderr})
	if err != nil {
		errorf(stderr, "fhirpath", "%s", strings.TrimPrefix(err.Error(), "fhirpath: "))
		return ExitNonConf
	}
	b, err := fhirpath.FormatJSON(out)
	if err != nil {
		errorf(stderr, "fhirpath", "%v", err)
		return ExitNonConf
	}
	fmt.Fprintln(stdout, string(b))
	return ExitOK
}

// readBounded reads a whole regular file up to max bytes (no FIFO or device), with a one-line
// error naming the file.
func readBounded(path string, max int64) ([]byte, error) {
	b, err := safefile.ReadFile(path, max)
	if err != nil {
		return nil, fmt.Errorf("--resource: %v", err)
	}
	return b, nil
}
