package catalogue

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
	"github.com/pacheck/pacheck/fixtures/refserver/tlsca"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/reports"
)

// envFaultTable names a file the fault catalogue test writes its table to (fault -> expected
// and failed requirements), for the figures in a resolve note.
const envFaultTable = "PACHECK_FAULT_TABLE"

// envFaultOnly restricts the catalogue test to a comma-separated list of faults (while working
// on one); the full test runs every fault.
const envFaultOnly = "PACHECK_FAULT_ONLY"

// envFaultKeep names a folder where the catalogue test keeps each run's report
// (<fault>-<mode>), to look into a fault that is not exact.
const envFaultKeep = "PACHECK_FAULT_KEEP"

// faultMode is how a fault's run reaches the reference server.
type faultMode string

const (
	// modeBrowser is `pacheck demo --fault F` focused on the SMART, public, capability and member
	// specs (the member suite judges the consent page of the SMART sign-in, so its faults
	// consent-page-silent and no-privacy-link need this mode),
	// with the SMART suite's browser sign-ins against the in-process server (3 members). Every
	// fault of the authorization server runs so, and so does compartment-leak, whose probe signs
	// in a second member. The data suites are left out to keep these runs short (they would
	// triple their time): the token runs judge them, so what this group does not show is an
	// authorization fault's effect on the data specs of member 1, read with the launch's token.
	modeBrowser faultMode = "browser"
	// modeToken is `pacheck run --auth token` with a token the server mints for member 1: every
	// spec that needs no sign-in (capability, public, US Core, CARIN BB, PDex, formulary; the
	// SMART specs skip with their reason). The faults of the FHIR API and its data run so: they
	// cannot change what a sign-in does, and a run takes a third of the demo's time.
	modeToken faultMode = "token"
)

// faultSetup is what a fault's run needs beyond its mode. Faults with equal setups share the
// clean run that judges them (key).
type faultSetup struct {
	mode   faultMode
	preset string                  // token mode: "" for cms-patient-access
	cfg    func(*refserver.Config) // token mode: server settings
	// args are extra command-line arguments (of pacheck run in token mode, of pacheck demo in
	// browser mode).
	args []string
	// https serves the reference server over https with a throwaway CA made for the run, which
	// the run trusts through tls.ca_bundle (token mode).
	https bool
}

func (s faultSetup) key() string {
	k := fmt.Sprintf("%s %s %v %v", s.mode, cmp.Or(s.preset, "cms-patient-access"), s.cfg != nil, s.args)
	if s.https {
		k += " https"
	}
	return k
}

// httpsSetup judges the transport faults: the SMART suite's transport specs (the others skip
// or pass in token mode) and the capability specs, against an https server.
var httpsSetup = faultSetup{mode: modeToken, https: true, args: []string{"--focus", "^smart-", "--focus", "^capability/"}}

