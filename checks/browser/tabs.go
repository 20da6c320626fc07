package browser

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// Opening a tab in a new incognito browser context costs Chromium about as much CPU as the
// sign-in itself (a storage partition and two renderer processes). So a tab whose sign-in ended
// cleanly is signed out and serves the next sign-in: its page gives way to a blank one, every
// cookie of its browser context, the storage of every origin it loaded (local and session
// storage, IndexedDB, Cache Storage, service workers), its HTTP cache and its history are
// cleared, and the blank page checks that nothing of the last origin is left. A tab that cannot
// be signed out so, or whose sign-in failed, was aborted or loaded a frame, is closed instead.

const (
	maxTabUses     = 16 // sign-ins one tab serves (a long-lived renderer grows)
	maxIdleTabs    = 8  // signed-out tabs kept
	signOutTimeout = 5 * time.Second
	// tabWait bounds the wait for a tab being signed out (about 0.1 s) before a new one is opened.
	tabWait = time.Second
)

// tab is a page in its own incognito browser context.
type tab struct {
	ctx    context.Context // chromedp target context
	cancel context.CancelFunc
	uses   int // sign-ins served
}

// takeTab returns a signed-out tab, waiting a little for one being signed out, or a new one
// (opened lazily by the first call on it).
func (b *Browser) takeTab(ctx context.Context) *tab {
	b.mu.Lock()
	b.signIns++
	b.mu.Unlock()
	deadline := time.Now().Add(tabWait)
	for {
		b.mu.Lock()
		if n := len(b.idle); n > 0 {
			t := b.idle[n-1]
			b.idle = b.idle[:n-1]
			b.mu.Unlock()
			return t
		}
		if b.signingOut == 0 || b.closed || !time.Now().Before(deadline) {
			b.opened++
			c, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
			b.mu.Unlock()
			return &tab{ctx: c, cancel: cancel}
		}
		freed := b.freed
		b.mu.Unlock()
		wait := time.NewTimer(time.Until(deadline))
		select {
		case <-freed:
		case <-wait.C:
		case <-ctx.Done():
			deadline = time.Now()
		}
		wait.Stop()
	}
}

// releaseTab signs a tab out in the background and keeps it for the next sign-in when its
// sign-in ended cleanly; otherwise, or when signing out fails, it closes the tab. stopListening
// ends the sign-in's event handling, which polices the page until it is blank. Close waits for it.
func (b *Browser) releaseTab(t *tab, r *run, stopListening context.CancelFunc, clean bool) {
	b.mu.Lock()
	keep := clean && !b.closed && t.uses+1 < maxTabUses
	if keep {
		b.tabs.Add(1)
		b.signingOut++
	}
	b.mu.Unlock()
	if !keep {
		stopListening()
		b.closeTab(t.cancel)
		return
	}
	go func() {
		defer b.tabs.Done()
		err := r.signOut()
		stopListening()
		b.mu.Lock()
		b.signingOut--
		kept := err == nil && !b.closed && len(b.idle) < maxIdleTabs
		if kept {
			t.uses++
			b.idle = append(b.idle, t)
		}
		close(b.freed)
		b.freed = make(chan struct{})
		b.mu.Unlock()
		if !kept {
			t.cancel()
		}
	}()
}

// TabsOpened returns how many tabs (each in its own incognito browser context) the browser has
// opened for sign-ins: fewer than the sign-ins when signed-out tabs were reused.
func (b *Browser) TabsOpened() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opened
}

// signOut leaves the tab blank with nothing of the sign-in left in its browser context.
func (r *run) signOut() error {
	ctx, cancel := context.WithTimeout(r.tab, signOutTimeout)
	defer cancel()
	// A navigation the page starts keeps its renderer (about:blank takes the page's origin); one
	// the browser starts would open a new renderer process, as costly as a new tab.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(location.href = 'about:blank', true)`)); err != nil {
		return fmt.Errorf("leaving the page: %w", err)
	}
	for {
		// Errors are expected while the page is replaced.
		if blank, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.href === 'about:blank' && document.readyState === 'complete'`)); blank {
			break
		}
		select {
		case <-ctx.Done():
			return errors.New("the page did not give way to a blank page")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if r.aborting() != nil {
		return errors.New("the page tried to go elsewhere on leaving")
	}
	if _, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		return err
	}
	for _, o := range r.loadedOrigins() {
		if _, err := chromedp.Call(ctx, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: o, StorageTypes: "all"}); err != nil {
			return err
		}
	}
	if _, err := chromedp.Call(ctx, network.ClearBrowserCache, cdp.Empty{}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, page.ResetNavigationHistory, cdp.Empty{}); err != nil {
		return err
	}
	clear, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.name = '', document.cookie === '' && localStorage.length === 0 && sessionStorage.length === 0)`))
	if err != nil {
		return err
	}
	if !clear {
		return errors.New("the blank page still sees cookies or storage")
	}
	return nil
}

// noteDocument records the origin of an allowed document request, and whether it was a frame's.
func (r *run) noteDocument(origin string, frame bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if frame {
		r.framed = true
	}
	if origin == "" {
		return
	}
	for _, o := range r.origins {
		if o == origin {
			return
		}
	}
	r.origins = append(r.origins, origin)
}

func (r *run) loadedOrigins() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.origins...)
}

// reusable tells whether the tab may serve another sign-in: the redirect was captured, nothing
// was aborted and no frame was loaded (a frame's storage is partitioned under the page's site,
// which clearing by origin does not reach).
func (r *run) reusable(res *Result, err error) bool {
	if err != nil || res == nil || res.RedirectURL == "" || r.aborting() != nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.framed
}
