package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseKnownIssues(t *testing.T) {
	cases := []struct {
		name, yaml, wantErr string
		n                   int
	}{
		{"ok", "- spec: a/b\n  reason: r\n  expires: 2026-12-31\n- spec: a/c\n  reason: r2\n  expires: 2027-01-01\n", "", 2},
		{"empty", "", "", 0},
		{"comments only", "# nothing known\n", "", 0},
		{"empty list", "[]\n", "", 0},
		{"unknown key", "- spec: a/b\n  reason: r\n  expires: 2026-12-31\n  owner: me\n", `k.yaml:4: unknown key "owner"`, 0},
		{"missing expires", "- spec: a/b\n  reason: r\n", "k.yaml:1: spec \"a/b\": missing expires", 0},
		{"missing reason", "- spec: a/b\n  expires: 2026-12-31\n", "missing reason", 0},
		{"missing spec", "- reason: r\n  expires: 2026-12-31\n", "missing spec", 0},
		{"bad date", "- spec: a/b\n  reason: r\n  expires: 31/12/2026\n", `expires "31/12/2026" is not a date`, 0},
		{"duplicate", "- spec: a/b\n  reason: r\n  expires: 2026-12-31\n- spec: a/b\n  reason: r\n  expires: 2026-12-31\n", "k.yaml:4: spec \"a/b\" listed twice (first at k.yaml:1)", 0},
		{"not a list", "spec: a/b\n", "expected a list", 0},
		{"duplicate key", "- spec: a/b\n  spec: a/c\n  reason: r\n  expires: 2026-12-31\n", `k.yaml:2: key "spec" given twice`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseKnownIssues("k.yaml", []byte(c.yaml))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.n {
				t.Fatalf("%d entries, want %d", len(got), c.n)
			}
		})
	}
	// LoadKnownIssues reads a file and names it in errors.
	p := filepath.Join(t.TempDir(), "known.yaml")
	os.WriteFile(p, []byte("- spec: x/y\n  reason: r\n  expires: nope\n"), 0o644)
	if _, err := LoadKnownIssues(p); err == nil || !strings.Contains(err.Error(), p+":1") {
		t.Errorf("LoadKnownIssues error %v does not name %s:1", err, p)
	}
	if _, err := LoadKnownIssues(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestApplyKnownIssues(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	const failID = "uscore-6.1.0/observation-lab/search/patient+category"
	const errID = "smart-2.0.0/pkce/refuses plain"
	cases := []struct {
		name        string
		issues      []KnownIssue
		applied     int
		expired     int
		unused      int
		outcome     Outcome // of failID afterwards
		verdict     string
		errContains string
	}{
		{"applies to a failure", []KnownIssue{{Spec: failID, Reason: "r", Expires: "2026-12-31"}}, 1, 0, 0, Known, VerdictFail, ""},
		{"expires at the end of its day", []KnownIssue{{Spec: failID, Reason: "r", Expires: "2026-11-27"}}, 1, 0, 0, Known, VerdictFail, ""},
		{"expired yesterday", []KnownIssue{{Spec: failID, Reason: "r", Expires: "2026-11-26", Source: "k.yaml:3"}}, 0, 1, 0, Fail, VerdictError, "k.yaml:3"},
		{"never hides an error", []KnownIssue{{Spec: errID, Reason: "r", Expires: "2026-12-31"}}, 0, 0, 1, Fail, VerdictFail, ""},
		{"unknown spec", []KnownIssue{{Spec: "no/such", Reason: "r", Expires: "2026-12-31"}}, 0, 0, 1, Fail, VerdictFail, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := fixtureResults(t, t.TempDir())
			before := r.Counts
			res := ApplyKnownIssues(r, c.issues, now)
			if len(res.Applied) != c.applied || len(res.Expired) != c.expired || len(res.Unused) != c.unused {
				t.Fatalf("applied %d expired %d unused %d", len(res.Applied), len(res.Expired), len(res.Unused))
			}
			s, _ := r.Spec(failID)
			if s.Outcome != c.outcome {
				t.Errorf("outcome %s, want %s", s.Outcome, c.outcome)
			}
			if s.Outcome == Known && (s.Failure == nil || s.Known == nil || s.Known.Reason != "r") {
				t.Errorf("known spec lost its failure or entry: %+v", s)
			}
			if e, _ := r.Spec(errID); e.Outcome != Error {
				t.Errorf("error spec became %s", e.Outcome)
			}
			if r.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s", r.Verdict, c.verdict)
			}
			if (res.Err() != nil) != (c.expired > 0) {
				t.Errorf("Err() = %v with %d expired", res.Err(), c.expired)
			}
			if c.errContains != "" && !strings.Contains(res.Err().Error(), c.errContains) {
				t.Errorf("Err() %v lacks %q", res.Err(), c.errContains)
			}
			if c.expired > 0 && len(r.Run.Errors) == 0 {
				t.Error("expired entry is not a run error")
			}
			if c.applied > 0 && (r.Counts.Known != before.Known+1 || r.Counts.Fail != before.Fail-1 || r.Counts.Total != before.Total) {
				t.Errorf("counts %+v -> %+v", before, r.Counts)
			}
		})
	}
	// Without errors in the run, a known failure leaves the verdict at pass.
	r := fixtureResults(t, t.TempDir())
	var keep []Spec
	for _, s := range r.Specs {
		if s.Outcome != Error && s.Outcome != Fail || s.ID == failID {
			keep = append(keep, s)
		}
	}
	r.Specs = keep
	r.Recount(nil)
	if r.Verdict != VerdictFail {
		t.Fatalf("verdict %s before", r.Verdict)
	}
	ApplyKnownIssues(r, []KnownIssue{{Spec: failID, Reason: "r", Expires: "2026-12-31"}}, now)
	if r.Verdict != VerdictPass {
		t.Errorf("verdict %s after the only failure became known, want pass", r.Verdict)
	}
}

