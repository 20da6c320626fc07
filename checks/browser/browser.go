// Package browser drives headless Chromium (chromedp) through a SMART authorization server's own
// login and consent pages and captures the OAuth redirect by request interception, so the
// redirect_uri never has to resolve. Login steps are data (Step); without steps a default
// strategy finds the username/password inputs and the approve button. Every step leaves
// evidence: URL and what was typed (secrets masked); every page the member sees leaves a PNG
// screenshot, taken just before the page is submitted (so it shows the filled form), plus one
// per explicit screenshot action and one when a step fails.
//
// The server is untrusted. The authorization endpoint is vetted before anything is opened (http or
// https only; https when the FHIR target is). Every page or frame request is intercepted: the
// browser only goes to the authorization endpoint's origin, the FHIR target's, the redirect URI's
// (captured, never loaded) and Options.AllowedOrigins; any other navigation, and any request for a
// file:, chrome: or similar URL, is failed before it is sent, and a blocked page ends the sign-in
// with an error (ErrBlocked) naming the URL (scheme, host, path) and the origin to allow. Nothing
// is typed into, read from or photographed on a page whose actual origin is not allowed.
// JavaScript dialogs are dismissed at once and reported. Every step has its own deadline and the
// whole sign-in one (Options.Timeout); errors name the limit that ran out. Chromium's profile,
// crash dumps, HOME and TMPDIR live in one temporary folder that Close (or CloseAll, from a signal
// handler) removes.
package browser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pacheck/pacheck/checks/evidence"
)

// EnvChromium names the environment variable that overrides the Chromium binary.
const EnvChromium = "PACHECK_CHROMIUM"

// DefaultChromium is Debian's Chromium.
const DefaultChromium = "/usr/bin/chromium"

// ErrNoChromium is returned by Launch (wrapped) when no browser binary is found.
var ErrNoChromium = errors.New("no Chromium binary found")

// Credentials are the member login the default strategy types.
type Credentials struct {
	Username string
	Password string
	// Member is whom to choose on a member/patient chooser (a name, member id or username, matched
	// case-insensitively in the option's text); "" chooses the Username's entry, else the first.
	Member string
	// TOTPSecret is the base32 authenticator key for a two-factor page asking for a one-time code.
	TOTPSecret string
}

// Options configures Launch.
type Options struct {
	ExecPath         string        // default $PACHECK_CHROMIUM, then /usr/bin/chromium, then chromium/chromium-browser/google-chrome on PATH
	EvidenceDir      string        // where screenshots are written (created); "" keeps no screenshot files
	EvidencePrefix   string        // prefix of evidence.File.Path (relative to the report folder); default filepath.Base(EvidenceDir)
	StepTimeout      time.Duration // per action and per page load (default 15s)
	Timeout          time.Duration // the whole sign-in, per Authorize call (default 60s)
	MaxPages         int           // pages visited per Authorize before giving up (default 10)
	LaunchTimeout    time.Duration // browser start (default 30s)
	Credentials      Credentials   // for the default strategy
	Expand           func(string) (string, error)
	IgnoreCertErrors bool // accept self-signed certificates (test servers only)
	Recorder         func(evidence.Entry)
	WindowWidth      int // default 1280
	WindowHeight     int // default 900

	// AllowedOrigins are origins (https://idp.example.org[:port]) the sign-in may navigate to
	// besides the authorization endpoint's and the redirect URI's (config auth.allowed_origins),
	// e.g. a separate identity provider. Any other navigation is blocked and ends the sign-in.
	AllowedOrigins []string
	// Target is the FHIR base URL; when it is https, an http authorization endpoint is refused
	// before anything is opened.
	Target string
	// WorkDir holds the temporary Chromium profile, crash dumps and the browser's HOME (e.g. the
	// report folder); default the system temporary folder. Close removes what Launch made in it.
	WorkDir string
	// Trace records every page's controls in Result.Trace, also on pages explicit steps handle
	// (one more page analysis each): for pacheck login.
	Trace bool
	// MaxDialogs ends a sign-in whose pages open more JavaScript dialogs than this (default 20).
	MaxDialogs int
}

