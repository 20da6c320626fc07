package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/internal/totp"
)

// Result is the outcome of one Authorize.
type Result struct {
	RedirectURL string     // the captured redirect; it carries the code, so treat it as a secret
	Method      string     // GET normally; POST for response_mode=form_post
	Query       url.Values // its query parameters (code, state, error, error_description, iss), or the form_post body
	Pages       int        // pages handled
	Controls    []string   // what the default strategy used, one line per page (no secrets)
	Evidence    []evidence.Entry
	Trace       []PageTrace // every page handled, what it held and what was done (pacheck login)
	// Consent is the consent page as the member saw it: the page the default strategy approved
	// as a consent page, or with explicit steps the last page handled before the redirect (nil
	// when no page was handled or, with the default strategy, none was a consent page).
	Consent *PageSnapshot
}

// PageTrace is one page of a sign-in: its URL (redacted), what the analysis found on it and what
// was done there. Nothing secret: typed secrets are masked.
type PageTrace struct {
	URL        string
	Controls   string // title, inputs with labels, buttons with text
	Action     string // what was done ("" when the sign-in stopped on the page)
	Screenshot *evidence.File
}

// StepError is a failed or timed-out step. Its text names the page URL (redacted), the step and
// the selector; Screenshot is the last screenshot taken (also in the Result's evidence).
type StepError struct {
	URL        string
	Step       string
	Selector   string
	Err        error
	Screenshot *evidence.File
	PageText   string // the start of the page's visible text (redacted), for diagnostics; may echo server text
	// Diagnosis, when the default strategy could not go on, names the page's title and controls
	// and suggests login.steps for it (several lines).
	Diagnosis string
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "browser: page %s: step %s", e.URL, e.Step)
	if e.Selector != "" {
		fmt.Fprintf(&b, " (selector %q)", e.Selector)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.Screenshot != nil {
		fmt.Fprintf(&b, " [screenshot %s]", e.Screenshot.Path)
	}
	if e.Diagnosis != "" {
		// The page's controls stay on the first line (root-cause reasons keep one line); the
		// suggested steps follow on their own lines.
		page, steps, _ := strings.Cut(e.Diagnosis, "\n")
		b.WriteString("; " + page)
		if steps != "" {
			b.WriteString("\n" + steps)
		}
	}
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

// ErrNoControls is wrapped when the default strategy finds neither a login form nor an approve
// button: typically the server stopped at an error page (what a refused redirect_uri, client_id or
// aud should produce). Probes test for it with errors.Is.
var ErrNoControls = errors.New("found neither a login form (password field) nor an approve/allow/authorize/accept/continue button")

// ErrNoProgress is wrapped when the page neither navigated nor redirected after its step.
var ErrNoProgress = errors.New("the page did not change and no redirect to the redirect_uri was captured")

// Authorize opens authorizeURL in an incognito tab with nothing of other sign-ins (a new one, or
// one signed out after an earlier sign-in: see tabs.go), runs steps (or the default strategy when
// steps is empty) with Options.Credentials, and returns the captured redirect to redirectURI.
func (b *Browser) Authorize(ctx context.Context, authorizeURL, redirectURI string, steps []Step) (*Result, error) {
	return b.AuthorizeAs(ctx, authorizeURL, redirectURI, b.opts.Credentials, steps)
}

// AuthorizeAs is Authorize with explicit credentials (e.g. a second member for probes).
func (b *Browser) AuthorizeAs(ctx context.Context, authorizeURL, redirectURI string, creds Credentials, steps []Step) (*Result, error) {
	if err := Validate(steps); err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	ru, err := url.Parse(redirectURI)
	if err != nil || !ru.IsAbs() || ru.Host == "" {
		return nil, fmt.Errorf("browser: redirect_uri %q is not an absolute URL", redirectURI)
	}
	if ru.Path == "" {
		ru.Path = "/"
	}
	ru.Fragment = ""
	prefix := ru.String()
	// Vet the authorization endpoint before anything is opened: a file:, data: or plain-http
	// (for an https target) endpoint never reaches the browser.
	au, err := vetAuthorizeURL(authorizeURL, b.opts.Target)
	if err != nil {
		res := &Result{}
		e := evidence.Entry{Kind: evidence.KindBrowserStep, Title: "authorization endpoint refused", Text: err.Error()}
		res.Evidence = append(res.Evidence, e)
		if b.opts.Recorder != nil {
			b.opts.Recorder(e)
		}
		return res, fmt.Errorf("browser: %w", err)
	}
	if au.String() != authorizeURL {
		authorizeURL = au.String() // userinfo dropped
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, errors.New("browser: the browser was closed (Close was called, e.g. on an interrupt)")
	}
	extra := b.origins
	if t, err := url.Parse(b.opts.Target); err == nil && originOf(t) != "" {
		extra = append([]string{originOf(t)}, extra...)
	}
	pol := newPolicy(au, ru, extra)

	t := b.takeTab(ctx)
	tabCtx := t.ctx
	deadline := time.Now().Add(b.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	r := &run{b: b, ctx: ctx, tab: tabCtx, deadline: deadline, creds: creds, res: &Result{}, scopes: requestedScopes(authorizeURL),
		captured: make(chan struct{}), aborted: make(chan struct{}), prefix: prefix, pol: pol}
	if creds.Password != "" {
		r.secrets = append(r.secrets, creds.Password)
	}
	// Steps derive from base, which an abort (a blocked navigation, a dialog flood) cancels.
	r.base, r.baseCancel = context.WithCancel(tabCtx)
	defer r.baseCancel()

	// The page is policed until the tab is closed or signed out (in the background: the result
	// does not wait for it; Close does).
	listenCtx, stopListening := context.WithCancel(tabCtx)
	var res *Result
	defer func() { b.releaseTab(t, r, stopListening, r.reusable(res, err)) }()
	// The first call on a new tab opens it with the tab's own context, which the tab then lives
	// as long as: no deadline, and not the listener's.
	if err = chromedp.Do(tabCtx); err != nil {
		return nil, fmt.Errorf("browser: opening a tab: %w", err)
	}
	if err = chromedp.Listen(listenCtx, r.onEvent); err != nil {
		return nil, fmt.Errorf("browser: opening a tab: %w", err)
	}
	if c := chromedp.FromContext(tabCtx); c != nil && c.Target != nil {
		r.mainFrame = cdp.FrameID(c.Target.TargetID) // a page's main frame has the target's id
	}
	// Intercept the redirect (captured, never sent), every document (page or frame) request, which
	// the policy allows or blocks, and every request for a scheme a page must not load.
	patterns := []*fetch.RequestPattern{
		{URLPattern: globEscape(prefix) + "*", RequestStage: fetch.RequestStageRequest},
		{URLPattern: "*", ResourceType: network.ResourceTypeDocument, RequestStage: fetch.RequestStageRequest},
	}
	for _, scheme := range blockedSchemes {
		patterns = append(patterns, &fetch.RequestPattern{URLPattern: scheme + ":*", RequestStage: fetch.RequestStageRequest})
	}
	if _, err = chromedp.Call(tabCtx, fetch.Enable, fetch.EnableParams{Patterns: patterns}); err != nil {
		return nil, fmt.Errorf("browser: enabling request interception: %w", err)
	}
	res, err = r.flow(authorizeURL, steps)
	r.drain()
	return res, err
}

// blockedSchemes are the non-http(s) schemes whose requests are intercepted and failed, whatever
// the resource (data: needs no network and is left to Chromium, which refuses data: pages opened
// by a page; blob: content is made by the page itself).
var blockedSchemes = []string{"file", "filesystem", "chrome", "chrome-extension", "chrome-untrusted", "devtools", "view-source", "ftp"}

type run struct {
	b          *Browser
	ctx        context.Context // caller's
	tab        context.Context
	base       context.Context // child of tab that abort cancels; steps derive from it
	baseCancel context.CancelFunc
	pol        *policy
	mainFrame  cdp.FrameID
	limit      string // the time limit of the last step context, for error messages

	deadline   time.Time
	creds      Credentials
	res        *Result
	prefix     string
	captured   chan struct{} // closed when capURL is set
	capMu      sync.Mutex
	capURL     string
	capPost    string   // method POST: the form body
	secrets    []string // values to mask wherever they might show
	masked     []string // selectors of non-password fields holding secrets on the current page
	lastShot   *evidence.File
	pageShot   bool     // a screenshot of the current page was taken
	scopes     []string // the requested scopes (ticked on consent pages)
	lastPlan   *plan    // the default strategy's analysis of the current page
	diag       string   // the diagnosis of the failure being reported
	lastAction string   // what the default strategy did on the current page (for the trace)
	pageURL    string
	consent    *PageSnapshot // the consent page seen so far (Result.Consent)

	mu          sync.Mutex // guards the fields below, written by event goroutines
	origins     []string   // of the documents loaded (cleared when the tab is signed out)
	framed      bool       // a frame's document was loaded
	aborted     chan struct{}
	abortErr    error
	dialogs     int
	firstDialog string
	blockedN    int
	async       []evidence.Entry // evidence from event goroutines; drained by the flow goroutine
	shotRefused bool
}

// onEvent runs on chromedp's reader goroutine: never block, act in a goroutine.
func (r *run) onEvent(ev any) {
	switch e := ev.(type) {
	case *fetch.EventRequestPaused:
		go r.onPaused(e)
	case *page.EventJavascriptDialogOpening:
		go r.onDialog(e)
	}
}

func (r *run) onPaused(e *fetch.EventRequestPaused) {
	u := e.Request.URL + e.Request.URLFragment
	if r.isRedirect(u) {
		r.capMu.Lock()
		if r.capURL == "" {
			r.capURL = u
			if e.Request.Method == "POST" {
				var b strings.Builder
				for _, p := range e.Request.PostDataEntries {
					b.Write(p.Bytes)
				}
				r.capPost = b.String()
				if r.capPost == "" {
					r.capPost = "\x00" // POST without readable body
				}
			}
			close(r.captured)
		}
		r.capMu.Unlock()
		_, _ = chromedp.Call(r.tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonAborted})
		return
	}
	pe := r.pol.check(u)
	if pe == nil || (e.ResourceType != network.ResourceTypeDocument && isHTTP(u)) {
		// An allowed page, or a subresource of one (matched by the redirect pattern only).
		if e.ResourceType == network.ResourceTypeDocument {
			if pu, err := url.Parse(u); err == nil {
				r.noteDocument(originOf(pu), r.mainFrame != "" && e.FrameID != r.mainFrame)
			}
		}
		_, _ = chromedp.Call(r.tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
		return
	}
	_, _ = chromedp.Call(r.tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
	main := e.ResourceType == network.ResourceTypeDocument && (e.FrameID == r.mainFrame || r.mainFrame == "")
	what := "a page"
	switch {
	case !main && e.ResourceType == network.ResourceTypeDocument:
		what = "a frame"
	case !main:
		what = fmt.Sprintf("a subresource (%s)", e.ResourceType)
	}
	r.mu.Lock()
	r.blockedN++
	if r.blockedN <= 5 {
		r.async = append(r.async, evidence.Entry{Kind: evidence.KindBrowserStep, Title: "navigation blocked",
			Text: fmt.Sprintf("The browser refused %s %s (%s); the request was not sent.", what, pe.URL, pe.Reason)})
	}
	r.mu.Unlock()
	if main {
		r.abort(pe)
	}
}

// onDialog dismisses a JavaScript dialog at once (accepting beforeunload, so the sign-in's own
// navigation goes on) and notes it; too many end the sign-in.
func (r *run) onDialog(e *page.EventJavascriptDialogOpening) {
	_, _ = chromedp.Call(r.tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: e.Type == page.DialogTypeBeforeunload})
	desc := fmt.Sprintf("the page opened a JavaScript %s dialog: \"%s\"", stripControl(string(e.Type)), clip(stripControl(e.Message), 200))
	r.mu.Lock()
	r.dialogs++
	n := r.dialogs
	if n == 1 {
		r.firstDialog = desc
	}
	if n <= 3 {
		r.async = append(r.async, evidence.Entry{Kind: evidence.KindBrowserStep, Title: "JavaScript dialog dismissed",
			Text: "page: " + redactURL(e.URL) + "\n" + desc})
	}
	first := r.firstDialog
	r.mu.Unlock()
	if n > r.b.opts.MaxDialogs {
		r.abort(fmt.Errorf("%w: more than %d (MaxDialogs), the first: %s", ErrDialogs, r.b.opts.MaxDialogs, first))
	}
}

// abortStep names the step of an aborted sign-in.
func abortStep(err error) string {
	if errors.Is(err, ErrDialogs) {
		return "JavaScript dialogs"
	}
	return "navigation policy"
}

// ErrDialogs is wrapped when a sign-in ends because its pages kept opening JavaScript dialogs.
var ErrDialogs = errors.New("the page keeps opening JavaScript dialogs")

// abort ends the sign-in with err (the first reason wins): every running step is cancelled.
func (r *run) abort(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.abortErr != nil {
		return
	}
	r.abortErr = err
	close(r.aborted)
	if r.baseCancel != nil {
		r.baseCancel()
	}
}

// aborting returns the abort reason, or nil.
func (r *run) aborting() error {
	select {
	case <-r.aborted:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.abortErr
	default:
		return nil
	}
}

// drain moves the evidence event goroutines collected into the result (flow goroutine only).
func (r *run) drain() {
	r.mu.Lock()
	pending := r.async
	r.async = nil
	r.mu.Unlock()
	for _, e := range pending {
		r.record(e)
	}
}

func isHTTP(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

func (r *run) isRedirect(u string) bool {
	if !strings.HasPrefix(u, r.prefix) {
		return false
	}
	rest := u[len(r.prefix):]
	return rest == "" || strings.ContainsAny(rest[:1], "?#&")
}

func (r *run) takeCapture() (string, bool) {
	select {
	case <-r.captured:
		r.capMu.Lock()
		defer r.capMu.Unlock()
		return r.capURL, true
	default:
		return "", false
	}
}

func (r *run) finish(u string) (*Result, error) {
	r.res.Consent = r.consent
	r.res.RedirectURL = u
	r.res.Method = "GET"
	r.capMu.Lock()
	post := r.capPost
	r.capMu.Unlock()
	if post != "" {
		r.res.Method = "POST"
		if fq, err := url.ParseQuery(post); err == nil && post != "\x00" {
			r.res.Query = fq
		}
		r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: "redirect captured (form_post)",
			Text: "The browser posted a form to the redirect_uri; the request was intercepted and not sent.\nredirect: " + fhirhttp.Redact(u) + "\nbody: " + fhirhttp.Redact(post)})
		return r.res, nil
	}
	if pu, err := url.Parse(u); err == nil {
		q := pu.Query()
		if q.Get("code") == "" && q.Get("error") == "" && pu.Fragment != "" {
			if fq, err := url.ParseQuery(pu.Fragment); err == nil {
				q = fq
			}
		}
		r.res.Query = q
	}
	r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: "redirect captured",
		Text: "The browser was sent to the redirect_uri; the request was intercepted and not sent.\nredirect: " + fhirhttp.Redact(u)})
	return r.res, nil
}

