// Package suitetest is the test harness of the data suites (uscore, carinbb, pdex, formulary):
// Ginkgo allows one run per process, so a test starts the reference server, re-executes its own
// test binary as a child (Child, which runs TestHelperRun), and reads back the outcome of every
// spec. The child side is Helper. For _test files only: it imports the reference server
// (fixtures/refserver) and testing.
package suitetest

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/runner"
)

// Result is what the child writes for each spec.
type Result struct {
	ID      string   `json:"id"`
	Outcome string   `json:"outcome"`
	Level   string   `json:"level"`
	Labels  []string `json:"labels"`
	Failure string   `json:"failure,omitempty"`
	// Notes are the spec's notes (framework.Note) as "title: text".
	Notes []string `json:"notes,omitempty"`
}

// The environment the parent hands the child.
const (
	envChild    = "PACHECK_TEST_CHILD"
	envTarget   = "PACHECK_TEST_TARGET"
	envTokens   = "PACHECK_TEST_TOKENS" // patient=token,...
	envOut      = "PACHECK_TEST_OUT"
	envIGs      = "PACHECK_TEST_IGS" // area=v1,v2;area=v1
	envPackages = "PACHECK_TEST_PACKAGES"
	envLabels   = "PACHECK_TEST_LABELS"
	envFocus    = "PACHECK_TEST_FOCUS" // spec-id regexps, one a line
	envNoAttest = "PACHECK_TEST_NO_ATTEST"
)

// IsChild reports whether this process is a child run (Helper's side).
func IsChild() bool { return os.Getenv(envChild) == "1" }

