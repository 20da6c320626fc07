package smart

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/suites/framework"
)

// TestWrongPasswordOneRootCause: a sign-in that cannot get past the login page is one root
// cause. launch/standalone reports it; every spec that needs a sign-in, a token or a probe
// baseline ends as an error blocked by it; no spec signs in again (the server sees one
// authorization request); the discovery specs, which need no sign-in, still judge the server.
func TestWrongPasswordOneRootCause(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	res, _ := runChild(t, childJob{Variant: "wrongpass", Parallel: 4})
	t.Logf("wrong password run: %d specs in %.0fs, %d authorization request(s)", len(res.Outcomes), res.Seconds, res.Authorizations)
	cause := p + "launch/standalone"
	if o := res.Outcomes[cause]; o != "error" && o != "fail" {
		t.Errorf("%s: outcome %q, want it to report the failed sign-in (%s)", cause, o, firstLine(res.Failures[cause]))
	}
	if _, blocked := res.Blocked[cause]; blocked {
		t.Errorf("%s: the root cause's own spec is blocked", cause)
	}
	root, ok := res.RootCauses[framework.RootSignIn]
	if !ok || root.Cause != cause || root.Reason == "" {
		t.Errorf("run root cause %+v (recorded %v), want one naming %s with its reason", root, ok, cause)
	}
	if res.Authorizations != 1 {
		t.Errorf("the server received %d authorization requests, want 1: a failed sign-in must not be retried", res.Authorizations)
	}
	blocked, noSignIn, skipped := 0, 0, 0
	for id, o := range res.Outcomes {
		switch {
		case id == cause:
		case strings.HasPrefix(id, p+"discovery/") || id == p+"ehr-launch/capability":
			// discovery, and launch-ehr advertised in it, need no sign-in
			noSignIn++
			if o != "pass" {
				t.Errorf("%s: %s, want pass (it needs no sign-in): %s", id, o, firstLine(res.Failures[id]))
			}
		case o == "skip":
			skipped++
			// a spec whose precondition is about the configuration, not the sign-in
			if !strings.Contains(res.Failures[id], "; to enable: ") {
				t.Errorf("%s: skipped without saying what would enable it: %s", id, res.Failures[id])
			}
		default:
			b, ok := res.Blocked[id]
			if o != "error" || !ok || b.Cause != cause {
				t.Errorf("%s: %s blocked by %q, want error blocked by %s (%s)", id, o, b.Cause, cause, firstLine(res.Failures[id]))
				continue
			}
			if !strings.HasPrefix(res.Failures[id], "error: blocked by "+cause+": ") {
				t.Errorf("%s: message %q, want \"error: blocked by %s: <reason>\"", id, firstLine(res.Failures[id]), cause)
			}
			blocked++
		}
	}
	// Every spec but those that need no sign-in, the skipped ones and the launch itself is blocked.
	if want := len(res.Outcomes) - 1 - noSignIn - skipped; blocked != want || blocked < 25 {
		t.Errorf("%d specs blocked by the failed sign-in, want about %d", blocked, want)
	}
	t.Logf("%d specs blocked by %s: %s", blocked, cause, root.Reason)
}

// TestMinimalSettingsSkipWithReasons: one member, no confidential client and no consent or deny steps:
// the specs that need them skip, each with the exact reason and what would enable it, and the
// rest still pass.
func TestMinimalSettingsSkipWithReasons(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	needs := map[string]string{
		p + "launch/confidential-symmetric-basic": "client_secret_basic",
		p + "launch/confidential-symmetric-post":  "client_secret_post",
		p + "launch/confidential-asymmetric":      "private_key_jwt",
		p + "probes/bad-client-secret":            "client_secret",
		p + "probes/bad-client-assertion":         "private_key",
		p + "probes/other-member-data":            "second_member",
		p + "scopes/consent-decline":              "consent",
		p + "probes/code-other-client":            "extra_clients",
		p + "probes/consent-deny":                 "auth.deny",
		p + "ehr-launch/capability":               "auth.portal",
		p + "ehr-launch/launch-params":            "auth.portal",
		p + "ehr-launch/iss-fhir-base":            "auth.portal",
		p + "ehr-launch/context":                  "auth.portal",
		p + "ehr-launch/foreign-launch-refused":   "auth.portal",
	}
	ids := []string{p + "discovery/well-known", p + "launch/standalone", p + "probes/missing-token"}
	for id := range needs {
		ids = append(ids, id)
	}
	res, _ := runChild(t, childJob{Variant: "minimal", Focus: focusFor(ids)})
	if len(res.Outcomes) != len(ids) {
		t.Errorf("%d specs ran, want %d", len(res.Outcomes), len(ids))
	}
	for id, o := range res.Outcomes {
		enable, needed := needs[id]
		switch {
		case !needed && o != "pass":
			t.Errorf("%s: %s, want pass: %s", id, o, firstLine(res.Failures[id]))
		case needed && o != "skip":
			t.Errorf("%s: %s, want skip: %s", id, o, firstLine(res.Failures[id]))
		case needed:
			reason, what, ok := strings.Cut(res.Failures[id], "; to enable: ")
			if !ok || reason == "" || !strings.Contains(what, enable) {
				t.Errorf("%s: skip message %q, want the reason and \"; to enable: …%s…\"", id, res.Failures[id], enable)
			}
		}
	}
}

