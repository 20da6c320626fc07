package validate

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// RunCLI is `pacheck validate`: it validates FILE|DIR... and prints the results. Exit status 0
// when no resource has errors, 1 when some do, 2 when the flags or the input are unusable (one
// line on stderr saying what and what to do).
func RunCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var profs, igs, pkgs multiFlag
	fs.Var(&profs, "profile", "validate against this profile canonical (url or url|version) as well as meta.profile; repeatable")
	fs.Var(&igs, "ig", "package context id#version in which profiles resolve (e.g. hl7.fhir.us.core#6.1.0); repeatable: the first that is loaded is used")
	fs.Var(&pkgs, "package", "add a FHIR package (.tgz, package folder, or id#version from ~/.fhir/packages); repeatable")
	format := fs.String("format", "text", "output format: "+strings.Join(Formats, " | "))
	workers := fs.Int("j", runtime.GOMAXPROCS(0), "parallel validations")
	jsonSchema := fs.Bool("json-schema", false, "check the structural rules with jsonschema/v5 and the generated R4 schema (same findings, slower)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pacheck validate [--profile URL]... [--ig id#version]... [--package FILE|DIR]... [--format text|json|operationoutcome] FILE|DIR...")
		fs.PrintDefaults()
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "pacheck validate: "+format+"\n", a...)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		return fail("no input: give one or more FILE|DIR (JSON, NDJSON, or folders of them)")
	}
	bw := bufio.NewWriterSize(stdout, 64<<10)
	defer bw.Flush()
	out, err := NewFormatter(*format, bw)
	if err != nil {
		return fail("--format: %v", err)
	}
	set, err := profiles.Embedded()
	if err != nil {
		return fail("%v", err)
	}
	for _, p := range pkgs {
		pkg, err := profiles.Load(p, profiles.LoadOptions{})
		if err != nil {
			return fail("--package: %v", err)
		}
		set.Add(pkg)
	}
	v, err := New(set, Options{JSONSchema: *jsonSchema})
	if err != nil {
		return fail("%v", err)
	}
	ig := ""
	for _, x := range igs {
		if _, _, ok := profiles.ParseRef(x); !ok {
			if _, found := set.Package(x); !found {
				return fail("--ig %s: expected id#version, e.g. hl7.fhir.us.core#6.1.0", x)
			}
		}
		if _, err := v.scope(x); err != nil {
			if ig == "" && x == igs[len(igs)-1] {
				return fail("%v (load it with --package)", err)
			}
			continue
		}
		if ig == "" {
			ig = x
		}
	}
	for _, p := range profs {
		if strings.TrimSpace(p) == "" || !strings.Contains(p, "/") {
			return fail("--profile %q: expected a canonical URL such as http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient", p)
		}
	}
	vo := ValidateOptions{Profiles: profs, IG: ig}

	// Validate in parallel, print in input order, with bounded memory.
	if *workers < 1 {
		*workers = 1
	}
	type job struct {
		in  Input
		res chan FileResult
	}
	jobs := make(chan job, *workers*4)
	order := make(chan chan FileResult, *workers*16)
	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.res <- validateInput(ctx, v, j.in, vo)
			}
		}()
	}
	var readErr error
	go func() {
		readErr = ReadInputs(fs.Args(), func(in Input) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c := make(chan FileResult, 1)
			order <- c
			jobs <- job{in: in, res: c}
			return nil
		})
		close(jobs)
		close(order)
	}()
	var sum Summary
	var writeErr error
	for c := range order {
		r := <-c
		sum.Add(r)
		if writeErr == nil {
			writeErr = out.Result(r)
		}
	}
	wg.Wait()
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		bw.Flush()
		return fail("%v", readErr)
	}
	if err := out.Close(sum); err != nil || writeErr != nil {
		return fail("writing the output: %v", errors.Join(err, writeErr))
	}
	if sum.Files == 0 {
		bw.Flush()
		return fail("no *.json or *.ndjson resources found in %s", strings.Join(fs.Args(), " "))
	}
	if sum.Errors > 0 {
		return 1
	}
	return 0
}

func validateInput(ctx context.Context, v *Validator, in Input, vo ValidateOptions) FileResult {
	if in.Err != nil {
		return FileResult{Path: in.Path, Issues: issue.List{{Severity: issue.Error, Rule: "input", Message: "input: " + in.Err.Error()}}}
	}
	r := v.Validate(ctx, in.Raw, vo)
	return FileResult{Path: in.Path, ResourceType: r.ResourceType, Profiles: r.Profiles, Issues: r.Issues}
}
