// Package browser drives headless Chromium (chromedp) through a SMART authorization server's own
// login and consent pages and captures the OAuth redirect by request interception, so the
// redirect_uri never has to resolve. Login steps are data (Step); without steps a default
// strategy finds the username/password inputs and the approve button. Every step leaves
// evidence: URL and what was typed (secrets masked); every page the member sees leaves a PNG
// screenshot, taken just before the page is submitted (so it shows the filled form), plus one
// per explicit screenshot action and one when a step fails.
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
}

// Options configures Launch.
type Options struct {
	ExecPath         string        // default $PACHECK_CHROMIUM, then /usr/bin/chromium, then chromium/chromium-browser/google-chrome on PATH
	EvidenceDir      string        // where screenshots are written (created); "" keeps no screenshot files
	EvidencePrefix   string        // prefix of evidence.File.Path (relative to the report folder); default filepath.Base(EvidenceDir)
	StepTimeout      time.Duration // per action and per page load (default 15s)
	Timeout          time.Duration // per Authorize call (default 90s)
	MaxPages         int           // pages visited per Authorize before giving up (default 10)
	LaunchTimeout    time.Duration // browser start (default 30s)
	Credentials      Credentials   // for the default strategy
	Expand           func(string) (string, error)
	IgnoreCertErrors bool // accept self-signed certificates (test servers only)
	Recorder         func(evidence.Entry)
	WindowWidth      int // default 1280
	WindowHeight     int // default 900
}

// Browser is one running Chromium with a private, temporary profile.
type Browser struct {
	opts    Options
	dataDir string
	ctx     context.Context // browser context (first Run done, no deadline)
	cancel  context.CancelFunc
	acancel context.CancelFunc

	mu     sync.Mutex
	seq    int
	closed bool
	tabs   sync.WaitGroup // tabs still closing
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
// many Authorize calls (each in its own incognito browser context), also from several goroutines.
func Launch(ctx context.Context, opts Options) (*Browser, error) {
	exe, err := FindChromium(opts.ExecPath)
	if err != nil {
		return nil, err
	}
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 15 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 90 * time.Second
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
	dir, err := os.MkdirTemp("", "pacheck-chromium-")
	if err != nil {
		return nil, fmt.Errorf("browser: temporary profile: %w", err)
	}
	flags := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(dir),
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
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
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
	b := &Browser{opts: opts, dataDir: dir, ctx: bctx, cancel: bcancel, acancel: acancel}

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
		b.Close()
		return nil, fmt.Errorf("browser: starting %s: %w", exe, err)
	}
	return b, nil
}

// Close stops the browser and removes its profile. It is safe to call twice.
func (b *Browser) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.tabs.Wait()
	cctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	_ = chromedp.Cancel(cctx)
	cancel()
	b.cancel()
	b.acancel()
	return os.RemoveAll(b.dataDir)
}

// DataDir returns the temporary profile folder (removed by Close).
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
