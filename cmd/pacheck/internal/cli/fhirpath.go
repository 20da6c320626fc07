package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/fhirpath"
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

// readBounded reads a whole file up to max bytes, with a one-line error naming the file.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read it (%v)", path, errors.Unwrap(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, max>>20)
	}
	return b, nil
}
