package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// whenJS evaluates every step's When on the page at once: one boolean per condition.
const whenJS = `((conds) => {
  const vis = e => { if (!e) return false; const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const text = ((document.body && document.body.innerText) || '').replace(/\s+/g, ' ').toLowerCase();
  return conds.map(c => {
    if (!c) return true;
    if (c.selector) { let e = null; try { e = document.querySelector(c.selector); } catch (x) { return false; } if (!vis(e)) return false; }
    if (c.text && !text.includes(c.text.replace(/\s+/g, ' ').toLowerCase())) return false;
    return true;
  });
})`

// chooseStep returns the first step (not yet used when Once) whose URL and When match the page.
// A page whose content renders late gets a few seconds to match one.
func (r *run) chooseStep(steps []Step, used map[int]bool, cur string) (int, error) {
	conds := make([]*When, len(steps))
	for i, s := range steps {
		conds[i] = s.When
	}
	arg, _ := json.Marshal(conds)
	settle := min(3*time.Second, r.b.opts.StepTimeout)
	end := time.Now().Add(settle)
	for {
		ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[[]bool](whenJS+"("+string(arg)+")"))
		cancel()
		if err != nil {
			return -1, r.fail("choose a step", "", fmt.Errorf("evaluating the steps' when conditions: %w", err))
		}
		for i, s := range steps {
			if (s.Once && used[i]) || !MatchURL(s.URL, cur) || i >= len(ok) || !ok[i] {
				continue
			}
			if s.When != nil && s.When.URL != "" && !MatchURL(s.When.URL, cur) {
				continue
			}
			return i, nil
		}
		if time.Now().After(end) {
			break
		}
		if _, ok := r.waitCapture(300 * time.Millisecond); ok {
			return -1, nil
		}
	}
	if r.lastPlan == nil {
		r.inventory()
	}
	var why []string
	for i, s := range steps {
		switch {
		case s.Once && used[i]:
			why = append(why, fmt.Sprintf("steps[%d] was used (once)", i))
		case !MatchURL(s.URL, cur):
			why = append(why, fmt.Sprintf("steps[%d] url %q does not match", i, s.URL))
		default:
			why = append(why, fmt.Sprintf("steps[%d] when %s does not hold", i, describeWhen(s.When)))
		}
	}
	if r.lastPlan != nil {
		r.diag = "the page holds: " + r.controls() + "\nsuggested steps for this page:\n" + suggestSteps(r.lastPlan.Inventory)
	}
	return -1, r.fail("choose a step", "", fmt.Errorf("no step applies to this page (%s)", strings.Join(why, "; ")))
}

func describeWhen(w *When) string {
	if w == nil {
		return "(none)"
	}
	var p []string
	if w.Selector != "" {
		p = append(p, fmt.Sprintf("selector %q", w.Selector))
	}
	if w.Text != "" {
		p = append(p, fmt.Sprintf("text %q", w.Text))
	}
	if w.URL != "" {
		p = append(p, fmt.Sprintf("url %q", w.URL))
	}
	return strings.Join(p, ", ")
}

// findByTextJS marks the first visible, enabled button, link, role=button element or submit
// input whose text is t (any case, spaces folded), else the first whose text contains it.
const findByTextJS = `((t) => {
  const norm = s => (s || '').replace(/\s+/g, ' ').trim().toLowerCase();
  const vis = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const all = [...document.querySelectorAll('button, input[type=submit], input[type=button], [role=button], a[href], [role=link], label')].filter(e => vis(e) && !e.disabled);
  const txt = e => norm(e.innerText || e.value || e.getAttribute('aria-label'));
  const want = norm(t);
  const e = all.find(e => txt(e) === want) || all.find(e => txt(e).includes(want));
  if (!e) return '';
  let v = e.getAttribute('data-pacheck'); if (!v) { v = 'pt' + Date.now().toString(36); e.setAttribute('data-pacheck', v); }
  return '[data-pacheck="' + v + '"]';
})`

// findByText waits (bounded by ctx) for a control showing text t and returns its selector.
func (r *run) findByText(ctx context.Context, t string) (string, error) {
	for {
		sel, err := chromedp.Run(ctx, chromedp.Evaluate[string](findByTextJS+"("+jsString(t)+")"))
		if err != nil {
			return "", fmt.Errorf("looking for a control showing %q: %w", t, err)
		}
		if sel != "" {
			return sel, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no button, link or role=button element shows %q: %w", t, context.DeadlineExceeded)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
