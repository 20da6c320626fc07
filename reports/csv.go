package reports

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
)

// FileCSV is every spec's result as one CSV row, for spreadsheets and audit working papers.
const FileCSV = "results.csv"

// csvHeader names the columns of results.csv (stable: tools read them by name).
var csvHeader = []string{"spec", "outcome", "level", "ig", "group", "requirements", "broken", "cfr", "reason", "blocked_by", "known_issue", "duration_ms"}

// WriteCSV writes results.csv: a header row, then one row per spec in report order. The reason
// is the first line of the failure, error or skip, as in the other outputs. Only PHI-free text,
// like junit.xml: no evidence. A cell that a spreadsheet would read as a formula (starting with
// = + - @, tab or carriage return) is prefixed with a single quote: a server's text must not run
// in the auditor's spreadsheet.
func WriteCSV(w io.Writer, r *Results) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, s := range r.Specs {
		var cfr []string
		for _, q := range s.Requirements {
			for _, c := range q.CFR {
				if !slices.Contains(cfr, c) {
					cfr = append(cfr, c)
				}
			}
		}
		reason := s.Reason
		if s.Outcome == Fail || s.Outcome == Known {
			reason = failHeadline(s)
		}
		blocked, known := "", ""
		if s.Blocked != nil {
			blocked = s.Blocked.Cause
		}
		if s.Known != nil {
			known = s.Known.Reason + " (expires " + s.Known.Expires + ")"
		}
		row := []string{s.ID, string(s.Outcome), s.Level, s.IG, s.Group, strings.Join(reqIDs(s), " "),
			strings.Join(s.Broken, " "), strings.Join(cfr, "; "), firstLine(reason), blocked, known,
			strconv.FormatInt(s.DurationMS, 10)}
		for i, c := range row {
			row[i] = csvCell(c)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell strips control characters and defuses spreadsheet formulas (OWASP CSV injection).
func csvCell(s string) string {
	s = PlainText(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
