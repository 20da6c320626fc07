package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/pacheck/pacheck/checks/validate"
)

func init() {
	register(&command{name: "validate", summary: "validate FHIR resources against profiles (no server needed)", run: runValidate})
}

const validateHelp = `Usage: pacheck validate [--profile URL[|version]]... [--ig id#version]... [--package FILE|DIR]...
                        [--format text|json|operationoutcome] [-j N] [--max-resource-bytes SIZE] FILE|DIR...

Validates JSON resources, Bundles and NDJSON (folders are searched) against the profiles they
claim in meta.profile and those given with --profile, using the IG packages embedded in pacheck
(plus --package). --ig sets the package context in which profiles resolve.
Only regular files are read (a FIFO or device is an input error, never a wait). One resource (a
JSON file, an NDJSON line, an entry of a large Bundle) may be up to --max-resource-bytes (64MiB).
A Bundle over 16 MiB is validated entry by entry (results FILE:entry[i]) so memory follows the
largest entry, not the file; its note says which cross-entry rules that leaves out.
An extension whose definition is not loaded is an error (as in the HL7 Java validator) unless
its url is in an example domain or --allowed-extension-domain DOMAIN|URL-PREFIX|any (repeatable).
Exit: 0 no errors, 1 errors found, 2 unusable input or flags.

Examples:
  pacheck validate patient.json
  pacheck validate --ig hl7.fhir.us.carin-bb#2.0.0 --format json claims/
  pacheck validate --profile http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|6.1.0 p.json
`

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprint(stdout, validateHelp)
			return ExitOK
		}
	}
	return validate.RunCLI(ctx, args, stdout, stderr)
}