func (r *run) evidence(e evidence.Entry) {
	r.drain()
	r.record(e)
}

func (r *run) record(e evidence.Entry) {
	e.Text = r.mask(e.Text)
	e.Title = r.mask(e.Title)
	r.res.Evidence = append(r.res.Evidence, e)
	if r.b.opts.Recorder != nil {
		r.b.opts.Recorder(e)
	}
}

func (r *run) mask(s string) string {
	for _, v := range r.secrets {
		if len(v) >= 3 {
			s = strings.ReplaceAll(s, v, fhirhttp.Mask)
		}
	}
	return fhirhttp.Redact(s)
}

// stepCtx derives a per-step context from the tab (never from the first call's context) and
// notes which limit bounds it, for the error message.
func (r *run) stepCtx(d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel, limit := r.boundCtx(d)
	r.limit = limit
	return ctx, cancel
}

// boundCtx is stepCtx without noting the limit (for helper calls inside a step).
func (r *run) boundCtx(d time.Duration) (context.Context, context.CancelFunc, string) {
	dl := time.Now().Add(d)
	limit := fmt.Sprintf("the step's time limit of %s", d)
	if dl.After(r.deadline) {
		dl = r.deadline
		limit = fmt.Sprintf("the sign-in's time limit of %s (Options.Timeout, or the caller's deadline when sooner)", r.b.opts.Timeout)
	}
	parent := r.base
	if parent == nil {
		parent = r.tab
	}
	ctx, cancel := context.WithDeadline(parent, dl)
	stop := context.AfterFunc(r.ctx, cancel)
	return ctx, func() { stop(); cancel() }, limit
}

