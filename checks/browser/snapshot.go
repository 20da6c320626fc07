package browser

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pacheck/pacheck/checks/evidence"
)

// Bounds of a page snapshot: what a consent-page check needs, never a whole hostile page.
const (
	maxSnapshotText  = 16000 // characters of visible text
	maxSnapshotLinks = 60
	maxLinkText      = 200
)

// PageSnapshot is what the member saw on one page of the sign-in: its visible text and its links
// (masked like the rest of the evidence), and the screenshot taken there. It may echo server text:
// escape it before any HTML.
type PageSnapshot struct {
	URL string // redacted
	// Kind is the default strategy's name for the page ("consent", "login", ...), "" with explicit steps.
	Kind       string
	Text       string // document.body.innerText, whitespace folded, at most maxSnapshotText characters
	Links      []Link
	Buttons    []string // visible text of buttons and submit inputs
	Screenshot *evidence.File
}

// Link is an <a href> of a page: its absolute http(s) URL and visible text.
type Link struct {
	Href string
	Text string
}

type snapshotJS struct {
	Text    string   `json:"text"`
	Links   []Link   `json:"links"`
	Buttons []string `json:"buttons"`
}

// shotOf gives the snapshot the screenshot taken on its page, when there is one.
func (r *run) shotOf(s *PageSnapshot) {
	if s != nil && s.Screenshot == nil && r.pageShot {
		s.Screenshot = r.lastShot
	}
}

// snapshot reads the current page's text, links and buttons (nil on a page outside the allowed
// origins, which is never read, or when the page went away).
func (r *run) snapshot(kind string) *PageSnapshot {
	cur, ok := r.pageAllowed()
	if !ok {
		return nil
	}
	ctx, cancel, _ := r.boundCtx(2 * time.Second)
	defer cancel()
	js := `(() => {
  const b = document.body; if (!b) return {text: "", links: [], buttons: []};
  const vis = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const links = [];
  for (const a of document.querySelectorAll("a[href]")) {
    if (links.length >= ` + jsInt(maxSnapshotLinks) + `) break;
    if (!vis(a) || !/^https?:/i.test(a.href)) continue;
    links.push({Href: a.href.slice(0, 2000), Text: (a.innerText || a.getAttribute("aria-label") || "").trim().slice(0, ` + jsInt(maxLinkText) + `)});
  }
  const buttons = [];
  for (const e of document.querySelectorAll("button, input[type=submit], input[type=button], [role=button]")) {
    if (buttons.length >= 30) break;
    if (!vis(e)) continue;
    buttons.push(((e.innerText || e.value || e.getAttribute("aria-label") || "") + "").trim().slice(0, 100));
  }
  return {text: (b.innerText || "").slice(0, ` + jsInt(maxSnapshotText) + `), links, buttons};
})()`
	got, err := chromedp.Run(ctx, chromedp.Evaluate[snapshotJS](js))
	if err != nil {
		return nil
	}
	s := &PageSnapshot{URL: redactURL(cur), Kind: kind, Text: r.mask(strings.Join(strings.Fields(got.Text), " "))}
	for _, l := range got.Links {
		s.Links = append(s.Links, Link{Href: r.mask(stripControl(l.Href)), Text: r.mask(strings.Join(strings.Fields(l.Text), " "))})
	}
	for _, b := range got.Buttons {
		if t := r.mask(strings.Join(strings.Fields(b), " ")); t != "" {
			s.Buttons = append(s.Buttons, t)
		}
	}
	return s
}

func jsInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
