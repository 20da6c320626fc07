package smart

import (
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver"
)

// TestCORS: the SMART 2.2 CORS specs pass against the reference server and fail under
// cors-missing (the test settings' redirect URI, http://localhost/callback, is on another origin
// than the server, so the token endpoint and API are judged too). One sign-in per run.
func TestCORS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	ids := []string{"smart-2.2.0/transport/cors-discovery", "smart-2.2.0/transport/cors-api"}
	for _, c := range []struct {
		name   string
		faults []string
		want   string
	}{
		{"clean", nil, "pass"},
		{"cors-missing", []string{refserver.FaultCORSMissing}, "fail"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, _ := runChild(t, childJob{Variant: "faults", SMART: "2.2.0", Faults: c.faults, Focus: focusFor(ids)})
			if res.PrepareErr != "" {
				t.Errorf("prepare: %s", res.PrepareErr)
			}
			for _, id := range ids {
				if res.Outcomes[id] != c.want {
					t.Errorf("%s: %q, want %q (%s)", id, res.Outcomes[id], c.want, firstLine(res.Failures[id]))
				}
			}
		})
	}
}