func (r *run) fail(step, selector string, err error) error {
	limit := r.limit
	r.b.mu.Lock()
	closed := r.b.closed
	r.b.mu.Unlock()
	if closed {
		err = fmt.Errorf("the browser was closed during the sign-in (Close or CloseAll, e.g. on an interrupt): %w", err)
	} else if ab := r.aborting(); ab != nil {
		err = ab // a blocked navigation or a dialog flood is the real cause of whatever failed
	} else if cause := context.Cause(r.ctx); cause != nil {
		how := "cancelled"
		if errors.Is(cause, context.DeadlineExceeded) {
			how = "its deadline passed"
		}
		err = fmt.Errorf("the caller ended the sign-in (%s): %w", how, cause)
	} else if errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "within") {
		err = fmt.Errorf("%s ran out: %w", limit, err)
	}
	r.mu.Lock()
	dialogs, first := r.dialogs, r.firstDialog
	r.mu.Unlock()
	if dialogs > 0 && !errors.Is(err, ErrDialogs) {
		err = fmt.Errorf("%w (meanwhile %s; %d dialog(s) in all, each dismissed)", err, first, dialogs)
	}
	r.screenshot("failed " + step)
	me := &maskedErr{msg: r.mask(err.Error())}
	for _, cause := range []error{context.DeadlineExceeded, context.Canceled, ErrNoProgress, ErrNoControls, ErrCaptcha, ErrDialogs, ErrBlocked} {
		if errors.Is(err, cause) {
			me.cause = cause
		}
	}
	var pe *PolicyError
	if errors.As(err, &pe) {
		me.cause = pe // redacted already; keeps errors.As and errors.Is(err, ErrBlocked)
	}
	se := &StepError{URL: fhirhttp.Redact(r.pageURL), Step: step, Selector: selector, Err: me, Screenshot: r.lastShot, PageText: r.pageText(), Diagnosis: r.diag}
	r.diag = ""
	if r.lastPlan != nil || r.b.opts.Trace {
		r.traceEnd(se.Error())
	}
	r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: "step failed: " + step, Text: se.Error(), Screenshot: r.lastShot})
	return se
}