// Browser is one running Chromium with a private, temporary profile.
type Browser struct {
	opts    Options
	dataDir string // everything Chromium writes: profile, crash dumps, HOME, TMPDIR
	tmpDir  string // the child's TMPDIR when dataDir is too deep for it ("" otherwise)
	started bool   // the first Run succeeded
	origins []string
	ctx     context.Context // browser context (first Run done, no deadline)
	cancel  context.CancelFunc
	acancel context.CancelFunc

	mu         sync.Mutex
	seq        int
	closed     bool
	idle       []*tab         // signed-out tabs waiting for the next sign-in
	signingOut int            // tabs being signed out
	freed      chan struct{}  // closed (and replaced) when a tab's signing out ends
	opened     int            // tabs opened so far (each in its own incognito browser context)
	signIns    int            // sign-ins started
	tabs       sync.WaitGroup // tabs still closing or being signed out
	closeOnce  sync.Once
	closeErr   error
}

// live are the browsers not yet closed, for CloseAll.
var live = struct {
	sync.Mutex
	m map[*Browser]bool
}{m: map[*Browser]bool{}}

// CloseAll closes every Browser of the process that is still open and removes their temporary
// folders. It is meant for a SIGINT/SIGTERM handler goroutine: it is safe to call at any time,
// also while sign-ins run (they end with an error) and while another goroutine calls Close.
func CloseAll() error {
	live.Lock()
	bs := make([]*Browser, 0, len(live.m))
	for b := range live.m {
		bs = append(bs, b)
	}
	live.Unlock()
	var errs []error
	for _, b := range bs {
		errs = append(errs, b.Close())
	}
	return errors.Join(errs...)
}

// closeTab closes a finished tab (and its incognito browser context) in the background; Close
// waits for it.
func (b *Browser) closeTab(cancel context.CancelFunc) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		cancel()
		return
	}
	b.tabs.Add(1)
	go func() {
		defer b.tabs.Done()
		cancel()
	}()
}

// FindChromium returns the browser binary Launch would use.
func FindChromium(explicit string) (string, error) {
	for _, p := range []string{explicit, os.Getenv(EnvChromium), DefaultChromium} {
		if p == "" {
			continue
		}
		if lp, err := exec.LookPath(p); err == nil {
			return lp, nil
		}
		if explicit != "" && p == explicit {
			return "", fmt.Errorf("browser: %w at %q (Options.ExecPath)", ErrNoChromium, explicit)
		}
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if lp, err := exec.LookPath(n); err == nil {
			return lp, nil
		}
	}
	return "", fmt.Errorf("browser: %w (looked at $%s, %s and PATH); install it with apt-get install chromium", ErrNoChromium, EnvChromium, DefaultChromium)
}

