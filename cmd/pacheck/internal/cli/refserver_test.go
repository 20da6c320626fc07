package cli

import (
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver"
)

// startRefserver starts a reference server on loopback for the test and closes it at the end.
func startRefserver(t *testing.T, cfg refserver.Config) *refserver.Server {
	t.Helper()
	srv, err := refserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}
