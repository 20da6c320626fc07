package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Static checks of index.html: one inline script whose hash is in the CSP, no server text
// outside the escaped JSON block, no external reference.
func TestHTMLStatic(t *testing.T) {
	dir := t.TempDir()
	r := fixtureResults(t, dir)
	if err := WriteAll(dir, r, Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileHTML))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	scripts := regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	if len(scripts) != 2 {
		t.Fatalf("%d <script> elements, want 2 (data block + report script)", len(scripts))
	}
	if !strings.Contains(scripts[0][1], `type="application/json"`) {
		t.Fatalf("first script is not the JSON data block: %q", scripts[0][1])
	}
	for _, bad := range []string{"</script", "<script", "<img", "<!--"} {
		if strings.Contains(strings.ToLower(scripts[0][2]), bad) {
			t.Errorf("data block contains %q", bad)
		}
	}
	var data jsData
	if err := json.Unmarshal([]byte(scripts[0][2]), &data); err != nil {
		t.Fatalf("data block is not JSON: %v", err)
	}
	if len(data.Specs) != r.Counts.Total {
		t.Errorf("data block has %d specs, want %d", len(data.Specs), r.Counts.Total)
	}
	h := sha256.Sum256([]byte(scripts[1][2]))
	hash := "sha256-" + base64.StdEncoding.EncodeToString(h[:])
	m := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSP meta element")
	}
	csp := html.UnescapeString(m[1])
	for _, want := range []string{"default-src 'none'", "script-src '" + hash + "'", "img-src data:"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'unsafe-inline'") {
		t.Errorf("CSP too lax: %q", csp)
	}
	// Outside the data block the only hostile text allowed is escaped (templates: config, target).
	rest := strings.Replace(page, scripts[0][0], "", 1)
	for _, bad := range []string{hostileScript, hostileImg, "onerror=alert", `href="javascript`, "http://", "src=\"http"} {
		if strings.Contains(rest, bad) {
			t.Errorf("index.html outside the data block contains %q", bad)
		}
	}
	if !strings.Contains(rest, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the configured hostile scope is not shown escaped in the run section")
	}
	// A large body is clipped inline and linked in full.
	r.Specs[0].Evidence[0].Exchange.ResponseBody = strings.Repeat("x", 100_000)
	dir2 := t.TempDir()
	if err := WriteAll(dir2, r, Options{InlineBodyLimit: 1000}); err != nil {
		t.Fatal(err)
	}
	files := readAll(t, dir2)
	found := false
	for name, body := range files {
		if strings.HasPrefix(name, DirBodies+"/") && len(body) == 100_000 {
			found = true
		}
	}
	if !found {
		t.Error("clipped body not written under bodies/")
	}
	if bytes.Contains(files[FileHTML], []byte(strings.Repeat("x", 1001))) {
		t.Error("index.html inlines more than InlineBodyLimit of a body")
	}
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

type browserEvents struct {
	mu       sync.Mutex
	dialogs  []string
	console  []string
	requests []string
}

func (b *browserEvents) add(list *[]string, s string) {
	b.mu.Lock()
	*list = append(*list, s)
	b.mu.Unlock()
}

func (b *browserEvents) snapshot() (d, c, r []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...), append([]string(nil), b.console...), append([]string(nil), b.requests...)
}

// newBrowser starts headless Chromium with a fresh profile and a listener for dialogs, console
// messages, log entries (CSP violations land there), exceptions and requests.
func newBrowser(t *testing.T) (context.Context, *browserEvents) {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		t.Skip("chromium not installed (Debian: apt-get install chromium); the browser test of index.html did not run")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	ev := &browserEvents{}
	// Listen starts the browser: no deadline on this first use of ctx. The callback runs in the
	// tab's read loop, so it only records, and answers a dialog from another goroutine.
	err := chromedp.Listen(ctx, func(e any) {
		switch e := e.(type) {
		case *page.EventJavascriptDialogOpening:
			ev.add(&ev.dialogs, e.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false}) //nolint:errcheck // only unblocks the page
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value))
			}
			ev.add(&ev.console, fmt.Sprintf("console.%s %s", e.Type, strings.Join(parts, " ")))
		case *runtime.EventExceptionThrown:
			ev.add(&ev.console, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			ev.add(&ev.console, fmt.Sprintf("log %s %s: %s", e.Entry.Source, e.Entry.Level, e.Entry.Text))
		case *network.EventRequestWillBeSent:
			ev.add(&ev.requests, e.Request.URL)
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	for _, enable := range []func() error{
		func() error { _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); return err },
		func() error { _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); return err },
	} {
		if err := enable(); err != nil {
			t.Fatalf("chromium: enable events: %v", err)
		}
	}
	return ctx, ev
}