// Launch starts Chromium headless with a fresh user-data dir (removed by Close). ctx bounds the
// start only: the browser then lives until Close, whatever happens to ctx. One Browser serves
// many Authorize calls (each in an incognito browser context no other sign-in uses at the same
// time, and with nothing of earlier ones: see tabs.go), also from several goroutines.
func Launch(ctx context.Context, opts Options) (*Browser, error) {
	exe, err := FindChromium(opts.ExecPath)
	if err != nil {
		return nil, err
	}
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 15 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.MaxDialogs <= 0 {
		opts.MaxDialogs = 20
	}
	var origins []string
	for i, o := range opts.AllowedOrigins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("browser: Options.AllowedOrigins[%d] (auth.allowed_origins): %w", i, err)
		}
		origins = append(origins, n)
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = 10
	}
	if opts.LaunchTimeout <= 0 {
		opts.LaunchTimeout = 30 * time.Second
	}
	if opts.WindowWidth <= 0 {
		opts.WindowWidth = 1280
	}
	if opts.WindowHeight <= 0 {
		opts.WindowHeight = 900
	}
	if opts.EvidenceDir != "" {
		if err := os.MkdirAll(opts.EvidenceDir, 0o755); err != nil {
			return nil, fmt.Errorf("browser: evidence folder %s: %w", opts.EvidenceDir, err)
		}
		if opts.EvidencePrefix == "" {
			opts.EvidencePrefix = filepath.Base(opts.EvidenceDir)
		}
	}
	// Everything Chromium writes goes into one folder Close removes: the profile, crash dumps and,
	// through the child's environment, what it would put under $HOME, $XDG_* and $TMPDIR (shared
	// memory files such as .org.chromium.Chromium.*).
	if opts.WorkDir != "" {
		if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
			return nil, fmt.Errorf("browser: work folder %s (Options.WorkDir): %w", opts.WorkDir, err)
		}
	}
	dir, err := os.MkdirTemp(opts.WorkDir, "pacheck-chromium-")
	if err != nil {
		return nil, fmt.Errorf("browser: temporary profile folder in %q: %w; set TMPDIR or Options.WorkDir to a writable folder", opts.WorkDir, err)
	}
	sub := map[string]string{}
	for _, n := range []string{"profile", "crash", "home", "config", "cache", "tmp"} {
		sub[n] = filepath.Join(dir, n)
		if err := os.Mkdir(sub[n], 0o700); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("browser: temporary profile folder %s: %w", dir, err)
		}
	}
	// Chromium puts a Unix socket under $TMPDIR (org.chromium.Chromium.XXXXXX/SingletonSocket) and
	// refuses to start when its path passes the 107-byte limit: a deep WorkDir gets a short
	// temporary folder of its own.
	tmpDir := ""
	if len(sub["tmp"]) > maxChildTmp {
		tmpDir, err = shortTempDir()
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		sub["tmp"] = tmpDir
	}
	flags := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(sub["profile"]),
		chromedp.Flag("crash-dumps-dir", sub["crash"]),
		chromedp.Env("HOME="+sub["home"], "XDG_CONFIG_HOME="+sub["config"], "XDG_CACHE_HOME="+sub["cache"], "TMPDIR="+sub["tmp"]),
		// A page must not open windows the sign-in does not watch (and so does not police).
		chromedp.Flag("block-new-web-contents", true),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		// No spare renderer: clearing a signed-out tab's cookies and storage discards it and Chromium
		// starts another, a renderer process per sign-in for nothing.
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,SpareRendererForSitePerProcess"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.WindowSize(opts.WindowWidth, opts.WindowHeight),
	}
	if opts.IgnoreCertErrors {
		flags = append(flags, chromedp.IgnoreCertErrors)
	}
	// The browser lives as long as these contexts: derived from Background so the caller's
	// deadline can bound the start without killing the browser later.
	actx, acancel := chromedp.NewExecAllocator(context.WithoutCancel(ctx), flags...)
	bctx, bcancel := chromedp.NewContext(actx)
	b := &Browser{opts: opts, dataDir: dir, tmpDir: tmpDir, origins: origins, ctx: bctx, cancel: bcancel, acancel: acancel, freed: make(chan struct{})}
	live.Lock()
	live.m[b] = true
	live.Unlock()

	// First Run without a deadline (a deadline would kill the browser); bound it from outside.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(bctx) }()
	timer := time.NewTimer(opts.LaunchTimeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		err = fmt.Errorf("no answer within %s (LaunchTimeout)", opts.LaunchTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		// A start cut short: kill what was started and let the start return before Close, which
		// would otherwise wait for a browser that never finished starting.
		acancel()
		wait := time.NewTimer(10 * time.Second)
		select {
		case <-done:
		case <-wait.C:
		}
		wait.Stop()
		b.Close()
		return nil, fmt.Errorf("browser: starting %s: %w", exe, err)
	}
	b.started = true
	return b, nil
}