// TestRefusedEndpointBlocksWithoutBrowsing: an authorization_endpoint the run may not use
// (file:///etc/passwd) refuses the launch before the browser opens anything: no authorization
// request, no screenshot, launch/standalone names the refusal, its dependants are blocked by it.
func TestRefusedEndpointBlocksWithoutBrowsing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child run")
	}
	t.Parallel()
	out := t.TempDir()
	ids := []string{p + "discovery/well-known", p + "launch/standalone", p + "token/type-bearer", p + "probes/unknown-client-id",
		p + "probes/wrong-pkce-verifier", p + "probes/missing-token", p + "launch/confidential-symmetric-basic"}
	res, _ := runChild(t, childJob{Variant: "fileauth", OutDir: out, Focus: focusFor(ids)})
	cause := p + "launch/standalone"
	if o, msg := res.Outcomes[cause], res.Failures[cause]; o != "error" || !strings.Contains(msg, "refused before any credential is sent") {
		t.Errorf("%s: %s %q, want an error naming the refused endpoint", cause, o, firstLine(msg))
	}
	for _, id := range ids[2:] {
		if b := res.Blocked[id]; res.Outcomes[id] != "error" || b.Cause != cause {
			t.Errorf("%s: %s blocked by %q, want blocked by %s (%s)", id, res.Outcomes[id], b.Cause, cause, firstLine(res.Failures[id]))
		}
	}
	if res.Authorizations != 0 {
		t.Errorf("%d authorization requests reached the server", res.Authorizations)
	}
	if shots, _ := filepath.Glob(filepath.Join(out, "browser", "*.png")); len(shots) > 0 {
		t.Errorf("%d screenshots taken of a refused endpoint", len(shots))
	}
}

// TestIntermittent503StillPasses: with every 4th FHIR request answered 503 + Retry-After, the
// client retries and every SMART spec still judges the server as on a stable day (the
// availability itself is judged by capability/http/available, not here).
func TestIntermittent503StillPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	var ids []string
	for _, c := range cheap {
		ids = append(ids, p+c)
	}
	res, _ := runChild(t, childJob{Variant: "faults", Faults: []string{refserver.FaultIntermittent503}, Focus: focusFor(ids)})
	if res.PrepareErr != "" {
		t.Errorf("prepare: %s", res.PrepareErr)
	}
	if len(res.Outcomes) != len(ids) {
		t.Errorf("%d specs ran, want %d", len(res.Outcomes), len(ids))
	}
	for id, o := range res.Outcomes {
		if o != "pass" {
			t.Errorf("%s: %s under intermittent 503s: %s", id, o, firstLine(res.Failures[id]))
		}
	}
}

// TestDeadTargetOneRootCause: against a closed port (token mode, so no browser) each shared step
// that fails is reported once: discovery/well-known and the first probe needing the valid-token
// baseline report "connection refused"; every other spec that needs them is blocked by them.
// (The SMART suite alone sends too few requests to trip the run's breaker; the framework tests
// show the trip.)
func TestDeadTargetOneRootCause(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child run")
	}
	t.Parallel()
	res, _ := runChild(t, childJob{Variant: "token", DeadTarget: true})
	byCause := map[string]int{}
	var plain []string
	for id, o := range res.Outcomes {
		switch o {
		case "pass", "fail":
			t.Errorf("%s: %s against a dead target", id, o)
		case "error":
			if b, ok := res.Blocked[id]; ok {
				byCause[b.Cause]++
			} else {
				plain = append(plain, id)
			}
		}
	}
	if len(plain) != 2 || byCause[p+"discovery/well-known"] != 5 {
		t.Errorf("errors reported on their own: %v, blocked by %v; want two (discovery and the token baseline), five blocked by discovery", plain, byCause)
	}
	for _, id := range plain {
		if !strings.Contains(res.Failures[id], "connection refused") {
			t.Errorf("%s: %q does not name the refused connection", id, firstLine(res.Failures[id]))
		}
		if id != p+"discovery/well-known" && byCause[id] != 2 {
			t.Errorf("%s reports the baseline failure; want the other two token probes blocked by it, got %v", id, byCause)
		}
	}
}
