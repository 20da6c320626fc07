package reports

import (
	"fmt"
	"strings"
	"testing"
)

func TestRegulationLines(t *testing.T) {
	r := faultResults(t)
	got := map[string]regulationLine{}
	for _, l := range regulationLines(r.Requirements) {
		got[l.Section] = l
	}
	for sec, want := range map[string]struct{ name, status, text string }{
		// 422.119: 7 failed (read×2, date×2, must-support×2, content-type), 1 pass, 1 untested.
		"42 CFR 422.119": {"Patient Access API, Medicare Advantage", "fail", "7 requirements fail, 1 untested, 1 passes (of 9)"},
		"42 CFR 431.60":  {"Patient Access API, Medicaid fee-for-service", "fail", "3 requirements fail (of 3)"},
		"45 CFR 170.215": {"API standards adopted by ONC (FHIR, US Core, SMART App Launch, OpenID Connect)", "fail", "2 requirements fail, 1 inconclusive (of 3)"},
		"45 CFR 156.221": {"Patient Access API, qualified health plans on the Federally-facilitated Exchanges", "fail", "1 requirement fails (of 1)"},
	} {
		l, ok := got[sec]
		if !ok {
			t.Errorf("no line for %s", sec)
			continue
		}
		if l.Name != want.name || l.Status != want.status || l.Text != want.text {
			t.Errorf("%s: %q %q %q, want %q %q %q", sec, l.Name, l.Status, l.Text, want.name, want.status, want.text)
		}
	}
	if len(got) != 5 {
		t.Errorf("%d sections, want 5 (422.119, 431.60, 457.730, 156.221, 170.215)", len(got))
	}
}

func TestCovSentenceAndStatus(t *testing.T) {
	cov := func(statuses ...string) coverage {
		var c coverage
		for _, s := range statuses {
			c.add(s)
		}
		return c
	}
	for _, c := range []struct {
		c            coverage
		text, status string
	}{
		{cov("pass", "pass"), "all 2 requirements pass", "pass"},
		{cov("pass"), "its one requirement passes", "pass"},
		{cov("fail", "untested", "untested", "untested", "pass"), "1 requirement fails, 3 untested, 1 passes (of 5)", "fail"},
		{cov("pass", "untested"), "1 requirement untested, 1 passes (of 2)", "partial"},
		{cov("pass", "skip", "not-judged", "error"), "3 requirements inconclusive, 1 passes (of 4)", "partial"},
		{cov("untested"), "1 requirement untested (of 1)", "untested"},
		{cov("known", "pass"), "1 requirement known failure, 1 passes (of 2)", "known"},
		{coverage{}, "no requirement", "untested"},
	} {
		if got := covSentence(c.c); got != c.text {
			t.Errorf("sentence %q, want %q", got, c.text)
		}
		if got := covStatus(c.c); got != c.status {
			t.Errorf("%q: status %q, want %q", c.text, got, c.status)
		}
	}
}

func TestCoverageCharts(t *testing.T) {
	r := faultResults(t)
	area, cfr := coverageCharts(r.Requirements)
	rows := map[string]chartRow{}
	for _, row := range append(area.Rows, cfr.Rows...) {
		rows[row.Label] = row
	}
	us := rows["uscore"]
	if us.Cov.Total != 5 || us.Cov.N[covFail] != 3 || us.Cov.N[covPass] != 1 || us.Cov.N[covUntested] != 1 || us.Cov.Tested() != 4 {
		t.Errorf("uscore row %+v", us.Cov)
	}
	if !strings.HasPrefix(us.Text, "5: 4 tested · 3 fail · 1 untested · 1 pass") {
		t.Errorf("uscore text %q", us.Text)
	}
	c1 := rows["42 CFR 422.119(c)(1)"]
	if c1.Cov.Total != 4 || c1.Cov.N[covFail] != 3 || c1.Cov.N[covPass] != 1 {
		t.Errorf("422.119(c)(1) row %+v", c1.Cov)
	}
	// Segment widths add up to the bar.
	var w float64
	for _, s := range c1.Segs {
		var f float64
		if _, err := fmt.Sscan(s.W, &f); err != nil {
			t.Fatal(err)
		}
		w += f
	}
	if w < chartBarW-0.1 || w > chartBarW+0.1 {
		t.Errorf("segments span %.2f, want %d", w, chartBarW)
	}
	// Paragraphs in numeric order: 42 CFR before 45 CFR, 431.60 before 457.730.
	var labels []string
	for _, row := range cfr.Rows {
		labels = append(labels, row.Label)
	}
	if strings.Join(labels, "|") != "42 CFR 422.119|42 CFR 422.119(c)(1)|42 CFR 431.60|42 CFR 457.730|45 CFR 156.221|45 CFR 170.215(b)(1)|45 CFR 170.215(c)(2)" {
		t.Errorf("paragraph order %q", labels)
	}
}
