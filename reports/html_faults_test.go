package reports

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The report of a run with four faults, read in Chromium: verdict, one plain line per
// regulation, the coverage chart with the right counts (also without script), four groups of
// failures by cause, deep links that open a spec, and the filter state kept in the URL.
func TestHTMLInChromiumFaults(t *testing.T) {
	ctx, ev := newBrowser(t)
	dir := t.TempDir()
	r := faultResults(t)
	if err := WriteAll(dir, r, Options{}); err != nil {
		t.Fatal(err)
	}
	// Server text in the static parts (cause lines, representative body) is escaped.
	src, err := os.ReadFile(filepath.Join(dir, FileHTML))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), "<script"); n != 2 || !strings.Contains(string(src), "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("%d <script> elements (want 2), or the hostile body is not shown escaped", n)
	}
	page := "file://" + filepath.Join(dir, FileHTML)
	load := func(u string) {
		t.Helper()
		if err := do(ctx, 30*time.Second, chromedp.Navigate("about:blank"), chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS(`#spec-list details.spec`))); err != nil {
			t.Fatalf("load %s: %v", u, err)
		}
	}
	load(page)

	verdict, err := run(ctx, 10*time.Second, chromedp.Text(chromedp.CSS(`#verdict-text`)))
	if err != nil || verdict != "NON-CONFORMANT" {
		t.Errorf("verdict %q (%v)", verdict, err)
	}
	regs, err := run(ctx, 10*time.Second, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#regs li')).map(li => li.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	wantReg := "fail Patient Access API, Medicare Advantage — 42 CFR 422.119: 7 requirements fail, 1 untested, 1 passes (of 9)."
	if len(regs) != 5 || !contains(regs, wantReg) {
		t.Errorf("regulation lines %q, want 5 with %q", regs, wantReg)
	}
	checkChartAndCauses := func(withScript bool) {
		t.Helper()
		row, err := run(ctx, 10*time.Second, chromedp.Evaluate[map[string]string](`(() => {
			const g = document.querySelector('#chart-cfr g.cov-row[data-label="42 CFR 422.119(c)(1)"]');
			if (!g) return {};
			const bb = g.getBBox();
			return {total: g.dataset.total, fail: g.dataset.fail, pass: g.dataset.pass, tested: g.dataset.tested, text: g.textContent,
				failRects: String(g.querySelectorAll('rect.cv-fail').length), width: String(Math.round(bb.width))};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if row["total"] != "4" || row["fail"] != "3" || row["pass"] != "1" || row["tested"] != "4" || row["failRects"] != "1" ||
			!strings.Contains(row["text"], "4: 4 tested · 3 fail · 1 pass") || row["width"] == "0" {
			t.Errorf("script %v: chart row for 42 CFR 422.119(c)(1): %v", withScript, row)
		}
		causes, err := run(ctx, 10*time.Second, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('details.cause')).map(d => d.querySelector('summary').textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(causes) != 4 || !strings.Contains(causes[1], "date search parameters ignored") || !strings.HasSuffix(causes[1], "— 5 specs") {
			t.Errorf("script %v: failure groups %q, want 4 with the date group second", withScript, causes)
		}
		// Failed and untested requirements first in a paragraph.
		order, err := run(ctx, 10*time.Second, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('details.cfr[data-citation="42 CFR 422.119(c)(1)"] li.cr')).map(li => li.dataset.status)`))
		order2, err2 := run(ctx, 10*time.Second, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('details.cfr[data-citation="42 CFR 422.119"] li.cr')).map(li => li.dataset.status)`))
		if err != nil || err2 != nil || strings.Join(order, " ") != "fail fail fail pass" || strings.Join(order2, " ") != "fail fail fail fail untested" {
			order = append(order, order2...)
			t.Errorf("script %v: 42 CFR 422.119 requirement order %q (%v)", withScript, order, err)
		}
	}
	checkChartAndCauses(true)

	// The representative body is shown as text, pretty-printed.
	body, err := run(ctx, 10*time.Second, chromedp.Evaluate[string](`document.querySelector('#cause-2 pre.json').textContent`))
	if err != nil || !strings.Contains(body, hostileScript) || !strings.Contains(body, "\n  \"type\": \"searchset\"") {
		t.Errorf("representative body %q (%v)", body, err)
	}

	// Deep link: a fresh load with #spec= opens the spec, renders its detail and scrolls to it.
	target := "carinbb-2.0.0/eob/search/patient+_lastUpdated"
	load(page + "#spec=" + url.QueryEscape(target))
	checkTarget := func(how string) {
		t.Helper()
		got, err := run(ctx, 10*time.Second, chromedp.Evaluate[map[string]any](`(() => {
			const d = document.querySelector('details.spec.target');
			if (!d) return {};
			const r = d.getBoundingClientRect();
			return {id: d.querySelector('.sid').textContent, open: d.open, detail: !!d.querySelector('.detail'),
				inView: r.top >= -1 && r.top < window.innerHeight, tree: !!d.querySelector('.json-tree'),
				debugOpen: d.querySelector('details.debug').open, debug: d.querySelector('details.debug').textContent,
				kv: d.querySelector('.detail table.kv').textContent};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got["id"] != target || got["open"] != true || got["detail"] != true || got["inView"] != true || got["tree"] != true {
			t.Errorf("%s: deep link: %v", how, got)
		}
		if got["debugOpen"] != false || !strings.Contains(got["debug"].(string), "/src/suites/x.go:10") || strings.Contains(got["kv"].(string), "/src/") {
			t.Errorf("%s: source locations not (only) in a collapsed debug section: %v", how, got)
		}
	}
	checkTarget("load")

	// A link in a failure group opens its spec in the list (hashchange, filters hide it first).
	load(page + "#o=skip")
	if err := do(ctx, 10*time.Second, chromedp.Click(chromedp.CSS(`#cause-2 .cause-line a`)), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	target = "uscore-6.1.0/Encounter/search/patient+date"
	checkTarget("click")

	// Filter state goes into the fragment and comes back from it.
	load(page)
	if err := do(ctx, 10*time.Second, chromedp.Click(chromedp.CSS(`button.f-outcome[data-outcome="fail"]`)),
		chromedp.SetValue(chromedp.CSS(`#f-cause`), "cause-2"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-cause').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	hash, err := run(ctx, 10*time.Second, chromedp.Evaluate[string](`location.hash`))
	if err != nil || hash != "#o=fail&c=cause-2" {
		t.Errorf("fragment %q (%v), want #o=fail&c=cause-2", hash, err)
	}
	load(page + "#o=fail&c=cause-2")
	state, err := run(ctx, 10*time.Second, chromedp.Evaluate[map[string]any](`({n: document.querySelectorAll('#spec-list details.spec').length,
		fail: document.querySelector('button.f-outcome[data-outcome="fail"]').getAttribute('aria-pressed'), cause: document.getElementById('f-cause').value})`))
	if err != nil || state["n"] != float64(5) || state["fail"] != "true" || state["cause"] != "cause-2" {
		t.Errorf("state from the fragment: %v (%v)", state, err)
	}

	// A hand-made fragment with an unknown outcome or cause still shows what it can.
	load(page + "#o=bogus,fail&c=nope")
	n, err := countSpecs(ctx)
	if err != nil || n != r.Counts.Fail {
		t.Errorf("#o=bogus,fail&c=nope: %d specs (%v), want the %d failures", n, err, r.Counts.Fail)
	}

	_, console, _ := ev.snapshot()
	if len(console) > 0 {
		t.Errorf("console/log messages: %q", console)
	}

	// Without script the verdict, the regulation lines, the chart and the groups are all there.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := do(ctx, 30*time.Second, chromedp.Navigate("about:blank"), chromedp.Navigate(page), chromedp.WaitReady(chromedp.CSS(`#chart-cfr`))); err != nil {
		t.Fatal(err)
	}
	checkChartAndCauses(false)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A passing spec's bodies are linked from bodies/ (index.html stays small); a failed spec's
// stay inline; InlinePassBodies embeds both.
func TestHTMLPassBodiesLinked(t *testing.T) {
	r := faultResults(t)
	pass := faultSpec("uscore-6.1.0/patient/read", "uscore-6.1.0", "uscore.patient.search", "")
	pass.Outcome, pass.State, pass.Failure, pass.Broken = Pass, "passed", nil, nil
	pass.Evidence = pass.Evidence[:1]
	pass.Evidence[0].Exchange.ResponseBody = `{"resourceType":"Patient","id":"p-1","access_token":"SECRET-JSON-TOKEN"}`
	r.Specs = append(r.Specs, pass)
	r.Recount(faultCatalogue(t))
	for _, inline := range []bool{false, true} {
		dir := t.TempDir()
		if err := WriteAll(dir, r, Options{InlinePassBodies: inline}); err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(filepath.Join(dir, FileHTML))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?s)<script type="application/json" id="pacheck-data">(.*?)</script>`).FindSubmatch(src)
		if m == nil {
			t.Fatal("no data block")
		}
		var data jsData
		if err := json.Unmarshal(m[1], &data); err != nil {
			t.Fatal(err)
		}
		for _, s := range data.Specs {
			if len(s.Ev) == 0 || s.Ev[0].Exchange == nil {
				continue
			}
			x, e := s.Ev[0].Exchange, s.Ev[0]
			linked := s.O == Pass && !inline
			if linked != (x.ResponseBody == "" && e.RespBodyFile != "") {
				t.Errorf("inline %v: %s (%s): body %d bytes inline, file %q", inline, s.ID, s.O, len(x.ResponseBody), e.RespBodyFile)
			}
			if linked {
				b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.RespBodyFile)))
				if err != nil || !strings.Contains(string(b), `"Patient"`) || strings.Contains(string(b), "SECRET") {
					t.Errorf("linked body %s: %q (%v): missing or not redacted", e.RespBodyFile, b, err)
				}
			}
		}
	}
}
