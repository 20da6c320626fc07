package browser

import (
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"

	"github.com/pacheck/pacheck/checks/evidence"
)

// inventory analyses the current page for its controls only (Options.Trace with explicit steps).
func (r *run) inventory() {
	ctx, cancel, _ := r.boundCtx(r.b.opts.StepTimeout)
	defer cancel()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[plan](analyzeScript(analyzeArgs{})))
	if err == nil {
		r.lastPlan = &p
	}
}

func (r *run) controls() string {
	if r.lastPlan == nil {
		return ""
	}
	return r.mask(r.lastPlan.Inventory.describe())
}

// traceDefault notes the page the default strategy just handled (what it did: r.lastAction).
func (r *run) traceDefault() {
	r.res.Trace = append(r.res.Trace, PageTrace{URL: redactURL(r.pageURL), Controls: r.controls(),
		Action: r.lastAction, Screenshot: r.lastShot})
}

// traceStep notes the page explicit step idx handled, from its evidence since n.
func (r *run) traceStep(idx, n int) {
	var did []string
	for _, e := range r.res.Evidence[n:] {
		if e.Kind != evidence.KindBrowserStep || !strings.HasPrefix(e.Title, "steps[") {
			continue
		}
		_, text, _ := strings.Cut(e.Text, "\n")
		did = append(did, text)
	}
	r.res.Trace = append(r.res.Trace, PageTrace{URL: redactURL(r.pageURL), Controls: r.controls(),
		Action: fmt.Sprintf("steps[%d]: %s", idx, strings.Join(did, "; ")), Screenshot: r.lastShot})
}

// traceEnd notes the page the sign-in stopped on.
func (r *run) traceEnd(why string) {
	first, _, _ := strings.Cut(why, "\n")
	r.res.Trace = append(r.res.Trace, PageTrace{URL: redactURL(r.pageURL), Controls: r.controls(),
		Action: "stopped: " + first, Screenshot: r.lastShot})
}
