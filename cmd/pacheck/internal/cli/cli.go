// Package cli is pacheck's command line: one small file per subcommand, stdlib flag parsing,
// stable exit codes.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes, documented in `pacheck help run`.
const (
	ExitOK       = 0 // conformant / success
	ExitNonConf  = 1 // non-conformance found (or validation errors)
	ExitUsage    = 2 // usage or configuration error
	ExitEnvError = 3 // environment or tool error: target unreachable, browser missing, deadline, signal
	// ExitIncomplete: nothing failed, but some selected SHALL requirement did not run or errored
	// (--allow-incomplete maps it to ExitOK; the console and the report still say INCOMPLETE).
	ExitIncomplete = 4
)

// exitRank orders exit codes from best to worst, for the one code of a run over several targets:
// 3 > 2 > 1 > 4 > 0. A known failure outranks missing coverage; a usage or environment error
// outranks both, since nothing is known about that target.
func exitRank(code int) int {
	switch code {
	case ExitOK:
		return 0
	case ExitIncomplete:
		return 1
	case ExitNonConf:
		return 2
	case ExitUsage:
		return 3
	default:
		return 4
	}
}

// worseExit is the worse of two exit codes by exitRank.
func worseExit(a, b int) int {
	if exitRank(b) > exitRank(a) {
		return b
	}
	return a
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

const usage = `pacheck — conformance and compliance tests for CMS Patient Access APIs
(FHIR R4, SMART App Launch, US Core, CARIN Blue Button, Da Vinci PDex, US Drug Formulary).

Usage: pacheck <command> [flags] [args]

Commands:
%s
Examples:
  pacheck demo                                   # reference server + full run + HTML report
  pacheck run --config pacheck.yaml              # test your server
  pacheck run --target https://fhir.example.org/r4 --preset public
  pacheck validate --ig hl7.fhir.us.core#6.1.0 patient.json

Run 'pacheck help <command>' for a command's flags.
`

// SignalContext is cancelled by the first SIGINT or SIGTERM: a run then stops its specs, closes
// the browser (removing its profile), writes the report of what ran and exits 3. After that first
// signal the default action is restored, so a second one ends the process at once (outside the
// spec run, where Ginkgo counts interrupts itself: the third ends it without cleanup).
func SignalContext(stderr io.Writer) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		if context.Cause(ctx) != context.Canceled { // a signal, not stop()
			fmt.Fprintln(stderr, "pacheck: interrupted: stopping, closing the browser and writing the report of what ran")
		}
		stop()
	}()
	return ctx, stop
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, usage, listing())
		return ExitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "--help", "help":
		if len(rest) > 0 {
			if c, ok := commands[rest[0]]; ok {
				return c.run(ctx, []string{"-h"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "pacheck: unknown command %q; run 'pacheck help'\n", rest[0])
			return ExitUsage
		}
		fmt.Fprintf(stdout, usage, listing())
		return ExitOK
	case "-version", "--version", "version":
		fmt.Fprint(stdout, versionText())
		return ExitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "pacheck: unknown command %q; run 'pacheck help'\n", name)
		return ExitUsage
	}
	return c.run(ctx, rest, stdout, stderr)
}

func listing() string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].summary)
	}
	return b.String()
}

// newFlags makes a FlagSet whose usage prints the command's help text to stdout on -h.
func newFlags(name, help string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprint(stdout, help)
		// One line a flag, so every help fits on one screen.
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stdout, "  --%-28s %s\n", strings.TrimSpace(f.Name+" "+name), usage)
		})
	}
	return fs
}

// parse handles -h (exit 0) and flag errors (one line, exit 2). ok is false when the caller
// should return code.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) { // the FlagSet already printed the help
			return ExitOK, false
		}
		fmt.Fprintf(stderr, "pacheck %s: %v (see 'pacheck help %s')\n", fs.Name(), err, fs.Name())
		return ExitUsage, false
	}
	return 0, true
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func errorf(stderr io.Writer, cmd, format string, args ...any) {
	// Messages quote server answers and file contents: nothing in them may drive the terminal.
	fmt.Fprintf(stderr, "pacheck %s: %s\n", cmd, termSafe(fmt.Sprintf(format, args...), false))
}

// flagSetWrap lets helpers return a FlagSet with the shared run flags bound.
type flagSetWrap struct{ *flag.FlagSet }
