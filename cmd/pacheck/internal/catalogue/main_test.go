package catalogue

import (
	"os"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/cmd/pacheck/internal/cli"
)

// childEnv makes this test binary act as pacheck itself ("1"): each fault's run re-executes it
// with the run's command line, as cmd/pacheck/main.go would run it.
const childEnv = "PACHECK_CATALOGUE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := cli.SignalContext(os.Stderr)
		code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
