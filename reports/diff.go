package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// DiffEntry is one spec whose outcome differs between two runs.
type DiffEntry struct {
	ID  string  `json:"id"`
	Old Outcome `json:"old,omitempty"`
	New Outcome `json:"new,omitempty"`
}

// DiffReport compares two runs by spec id.
type DiffReport struct {
	Regressed []DiffEntry `json:"regressed"` // was pass/skip, now fail or error
	Fixed     []DiffEntry `json:"fixed"`     // was fail/error/known, now pass
	Changed   []DiffEntry `json:"changed"`   // any other outcome change (pass→skip, fail→error, ...)
	New       []DiffEntry `json:"new"`       // only in the new run
	Removed   []DiffEntry `json:"removed"`   // only in the old run
}

// bad reports whether an outcome means the target does not (or could not be shown to) conform.
// A known failure is still a failure for the diff.
func bad(o Outcome) bool { return o == Fail || o == Error || o == Known }

// Diff compares old and new by spec id.
func Diff(old, new *Results) DiffReport {
	var d DiffReport
	olds := map[string]Outcome{}
	for _, s := range old.Specs {
		olds[s.ID] = s.Outcome
	}
	news := map[string]bool{}
	for _, s := range new.Specs {
		news[s.ID] = true
		o, ok := olds[s.ID]
		e := DiffEntry{ID: s.ID, Old: o, New: s.Outcome}
		switch {
		case !ok:
			d.New = append(d.New, e)
		case o == s.Outcome:
		case !bad(o) && (s.Outcome == Fail || s.Outcome == Error):
			d.Regressed = append(d.Regressed, e)
		case bad(o) && s.Outcome == Pass:
			d.Fixed = append(d.Fixed, e)
		default:
			d.Changed = append(d.Changed, e)
		}
	}
	for _, s := range old.Specs {
		if !news[s.ID] {
			d.Removed = append(d.Removed, DiffEntry{ID: s.ID, Old: s.Outcome})
		}
	}
	for _, l := range [][]DiffEntry{d.Regressed, d.Fixed, d.Changed, d.New, d.Removed} {
		sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	}
	return d
}

// Empty reports whether nothing changed.
func (d DiffReport) Empty() bool {
	return len(d.Regressed)+len(d.Fixed)+len(d.Changed)+len(d.New)+len(d.Removed) == 0
}

// WriteText writes the diff as plain text, one section per kind, regressions first.
func (d DiffReport) WriteText(w io.Writer) error {
	_, err := io.WriteString(w, d.Text())
	return err
}

// Text returns the diff as plain text.
func (d DiffReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "regressed %d, fixed %d, changed %d, new %d, removed %d\n",
		len(d.Regressed), len(d.Fixed), len(d.Changed), len(d.New), len(d.Removed))
	section := func(title string, l []DiffEntry) {
		if len(l) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		for _, e := range l {
			switch {
			case e.Old == "":
				fmt.Fprintf(&b, "  %s  (%s)\n", e.ID, e.New)
			case e.New == "":
				fmt.Fprintf(&b, "  %s  (was %s)\n", e.ID, e.Old)
			default:
				fmt.Fprintf(&b, "  %s  %s -> %s\n", e.ID, e.Old, e.New)
			}
		}
	}
	section("Regressed", d.Regressed)
	section("Fixed", d.Fixed)
	section("Changed", d.Changed)
	section("New", d.New)
	section("Removed", d.Removed)
	return b.String()
}
