package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Outcomes a spec can have in results.json.
var outcomes = []string{"pass", "fail", "skip", "error"}

// Table is expected.yaml: the outcome every spec of the interop run must have. Specs no entry
// names must pass (Default). Every non-pass entry carries the spec text it rests on and what the
// server was seen to do, so a reader can check the verdict without rerunning.
type Table struct {
	Default string  `yaml:"default"`
	Entries []Entry `yaml:"entries"`
}

// Entry gives Outcome to the specs it names: exact spec ids, or patterns where * matches any run
// of characters other than / (path.Match). An exact id wins over a pattern; among patterns the
// first entry in the file wins.
type Entry struct {
	Outcome  string   `yaml:"outcome"`
	Specs    []string `yaml:"specs"`
	SpecText string   `yaml:"spec_text"` // the normative text, quoted, with its source
	Observed string   `yaml:"observed"`  // what the interop server did
	Verdict  string   `yaml:"verdict"`   // why pacheck's outcome is right (or the open question)
}

// LoadTable reads and checks expected.yaml.
func LoadTable(file string) (*Table, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("expected-verdict table: %w", err)
	}
	var t Table
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("expected-verdict table %s: %w", file, err)
	}
	if t.Default == "" {
		t.Default = "pass"
	}
	if !slices.Contains(outcomes, t.Default) {
		return nil, fmt.Errorf("expected-verdict table %s: default %q is not one of %v", file, t.Default, outcomes)
	}
	for i, e := range t.Entries {
		if !slices.Contains(outcomes, e.Outcome) {
			return nil, fmt.Errorf("expected-verdict table %s: entry %d: outcome %q is not one of %v", file, i+1, e.Outcome, outcomes)
		}
		if len(e.Specs) == 0 {
			return nil, fmt.Errorf("expected-verdict table %s: entry %d names no spec", file, i+1)
		}
		if e.Outcome != "pass" && (strings.TrimSpace(e.SpecText) == "" || strings.TrimSpace(e.Observed) == "") {
			return nil, fmt.Errorf("expected-verdict table %s: entry %d (%s %s): a non-pass entry needs spec_text and observed", file, i+1, e.Outcome, e.Specs[0])
		}
		for _, p := range e.Specs {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("expected-verdict table %s: entry %d: bad pattern %q: %w", file, i+1, p, err)
			}
		}
	}
	return &t, nil
}

// Expect returns the outcome the table gives spec id, and the pattern or id that decided it ("" for
// the default).
func (t *Table) Expect(id string) (outcome, by string) {
	for _, e := range t.Entries {
		if slices.Contains(e.Specs, id) {
			return e.Outcome, id
		}
	}
	for _, e := range t.Entries {
		for _, p := range e.Specs {
			if ok, _ := path.Match(p, id); ok {
				return e.Outcome, p
			}
		}
	}
	return t.Default, ""
}

// Results is the part of results.json the comparison reads.
type Results struct {
	Specs []struct {
		ID      string `json:"id"`
		Outcome string `json:"outcome"`
		Failure *struct {
			Message string `json:"message"`
		} `json:"failure"`
		Reason string `json:"reason"`
	} `json:"specs"`
}

// LoadResults reads a run's results.json.
func LoadResults(file string) (*Results, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("results %s: %w", file, err)
	}
	if len(r.Specs) == 0 {
		return nil, fmt.Errorf("results %s: no spec", file)
	}
	return &r, nil
}

// Diff is one spec whose outcome differs from the table.
type Diff struct {
	ID, Got, Want, By, Detail string
}

func (d Diff) String() string {
	by := "default"
	if d.By != "" {
		by = d.By
	}
	s := fmt.Sprintf("%s: got %s, table says %s (%s)", d.ID, d.Got, d.Want, by)
	if d.Detail != "" {
		s += ": " + d.Detail
	}
	return s
}

// Compare returns every spec whose outcome differs from the table, the outcome counts of the run,
// and the table's patterns and ids that matched no spec (stale entries are differences too).
func Compare(t *Table, r *Results) (diffs []Diff, counts map[string]int, unused []string) {
	counts = map[string]int{}
	used := map[string]bool{}
	for _, s := range r.Specs {
		counts[s.Outcome]++
		want, by := t.Expect(s.ID)
		used[by] = true
		if s.Outcome != want {
			detail := s.Reason
			if s.Failure != nil {
				detail = s.Failure.Message
			}
			detail, _, _ = strings.Cut(detail, "\n")
			diffs = append(diffs, Diff{ID: s.ID, Got: s.Outcome, Want: want, By: by, Detail: detail})
		}
	}
	for _, e := range t.Entries {
		for _, p := range e.Specs {
			if !used[p] {
				unused = append(unused, p)
			}
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].ID < diffs[j].ID })
	return diffs, counts, unused
}