// faultSetups are the faults that do not run in the default mode of their package (auth faults:
// browser; the others: token).
var faultSetups = map[string]faultSetup{
	refserver.FaultCompartmentLeak: {mode: modeBrowser},
	// cms-patient-access leaves prior authorizations out (label filter !prior-auth); the preset
	// of CMS-0057-F tests them.
	refserver.FaultPriorAuthNoStatus:       {mode: modeToken, preset: "cms-0057-2027"},
	refserver.FaultPriorAuthDeniedNoReason: {mode: modeToken, preset: "cms-0057-2027"},
	// The provider directory is its own public API: the provider-directory preset tests it.
	refserver.FaultPlannetRequiresAuth:    {mode: modeToken, preset: "provider-directory"},
	refserver.FaultPlannetDanglingNetwork: {mode: modeToken, preset: "provider-directory"},
	refserver.FaultPlannetSearchBroken:    {mode: modeToken, preset: "provider-directory"},
	// Every response is delayed: 150 ms instead of the default 2 s, against a 95th-percentile
	// bound of 100 ms, so capability/http/responsive judges it in seconds; the run is focused on
	// the capability, public and US Core Patient and Encounter specs (the 20 responses the
	// judgement needs, and more) to stay short.
	// CORS is a SMART App Launch 2.2 requirement, tested by the opt-in smart-2.2 preset; the
	// discovery CORS spec judges it without a sign-in.
	refserver.FaultCORSMissing: {mode: modeToken, preset: "smart-2.2"},
	// So are the SMART 2.2 smart-configuration members (the discovery specs need no sign-in).
	auth.FaultBrandIdentifierUnmatched:     {mode: modeToken, preset: "smart-2.2"},
	auth.FaultAssociatedEndpointsMalformed: {mode: modeToken, preset: "smart-2.2"},
	// Bearer authentication at the introspection endpoint is a SMART 2.2 rule, judged after the
	// sign-ins: the demo with the smart-2.2 preset.
	auth.FaultIntrospectionBearerRefused: {mode: modeBrowser, args: []string{"--preset", "smart-2.2"}},
	// Additional USCDI Requirements are judged by the opt-in uscdi-v4 preset (US Core 7.0.0). Its
	// clean run has one known gap of the reference server (us-core-sex, a code in 7.0.0 and a
	// Coding in 8.0.0, cannot sit on a Patient served for both), so the run is focused on the
	// capability specs and the MedicationRequest profile whose USCDI element the fault drops.
	refserver.FaultUSCDIElementDropped: {mode: modeToken, preset: "uscdi-v4",
		args: []string{"--focus", "^capability/", "--focus", "^uscore-7.0.0/us-core-medicationrequest/"}},
	refserver.FaultTLSLegacyAccepted: httpsSetup,
	refserver.FaultTLSCertWrongHost:  httpsSetup,
	refserver.FaultSlowResponses: {mode: modeToken, cfg: func(c *refserver.Config) { c.SlowDelay = 150 * time.Millisecond },
		args: []string{"--focus", "^capability/", "--focus", "^public/", "--focus", "^uscore-6.1.0/us-core-patient/", "--focus", "^uscore-6.1.0/us-core-encounter/"}},
}

func setupOf(f fault.Fault) faultSetup {
	if s, ok := faultSetups[f.Name]; ok {
		return s
	}
	if isAuthFault(f.Name) {
		return faultSetup{mode: modeBrowser}
	}
	return faultSetup{mode: modeToken}
}

// isAuthFault reports whether the authorization server (fixtures/refserver/auth) owns the fault.
func isAuthFault(name string) bool {
	return slices.Contains(auth.FaultNames(), name)
}

// faultOutcome is what one run showed.
type faultOutcome struct {
	Fault    string    `json:"fault"`
	Mode     faultMode `json:"mode"`
	Verdict  string    `json:"verdict"`
	Expected []string  `json:"expected"`
	Failed   []string  `json:"failed"` // requirements the failed specs break
	// Reviewed are the requirements cited by specs that ended review (a person must judge).
	Reviewed []string `json:"reviewed,omitempty"`
	Missing  []string `json:"missing,omitempty"`
	Extra    []string `json:"extra,omitempty"`
	// Stray are failed specs that cite none of the fault's requirements, with their first line.
	Stray  []string `json:"stray,omitempty"`
	Errors int      `json:"errors"` // specs that ended as an error (environment, blocked)
	Exact  bool     `json:"exact"`
	Secs   float64  `json:"secs"`
	Note   string   `json:"note,omitempty"` // why a run could not be judged (no verdict), or that it was a second try
	// Batch lists the faults that shared the run (a browser batch, auth.Batches); "" alone.
	Batch string `json:"batch,omitempty"`
}

