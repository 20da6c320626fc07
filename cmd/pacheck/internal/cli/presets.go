package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pacheck/pacheck/profiles"
)

func init() {
	register(&command{name: "presets", summary: "list the embedded run presets and what each tests", run: runPresets})
}

const presetsHelp = `Usage: pacheck presets

Lists the embedded presets: their suites and IG versions.

Example:
  pacheck presets
`

func runPresets(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("presets", presetsHelp, stdout)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	ps, err := profiles.Presets()
	if err != nil {
		errorf(stderr, "presets", "%v", err)
		return ExitEnvError
	}
	for _, p := range ps {
		fmt.Fprintf(stdout, "%s\n  %s\n  suites: %s\n", p.Name, p.Description, strings.Join(p.Suites, ", "))
		igs := make([]string, 0, len(p.IGs))
		for ig, v := range p.IGs {
			igs = append(igs, ig+" "+strings.Join(v, "+"))
		}
		sort.Strings(igs)
		fmt.Fprintf(stdout, "  IGs: %s\n", strings.Join(igs, ", "))
		if p.LabelFilter != "" {
			fmt.Fprintf(stdout, "  label filter: %s\n", p.LabelFilter)
		}
		fmt.Fprintln(stdout)
	}
	return ExitOK
}
