package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
)

// dqResults is a run with the data-quality figures of suites/dataquality, server text hostile.
func dqResults(t testing.TB) *Results {
	t.Helper()
	sr := vspec{id: "completeness", outcome: Pass, reqs: []string{"t.should"}}.report(t)
	add := func(title string, dq *evidence.DataQuality) {
		sr.ReportEntries = append(sr.ReportEntries, types.ReportEntry{Name: evidence.EntryName,
			Value: wrap(&evidence.Entry{Kind: evidence.KindDataQuality, Title: title, DataQuality: dq})})
	}
	add("completeness per profile", &evidence.DataQuality{Completeness: []evidence.ProfileCompleteness{
		{Profile: "us-core-patient", Resources: 3, Elements: []evidence.ElementShare{{Element: "Patient.name", Present: 3}, {Element: "Patient.telecom", Present: 1}, {Element: hostileScript, Present: 0}}},
		{Profile: "us-core-encounter", Resources: 2, Elements: []evidence.ElementShare{{Element: "Encounter.period", Present: 2}}},
	}})
	add("timeline of the member's data", &evidence.DataQuality{Timeline: []evidence.TypeTimeline{
		{Type: "Observation", Count: 40, First: "2012-03-01", Last: "2025-05-30"},
		{Type: "ExplanationOfBenefit", Count: 12, First: "2019-01-02", Last: "2024-08-05"},
		{Type: hostileImg, Count: 1, First: "2020-01-01", Last: "2020-01-01"},
		{Type: "Goal", Count: 2}, // no dates: no span
	}})
	add("duplicates", &evidence.DataQuality{Counts: map[string]int{"same identifier": 2, "same content": 0}})
	add("references", &evidence.DataQuality{Counts: map[string]int{"dangling references": 1, "references read": 24}})
	rep := types.Report{SuiteDescription: "t", StartTime: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
	rep.SpecReports = append(rep.SpecReports, sr)
	r, err := FromGinkgo(rep, RunMeta{Target: "https://fhir.example"}, verdictCatalogue(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDataQualityChartsStatic(t *testing.T) {
	r := dqResults(t)
	ch := dataQualityCharts(r.Specs)
	if ch == nil || len(ch.Profiles) != 2 || ch.Timeline == nil || len(ch.Timeline.Rows) != 3 || len(ch.Counts) != 4 {
		t.Fatalf("charts %+v", ch)
	}
	if p := ch.Profiles[0]; p.Rows[0].W != "400.00" || !p.Rows[0].Full || p.Rows[1].W != "133.33" || p.Rows[2].W != "0.00" {
		t.Errorf("completeness bars %+v", p.Rows)
	}
	if tl := ch.Timeline; tl.Ticks[0].Year != 2012 || tl.Ticks[len(tl.Ticks)-1].Year > 2026 {
		t.Errorf("timeline ticks %+v", tl.Ticks)
	}
	var h bytes.Buffer
	if err := renderHTML(&h, r, Options{Title: "t"}, nil); err != nil {
		t.Fatal(err)
	}
	page := h.String()
	for _, want := range []string{`id="dataquality"`, `id="dq-timeline"`, `id="dq-counts"`, `data-profile="us-core-patient"`, `href="#dataquality"`} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	if strings.Contains(page, hostileScript) || strings.Contains(page, hostileImg) {
		t.Error("server text in the charts is not escaped")
	}
	// A run without data-quality evidence has no section.
	h.Reset()
	plain := verdictResults(t, verdictCatalogue(t), vspec{id: "p", outcome: Pass, reqs: []string{"t.a"}})
	if err := renderHTML(&h, plain, Options{Title: "t"}, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.String(), `id="dataquality"`) {
		t.Error("a run without data-quality figures shows the section")
	}
}

// The section renders in Chromium with its SVG bars visible (no script needed), and a screenshot
// of it is saved to a temporary folder.
func TestDataQualityChartsInChromium(t *testing.T) {
	ctx, _ := newBrowser(t)
	dir := t.TempDir()
	if err := WriteAll(dir, dqResults(t), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := do(ctx, 30*time.Second, chromedp.Navigate("file://"+filepath.Join(dir, FileHTML)), chromedp.WaitVisible(chromedp.CSS(`#dq-timeline`))); err != nil {
		t.Fatalf("load report: %v", err)
	}
	// every bar of the three charts is laid out with a size and is not hidden
	visible, err := run(ctx, 10*time.Second, chromedp.Evaluate[[]int](`['#dq-counts', '#dq-timeline', '.dq-profile svg'].map(sel =>
		Array.from(document.querySelectorAll(sel + ' rect.dq-bar, ' + sel + ' rect.dq-full')).filter(r => {
			const b = r.getBoundingClientRect(), s = getComputedStyle(r);
			return b.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && s.fill !== 'none';
		}).length)`))
	if err != nil {
		t.Fatal(err)
	}
	// counts: 4 bars; timeline: 3 spans; completeness: 4 elements
	if len(visible) != 3 || visible[0] != 4 || visible[1] != 3 || visible[2] != 4 {
		t.Errorf("visible bars per chart %v, want [4 3 4]", visible)
	}
	text, err := run(ctx, 10*time.Second, chromedp.Text(chromedp.CSS(`#dataquality`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{hostileScript, hostileImg, "us-core-patient", "1 of 3 (33%)", "2012-03-01 – 2025-05-30 · 40"} {
		if !strings.Contains(text, s) {
			t.Errorf("section text lacks %q", s)
		}
	}
	if err := do(ctx, 30*time.Second, chromedp.ScrollIntoView(chromedp.CSS(`#dataquality`))); err != nil {
		t.Fatalf("scroll: %v", err)
	}
	shot, err := run(ctx, 30*time.Second, chromedp.Screenshot(chromedp.CSS(`#dataquality`)))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out, err := os.MkdirTemp("", "pacheck-dq-charts-")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(out, "dataquality.png")
	if err := os.WriteFile(p, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(shot) < 1000 {
		t.Errorf("screenshot of %d bytes", len(shot))
	}
	t.Logf("screenshot of the section: %s (%d bytes)", p, len(shot))
}