// TestFaultCatalogue is the proof of issue-level attribution: for every fault of the reference
// server (refserver.Faults()), a run against the server with that fault ends NON-CONFORMANT when
// the fault names a SHALL requirement, fails each requirement the fault names, fails no other
// requirement, and fails no spec that cites none of the fault's requirements. A fault whose
// finding is a person's judgement (fault.Fault.Review: a code outside an extensible binding) is
// shown by a spec ending review that cites each of its requirements instead, where the clean run
// reviews none of them, and it too fails nothing. A requirement is
// failed when a failed spec breaks it: the spec's pacheck.broken ids (results.json
// specs[].broken), else the requirements its failing issues are attributed to, else every one it
// cites.
//
// Groups (see faultMode): the faults of the authorization server, compartment-leak and the
// member suite's consent-page faults run the demo's SMART, member, public and capability specs with
// browser sign-ins; the others run every spec that needs no sign-in with a token.
// Prior-authorization faults run the cms-0057-2027 preset (cms-patient-access leaves prior
// authorizations out), slow-responses a short focused run. Two runs at a time; a clean run of
// each setup comes first, and must fail nothing, so a failure under a fault is the fault's.
// Browser faults run a batch at a time (auth.Batches: faults breaking disjoint requirements whose
// effects do not meet), the others one at a time: a browser run costs about 20 CPU-seconds,
// mostly Chromium's 15 sign-ins, and one per fault took the package past 25 minutes on 2 cores.
// Within a batch each fault must fail all its requirements and the run nothing outside the
// batch's; a batch cannot show that a fault leaves its batch-mates' requirements alone (suites/
// smart's fault test judges the same batches spec by spec). Faults with no spec
// (Fault.Untested) are listed, not run.
// -short skips it, and
// PACHECK_FAULT_ONLY=a,b runs only those faults. PACHECK_FAULT_TABLE=file writes the table.
func TestFaultCatalogue(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the fault catalogue runs the suites once per fault or batch (about 10 minutes)")
	}
	cat, err := profiles.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	_, chromiumErr := browser.FindChromium("")
	only := map[string]bool{}
	for _, n := range strings.Split(os.Getenv(envFaultOnly), ",") {
		if n = strings.TrimSpace(n); n != "" {
			only[n] = true
		}
	}
	var faults []fault.Fault
	var untested []string
	for _, f := range refserver.Faults() {
		switch {
		case len(only) > 0 && !only[f.Name]:
		case f.Untested != "":
			untested = append(untested, fmt.Sprintf("%s (%s): %s", f.Name, strings.Join(f.Requirements, ", "), f.Untested))
		default:
			faults = append(faults, f)
		}
	}
	for _, u := range untested {
		t.Logf("not judged, no spec catches it: %s", u)
	}
	if len(only) > 0 && len(faults)+len(untested) != len(only) {
		t.Fatalf("%s=%q names faults the reference server does not have", envFaultOnly, os.Getenv(envFaultOnly))
	}
	// Clean runs first, one per setup: a setup whose clean run fails something cannot judge its
	// faults.
	var setups []faultSetup
	seen := map[string]bool{}
	for _, f := range faults {
		s := setupOf(f)
		if s.mode == modeBrowser && chromiumErr != nil {
			continue
		}
		if !seen[s.key()] {
			seen[s.key()] = true
			setups = append(setups, s)
		}
	}
	if chromiumErr != nil {
		t.Logf("no Chromium (%v): the %d faults that need a browser sign-in are not run", chromiumErr, countMode(faults, modeBrowser))
	}
	clean := make([]faultOutcome, len(setups))
	runAll(len(setups), func(i int) { clean[i] = runFault(t, cat, fault.Fault{Name: ""}, setups[i]) })
	ok := map[string]bool{}
	for i, s := range setups {
		o := clean[i]
		ok[s.key()] = o.Note == "" && len(o.Failed) == 0
		if !ok[s.key()] {
			t.Errorf("clean run (%s): %s failed %v %s; its faults are not judged", s.key(), o.Verdict, o.Failed, o.Note)
			for _, st := range o.Stray {
				t.Logf("  %s", st)
			}
		}
	}
	var todo []fault.Fault
	for _, f := range faults {
		if ok[setupOf(f).key()] {
			todo = append(todo, f)
		}
	}
	// Longest first: the browser runs take about three times a token run, so starting them first
	// keeps the two slots busy to the end instead of leaving one long run alone at the tail.
	slices.SortStableFunc(todo, func(a, b fault.Fault) int {
		return cmp.Compare(modeOrder(setupOf(a).mode), modeOrder(setupOf(b).mode))
	})
	units := batchUnits(todo)
	results := make([][]faultOutcome, len(units))
	cleanErrors := map[string]int{}
	for i, s := range setups {
		cleanErrors[s.key()] = clean[i].Errors
	}
	runAll(len(units), func(i int) {
		u := units[i]
		s := setupOf(u[0])
		os := runUnit(t, cat, u, s)
		// A run with more errors than its clean run (sign-ins or requests that timed out on a
		// loaded machine) may have missed what the fault breaks: it gets one more try.
		if !allExact(os) && os[0].Errors > cleanErrors[s.key()] {
			first := os[0].Errors
			os = runUnit(t, cat, u, s)
			for j := range os {
				os[j].Note = strings.TrimSpace(os[j].Note + fmt.Sprintf(" (second try; the first had %d errors)", first))
			}
		}
		results[i] = os
	})
	var outcomes []faultOutcome
	for _, os := range results {
		outcomes = append(outcomes, os...)
	}

	// A fault shown by a review (fault.Fault.Review) is shown only when its clean run did not
	// already review the same requirements.
	cleanReviewed := map[string][]string{}
	for i, s := range setups {
		cleanReviewed[s.key()] = clean[i].Reviewed
	}
	for i := range outcomes {
		o := &outcomes[i]
		f, ok := fault.Lookup(o.Fault)
		if !ok || !f.Review || !o.Exact {
			continue
		}
		for _, id := range f.Requirements {
			if slices.Contains(cleanReviewed[setupOf(f).key()], id) {
				o.Exact = false
				o.Missing = append(o.Missing, id)
				o.Note = strings.TrimSpace(o.Note + " (the clean run already reviews " + id + ")")
			}
		}
	}
	exact := 0
	for _, o := range outcomes {
		if o.Exact {
			exact++
			continue
		}
		if o.Note != "" && o.Verdict == "" {
			t.Errorf("fault %s (%s): %s", o.Fault, o.Mode, o.Note)
			continue
		}
		t.Errorf("fault %s (%s): verdict %s, failed %v; want %v (missing %v, extra %v)", o.Fault, o.Mode, o.Verdict, o.Failed, o.Expected, o.Missing, o.Extra)
		for _, s := range o.Stray {
			t.Logf("  stray failure under %s: %s", o.Fault, s)
		}
	}
	table := faultTable(outcomes, exact)
	t.Logf("fault catalogue: %d of %d faults exact\n%s", exact, len(outcomes), table)
	if path := os.Getenv(envFaultTable); path != "" {
		b, _ := json.MarshalIndent(outcomes, "", " ")
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Errorf("%s: %v", envFaultTable, err)
		}
		if err := os.WriteFile(path+".json", b, 0o644); err != nil {
			t.Errorf("%s: %v", envFaultTable, err)
		}
	}
}

