package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/reports"
)

// Issue #13's run: a server with one member, configured with the public client only (no
// confidential client, no second member, no consent steps, no expired token). Nothing fails, so
// the run is INCOMPLETE with exit 4, and the requirements it lists are exactly the selected
// SHALL requirements that no spec passed (all their specs skipped or errored) — among them the
// ones the issue names — each with what would enable it, also on the console.
func TestOneMemberNoConfidentialClientIncomplete(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a browser run of the SMART specs")
	}
	if _, err := browser.FindChromium(""); err != nil {
		t.Skipf("no Chromium (%v): apt-get install -y chromium", err)
	}
	srv, err := refserver.New(refserver.Config{Members: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	origin := strings.TrimSuffix(srv.FHIRBase(), "/fhir")
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	u := auth.MemberUser(1)
	conf := filepath.Join(dir, "pacheck.yaml")
	y := fmt.Sprintf(`target: %s
preset: cms-patient-access
auth:
  mode: browser
  client_id: pacheck-public
  token_endpoint_auth: none
  redirect_uri: %s
  scopes: [launch/patient, openid, fhirUser, offline_access, patient/*.rs]
  login:
    username: ${PACHECK_T_USER}
    password: ${PACHECK_T_PASSWORD}
focus: ["^smart-", "^capability/"]
out: %s
`, srv.FHIRBase(), auth.DefaultRedirectURIs(origin)[0], out)
	if err := os.WriteFile(conf, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "run", "--config", conf)
	cmd.Env = append(os.Environ(), childEnv+"=1", "PACHECK_T_USER="+u.Username, "PACHECK_T_PASSWORD="+u.Password)
	b, err := cmd.CombinedOutput()
	console := string(b)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatalf("no results.json (exit %d): %v\n%s", code, err, tail(console, 20))
	}
	var res reports.Results
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if code != ExitIncomplete || res.Verdict != reports.VerdictIncomplete || !strings.Contains(console, "INCOMPLETE") {
		t.Fatalf("exit %d, verdict %q; want %d, incomplete:\n%s", code, res.Verdict, ExitIncomplete, tail(console, 30))
	}
	sum, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	summary := string(sum)
	cat, err := profiles.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	// What no spec passed: every SHALL requirement whose status is skip, error or not judged.
	var want, listed []string
	for _, q := range res.Requirements {
		if q.Status == string(reports.Fail) {
			t.Errorf("requirement %s failed against a conformant server", q.ID)
		}
		if q.Level == profiles.LevelShall && slices.Contains([]string{string(reports.Skip), string(reports.Error), reports.StatusNotJudged}, q.Status) {
			want = append(want, q.ID)
		}
	}
	for _, m := range res.Incomplete {
		listed = append(listed, m.Requirement)
		if r, ok := cat.Lookup(m.Requirement); !ok || r.Level != profiles.LevelShall {
			t.Errorf("listed %s is not a catalogued SHALL requirement", m.Requirement)
		}
		if m.Reason == "" {
			t.Errorf("listed %s without a reason", m.Requirement)
		}
		if !strings.Contains(console, m.Requirement) && !strings.Contains(console, "more (summary.md lists them all)") {
			t.Errorf("the console does not list %s", m.Requirement)
		}
		if !strings.Contains(summary, m.Requirement) {
			t.Errorf("summary.md does not list %s", m.Requirement)
		}
	}
	slices.Sort(want)
	slices.Sort(listed)
	if !slices.Equal(want, slices.Compact(listed)) {
		t.Errorf("listed %v; want exactly the SHALL requirements no spec passed: %v", listed, want)
	}
	for _, id := range []string{"smart.client.symmetric-auth", "smart.client.asymmetric-auth", "smart.authorize.consent-decline", "smart.access.expired-token"} {
		i := slices.IndexFunc(res.Incomplete, func(m reports.Missing) bool { return m.Requirement == id })
		if i < 0 {
			t.Errorf("%s not listed", id)
		} else if res.Incomplete[i].WouldEnable == "" {
			t.Errorf("%s listed without what would enable it: %+v", id, res.Incomplete[i])
		}
	}
	t.Logf("exit %d, %d requirements listed: %s\n%s", code, len(listed), strings.Join(listed, ", "), tail(console, 40))
}