// Helper is the child process, called from the test TestHelperRun: one Ginkgo run of the suites
// against the target with one token per patient, writing the outcome of every spec that ran.
// Outside a child run it skips the test.
func Helper(t *testing.T, suites ...string) {
	t.Helper()
	if !IsChild() {
		t.Skip("child-process helper: run by the suite tests with " + envChild + "=1")
	}
	// The reference server's members hold every must-support element, so the children attest it
	// (a dropped element fails, as the fault tests expect).
	run := &framework.Run{Target: os.Getenv(envTarget), Suites: suites, IGs: map[string][]string{}, OutDir: t.TempDir(),
		MustSupportAttested: os.Getenv(envNoAttest) != "1"}
	for _, kv := range strings.Split(os.Getenv(envIGs), ";") {
		if area, vs, ok := strings.Cut(kv, "="); ok {
			run.IGs[area] = strings.Split(vs, ",")
		}
	}
	if extra := os.Getenv(envPackages); extra != "" {
		emb, err := profiles.Embedded()
		if err != nil {
			t.Fatal(err)
		}
		set := profiles.NewSet(emb.Packages()...)
		for _, path := range strings.Split(extra, ",") {
			p, err := profiles.Load(path, profiles.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			set.Add(p)
		}
		run.Profiles = set
	}
	framework.Set(run)
	base, err := fhirhttp.New(run.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(os.Getenv(envTokens), ",") {
		pid, tok, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		run.Patients = append(run.Patients, pid)
		c := base.WithToken(fhirhttp.StaticToken(tok))
		run.SetPatientClient(pid, c) // as the CLI does (framework API)
		if run.Client() == nil {
			run.SetClient(c)
		}
	}
	var focus []string
	if f := os.Getenv(envFocus); f != "" {
		focus = strings.Split(f, "\n") // spec-id regexps: the runner maps them onto Ginkgo's text
	}
	rep, err := runner.Run(runner.Options{Run: run, Focus: focus, LabelFilter: os.Getenv(envLabels), Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var out []Result
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		if s.State == types.SpecStateSkipped && s.Failure.Message == "" {
			continue // filtered out by focus or labels: not part of this run
		}
		res := Result{ID: runner.SpecID(s), Outcome: runner.Outcome(s), Level: runner.Level(s),
			Labels: s.Labels(), Failure: s.Failure.Message}
		for _, e := range s.ReportEntries {
			if en, ok := e.GetRawValue().(*evidence.Entry); ok && en.Kind == evidence.KindNote {
				res.Notes = append(res.Notes, en.Title+": "+en.Text)
			}
		}
		out = append(out, res)
	}
	b, _ := json.MarshalIndent(out, "", " ")
	if err := os.WriteFile(os.Getenv(envOut), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// StartServer starts the reference server with 3 members and the faults, and returns its FHIR
// base and one token per member (Tokens).
func StartServer(t *testing.T, faults ...string) (string, string) {
	t.Helper()
	fs := fault.Set{}
	for _, f := range faults {
		if _, ok := fault.Lookup(f); !ok {
			t.Fatalf("the reference server has no fault %q", f)
		}
		fs[f] = true
	}
	srv, err := refserver.New(refserver.Config{Members: 3, Seed: 1, Faults: fs})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return base, Tokens(srv)
}

// Tokens mints one token per member of the reference server, as patient=token,... (the server's
// test helper; the HTTP flow itself is covered by refserver/auth tests).
func Tokens(srv *refserver.Server) string {
	var toks []string
	for _, m := range srv.Dataset().Members {
		tok := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-test", Patient: m.ID, FHIRUser: "Patient/" + m.ID,
			Scopes: []string{"launch/patient", "openid", "fhirUser", "patient/*.read"}, ExpiresAt: time.Now().Add(time.Hour)})
		toks = append(toks, m.ID+"="+tok)
	}
	return strings.Join(toks, ",")
}

// Options of one child run.
type Options struct {
	IGs      map[string][]string // area -> versions
	Labels   string              // Ginkgo label filter
	Packages []string            // package files added to the embedded set
	Focus    []string            // regexps on spec ids
	// NoAttest runs without the attestation that the members hold every must-support element
	// (framework.Run.MustSupportAttested), as a run against a server we did not write does.
	NoAttest bool
}

// Child runs the test binary's TestHelperRun against base with the tokens and returns spec id ->
// result.
func Child(t *testing.T, base, toks string, o Options) map[string]Result {
	t.Helper()
	out := filepath.Join(t.TempDir(), "results.json")
	var igs []string
	for area, vs := range o.IGs {
		igs = append(igs, area+"="+strings.Join(vs, ","))
	}
	sort.Strings(igs)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRun$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChild+"=1", envTarget+"="+base, envTokens+"="+toks, envOut+"="+out,
		envIGs+"="+strings.Join(igs, ";"), envPackages+"="+strings.Join(o.Packages, ","), envLabels+"="+o.Labels,
		envFocus+"="+strings.Join(o.Focus, "\n"))
	if o.NoAttest {
		cmd.Env = append(cmd.Env, envNoAttest+"=1")
	}
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child run failed: %v\n%s", err, tail(string(b), 4000))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("child wrote no results: %v\n%s", err, tail(string(b), 4000))
	}
	var rs []Result
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	m := map[string]Result{}
	for _, r := range rs {
		m[r.ID] = r
	}
	return m
}

// ChildWithFault starts the reference server with the fault ("" for none) and runs the child
// against it.
func ChildWithFault(t *testing.T, faultName string, o Options) map[string]Result {
	t.Helper()
	var faults []string
	if faultName != "" {
		faults = []string{faultName}
	}
	base, toks := StartServer(t, faults...)
	return Child(t, base, toks, o)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// FirstLine folds a failure message onto one line of at most n bytes.
func FirstLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Keys are the spec ids of a run, sorted.
func Keys(m map[string]Result) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Gaps are SHALL specs the reference server's data does not satisfy: real findings about the
// reference server (to report to its owner), not pacheck false positives, by spec id -> what the
// failure must say. A key ending in "/" covers every spec under it.
type Gaps map[string]string

// For returns what the failure of a known gap must say.
func (g Gaps) For(id string) (string, bool) {
	if w, ok := g[id]; ok {
		return w, true
	}
	for k, w := range g {
		if strings.HasSuffix(k, "/") && strings.HasPrefix(id, k) {
			return w, true
		}
	}
	return "", false
}

// Known reports whether the spec is a known gap; a gap must fail for exactly its reason.
func (g Gaps) Known(t *testing.T, id string, r Result) bool {
	t.Helper()
	want, ok := g.For(id)
	if !ok {
		return false
	}
	if r.Outcome != "fail" || !strings.Contains(r.Failure, want) {
		t.Errorf("%s: known reference-server gap %q, but the spec is %s: %s", id, want, r.Outcome, FirstLine(r.Failure, 300))
	}
	t.Logf("known reference-server gap: %s (%s)", id, want)
	return true
}

// Tally counts the specs under prefix of a clean run by outcome and by level, and reports every
// SHALL spec that fails or errs (known gaps aside).
func Tally(t *testing.T, rs map[string]Result, prefix string, gaps Gaps) (n int, outcomes, levels map[string]int) {
	t.Helper()
	outcomes, levels = map[string]int{}, map[string]int{}
	for id, r := range rs {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		n++
		outcomes[r.Outcome]++
		levels[r.Level]++
		if r.Level == "SHALL" && (r.Outcome == "fail" || r.Outcome == "error") && !gaps.Known(t, id, r) {
			t.Errorf("%s: %s: %s", id, r.Outcome, FirstLine(r.Failure, 600))
		}
	}
	return n, outcomes, levels
}

// ExpectFail checks that each spec of mustFail ran and failed, and that its failure names says
// when says is not empty; it logs the failures.
func ExpectFail(t *testing.T, rs map[string]Result, mustFail []string, says string) {
	t.Helper()
	for _, id := range mustFail {
		r, ok := rs[id]
		switch {
		case !ok:
			t.Errorf("%s did not run (ran: %v)", id, Keys(rs))
		case r.Outcome != "fail":
			t.Errorf("%s: %s, want fail (%s)", id, r.Outcome, FirstLine(r.Failure, 300))
		case says != "" && !strings.Contains(r.Failure, says):
			t.Errorf("%s fails, but not for %q: %s", id, says, FirstLine(r.Failure, 300))
		default:
			t.Logf("%s fails: %s", id, FirstLine(r.Failure, 200))
		}
	}
}

// ExpectOthersPass checks that every spec outside mustFail passed or skipped, or failed where
// mayFail (regexps on spec ids) or a known gap allows it. with names the breakage in messages
// ("fault paging-loop"). It returns how many specs passed.
func ExpectOthersPass(t *testing.T, with string, rs map[string]Result, mustFail, mayFail []string, gaps Gaps) int {
	t.Helper()
	passed := 0
	for id, r := range rs {
		if r.Outcome == "pass" {
			passed++
		}
		if r.Outcome == "pass" || r.Outcome == "skip" || slices.Contains(mustFail, id) {
			continue
		}
		if _, gap := gaps.For(id); gap {
			continue // fails without the breakage too
		}
		may := false
		for _, re := range mayFail {
			may = may || regexp.MustCompile(re).MatchString(id)
		}
		if !may {
			t.Errorf("with %s, %s (unrelated) is %s: %s", with, id, r.Outcome, FirstLine(r.Failure, 300))
		}
	}
	return passed
}

// StartServerWithoutProfiles starts the reference server (3 members) behind a handler that
// removes meta.profile from every resource it returns, as a server that claims no profile does,
// and returns it (its data), its FHIR base URL and one token per member. wrap, when not nil,
// wraps the server's handler inside the stripping one (to alter what it serves).
func StartServerWithoutProfiles(t *testing.T, wrap func(*refserver.Server, http.Handler) http.Handler) (*refserver.Server, string, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := refserver.New(refserver.Config{Members: 3, Seed: 1, BaseURL: "http://" + ln.Addr().String()})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	h := srv.Handler()
	if wrap != nil {
		h = wrap(srv, h)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: StripProfiles(h)}}
	hs.Start()
	t.Cleanup(hs.Close)
	return srv, srv.FHIRBase(), Tokens(srv)
}

// StripProfiles wraps a handler so that every JSON response has meta.profile removed from every
// resource in it (Bundle entries and contained resources included).
func StripProfiles(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Accept-Encoding")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if strings.Contains(rec.Header().Get("Content-Type"), "json") {
			var v any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if dec.Decode(&v) == nil {
				stripProfiles(v)
				if b, err := json.Marshal(v); err == nil {
					body = b
				}
			}
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body) //nolint:errcheck // the client went away
	})
}

func stripProfiles(v any) {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["resourceType"]; ok {
			if m, ok := t["meta"].(map[string]any); ok {
				delete(m, "profile")
				if len(m) == 0 {
					delete(t, "meta")
				}
			}
		}
		for _, x := range t {
			stripProfiles(x)
		}
	case []any:
		for _, x := range t {
			stripProfiles(x)
		}
	}
}
