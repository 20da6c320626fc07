package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
)

// specOutcomes reads results.json: spec id -> outcome, and id -> reason.
func specOutcomes(t *testing.T, dir string) (map[string]string, map[string]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatalf("results.json not written: %v", err)
	}
	var r struct {
		Specs []struct{ ID, Outcome, Reason string }
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	out, why := map[string]string{}, map[string]string{}
	for _, s := range r.Specs {
		out[s.ID], why[s.ID] = s.Outcome, s.Reason
	}
	return out, why
}

// replayDiff lists the specs whose outcome differs between two runs.
func replayDiff(rec, rep map[string]string, whyRep map[string]string) []string {
	var d []string
	for id, o := range rec {
		if rep[id] != o {
			d = append(d, id+": recorded "+o+", replayed "+rep[id]+" ("+oneLine(whyRep[id])+")")
		}
	}
	for id, o := range rep {
		if _, ok := rec[id]; !ok {
			d = append(d, id+": only in the replay, "+o)
		}
	}
	sort.Strings(d)
	return d
}

// TestRecordReplayRun records `pacheck run --auth token` against the reference server, then
// replays it with the server gone: every spec's outcome is the recorded one. The recording holds
// neither the token nor any other secret. With one exchange deleted from the recording, the spec
// that needed it ends as an ERROR naming the request, and no spec fails for it.
func TestRecordReplayRun(t *testing.T) {
	srv := startRefserver(t, refserver.Config{Members: 2, Seed: 1})
	tok := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: "member-1", FHIRUser: "Patient/member-1",
		Scopes: []string{"launch/patient", "openid", "fhirUser", "patient/*.rs"}})
	tmp := t.TempDir()
	rec, out1, out2 := filepath.Join(tmp, "rec"), filepath.Join(tmp, "live"), filepath.Join(tmp, "replay")
	code1, stdout, stderr := childRun(t, []string{"PACHECK_TEST_TOKEN=" + tok}, 20*time.Minute,
		"run", "--target", srv.FHIRBase(), "--auth", "token", "--token-env", "PACHECK_TEST_TOKEN",
		"--out", out1, "--record", rec, "--quiet")
	t.Logf("recorded run: exit %d\n%s\n%s", code1, tail(stdout, 5), tail(stderr, 5))
	if _, err := os.Stat(filepath.Join(rec, fhirhttp.RecordingIndex)); err != nil {
		t.Fatalf("no recording index: %v", err)
	}
	srv.Close() // offline from here on

	// No secret on disk: the token, and the server's tokens and codes appear only as placeholders.
	var files int
	filepath.Walk(rec, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		files++
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), tok) {
			t.Errorf("%s holds the run's token", p)
		}
		for _, k := range []string{`"access_token":"ey`, `"id_token":"ey`, `"refresh_token":"ey`, "Bearer ey"} {
			if strings.Contains(string(b), k) {
				t.Errorf("%s holds a token (%s…)", p, k)
			}
		}
		return nil
	})
	idx, err := os.ReadFile(filepath.Join(rec, fhirhttp.RecordingIndex))
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 || !strings.Contains(string(idx), `"token": "`+fhirhttp.PlaceholderPrefix) {
		t.Errorf("%d files; the index must name the token by its placeholder", files)
	}

	code2, stdout, stderr := childRun(t, nil, 20*time.Minute, "replay", rec, "--out", out2)
	t.Logf("replay: exit %d\n%s\n%s", code2, tail(stdout, 5), tail(stderr, 5))
	live, _ := specOutcomes(t, out1)
	replayed, why := specOutcomes(t, out2)
	if d := replayDiff(live, replayed, why); len(d) > 0 {
		t.Errorf("%d of %d specs changed outcome in the replay:\n%s", len(d), len(live), strings.Join(d, "\n"))
	}
	if !strings.Contains(stdout, "every spec's outcome equals the recorded run's (") {
		t.Errorf("the replay's console does not say its outcomes equal the recorded run's:\n%s", tail(stdout, 8))
	}
	if code2 != code1 {
		t.Errorf("replay exit %d, recorded run exit %d", code2, code1)
	}
	n := map[string]int{}
	for _, o := range live {
		n[o]++
	}
	t.Logf("recorded and replayed outcomes: %v over %d specs", n, len(live))

	// One exchange gone: a FHIR search of the data suites that the run sent once (a request sent
	// again would be answered by its other recorded exchange).
	var ix fhirhttp.RecordingIndexFile
	if err := json.Unmarshal(idx, &ix); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range ix.Exchanges {
		seen[e.Method+" "+e.URL]++
	}
	gone := -1
	for i, e := range ix.Exchanges {
		if strings.Contains(e.URL, "/Condition?") && e.Status == 200 && seen[e.Method+" "+e.URL] == 1 {
			gone = i
			break
		}
	}
	if gone < 0 {
		t.Fatal("no Condition search sent once in the recording")
	}
	goneURL := ix.Exchanges[gone].URL
	os.Remove(filepath.Join(rec, filepath.FromSlash(ix.Exchanges[gone].File)))
	ix.Exchanges = append(ix.Exchanges[:gone], ix.Exchanges[gone+1:]...)
	b, _ := json.Marshal(ix)
	if err := os.WriteFile(filepath.Join(rec, fhirhttp.RecordingIndex), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out3 := filepath.Join(tmp, "replay-gap")
	_, stdout, _ = childRun(t, nil, 20*time.Minute, "run", "--replay", rec, "--out", out3)
	cut, why := specOutcomes(t, out3)
	named := false
	for id, o := range cut {
		if o == "fail" && live[id] != "fail" {
			t.Errorf("%s failed in the replay with a gap (recorded: %s): a missing exchange is an error, never a fail: %s", id, live[id], why[id])
		}
		if o == "error" {
			t.Logf("%s: error: %s", id, why[id])
		}
		if o == "error" && strings.Contains(why[id], "not in the recording") && strings.Contains(why[id], strings.SplitN(goneURL, "?", 2)[0]) {
			named = true
		}
	}
	t.Logf("replay without %s: %s", goneURL, tail(stdout, 3))
	if !named || !strings.Contains(stdout, "not in the recording") {
		t.Errorf("no spec ended as an error naming the missing request %s; console:\n%s", goneURL, tail(stdout, 10))
	}
}

// TestRecordReplayUsageErrors: --record and --replay refuse what they cannot do, in one line and
// before anything runs.
func TestRecordReplayUsageErrors(t *testing.T) {
	rec := filepath.Join("testdata", "recordings", "binding-broken")
	used := t.TempDir()
	os.WriteFile(filepath.Join(used, "x"), []byte("x"), 0o644)
	targets := filepath.Join(t.TempDir(), "targets.txt")
	os.WriteFile(targets, []byte("http://a.example/fhir\nhttp://b.example/fhir\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"replay"}, "give the recording folder"},
		{[]string{"replay", t.TempDir()}, "is not a recording"},
		{[]string{"run", "--replay", rec, "--record", t.TempDir()}, "give one of them"},
		{[]string{"run", "--replay", rec, "--target", "http://other.example/fhir"}, "runs against the recorded target only"},
		{[]string{"run", "--replay", rec, "--token-env", "HOME"}, "token placeholder"},
		{[]string{"run", "--targets", targets, "--record", t.TempDir()}, "take one target"},
		{[]string{"run", "--target", "http://a.example/fhir", "--auth", "none", "--record", used}, "is not empty"},
	} {
		code, _, stderr := run(c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("pacheck %v: exit %d, %q; want exit %d, one line saying %q", c.args, code, stderr, ExitUsage, c.want)
		}
	}
}
