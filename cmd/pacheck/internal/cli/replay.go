package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/cmd/pacheck/internal/config"
)

func init() {
	register(&command{name: "replay", summary: "re-run a recorded run offline (pacheck run --record DIR, then this)", run: runReplay})
}

const replayHelp = `Usage: pacheck replay DIR [run flags]   (the same as: pacheck run --replay DIR [run flags])

Re-runs a recorded run offline: every request is answered from the recording DIR, which
'pacheck run --record DIR' (or 'pacheck demo --record DIR') wrote, and nothing is sent to the
network. The target, preset, auth mode, label filter, focus, patients and limits are the recorded
run's; a flag given here changes that (--target must be the recorded one). The report is written
to --out as for a run.

A recording is a folder: index.json (the target, the recorded run's settings, one line per
exchange) and exchanges/NNNNNN.json (method, URL, request headers and body, status, response
headers and body, timings), bodies bounded as the run bounds them. No secret is in it: bearer
tokens, cookies, client secrets and assertions, codes, verifiers, passwords, id/access/refresh
tokens, state and nonce are replaced by placeholders (pacheck-secret-N), the same secret by the
same placeholder. Attach it to a bug report; check it first if your test data is itself sensitive.

Matching: a request is answered by the recorded exchange with the same method, URL, request
headers (User-Agent aside) and body, secrets compared by placeholder; recorded exchanges answer
once each, in the recorded order (a GET asked again gets its last answer again). A request the
recording does not hold ends its spec as an ERROR naming the request, never as a pass or a fail.
Each answer comes after its recorded time, so the latency specs judge the recorded server's
response times, not the replay's; recorded timeouts and dropped connections come back as such.
Browser sign-ins (SMART launches through Chromium) are not recorded: in a replay the specs that
need one skip, saying "replay: browser sign-ins are not recorded". Record with --auth token to
replay every spec.

Exit codes as for 'pacheck run'.

Examples:
  pacheck run --target https://fhir.example.org/r4 --auth token --token-env FHIR_TOKEN --record rec
  pacheck replay rec --out replay-report
  pacheck run --replay rec --focus 'uscore-6.1.0/patient'

Flags: those of 'pacheck run' (pacheck help run).
`

// runReplay is 'pacheck replay DIR [flags]': 'pacheck run --replay DIR [flags]'.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(stdout, replayHelp)
		if len(args) == 0 {
			errorf(stderr, "replay", "give the recording folder: pacheck replay DIR")
			return ExitUsage
		}
		return ExitOK
	}
	return runRun(ctx, append([]string{"--replay", args[0]}, args[1:]...), stdout, stderr)
}

// openReplay reads the recording f.replay and makes its run the defaults of cfg: target,
// preset, auth mode and the token's placeholder, selection, patients, limits. Flags still
// override them (resolve applies them afterwards), except the target, which must be the
// recorded one.
func openReplay(f *runFlags, cfg *config.File) (*fhirhttp.Replay, error) {
	rp, err := fhirhttp.OpenReplay(f.replay)
	if err != nil {
		return nil, err
	}
	idx := rp.Index()
	if f.target != "" && trimSlash(f.target) != trimSlash(idx.Target) {
		return nil, fmt.Errorf("--target %s: the recording %s is of %s, and a replay runs against the recorded target only", f.target, f.replay, idx.Target)
	}
	if f.tokenEnv != "" {
		return nil, fmt.Errorf("--token-env with --replay: a replay sends the recording's token placeholder, not a token")
	}
	var rr recordedRun
	if len(idx.Run) > 0 {
		if err := json.Unmarshal(idx.Run, &rr); err != nil {
			return nil, fmt.Errorf("replay: %s: the recorded run's settings: %w", f.replay, err)
		}
	}
	cfg.Target = idx.Target
	if rr.Preset != "" {
		cfg.Preset = rr.Preset
	}
	if rr.Auth != "" {
		cfg.Auth.Mode = rr.Auth
	}
	cfg.Auth.Token = rr.Token
	cfg.LabelFilter, cfg.Focus, cfg.Patients = rr.LabelFilter, rr.Focus, rr.Patients
	cfg.Suites, cfg.IGs, cfg.Strict = rr.Suites, rr.IGs, rr.Strict
	cfg.Attest.MustSupportComplete = rr.AttestMustSupport
	cfg.Limits = rr.Limits
	return rp, nil
}
