package reports

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCSV(t *testing.T) {
	dir := t.TempDir()
	r := fixtureResults(t, dir)
	// a server's text that a spreadsheet would run as a formula
	r.Specs[0].Outcome, r.Specs[0].Reason = Skip, "=HYPERLINK(\"http://evil.example\",\"x\")\nsecond line"
	if err := WriteAll(dir, r, Options{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, FileCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("results.csv does not parse: %v", err)
	}
	if len(rows) != len(r.Specs)+1 || strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("%d rows (want header + %d), header %v", len(rows), len(r.Specs), rows[0])
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if got := rows[1][col["reason"]]; got != "'=HYPERLINK(\"http://evil.example\",\"x\")" {
		t.Errorf("formula cell %q: want it defused with a leading quote and cut to its first line", got)
	}
	failed := 0
	for i, s := range r.Specs {
		row := rows[i+1]
		if row[col["spec"]] != s.ID || row[col["outcome"]] != string(s.Outcome) {
			t.Errorf("row %d: %v, want spec %s %s", i+1, row, s.ID, s.Outcome)
		}
		if s.Outcome == Fail {
			failed++
			if row[col["reason"]] == "" || strings.Contains(row[col["reason"]], "\n") {
				t.Errorf("failed spec %s: reason %q, want its first line", s.ID, row[col["reason"]])
			}
			if row[col["cfr"]] == "" && len(s.Requirements) > 0 && len(s.Requirements[0].CFR) > 0 {
				t.Errorf("failed spec %s has no CFR cell", s.ID)
			}
		}
	}
	if failed == 0 {
		t.Error("the fixture has no failed spec: the test proves nothing about reasons")
	}
	html, _ := os.ReadFile(filepath.Join(dir, FileHTML))
	if !strings.Contains(string(html), `href="results.csv"`) {
		t.Error("index.html does not link results.csv")
	}
}