// modeOrder ranks the modes by the length of their runs, longest first.
func modeOrder(m faultMode) int {
	if m == modeBrowser {
		return 0
	}
	return 1
}

func countMode(fs []fault.Fault, m faultMode) int {
	n := 0
	for _, f := range fs {
		if setupOf(f).mode == m {
			n++
		}
	}
	return n
}

// runAll calls run(i) for i in [0, n), two at a time (the machine has two cores; a run is
// mostly CPU).
func runAll(n int, run func(i int)) {
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			run(i)
		}()
	}
	wg.Wait()
}

// runFault runs the suites against the reference server with the fault f ("" for none) in a
// child process (this test binary acting as pacheck) and judges its results.json.
func runFault(t *testing.T, cat *profiles.Catalogue, f fault.Fault, s faultSetup) faultOutcome {
	return runUnit(t, cat, []fault.Fault{f}, s)[0]
}

// runUnit runs the suites against the reference server with the faults of one unit (a batch of
// browser faults, or one fault) switched on together and judges each fault of it.
func runUnit(t *testing.T, cat *profiles.Catalogue, fs []fault.Fault, s faultSetup) []faultOutcome {
	var names []string
	for _, f := range fs {
		if f.Name != "" {
			names = append(names, f.Name)
		}
	}
	f := fault.Fault{Name: strings.Join(names, ",")}
	fail := func(note string) []faultOutcome {
		var out []faultOutcome
		for _, x := range fs {
			out = append(out, faultOutcome{Fault: x.Name, Mode: s.mode, Expected: slices.Sorted(slices.Values(x.Requirements)), Note: note, Batch: batchNote(fs)})
		}
		return out
	}
	out := filepath.Join(t.TempDir(), "report")
	if keep := os.Getenv(envFaultKeep); keep != "" {
		name := strings.ReplaceAll(f.Name, ",", "+") + "-" + string(s.mode)
		if f.Name == "" {
			name = "clean-" + strings.NewReplacer(" ", "_", "[", "", "]", "", "^", "", "/", "").Replace(s.key())
		}
		out = filepath.Join(keep, name)
	}
	var args, env []string
	switch s.mode {
	case modeBrowser:
		args = []string{"demo", "--quiet", "--out", out, "--focus", "^smart-", "--focus", "^public/", "--focus", "^capability/", "--focus", "^member-"}
		if f.Name != "" {
			args = append(args, "--fault", f.Name)
		}
		args = append(args, s.args...)
	case modeToken:
		cfg := refserver.Config{Members: 3, Seed: 1}
		if f.Name != "" {
			cfg.Faults = fault.Set{}
			for _, n := range names {
				cfg.Faults[n] = true
			}
		}
		if s.cfg != nil {
			s.cfg(&cfg)
		}
		var tlsYAML string
		if s.https {
			ca, err := tlsca.New()
			if err != nil {
				return fail(err.Error())
			}
			cfg.CA = ca
			bundle := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(bundle, ca.PEM(), 0o600); err != nil {
				return fail(err.Error())
			}
			tlsYAML = fmt.Sprintf("tls:\n  ca_bundle: %s\n", bundle)
		}
		srv, err := refserver.New(cfg)
		if err != nil {
			return fail(err.Error())
		}
		if _, err := srv.Start("127.0.0.1:0"); err != nil {
			return fail(err.Error())
		}
		defer srv.Close()
		tok := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: "member-1", FHIRUser: "Patient/member-1",
			Scopes: []string{"launch/patient", "openid", "fhirUser", "patient/*.rs"}})
		conf := filepath.Join(t.TempDir(), "pacheck.yaml")
		yaml := fmt.Sprintf("target: %s\npreset: "+cmp.Or(s.preset, "cms-patient-access")+"\nauth:\n  mode: token\n  token: ${PACHECK_FAULT_TOKEN}\npatients: [member-1]\nattest:\n  must_support_complete: true\nout: %s\n", srv.FHIRBase(), out)
		// The payer names a record it processed weeks ago (reference-claim-late withholds it).
		if ref, patient, processed := srv.ReferenceClaim(); ref != "" {
			yaml += fmt.Sprintf("dataquality:\n  reference_claims:\n    - {ref: %s, patient: %s, processed: %q}\n", ref, patient, processed.Format(time.RFC3339))
		}
		if f.Name == refserver.FaultSlowResponses {
			yaml += "limits:\n  max_latency: 100ms\n"
		}
		yaml += tlsYAML
		if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
			return fail(err.Error())
		}
		args = append([]string{"run", "--quiet", "--config", conf}, s.args...)
		env = append(env, "PACHECK_FAULT_TOKEN="+tok)
	}
	start := time.Now()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	b, err := cmd.CombinedOutput()
	secs := time.Since(start).Seconds()
	data, rerr := os.ReadFile(filepath.Join(out, "results.json"))
	if rerr != nil {
		return fail(fmt.Sprintf("no results.json (%v, exit %v): %s", rerr, err, tail(string(b), 5)))
	}
	var res reports.Results
	if err := json.Unmarshal(data, &res); err != nil {
		return fail("results.json: " + err.Error())
	}
	os := judgeUnit(fs, res, cat)
	for i := range os {
		os[i].Mode, os[i].Secs, os[i].Batch = s.mode, secs, batchNote(fs)
	}
	return os
}