// run runs one value-returning action with its own timeout, derived from the browser context.
func run[T any](ctx context.Context, d time.Duration, a chromedp.Action[T]) (T, error) {
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Run(sctx, a)
}

// do runs actions with one timeout derived from the browser context.
func do(ctx context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Do(sctx, steps...)
}

// artifactDir is where the browser test leaves its screenshot (ignored by git).
func artifactDir(t *testing.T) string {
	dir := filepath.Join("testdata", "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func countSpecs(ctx context.Context) (int, error) {
	return run(ctx, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll('#spec-list details.spec').length`))
}

func TestHTMLInChromium(t *testing.T) {
	ctx, ev := newBrowser(t)
	dir := t.TempDir()
	r := fixtureResults(t, dir)
	ApplyKnownIssues(r, []KnownIssue{{Spec: "uscore-6.1.0/patient/search/name", Reason: "ticket " + hostileScript, Expires: "2999-12-31"}}, r.Run.Start)
	if err := WriteAll(dir, r, Options{}); err != nil {
		t.Fatal(err)
	}
	fileURL := "file://" + filepath.Join(dir, FileHTML)

	if err := do(ctx, 30*time.Second, chromedp.Navigate(fileURL), chromedp.WaitVisible(chromedp.CSS(`#spec-list details.spec`))); err != nil {
		t.Fatalf("load report: %v", err)
	}
	// Counts shown equal results.json.
	var back Results
	data, _ := os.ReadFile(filepath.Join(dir, FileResults))
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"total": back.Counts.Total, "pass": back.Counts.Pass, "fail": back.Counts.Fail,
		"error": back.Counts.Error, "skip": back.Counts.Skip, "known": back.Counts.Known}
	for k, n := range want {
		txt, err := run(ctx, 10*time.Second, chromedp.Text(chromedp.CSS("#count-"+k)))
		if err != nil {
			t.Fatalf("read count %s: %v", k, err)
		}
		if got, err := strconv.Atoi(strings.TrimSpace(txt)); err != nil || got != n {
			t.Errorf("count %s shown %q, results.json has %d", k, txt, n)
		}
	}
	if back.Counts.Known != 1 || back.Counts.Fail != 1 {
		t.Errorf("fixture counts %+v", back.Counts)
	}
	shown, err := run(ctx, 10*time.Second, chromedp.Text(chromedp.CSS(`#shown-info`)))
	if err != nil || !strings.HasPrefix(shown, fmt.Sprintf("Showing %d of %d", back.Counts.Total, back.Counts.Total)) {
		t.Errorf("shown-info %q (%v): the report script did not run", shown, err)
	}

	// Expand everything: all evidence, with its hostile text, is rendered, as text.
	if err := do(ctx, 30*time.Second, chromedp.Click(chromedp.CSS(`#expand-all`)), chromedp.WaitVisible(chromedp.CSS(`#spec-list .ev`))); err != nil {
		t.Fatalf("expand: %v", err)
	}
	bodyText, err := run(ctx, 10*time.Second, chromedp.Evaluate[string](`document.getElementById('spec-list').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{hostileScript, hostileImg, hostileAttr, hostileJS, "alert(2)"} {
		if !strings.Contains(bodyText, s) {
			t.Errorf("hostile text %q not shown as text", s)
		}
	}
	for _, s := range secrets {
		if strings.Contains(bodyText, s) {
			t.Errorf("secret %s shown", s)
		}
	}
	active, err := run(ctx, 10*time.Second, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('*')).filter(e =>
		Array.from(e.attributes).some(a => /^on/i.test(a.name) ||
			(/^(href|src|action|formaction|xlink:href|srcdoc|style)$/i.test(a.name) && /javascript:|expression\(/i.test(a.value)))).map(e => e.outerHTML.slice(0, 120))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(active) > 0 {
		t.Errorf("elements with event handlers or javascript: URLs: %q", active)
	}
	nScripts, err := run(ctx, 10*time.Second, chromedp.Evaluate[int](`document.scripts.length`))
	if err != nil || nScripts != 2 {
		t.Errorf("%d script elements after rendering (%v), want 2", nScripts, err)
	}
	imgs, err := run(ctx, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll('img.shot[src^="data:image/png;base64,"]').length`))
	if err != nil || imgs != 1 {
		t.Errorf("inline screenshot: %d images, err %v", imgs, err)
	}

	// Screenshot of the expanded report, kept as a test artifact.
	shot, err := run(ctx, 30*time.Second, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out := filepath.Join(artifactDir(t), "report.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot saved to %s", out)

	// A filter click hides non-matching specs.
	if err := do(ctx, 10*time.Second, chromedp.Click(chromedp.CSS(`button.f-outcome[data-outcome="fail"]`))); err != nil {
		t.Fatalf("filter: %v", err)
	}
	outcomes, err := run(ctx, 10*time.Second, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#spec-list details.spec')).map(d => d.getAttribute('data-outcome'))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != back.Counts.Fail || back.Counts.Fail == 0 {
		t.Errorf("after the fail filter %d specs shown (%q), want %d", len(outcomes), outcomes, back.Counts.Fail)
	}
	for _, o := range outcomes {
		if o != "fail" {
			t.Errorf("fail filter shows a %q spec", o)
		}
	}
	// Off again, then the IG filter, then free text on top.
	if err := do(ctx, 10*time.Second, chromedp.Click(chromedp.CSS(`button.f-outcome[data-outcome="fail"]`))); err != nil {
		t.Fatal(err)
	}
	if n, err := countSpecs(ctx); err != nil || n != back.Counts.Total {
		t.Errorf("filter off: %d specs (%v), want %d", n, err, back.Counts.Total)
	}
	if err := do(ctx, 10*time.Second, chromedp.SetValue(chromedp.CSS(`#f-group`), "smart-2.0.0"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-group').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	if n, err := countSpecs(ctx); err != nil || n != 2 {
		t.Errorf("IG filter: %d specs (%v), want 2", n, err)
	}
	if err := do(ctx, 10*time.Second, chromedp.SendKeys(chromedp.CSS(`#f-text`), "accepted"), chromedp.Sleep(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n, err := countSpecs(ctx); err != nil || n != 1 {
		t.Errorf("IG + text filter: %d specs (%v), want 1", n, err)
	}

	time.Sleep(300 * time.Millisecond) // let late events arrive
	dialogs, console, requests := ev.snapshot()
	if len(dialogs) > 0 {
		t.Errorf("dialogs opened: %q", dialogs)
	}
	if len(console) > 0 {
		t.Errorf("console/log messages: %q", console)
	}
	if len(requests) == 0 {
		t.Error("no request seen at all: the network listener is not working")
	}
	for _, u := range requests {
		if u != fileURL && !strings.HasPrefix(u, "data:") {
			t.Errorf("request to %q; only the report file itself may load", u)
		}
	}

	// Control: the listeners do see a dialog, a console message and a request when a page makes
	// them, so the empty lists above mean something.
	control := filepath.Join(dir, "control.html")
	os.WriteFile(control, []byte(`<!DOCTYPE html><img src="http://127.0.0.1:9/x.png"><script>console.log("control"); alert("control")</script>`), 0o644)
	_ = do(ctx, 15*time.Second, chromedp.Navigate("file://"+control))
	time.Sleep(500 * time.Millisecond)
	d2, c2, r2 := ev.snapshot()
	if len(d2) == len(dialogs) || len(c2) == len(console) || len(r2) <= len(requests)+1 {
		t.Errorf("control page not observed: dialogs %d->%d, console %d->%d, requests %d->%d",
			len(dialogs), len(d2), len(console), len(c2), len(requests), len(r2))
	}
}

// 10,000 specs: the page renders lazily (a page of rows, not all of them) and filters still work.
func TestHTMLInChromiumLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: large report test skipped")
	}
	ctx, ev := newBrowser(t)
	dir := t.TempDir()
	r := bigResults(t, 10_000, 1_000) // BenchmarkFromGinkgoAndWriteAll10k covers 100 MB
	if err := WriteAll(dir, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := do(ctx, 60*time.Second, chromedp.Navigate("file://"+filepath.Join(dir, FileHTML)), chromedp.WaitVisible(chromedp.CSS(`#spec-list details.spec`))); err != nil {
		t.Fatalf("load: %v", err)
	}
	n, err := countSpecs(ctx)
	if err != nil || n != 200 {
		t.Errorf("%d rows rendered (%v), want one page of 200", n, err)
	}
	if err := do(ctx, 30*time.Second, chromedp.Click(chromedp.CSS(`button.f-outcome[data-outcome="fail"]`))); err != nil {
		t.Fatal(err)
	}
	info, err := run(ctx, 10*time.Second, chromedp.Text(chromedp.CSS(`#shown-info`)))
	if err != nil || !strings.Contains(info, fmt.Sprintf("of %d matching", r.Counts.Fail)) {
		t.Errorf("shown-info %q (%v), want %d matching", info, err, r.Counts.Fail)
	}
	if err := do(ctx, 30*time.Second, chromedp.Click(chromedp.CSS(`#show-more`))); err != nil {
		t.Fatal(err)
	}
	if n, err := countSpecs(ctx); err != nil || n != 400 {
		t.Errorf("after show more: %d rows (%v), want 400", n, err)
	}
	_, console, _ := ev.snapshot()
	if len(console) > 0 {
		t.Errorf("console/log messages: %q", console)
	}
}
