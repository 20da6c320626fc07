package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/profiles/attest"
	"github.com/pacheck/pacheck/profiles/requirements/official"
)

// officialDefinition says what the columns of `list --requirements --official` count.
const officialDefinition = `Official server requirements (the IGs' numbered ids, as in Inferno's lists) by pacheck coverage:
  tested       mapped to a pacheck requirement that at least one selected spec tests
  attested     mapped to a pacheck attestation the payer's attestations file holds
  explained    not tested, with a specific reason (MAY, documentation only, not observable
               on the wire, not yet tested: what spec would)
  unmapped     no decision yet
  unselected   mapped to pacheck requirements, none tested by a spec in this selection
               (or an attestation the attestations file lacks)
`

// officialSet is one row of the coverage table (and, with -v, its ids).
type officialSet struct {
	Set           string         `json:"set"`
	Title         string         `json:"title"`
	Total         int            `json:"serverRows"`
	Tested        int            `json:"tested"`
	Attested      int            `json:"attested"`
	Explained     int            `json:"explained"`
	Unmapped      int            `json:"unmapped"`
	Unselected    int            `json:"unselected"`
	InfernoLinked int            `json:"infernoLinked"`
	Rows          []officialItem `json:"rows,omitempty"`
}

type officialItem struct {
	ID           string   `json:"id"`
	Level        string   `json:"level"`
	Status       string   `json:"status"`
	Requirements []string `json:"requirements,omitempty"`
	Reason       string   `json:"reason,omitempty"`
}

// printOfficial prints coverage of the official requirement ids per IG version, judged against
// the specs of this selection (rep) and the payer's attestations.
func printOfficial(stdout, stderr io.Writer, rep types.Report, format string, atts []attest.Entry, verbose bool) int {
	m, err := official.Load()
	if err != nil {
		errorf(stderr, "list", "%v", err)
		return ExitEnvError
	}
	selected := map[string]bool{}
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped {
			continue
		}
		for _, l := range s.Labels() {
			if id, ok := strings.CutPrefix(l, "req:"); ok {
				selected[id] = true
			}
		}
	}
	attested := map[string]bool{}
	for _, a := range atts {
		attested[a.ID] = true
	}
	var out []officialSet
	for _, s := range m.Sets {
		cs := officialSet{Set: s.Set, Title: s.Title, Total: len(s.Rows), InfernoLinked: s.InfernoLinked}
		for _, r := range s.Rows {
			it := officialItem{ID: official.FullID(s.Set, r.ID), Level: r.Level, Requirements: r.Requirements}
			switch r.Status() {
			case official.StatusTested:
				if slices.ContainsFunc(r.Requirements, func(q string) bool { return selected[q] }) {
					it.Status = "tested"
					cs.Tested++
				} else {
					it.Status, it.Reason = "unselected", "no selected spec tests "+strings.Join(r.Requirements, ", ")
					cs.Unselected++
				}
			case official.StatusAttested:
				it.Requirements = []string{r.Attestation}
				if attested[r.Attestation] {
					it.Status = "attested"
					cs.Attested++
				} else {
					it.Status, it.Reason = "unselected", "attestation "+r.Attestation+" missing"
					cs.Unselected++
				}
			case official.StatusExplained:
				it.Status, it.Reason = "explained", r.Explained
				cs.Explained++
			default:
				it.Status = "unmapped"
				cs.Unmapped++
			}
			if verbose {
				cs.Rows = append(cs.Rows, it)
			}
		}
		out = append(out, cs)
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return ExitOK
	}
	fmt.Fprint(stdout, officialDefinition)
	fmt.Fprintf(stdout, "%-44s %6s %7s %9s %10s %9s %11s %15s\n", "IG version", "server", "tested", "attested", "explained", "unmapped", "unselected", "Inferno linked")
	for _, s := range out {
		fmt.Fprintf(stdout, "%-44s %6d %7d %9d %10d %9d %11d %15s\n", s.Title, s.Total, s.Tested, s.Attested, s.Explained, s.Unmapped, s.Unselected, infernoCell(s))
	}
	for _, s := range out {
		for _, r := range s.Rows {
			detail := strings.Join(r.Requirements, ",")
			if r.Reason != "" {
				detail = r.Reason
			}
			fmt.Fprintf(stdout, "%-44s %-10s %-10s %s\n", r.ID, r.Level, strings.ToUpper(r.Status), detail)
		}
	}
	return ExitOK
}

func infernoCell(s officialSet) string {
	if s.InfernoLinked == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d/%d", s.InfernoLinked, s.Total)
}
