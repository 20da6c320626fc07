package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
)

// TestRunWithTokenAgainstRefserver is the one full run of this test binary (Ginkgo allows one per
// process): `pacheck run --auth token` against the reference server must be conformant and write
// every report file. It names no --patient: the patient is found with the token (GET Patient).
func TestRunWithTokenAgainstRefserver(t *testing.T) {
	srv := startRefserver(t, refserver.Config{Members: 3, Seed: 1})
	tok := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: "member-1", FHIRUser: "Patient/member-1",
		Scopes: []string{"launch/patient", "openid", "fhirUser", "patient/*.rs"}})
	t.Setenv("PACHECK_TEST_TOKEN", tok)
	out := filepath.Join(t.TempDir(), "report")
	code, stdout, stderr := run("run", "--target", srv.FHIRBase(), "--auth", "token", "--token-env", "PACHECK_TEST_TOKEN",
		"--preset", "cms-patient-access", "--label-filter", "!smart && level:SHALL", "--out", out)
	t.Logf("stdout:\n%s\nstderr:\n%s", tail(stdout, 40), stderr)
	// no --patient: the run examines the patient the token opens
	if !strings.Contains(stderr, "examining patient member-1") {
		t.Errorf("stderr does not say which patient was found with the token: %q", stderr)
	}
	for _, f := range []string{"index.html", "results.json", "junit.xml", "summary.md", "pacheck-evidence.tar.gz"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Counts struct{ Total, Pass, Fail, Error int }
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Counts.Total < 100 || res.Counts.Pass < res.Counts.Total/2 {
		t.Errorf("counts %+v: expected hundreds of specs, most of them passing", res.Counts)
	}
	if code != ExitOK || res.Counts.Fail != 0 || res.Counts.Error != 0 {
		t.Errorf("exit %d with %+v: the reference server must be conformant", code, res.Counts)
	}
	// The token never reaches the report.
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !strings.HasSuffix(p, ".gz") {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), tok) {
				t.Errorf("%s contains the access token", p)
			}
		}
		return nil
	})
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
