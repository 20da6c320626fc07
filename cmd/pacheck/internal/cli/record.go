package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/cmd/pacheck/internal/config"
	"github.com/pacheck/pacheck/internal/safefile"
	"github.com/pacheck/pacheck/reports"
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
	// compared is the replay's comparison with the recorded outcomes ("" before the run ends).
	compared string
}

// outcomesFile, in a recording, holds the recorded run's outcome of every spec: a replay
// compares its own with them, and a regression test built from the recording asserts them
// (edit an outcome there when a pacheck fix changes the right answer).
const outcomesFile = "outcomes.json"

// specOutcome is one spec's line in outcomes.json.
type specOutcome struct {
	ID      string `json:"id"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// outcomes takes the run's results before known issues apply: a recording keeps them, a replay
// compares them with the recorded ones.
func (r *runRecording) outcomes(res *reports.Results) {
	if r == nil {
		return
	}
	list := make([]specOutcome, 0, len(res.Specs))
	for _, s := range res.Specs {
		list = append(list, specOutcome{ID: s.ID, Outcome: string(s.Outcome), Reason: oneLine(s.Reason)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	switch {
	case r.rec != nil:
		if err := r.rec.WriteJSON(outcomesFile, list); err != nil && r.err == nil {
			r.err = err
		}
	case r.replay != nil:
		r.compared = compareOutcomes(filepath.Join(r.replay.Dir(), outcomesFile), list)
	}
}

// compareOutcomes says whether the outcomes equal the recorded ones in file, in one line.
func compareOutcomes(file string, got []specOutcome) string {
	b, err := safefile.ReadFile(file, safefile.SmallLimit*16)
	if err != nil {
		return "no recorded outcomes to compare with (" + outcomesFile + ")"
	}
	var want []specOutcome
	if err := json.Unmarshal(b, &want); err != nil {
		return fmt.Sprintf("%s: %v", file, err)
	}
	diff := diffOutcomes(want, got)
	if len(diff) == 0 {
		return fmt.Sprintf("every spec's outcome equals the recorded run's (%d specs)", len(got))
	}
	return fmt.Sprintf("%d of %d specs' outcomes differ from the recorded run's, first: %s", len(diff), len(want), diff[0])
}

// diffOutcomes lists, by spec id, what differs between recorded and replayed outcomes.
func diffOutcomes(want, got []specOutcome) []string {
	w, g := map[string]string{}, map[string]string{}
	for _, s := range want {
		w[s.ID] = s.Outcome
	}
	for _, s := range got {
		g[s.ID] = s.Outcome
	}
	var d []string
	for _, s := range want {
		if o, ok := g[s.ID]; !ok {
			d = append(d, s.ID+": recorded "+s.Outcome+", not run")
		} else if o != s.Outcome {
			d = append(d, s.ID+": recorded "+s.Outcome+", replayed "+o)
		}
	}
	for _, s := range got {
		if _, ok := w[s.ID]; !ok {
			d = append(d, s.ID+": not recorded, replayed "+s.Outcome)
		}
	}
	return d
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
		Patients: append([]string(nil), cfg.Patients...), Suites: cfg.Suites, IGs: cfg.IGs, Strict: cfg.Strict,
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
			if r.compared != "" {
				line += "; " + r.compared
			}
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
