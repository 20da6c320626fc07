package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/pacheck/pacheck/cmd/pacheck/internal/config"
)

func init() {
	register(&command{name: "config", summary: "check a configuration file, or print a commented example", run: runConfig})
}

const configHelp = `Usage: pacheck config check FILE | pacheck config example

check    validates FILE (keys, types, URLs, ${ENV} variables) without running anything
example  prints a commented configuration that sets every key

Examples:
  pacheck config example > pacheck.yaml
  pacheck config check pacheck.yaml
`

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("config", configHelp, stdout)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	rest := fs.Args()
	switch {
	case len(rest) == 1 && rest[0] == "example":
		fmt.Fprint(stdout, config.Example)
		return ExitOK
	case len(rest) == 2 && rest[0] == "check":
		if _, err := config.Load(rest[1]); err != nil {
			fmt.Fprintf(stderr, "pacheck config: %v\n", err)
			return ExitUsage
		}
		fmt.Fprintf(stdout, "%s: ok\n", rest[1])
		return ExitOK
	}
	errorf(stderr, "config", "expected 'check FILE' or 'example' (see 'pacheck help config')")
	return ExitUsage
}
