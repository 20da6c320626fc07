package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/cmd/pacheck/internal/config"
)

// recordedRun is what a recording's index keeps of the recorded run, so that a replay runs the
// same selection with the same limits. The token is its placeholder, never the token.
type recordedRun struct {
	Preset            string              `json:"preset"`
	Auth              string              `json:"auth"`
	Token             string              `json:"token,omitempty"`
	LabelFilter       string              `json:"labelFilter,omitempty"`
	Focus             []string            `json:"focus,omitempty"`
	Patients          []string            `json:"patients,omitempty"`
	Suites            []string            `json:"suites,omitempty"`
	IGs               map[string][]string `json:"igs,omitempty"`
	Strict            bool                `json:"strict,omitempty"`
	AttestMustSupport bool                `json:"attestMustSupport,omitempty"`
	Limits            config.Limits       `json:"limits"`
}

// bindRecordFlags adds --record (run and demo) and, for run, --replay.
func bindRecordFlags(fs *flag.FlagSet, f *runFlags, replay bool) {
	fs.StringVar(&f.record, "record", "", "keep every HTTP exchange in this new folder, secrets replaced by placeholders (for a bug report, or pacheck run --replay)")
	if replay {
		fs.StringVar(&f.replay, "replay", "", "run offline against a recording (--record DIR) instead of the server: target and selection come from it (pacheck help replay)")
	}
}

// recordFlagsError refuses --record and --replay where they cannot apply ("" when fine).
func recordFlagsError(f *runFlags, severalTargets bool) string {
	switch {
	case f.record != "" && f.replay != "":
		return "--record and --replay: a replay makes no new exchanges to record; give one of them"
	case severalTargets && (f.record != "" || f.replay != ""):
		return "--record and --replay take one target (a recording is of one server)"
	}
	return ""
}

// runRecording is a plan's recording or replay, closed once when the run ends.
type runRecording struct {
	rec    *fhirhttp.Recording
	replay *fhirhttp.Replay
	run    recordedRun
	once   sync.Once
	err    error
}

// wireRecording makes the plan's run record into f.record, or answer from the replay rp.
func wireRecording(f *runFlags, p *plan, rp *fhirhttp.Replay) error {
	switch {
	case rp != nil:
		p.run.Transport = rp.Wrap
		p.run.Replay = rp.Dir()
		p.recording = &runRecording{replay: rp}
	case f.record != "":
		return startRecording(f, p)
	}
	return nil
}

// startRecording makes the plan's run record its exchanges into f.record.
func startRecording(f *runFlags, p *plan) error {
	cfg, run := p.file, p.run
	rec, err := fhirhttp.NewRecording(f.record, run.Target, cfg.Secrets()...)
	if err != nil {
		return err
	}
	run.Transport = rec.Wrap
	rr := recordedRun{Preset: p.preset.Name, Auth: cfg.Auth.Mode, LabelFilter: cfg.LabelFilter, Focus: cfg.Focus,
		Patients: append([]string(nil), cfg.Patients...), Suites: run.Suites, IGs: run.IGs, Strict: cfg.Strict,
		AttestMustSupport: run.MustSupportAttested, Limits: cfg.Limits}
	if cfg.Auth.Token != "" {
		rr.Token = rec.Placeholder(cfg.Auth.Token)
	}
	p.recording = &runRecording{rec: rec, run: rr}
	return nil
}

// addSecrets registers more values the recording replaces wherever they appear (the demo's
// minted tokens and passwords).
func (r *runRecording) addSecrets(vals ...string) {
	if r != nil && r.rec != nil {
		r.rec.AddSecrets(vals...)
	}
}

// finish writes the recording's index (or sums up the replay) once, and says so unless quiet.
func (r *runRecording) finish(stdout io.Writer, quiet bool) error {
	if r == nil {
		return nil
	}
	r.once.Do(func() {
		switch {
		case r.rec != nil:
			r.err = r.rec.Close(r.run)
			if !quiet && r.err == nil {
				fmt.Fprintf(stdout, "recording: %s (%d exchanges; secrets replaced by placeholders; replay with pacheck run --replay %s)\n",
					r.rec.Dir(), r.rec.Count(), r.rec.Dir())
			}
		case r.replay != nil:
			st := r.replay.Stats()
			if quiet {
				return
			}
			line := fmt.Sprintf("replay: %s: %d requests answered from %d recorded exchanges (%d not asked for)",
				r.replay.Dir(), st.Served, st.Recorded, st.Unused)
			if n := len(st.Missing); n > 0 {
				line += fmt.Sprintf("; %d %s not in the recording (errors), first: %s", n, plural(n, "request", "requests"), st.Missing[0])
			}
			fmt.Fprintln(stdout, termSafe(oneLine(line), false))
		}
	})
	return r.err
}

// trimSlash compares base URLs without their trailing slash.
func trimSlash(s string) string { return strings.TrimRight(s, "/") }
