package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/profiles/snapshot"
)

func init() {
	register(&command{name: "snapshot", summary: "generate a profile's snapshot from its differential", run: runSnapshot})
}

const snapshotHelp = `Usage: pacheck snapshot [--package FILE|DIR|id#version]... [--ig id#version] PROFILE.json

Prints the StructureDefinition with its snapshot generated from its differential and its base
(baseDefinition, itself generated when it has no snapshot), as the FHIR profiling rules and the
HL7 Java validator do. Bases and datatypes resolve in the embedded packages plus --package, in
the context of --ig (default: the highest version of each canonical). A snapshot the file already
has is replaced.
Exit: 0 printed, 2 unusable input (not JSON, not a StructureDefinition, unknown base, a
differential element that matches nothing) or flags, 3 the embedded packages could not be read.

Examples:
  pacheck snapshot my-patient-profile.json > with-snapshot.json
  pacheck snapshot --ig hl7.fhir.us.core#6.1.0 my-us-core-patient.json
  pacheck snapshot --package payer-ig/ payer-ig/StructureDefinition-claim.json

Flags:
`

func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("snapshot", snapshotHelp, stdout)
	var pkgs multi
	fs.Var(&pkgs, "package", "add a FHIR package (.tgz, package folder, or id#version from ~/.fhir/packages); repeatable")
	ig := fs.String("ig", "", "package context id#version in which the base and datatypes resolve")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		errorf(stderr, "snapshot", "expected exactly one StructureDefinition file (see 'pacheck help snapshot')")
		return ExitUsage
	}
	file := fs.Arg(0)
	raw, err := readBounded(file, 64<<20)
	if err != nil {
		errorf(stderr, "snapshot", "%s", err.Error()[len("--resource: "):])
		return ExitUsage
	}
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&head); err != nil {
		errorf(stderr, "snapshot", "%s: not valid JSON (%v)", file, err)
		return ExitUsage
	}
	if head.ResourceType != "StructureDefinition" {
		what := "not a FHIR resource (no resourceType)"
		if head.ResourceType != "" {
			what = "a " + head.ResourceType + ", not a StructureDefinition"
		}
		errorf(stderr, "snapshot", "%s: %s", file, what)
		return ExitUsage
	}
	set, err := profiles.Embedded()
	if err != nil {
		errorf(stderr, "snapshot", "%v", err)
		return ExitEnvError
	}
	for _, ref := range pkgs {
		p, err := profiles.Load(ref, profiles.LoadOptions{})
		if err != nil {
			errorf(stderr, "snapshot", "--package: %v", err)
			return ExitUsage
		}
		set.Add(p)
	}
	pctx := set.Global()
	if *ig != "" {
		if pctx, err = set.Context(*ig); err != nil {
			errorf(stderr, "snapshot", "--ig %s: %v", *ig, err)
			return ExitUsage
		}
	}
	out, err := snapshot.Generate(raw, func(canonical string) ([]byte, bool) {
		r, ok := pctx.ResolveType("StructureDefinition", canonical)
		if !ok {
			return nil, false
		}
		return r.Raw, true
	})
	if err != nil {
		var ge *snapshot.Error
		if errors.As(err, &ge) && ge.Profile == "" {
			err = fmt.Errorf("%s: %w", file, err)
		}
		errorf(stderr, "snapshot", "%v", err)
		return ExitUsage
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "  "); err != nil {
		errorf(stderr, "snapshot", "%v", err)
		return ExitEnvError
	}
	pretty.WriteByte('\n')
	if _, err := stdout.Write(pretty.Bytes()); err != nil {
		errorf(stderr, "snapshot", "writing the result: %v", err)
		return ExitEnvError
	}
	return ExitOK
}