func results(specs map[string]Outcome) *Results {
	r := &Results{SchemaVersion: SchemaVersion}
	for id, o := range specs {
		r.Specs = append(r.Specs, Spec{ID: id, Outcome: o})
	}
	r.Recount(nil)
	return r
}

func TestDiff(t *testing.T) {
	cases := []struct {
		name     string
		old, new map[string]Outcome
		want     DiffReport
	}{
		{"nothing changed", map[string]Outcome{"a": Pass, "b": Fail}, map[string]Outcome{"a": Pass, "b": Fail}, DiffReport{}},
		{"pass to fail regresses", map[string]Outcome{"a": Pass}, map[string]Outcome{"a": Fail},
			DiffReport{Regressed: []DiffEntry{{"a", Pass, Fail}}}},
		{"skip to error regresses", map[string]Outcome{"a": Skip}, map[string]Outcome{"a": Error},
			DiffReport{Regressed: []DiffEntry{{"a", Skip, Error}}}},
		{"fail to pass is fixed", map[string]Outcome{"a": Fail}, map[string]Outcome{"a": Pass},
			DiffReport{Fixed: []DiffEntry{{"a", Fail, Pass}}}},
		{"known to pass is fixed", map[string]Outcome{"a": Known}, map[string]Outcome{"a": Pass},
			DiffReport{Fixed: []DiffEntry{{"a", Known, Pass}}}},
		{"known to fail is a change, not a regression", map[string]Outcome{"a": Known}, map[string]Outcome{"a": Fail},
			DiffReport{Changed: []DiffEntry{{"a", Known, Fail}}}},
		{"pass to skip is a change", map[string]Outcome{"a": Pass}, map[string]Outcome{"a": Skip},
			DiffReport{Changed: []DiffEntry{{"a", Pass, Skip}}}},
		{"fail to error is a change", map[string]Outcome{"a": Fail}, map[string]Outcome{"a": Error},
			DiffReport{Changed: []DiffEntry{{"a", Fail, Error}}}},
		{"new and removed", map[string]Outcome{"a": Pass, "gone": Fail}, map[string]Outcome{"a": Pass, "b/new": Skip},
			DiffReport{New: []DiffEntry{{"b/new", "", Skip}}, Removed: []DiffEntry{{"gone", Fail, ""}}}},
		{"sorted by id", map[string]Outcome{"z": Pass, "a": Pass, "m": Pass}, map[string]Outcome{"z": Fail, "a": Fail, "m": Fail},
			DiffReport{Regressed: []DiffEntry{{"a", Pass, Fail}, {"m", Pass, Fail}, {"z", Pass, Fail}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Diff(results(c.old), results(c.new))
			check := func(kind string, g, w []DiffEntry) {
				if len(g) != len(w) {
					t.Errorf("%s: %v, want %v", kind, g, w)
					return
				}
				for i := range g {
					if g[i] != w[i] {
						t.Errorf("%s[%d]: %v, want %v", kind, i, g[i], w[i])
					}
				}
			}
			check("regressed", got.Regressed, c.want.Regressed)
			check("fixed", got.Fixed, c.want.Fixed)
			check("changed", got.Changed, c.want.Changed)
			check("new", got.New, c.want.New)
			check("removed", got.Removed, c.want.Removed)
			if got.Empty() != c.want.Empty() {
				t.Errorf("Empty() = %v", got.Empty())
			}
		})
	}
	txt := Diff(results(map[string]Outcome{"a": Pass, "gone": Pass}), results(map[string]Outcome{"a": Fail, "n": Skip})).Text()
	for _, want := range []string{"regressed 1, fixed 0, changed 0, new 1, removed 1", "Regressed:\n  a  pass -> fail", "New:\n  n  (skip)", "Removed:\n  gone  (was pass)"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
}