// maskedErr carries an error's text with secrets masked, keeping its known cause for errors.Is.
type maskedErr struct {
	msg   string
	cause error
}

func (e *maskedErr) Error() string { return e.msg }
func (e *maskedErr) Unwrap() error { return e.cause }

// pageText returns the start of document.body.innerText, masked.
func (r *run) pageText() string {
	if _, ok := r.pageAllowed(); !ok {
		return "" // a page outside the allowed origins (or a local file) is never read
	}
	ctx, cancel, _ := r.boundCtx(2 * time.Second)
	defer cancel()
	txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.body ? document.body.innerText : "").slice(0, 500)`))
	if err != nil {
		return ""
	}
	return r.mask(strings.Join(strings.Fields(txt), " "))
}

// screenshot captures the viewport (secret fields masked) and returns the file (or nil).
func (r *run) screenshot(label string) *evidence.File {
	if r.b.opts.EvidenceDir == "" {
		return nil // nowhere to keep it: capturing would only cost time
	}
	cur, ok := r.pageAllowed()
	if !ok {
		// Never photograph a page outside the allowed origins: it may show a local file or a
		// blocked URL with a typed secret in it.
		r.mu.Lock()
		first := !r.shotRefused
		r.shotRefused = true
		r.mu.Unlock()
		if first && cur != "" {
			why := "it is not on an allowed origin (" + strings.Join(r.pol.origins, ", ") + ")"
			if strings.HasPrefix(cur, "chrome-error:") {
				why = "it is the browser's error page for a request that failed or was blocked"
			}
			r.record(evidence.Entry{Kind: evidence.KindBrowserStep, Title: "no screenshot",
				Text: "No screenshot of the page at " + redactURL(cur) + ": " + why + "."})
		}
		return nil
	}
	ctx, cancel, _ := r.boundCtx(5 * time.Second)
	defer cancel()
	if len(r.masked) > 0 {
		sels, _ := json.Marshal(r.masked)
		_, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { for (const s of `+string(sels)+`) { const e = document.querySelector(s); if (e) e.style.webkitTextSecurity = 'disc'; } return true; })()`))
	}
	yes := true
	shot, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng,
		FromSurface: &yes, OptimizeForSpeed: &yes}) // PNG encoded for speed: larger files, less CPU
	if err != nil {
		return nil
	}
	png := shot.Data
	f, err := r.b.saveScreenshot(png, label, redactURL(cur))
	if err != nil || f == nil {
		return nil
	}
	r.lastShot = f
	r.pageShot = true
	return f
}