// batchUnits groups the faults to run: the browser faults of one batch (auth.Batches) share a
// run, every other fault runs alone.
func batchUnits(fs []fault.Fault) [][]fault.Fault {
	byName := map[string]fault.Fault{}
	for _, f := range fs {
		byName[f.Name] = f
	}
	done := map[string]bool{}
	var units [][]fault.Fault
	for _, b := range auth.Batches {
		var u []fault.Fault
		for _, n := range b {
			if f, ok := byName[n]; ok && setupOf(f).mode == modeBrowser && !done[n] {
				u = append(u, f)
				done[n] = true
			}
		}
		if len(u) > 0 {
			units = append(units, u)
		}
	}
	for _, f := range fs {
		if !done[f.Name] {
			units = append(units, []fault.Fault{f})
		}
	}
	return units
}

func allExact(os []faultOutcome) bool {
	for _, o := range os {
		if !o.Exact {
			return false
		}
	}
	return true
}

// batchNote names the other faults a fault shared its run with ("" alone).
func batchNote(fs []fault.Fault) string {
	if len(fs) < 2 {
		return ""
	}
	var n []string
	for _, f := range fs {
		n = append(n, f.Name)
	}
	return strings.Join(n, ",")
}

// judgeUnit judges each fault of a run that had the faults fs on together (one fault, or a
// batch whose faults break disjoint requirements). A fault is exact when every requirement it
// names failed, the run failed no requirement outside the batch's, no failed spec cites none of
// the batch's requirements, and the verdict is non-conformant exactly when a SHALL of the batch
// is broken. A batch cannot show that one of its faults leaves another's requirements alone;
// the batches are chosen so their effects do not meet (auth.Batches).
func judgeUnit(fs []fault.Fault, res reports.Results, cat *profiles.Catalogue) []faultOutcome {
	union := fault.Fault{}
	for _, f := range fs {
		union.Name = strings.Trim(union.Name+","+f.Name, ",")
		union.Requirements = append(union.Requirements, f.Requirements...)
		union.Review = union.Review || f.Review
	}
	var all faultOutcome
	judge(&all, union, res, cat)
	if len(fs) == 1 {
		all.Fault, all.Expected = fs[0].Name, slices.Sorted(slices.Values(fs[0].Requirements))
		return []faultOutcome{all}
	}
	failed := map[string]bool{}
	for _, id := range all.Failed {
		failed[id] = true
	}
	var out []faultOutcome
	for _, f := range fs {
		o := faultOutcome{Fault: f.Name, Verdict: all.Verdict, Expected: slices.Sorted(slices.Values(f.Requirements)),
			Extra: all.Extra, Stray: all.Stray, Errors: all.Errors}
		for _, id := range o.Expected {
			if failed[id] {
				o.Failed = append(o.Failed, id)
			} else {
				o.Missing = append(o.Missing, id)
			}
		}
		o.Failed = append(o.Failed, all.Extra...)
		o.Exact = len(o.Missing) == 0 && len(all.Extra) == 0 && len(all.Stray) == 0 && verdictOf(all, union, cat)
		out = append(out, o)
	}
	return out
}

