package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	_ "github.com/pacheck/pacheck/suites/all" // registers every suite's specs
	"github.com/pacheck/pacheck/suites/runner"
)

func init() {
	register(&command{name: "list", summary: "print the specs a run would execute (no network)", run: runList})
}

const listHelp = `Usage: pacheck list [--preset NAME | --config FILE] [--label-filter EXPR] [--focus RE] [--format text|json]

Prints the specs a run would execute — id, requirement ids, level, IG — without touching the
network. --label-filter and --focus select specs with Ginkgo semantics
(e.g. --label-filter 'level:SHALL && ig:uscore-6.1.0').

Examples:
  pacheck list --preset cms-patient-access
  pacheck list --preset public --format json
`

type listedSpec struct {
	ID           string   `json:"id"`
	Requirements []string `json:"requirements"`
	Level        string   `json:"level"`
	IG           string   `json:"ig,omitempty"`
}

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("list", listHelp, stdout)
	var f runFlags
	format := fs.String("format", "text", "text or json")
	fs.StringVar(&f.preset, "preset", "", "preset name (pacheck presets)")
	fs.StringVar(&f.config, "config", "", "configuration file")
	fs.StringVar(&f.labelFilter, "label-filter", "", "Ginkgo label-filter expression")
	fs.Var(&f.focus, "focus", "regular expression on spec ids (repeatable)")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if *format != "text" && *format != "json" {
		errorf(stderr, "list", "--format %q: use text or json", *format)
		return ExitUsage
	}
	p, err := f.resolve(false, os.LookupEnv)
	if err != nil {
		errorf(stderr, "list", "%v", err)
		return ExitUsage
	}
	rep, err := runner.List(runner.Options{Run: p.run, LabelFilter: p.file.LabelFilter, Focus: p.file.Focus})
	if err != nil {
		errorf(stderr, "list", "%v", err)
		return ExitEnvError
	}
	var specs []listedSpec
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped {
			continue // not a spec, or filtered out by the label filter or focus
		}
		ls := listedSpec{ID: runner.SpecID(s), Level: runner.Level(s), Requirements: []string{}}
		for _, l := range s.Labels() {
			switch {
			case strings.HasPrefix(l, "req:"):
				ls.Requirements = append(ls.Requirements, strings.TrimPrefix(l, "req:"))
			case strings.HasPrefix(l, "ig:"):
				ls.IG = strings.TrimPrefix(l, "ig:")
			}
		}
		specs = append(specs, ls)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if specs == nil {
			specs = []listedSpec{}
		}
		enc.Encode(specs)
		return ExitOK
	}
	for _, s := range specs {
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", s.ID, s.Level, s.IG, strings.Join(s.Requirements, ","))
	}
	fmt.Fprintf(stdout, "%d specs\n", len(specs))
	return ExitOK
}