// pageAllowed returns the main frame's URL as the browser knows it (not as the page's script might
// claim) and whether it is an http(s) page on an allowed origin.
func (r *run) pageAllowed() (string, bool) {
	ctx, cancel, _ := r.boundCtx(2 * time.Second)
	defer cancel()
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil || tree.FrameTree == nil || tree.FrameTree.Frame == nil {
		return "", false
	}
	f := tree.FrameTree.Frame
	if f.UnreachableURL != "" {
		return f.URL, false // the browser's error page for a URL that failed
	}
	u := f.URL + f.URLFragment
	return u, r.pol.allowedPage(u)
}

// guardTyping refuses to type into a page that is not on an allowed origin.
func (r *run) guardTyping() error {
	cur, ok := r.pageAllowed()
	if ok {
		return nil
	}
	if ab := r.aborting(); ab != nil {
		return ab
	}
	if cur == "" {
		return errors.New("nothing typed: the browser could not say which page is shown")
	}
	pe := r.pol.check(cur)
	if pe == nil {
		pe = &PolicyError{URL: redactURL(cur), Reason: "the page is not an http(s) page on an allowed origin"}
	}
	pe.Reason = "nothing typed: " + pe.Reason
	return pe
}

func (r *run) flow(authorizeURL string, steps []Step) (*Result, error) {
	r.pageURL = authorizeURL
	ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
	_, navErr := chromedp.Run(ctx, chromedp.Navigate(authorizeURL))
	cancel()
	if u, ok := r.takeCapture(); ok {
		return r.finish(u)
	}
	if navErr != nil {
		// The navigation may have been cut by an interception that is still being handled.
		if u, ok := r.waitCapture(500 * time.Millisecond); ok {
			return r.finish(u)
		}
		if ab := r.aborting(); ab != nil {
			return r.res, r.fail(abortStep(ab), "", ab)
		}
		if strings.Contains(navErr.Error(), "ERR_UNSAFE_REDIRECT") {
			navErr = fmt.Errorf("%w: the server redirected the browser to a URL a page may not open (such as a file: URL); nothing was loaded from it", ErrBlocked)
		}
		return r.res, r.fail("navigate to the authorization endpoint", "", navErr)
	}
	used := map[int]bool{}
	lastKind := ""
	for page := 1; ; page++ {
		cur, err := r.waitReady()
		if u, ok := r.takeCapture(); ok {
			return r.finish(u)
		}
		if ab := r.aborting(); ab != nil {
			return r.res, r.fail(abortStep(ab), "", ab)
		}
		if err != nil {
			return r.res, r.fail("wait for the page to load", "", err)
		}
		r.pageURL = cur
		r.masked = nil
		if page > r.b.opts.MaxPages {
			return r.res, r.fail("page limit", "", fmt.Errorf("no redirect after %d pages (MaxPages)", r.b.opts.MaxPages))
		}
		if time.Now().After(r.deadline) {
			return r.res, r.fail("time limit", "", fmt.Errorf("no redirect within %s (Timeout): %w", r.b.opts.Timeout, context.DeadlineExceeded))
		}
		r.res.Pages = page
		mark := fmt.Sprintf("m%d-%d", page, time.Now().UnixNano())
		if err := r.setMark(mark); err != nil {
			if u, ok := r.takeCapture(); ok {
				return r.finish(u)
			}
			continue // navigated under us: handle the new page
		}
		r.pageShot = false
		r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: fmt.Sprintf("page %d loaded", page),
			Text: "page: " + fhirhttp.Redact(cur)})

		r.lastPlan = nil
		if len(steps) > 0 {
			if r.b.opts.Trace {
				r.inventory()
			}
			idx, err := r.chooseStep(steps, used, cur)
			if u, ok := r.takeCapture(); ok {
				return r.finish(u)
			}
			if err != nil {
				return r.res, err
			}
			used[idx] = true
			r.consent = r.snapshot("") // explicit steps: the last page before the redirect
			nEv := len(r.res.Evidence)
			if err := r.runStep(idx, steps[idx]); err != nil {
				if u, ok := r.takeCapture(); ok {
					return r.finish(u)
				}
				return r.res, err
			}
			r.traceStep(idx, nEv)
		} else {
			kind, err := r.defaultPage(lastKind)
			if err != nil {
				if u, ok := r.takeCapture(); ok {
					return r.finish(u)
				}
				return r.res, err
			}
			r.traceDefault()
			lastKind = kind
		}
		if !r.pageShot {
			// Steps without a click or screenshot action: the page still gets its screenshot.
			if _, ok := r.takeCapture(); !ok {
				label := fmt.Sprintf("page %d after its steps", page)
				r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: label, Text: "page: " + fhirhttp.Redact(cur), Screenshot: r.screenshot(label)})
			}
		}
		if r.consent != nil && r.consent.URL == redactURL(cur) {
			r.shotOf(r.consent)
		}
		if u, ok := r.waitProgress(cur, mark); ok {
			return r.finish(u)
		} else if u == "timeout" {
			return r.res, r.fail("wait for the next page after the actions", "", ErrNoProgress)
		}
	}
}

