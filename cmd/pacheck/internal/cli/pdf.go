package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/reports"
)

// FilePDF is the printed report beside index.html.
const FilePDF = "report.pdf"

// pdfTimeout bounds one print (browser start, load, layout of a large report, PDF): a report of
// 900 specs takes about a minute on a shared 2-core machine.
const pdfTimeout = 10 * time.Minute

// writePDF prints dir/index.html to dir/report.pdf with headless Chromium. The page is our own
// report, whose CSP loads nothing, served alone on loopback (the browser opens no file: URL); the
// browser still gets a throw-away profile, resolves no host name and opens no window, as the
// sign-in browser does.
func writePDF(ctx context.Context, dir string) (string, error) {
	exe, err := browser.FindChromium("")
	if err != nil {
		return "", fmt.Errorf("pdf: %w", err)
	}
	abs, err := filepath.Abs(filepath.Join(dir, reports.FileHTML))
	if err != nil {
		return "", fmt.Errorf("pdf: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("pdf: %w", err)
	}
	tmp, err := os.MkdirTemp("", "pacheck-pdf-")
	if err != nil {
		return "", fmt.Errorf("pdf: temporary browser profile: %w", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(ctx, pdfTimeout)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(filepath.Join(tmp, "profile")),
		chromedp.Env("HOME="+tmp, "XDG_CONFIG_HOME="+tmp, "XDG_CACHE_HOME="+tmp),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("block-new-web-contents", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	// The browser opens only http(s) URLs (never file:): index.html is served on loopback, alone.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pdf: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/"+reports.FileHTML {
			http.NotFound(w, r)
			return
		}
		f, err := os.Open(abs)
		if err != nil {
			http.Error(w, "report unreadable", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, "report unreadable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "", st.ModTime(), f)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	u := "http://" + ln.Addr().String() + "/" + reports.FileHTML
	// beforeprint is the report's own print preparation: paragraphs and causes open, every spec
	// listed (the appendix), failed and errored specs expanded with their evidence.
	err = chromedp.Do(bctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS(`body`)),
		chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event('beforeprint'))`))
	if err != nil {
		return "", fmt.Errorf("pdf: load %s: %w", abs, err)
	}
	t, f := true, false
	margin := 0.4
	res, err := chromedp.Call(bctx, page.PrintToPDF, page.PrintToPDFParams{
		PrintBackground: &t, DisplayHeaderFooter: &t, PreferCSSPageSize: &f, GenerateDocumentOutline: &t,
		MarginTop: &margin, MarginBottom: &margin, MarginLeft: &margin, MarginRight: &margin,
		HeaderTemplate: `<span></span>`,
		FooterTemplate: `<div style="font-size:8px;width:100%;text-align:center"><span class="title"></span> · page <span class="pageNumber"></span> of <span class="totalPages"></span></div>`,
	})
	if err != nil {
		return "", fmt.Errorf("pdf: print: %w", err)
	}
	out := filepath.Join(dir, FilePDF)
	if err := os.WriteFile(out, res.Data, 0o644); err != nil {
		return "", fmt.Errorf("pdf: %w", err)
	}
	return out, nil
}