// Close stops the browser and removes its temporary folder (profile, crash dumps, HOME). It is
// idempotent and safe to call from any goroutine, e.g. a signal handler, also while sign-ins run
// (they end with an error); a second call waits for the first and returns its result.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		live.Lock()
		delete(live.m, b)
		live.Unlock()
		// Tabs close in the background; a hung one must not keep the browser alive.
		done := make(chan struct{})
		go func() { b.tabs.Wait(); close(done) }()
		t := time.NewTimer(5 * time.Second)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
		pid := 0
		if c := chromedp.FromContext(b.ctx); b.started && c != nil && c.Browser != nil && c.Browser.Process() != nil {
			pid = c.Browser.Process().Pid
		}
		b.mu.Lock()
		signIns, opened := b.signIns, b.opened
		b.mu.Unlock()
		addUsage(pid, signIns, opened) // before the processes end
		if b.started {
			cctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
			_ = chromedp.Cancel(cctx) // a graceful close first
			cancel()
		}
		// The allocator first: it kills the process and waits for it; the browser context waits
		// for a browser still starting (a Launch cut short) until the process is gone.
		stopped := make(chan struct{})
		go func() {
			b.acancel()
			if b.started {
				// Not after a failed start: chromedp's cancel then waits for a browser that never
				// was (the allocator's context, its parent, is done anyway).
				b.cancel()
			}
			close(stopped)
		}()
		t = time.NewTimer(15 * time.Second)
		select {
		case <-stopped:
		case <-t.C:
		}
		t.Stop()
		b.closeErr = removeAll(b.dataDir)
		if b.tmpDir != "" {
			b.closeErr = errors.Join(b.closeErr, removeAll(b.tmpDir))
		}
	})
	return b.closeErr
}

// maxChildTmp bounds the child's $TMPDIR: 107 bytes minus "/org.chromium.Chromium.XXXXXX/SingletonSocket".
const maxChildTmp = 60

// shortTempDir makes a temporary folder with a short path: in $TMPDIR when that is short enough,
// else in /tmp.
func shortTempDir() (string, error) {
	parent := ""
	if len(os.TempDir()) > maxChildTmp-15 {
		parent = "/tmp"
	}
	d, err := os.MkdirTemp(parent, "pct-")
	if err != nil {
		return "", fmt.Errorf("browser: a short temporary folder for Chromium (its socket path must stay under 108 bytes): %w; set TMPDIR to a short writable folder", err)
	}
	return d, nil
}

// removeAll removes dir, retrying briefly: a dying Chromium child may still write into it.
func removeAll(dir string) error {
	var err error
	for range 5 {
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("browser: removing the temporary profile %s: %w", dir, err)
}

// DataDir returns the temporary folder holding the profile, crash dumps and the browser's HOME
// (removed by Close).
func (b *Browser) DataDir() string { return b.dataDir }

func (b *Browser) nextSeq() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	return b.seq
}

// saveScreenshot writes png and returns its evidence.File (nil when no EvidenceDir).
func (b *Browser) saveScreenshot(png []byte, label, pageURL string) (*evidence.File, error) {
	if b.opts.EvidenceDir == "" || len(png) == 0 {
		return nil, nil
	}
	name := fmt.Sprintf("browser-%03d-%s.png", b.nextSeq(), slug(label))
	if err := os.WriteFile(filepath.Join(b.opts.EvidenceDir, name), png, 0o644); err != nil {
		return nil, fmt.Errorf("browser: writing screenshot: %w", err)
	}
	sum := sha256.Sum256(png)
	p := name
	if b.opts.EvidencePrefix != "" {
		p = filepath.ToSlash(filepath.Join(b.opts.EvidencePrefix, name))
	}
	return &evidence.File{Path: p, SHA256: hex.EncodeToString(sum[:]), Media: "image/png", URL: pageURL}, nil
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
		if b.Len() >= 40 {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		out = "step"
	}
	return out
}