func (r *run) waitCapture(d time.Duration) (string, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.captured:
		return r.takeCapture()
	case <-r.aborted:
		return r.takeCapture()
	case <-t.C:
		return "", false
	}
}

type pageState struct {
	Ready string `json:"ready"`
	Href  string `json:"href"`
	Mark  string `json:"mark"`
}

func (r *run) state(timeout time.Duration) (pageState, error) {
	ctx, cancel := r.stepCtx(timeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[pageState](`({ready: document.readyState, href: location.href, mark: String(window.__pacheckMark || "")})`))
}

// waitReady waits for document.readyState complete and returns location.href.
func (r *run) waitReady() (string, error) {
	end := time.Now().Add(r.b.opts.StepTimeout)
	var last error
	for time.Now().Before(end) && time.Now().Before(r.deadline) {
		if _, ok := r.takeCapture(); ok {
			return "", nil
		}
		if err := r.aborting(); err != nil {
			return "", err
		}
		st, err := r.state(2 * time.Second)
		if err == nil && st.Ready == "complete" && !strings.HasPrefix(st.Href, "chrome-error:") {
			return st.Href, nil
		}
		if err == nil && strings.HasPrefix(st.Href, "chrome-error:") {
			last = errors.New("the browser shows an error page (the server could not be reached or the request failed)")
		} else if err != nil {
			last = err
		} else {
			last = fmt.Errorf("document.readyState is %q", st.Ready)
		}
		if _, ok := r.waitCapture(100 * time.Millisecond); ok {
			return "", nil
		}
	}
	if last == nil {
		last = context.DeadlineExceeded
	}
	if !time.Now().Before(r.deadline) {
		return "", fmt.Errorf("page not loaded within the sign-in's time limit of %s (Options.Timeout, or the caller's deadline when sooner): %v: %w", r.b.opts.Timeout, last, context.DeadlineExceeded)
	}
	return "", fmt.Errorf("page not loaded within %s (StepTimeout): %v: %w", r.b.opts.StepTimeout, last, context.DeadlineExceeded)
}

