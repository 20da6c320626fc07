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
	code, console, res, out := runOneMember(t, auth.MemberUser(1).Password)
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

// runOneMember runs the SMART and capability specs against a one-member reference server with
// the public client only, signing in with password; it returns the exit code, the console, the
// results and the report folder.
func runOneMember(t *testing.T, password string) (int, string, reports.Results, string) {
	t.Helper()
	return runOneMemberStyle(t, password, "")
}

// runOneMemberStyle is runOneMember against the reference server's login style (auth.LoginStyles).
func runOneMemberStyle(t *testing.T, password, style string) (int, string, reports.Results, string) {
	t.Helper()
	srv, err := refserver.New(refserver.Config{Members: 1, Seed: 1, LoginStyle: style})
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
	cmd.Env = append(os.Environ(), childEnv+"=1", "PACHECK_T_USER="+u.Username, "PACHECK_T_PASSWORD="+password)
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
	return code, console, res, out
}

// Issue #13: a sign-in that cannot get past the login page (the password is refused) is one
// root-cause line on the console, with the number of specs it blocked, and its reason is printed
// once, not once per blocked spec or requirement.
func TestLoginRefusedOneRootCauseLine(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a browser run of the SMART specs")
	}
	if _, err := browser.FindChromium(""); err != nil {
		t.Skipf("no Chromium (%v): apt-get install -y chromium", err)
	}
	code, console, res, _ := runOneMember(t, "not-the-password")
	if code == ExitOK || code == ExitNonConf {
		t.Errorf("exit %d: a run that could not sign in shows neither conformance nor a failure", code)
	}
	if len(res.RootCauses) != 1 {
		t.Fatalf("%d root causes, want 1: %+v\n%s", len(res.RootCauses), res.RootCauses, tail(console, 30))
	}
	rc := res.RootCauses[0]
	var lines []string
	for _, l := range strings.Split(console, "\n") {
		if strings.HasPrefix(l, "root cause: ") {
			lines = append(lines, l)
		}
	}
	want := fmt.Sprintf(": %d specs blocked", rc.Blocked)
	if len(lines) != 1 || !strings.HasSuffix(lines[0], want) || rc.Blocked < 20 {
		t.Errorf("root-cause lines %q; want one ending %q (at least 20 specs)", lines, want)
	}
	if strings.Contains(console, "most frequent error") {
		t.Error("the root cause's own error is repeated as the most frequent error")
	}
	if n := strings.Count(console, "ERROR "); n > 1 {
		t.Errorf("%d ERROR lines; the blocked specs are counted, not listed", n)
	}
	reason := oneLine(rc.Reason)
	if len(reason) > 60 {
		reason = reason[:60]
	}
	if n := strings.Count(console, reason); n > 3 { // preparation, the blocking spec, the root cause
		t.Errorf("the root cause's reason %q is printed %d times:\n%s", reason, n, tail(console, 40))
	}
	t.Logf("exit %d; console:\n%s", code, tail(console, 20))
}
