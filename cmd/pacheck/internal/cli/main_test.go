package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// childEnv makes this test binary act as pacheck itself, so the several-target run can re-exec
// it (os.Executable) for each target: "1" runs the command line as cmd/pacheck/main.go does; the
// other values are misbehaving children for the error paths.
const childEnv = "PACHECK_CLI_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "1":
		ctx, stop := SignalContext(os.Stderr)
		code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	case "fail-early": // a run that could not start: one error line, exit 3, no results.json
		fmt.Fprintln(os.Stderr, "pacheck run: simulated: the target could not be reached")
		os.Exit(ExitEnvError)
	case "exit0-no-results": // claims success but wrote nothing
		os.Exit(ExitOK)
	case "incomplete", "incomplete-allowed": // wrote an incomplete report; exit 4, or 0 as --allow-incomplete does
		for _, a := range os.Args[1:] {
			if out, ok := strings.CutPrefix(a, "--out="); ok {
				os.MkdirAll(out, 0o755)
				os.WriteFile(filepath.Join(out, "results.json"), []byte(`{"verdict":"incomplete","counts":{"total":3,"pass":2,"skip":1}}`), 0o644)
			}
		}
		if os.Getenv(childEnv) == "incomplete" {
			os.Exit(ExitIncomplete)
		}
		os.Exit(ExitOK)
	case "hang":
		time.Sleep(10 * time.Minute)
		os.Exit(ExitOK)
	default:
		fmt.Fprintf(os.Stderr, "%s=%q: unknown mode\n", childEnv, os.Getenv(childEnv))
		os.Exit(ExitUsage)
	}
}
