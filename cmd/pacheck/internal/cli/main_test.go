package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	case "hog-port9": // the target on port 9 holds 400 MB until stopped; the others write an incomplete report
		if slices.ContainsFunc(os.Args[1:], func(a string) bool { return strings.Contains(a, "127.0.0.1:9/") }) {
			hog := make([]byte, 400<<20)
			for i := 0; i < len(hog); i += 4096 {
				hog[i] = 1 // touched: resident, not just reserved
			}
			time.Sleep(10 * time.Minute)
			os.Exit(int(hog[0]) - 1)
		}
		for _, a := range os.Args[1:] {
			if out, ok := strings.CutPrefix(a, "--out="); ok {
				os.MkdirAll(out, 0o755)
				os.WriteFile(filepath.Join(out, "results.json"), []byte(`{"verdict":"incomplete","counts":{"total":3,"pass":2,"skip":1}}`), 0o644)
			}
		}
		os.Exit(ExitIncomplete)
	case "hang":
		time.Sleep(10 * time.Minute)
		os.Exit(ExitOK)
	default:
		fmt.Fprintf(os.Stderr, "%s=%q: unknown mode\n", childEnv, os.Getenv(childEnv))
		os.Exit(ExitUsage)
	}
}
