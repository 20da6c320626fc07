// Command pacheck tests a CMS Patient Access API (FHIR R4 + SMART App Launch) for conformance and
// writes a compliance report. See `pacheck help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pacheck/pacheck/cmd/pacheck/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