func (r *run) setMark(mark string) error {
	ctx, cancel := r.stepCtx(2 * time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.__pacheckMark = `+jsString(mark)+`, true)`))
	return err
}

// waitProgress waits until the redirect is captured (returns it, true), the document or URL
// changed (returns "", false) or StepTimeout passes (returns "timeout", false).
func (r *run) waitProgress(prevURL, mark string) (string, bool) {
	end := time.Now().Add(r.b.opts.StepTimeout)
	for time.Now().Before(end) && time.Now().Before(r.deadline) {
		if u, ok := r.waitCapture(100 * time.Millisecond); ok {
			return u, true
		}
		if r.aborting() != nil {
			return "", false
		}
		st, err := r.state(time.Second)
		if err != nil {
			continue // navigating
		}
		if st.Mark != mark || st.Href != prevURL {
			// Give an in-flight redirect a moment to be caught before the next page is handled.
			if u, ok := r.waitCapture(50 * time.Millisecond); ok {
				return u, true
			}
			return "", false
		}
	}
	if u, ok := r.takeCapture(); ok {
		return u, true
	}
	return "timeout", false
}

func (r *run) runStep(idx int, s Step) error {
	for j, a := range s.Actions {
		verb, arg, _ := a.Verb()
		label := fmt.Sprintf("steps[%d].actions[%d] %s", idx, j, verb)
		timeout := r.b.opts.StepTimeout
		if a.Timeout != "" {
			d, err := time.ParseDuration(a.Timeout)
			if err != nil || d <= 0 {
				return r.fail(label, "", fmt.Errorf("timeout %q is not a Go duration", a.Timeout))
			}
			timeout = d
		}
		if err := r.action(label, s.Frame, verb, arg, a, timeout); err != nil {
			return err
		}
		if _, ok := r.takeCapture(); ok {
			return nil
		}
	}
	return nil
}

func (r *run) action(label, frame, verb, arg string, a Action, timeout time.Duration) error {
	ctx, cancel := r.stepCtx(timeout)
	defer cancel()
	sel := chromedp.CSS(arg)
	var o []chromedp.QueryOption // reach into the step's frame
	if frame != "" {
		if err := r.withNode(ctx, frame, arg, func(_ chromedp.CSS, fo []chromedp.QueryOption) error { o = fo; return nil }); err != nil {
			return r.fail(label, frame, err)
		}
	}
	text := ""
	switch verb {
	case "fill":
		val := a.Value
		secret := a.Secret || strings.Contains(val, "${")
		if a.TOTP {
			if r.creds.TOTPSecret == "" {
				return r.fail(label, arg, errors.New("totp: true but no TOTP secret is configured (login.totp_secret)"))
			}
			code, err := totp.Code(r.creds.TOTPSecret, time.Now())
			if err != nil {
				return r.fail(label, arg, err)
			}
			val, secret = code, true
		} else if r.b.opts.Expand != nil {
			v, err := r.b.opts.Expand(val)
			if err != nil {
				return r.fail(label, arg, fmt.Errorf("expanding the value: %w", err))
			}
			val = v
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(sel, o...), chromedp.WaitEnabled(sel, o...)); err != nil {
			return r.fail(label, arg, fmt.Errorf("waiting for the field to be visible and enabled: %w", err))
		}
		if err := r.guardTyping(); err != nil {
			return r.fail(label, arg, err)
		}
		typ, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(`+elemJS(frame, arg)+` || {}).type || ""`))
		if typ == "password" {
			secret = true
		}
		if secret {
			r.secrets = append(r.secrets, val)
			if typ != "password" {
				r.masked = append(r.masked, arg)
			}
		}
		if err := chromedp.Do(ctx, clearElem(frame, arg), typeInto(sel, val, o...)); err != nil {
			return r.fail(label, arg, fmt.Errorf("typing: %w", err))
		}
		shown := fmt.Sprintf("%q", val)
		if secret {
			shown = fhirhttp.Mask + " (secret)"
		}
		text = fmt.Sprintf("typed %s into %s", shown, arg)
	case "click":
		if t, ok := strings.CutPrefix(arg, "text="); ok {
			if frame != "" {
				return r.fail(label, arg, errors.New("click text= does not reach into a frame: give a CSS selector"))
			}
			found, err := r.findByText(ctx, t)
			if err != nil {
				return r.fail(label, arg, err)
			}
			sel = chromedp.CSS(found)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(sel, o...), chromedp.WaitEnabled(sel, o...)); err != nil {
			return r.fail(label, arg, fmt.Errorf("waiting for the element to be visible and enabled: %w", err))
		}
		shot := r.screenshot(label)
		r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: label, Text: "page: " + fhirhttp.Redact(r.pageURL) + "\nclicking " + arg, Screenshot: shot})
		if err := chromedp.Do(ctx, chromedp.Click(sel, o...)); err != nil {
			if _, ok := r.takeCapture(); ok {
				return nil
			}
			return r.fail(label, arg, fmt.Errorf("clicking: %w", err))
		}
		return nil
	case "select":
		val := a.Value
		if r.b.opts.Expand != nil {
			v, err := r.b.opts.Expand(val)
			if err != nil {
				return r.fail(label, arg, fmt.Errorf("expanding the value: %w", err))
			}
			val = v
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(sel, o...), chromedp.WaitEnabled(sel, o...)); err != nil {
			return r.fail(label, arg, fmt.Errorf("waiting for the list to be visible and enabled: %w", err))
		}
		// The option may come later (lists filled by script): wait for it, bounded by the step.
		var got string
		for {
			var err error
			got, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const e = `+elemJS(frame, arg)+`;
				if (!e || !e.options) return ""; const want = `+jsString(val)+`, norm = s => s.replace(/\s+/g, ' ').trim().toLowerCase();
				const o = [...e.options].find(o => o.value === want) || [...e.options].find(o => norm(o.text) === norm(want));
				if (!o) return "";
				e.value = o.value; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return o.value || "(empty value)"; })()`))
			if err != nil {
				return r.fail(label, arg, fmt.Errorf("waiting for the option %q: %w", val, err))
			}
			if got != "" {
				break
			}
			select {
			case <-ctx.Done():
				return r.fail(label, arg, fmt.Errorf("no option with value or visible text %q within %s: %w", val, timeout, context.DeadlineExceeded))
			case <-time.After(200 * time.Millisecond):
			}
		}
		text = fmt.Sprintf("selected %q in %s", val, arg)
	case "check", "uncheck":
		want := verb == "check"
		if err := chromedp.Do(ctx, chromedp.WaitVisible(sel, o...), chromedp.WaitEnabled(sel, o...)); err != nil {
			return r.fail(label, arg, fmt.Errorf("waiting for the control: %w", err))
		}
		checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+elemJS(frame, arg)+` || {}).checked`))
		if err != nil {
			return r.fail(label, arg, err)
		}
		if checked != want {
			if err := chromedp.Do(ctx, chromedp.Click(sel, o...)); err != nil {
				return r.fail(label, arg, fmt.Errorf("clicking: %w", err))
			}
		}
		text = fmt.Sprintf("%sed %s (was %v)", verb, arg, checked)
	case "wait":
		if d, err := time.ParseDuration(arg); err == nil {
			select {
			case <-ctx.Done():
				return r.fail(label, arg, ctx.Err())
			case <-time.After(min(d, timeout)):
			}
			text = "waited " + arg
			break
		}
		if t, ok := strings.CutPrefix(arg, "text="); ok {
			for {
				shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`((document.body && document.body.innerText) || '').replace(/\s+/g, ' ').toLowerCase().includes(`+jsString(strings.ToLower(strings.Join(strings.Fields(t), " ")))+`)`))
				if err != nil {
					return r.fail(label, arg, fmt.Errorf("waiting for the text: %w", err))
				}
				if shown {
					break
				}
				select {
				case <-ctx.Done():
					return r.fail(label, arg, fmt.Errorf("the text did not show within %s: %w", timeout, context.DeadlineExceeded))
				case <-time.After(200 * time.Millisecond):
				}
			}
			text = "waited for " + arg
			break
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(sel, o...)); err != nil {
			return r.fail(label, arg, fmt.Errorf("waiting for the element: %w", err))
		}
		text = "waited for " + arg
	case "waitUrl":
		end := time.Now().Add(timeout)
		for {
			if _, ok := r.takeCapture(); ok {
				return nil
			}
			st, err := r.state(time.Second)
			if err == nil && MatchURL(arg, st.Href) {
				r.pageURL = st.Href
				break
			}
			if time.Now().After(end) {
				return r.fail(label, arg, fmt.Errorf("URL did not match within %s: %w", timeout, context.DeadlineExceeded))
			}
			time.Sleep(100 * time.Millisecond)
		}
		text = "waited for URL " + arg
	case "screenshot":
		text = "screenshot " + arg
	}
	e := evidence.Entry{Kind: evidence.KindBrowserStep, Title: label, Text: "page: " + fhirhttp.Redact(r.pageURL) + "\n" + text}
	if verb == "screenshot" {
		e.Screenshot = r.screenshot(label)
	}
	r.evidence(e)
	return nil
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// globEscape escapes the Fetch URL pattern wildcards (* ? \) in s.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`).Replace(s)
}