// verdictOf reports whether the run's verdict is right for the faults: non-conformant exactly
// when one of them breaks a SHALL requirement.
func verdictOf(o faultOutcome, f fault.Fault, cat *profiles.Catalogue) bool {
	shall := false
	for _, id := range f.Requirements {
		if r, ok := cat.Lookup(id); ok && r.Level == profiles.LevelShall {
			shall = true
		}
	}
	return (o.Verdict == reports.VerdictFail) == shall
}

// judge fills the outcome from the run's results.
func judge(o *faultOutcome, f fault.Fault, res reports.Results, cat *profiles.Catalogue) {
	o.Verdict = string(res.Verdict)
	failed := map[string]bool{}
	reviewed := map[string]bool{}
	for _, s := range res.Specs {
		if s.Outcome == reports.Error {
			o.Errors++
		}
		if s.Outcome == reports.Review {
			for _, id := range specCites(s) {
				if !reviewed[id] {
					reviewed[id] = true
					o.Reviewed = append(o.Reviewed, id)
				}
			}
		}
		if s.Outcome != reports.Fail {
			continue
		}
		cited := specCites(s)
		for _, id := range brokenBy(s, cited) {
			failed[id] = true
		}
		if !slices.ContainsFunc(cited, func(id string) bool { return slices.Contains(f.Requirements, id) }) {
			msg := ""
			if s.Failure != nil {
				msg = strings.SplitN(s.Failure.Message, "\n", 3)[0]
				if len(msg) > 160 {
					msg = msg[:160] + "..."
				}
			}
			o.Stray = append(o.Stray, fmt.Sprintf("%s %v: %s", s.ID, cited, msg))
		}
	}
	for id := range failed {
		o.Failed = append(o.Failed, id)
		if !slices.Contains(f.Requirements, id) {
			o.Extra = append(o.Extra, id)
		}
	}
	sort.Strings(o.Failed)
	sort.Strings(o.Extra)
	shall := false
	sort.Strings(o.Reviewed)
	for _, id := range f.Requirements {
		// a review fault is shown by a review spec citing the requirement (Fault.Review)
		if !failed[id] && !(f.Review && reviewed[id]) {
			o.Missing = append(o.Missing, id)
		}
		if r, ok := cat.Lookup(id); ok && r.Level == profiles.LevelShall {
			shall = true
		}
	}
	verdictOK := true
	if f.Name != "" {
		// a SHALL failure makes the run non-conformant; a SHOULD failure alone never does
		verdictOK = (o.Verdict == reports.VerdictFail) == shall
	}
	o.Exact = verdictOK && len(o.Missing) == 0 && len(o.Extra) == 0 && len(o.Stray) == 0
}

// specCites are the requirement ids a spec cites.
func specCites(s reports.Spec) []string {
	var out []string
	for _, r := range s.Requirements {
		out = append(out, r.ID)
	}
	return out
}

// brokenBy are the requirements a failed spec breaks: its recorded broken ids, else the
// requirements its failing issues were attributed to, else everything it cites.
func brokenBy(s reports.Spec, cited []string) []string {
	if len(s.Broken) > 0 {
		return s.Broken
	}
	var out []string
	for _, e := range s.Evidence {
		if e.Kind != evidence.KindIssues {
			continue
		}
		for _, is := range e.Issues {
			if is.Severity == "error" && is.Requirement != "" && !slices.Contains(out, is.Requirement) {
				out = append(out, is.Requirement)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	return cited
}

func faultTable(os []faultOutcome, exact int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| fault | mode | verdict | expected | failed | exact | errors | s |\n|---|---|---|---|---|---|---|---|\n")
	for _, o := range os {
		got := strings.Join(o.Failed, ", ")
		if len(o.Reviewed) > 0 {
			got = strings.TrimSpace(got + " (review: " + strings.Join(o.Reviewed, ", ") + ")")
		}
		if o.Note != "" && o.Verdict == "" {
			got = "not judged: " + o.Note
		} else if o.Note != "" {
			got += " " + o.Note
		}
		if o.Batch != "" {
			got += " (in one run with " + o.Batch + ")"
		}
		mark := "yes"
		if !o.Exact {
			mark = "no"
			if len(o.Stray) > 0 {
				mark += fmt.Sprintf(" (%d stray spec(s))", len(o.Stray))
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d | %.0f |\n", o.Fault, o.Mode, o.Verdict, strings.Join(o.Expected, ", "), got, mark, o.Errors, o.Secs)
	}
	fmt.Fprintf(&b, "\n%d of %d faults exact\n", exact, len(os))
	return b.String()
}
