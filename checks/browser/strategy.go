package browser

import (
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
)

// plan is what analyzeJS finds on a page. Selectors are data-pacheck attribute selectors the
// script puts on the elements it chose.
type plan struct {
	Kind       string   `json:"kind"` // login | username | consent | none
	User       string   `json:"user"`
	UserDesc   string   `json:"userDesc"`
	Pass       string   `json:"pass"`
	PassDesc   string   `json:"passDesc"`
	Submit     string   `json:"submit"`
	SubmitDesc string   `json:"submitDesc"`
	Radios     []string `json:"radios"`
	RadioDesc  []string `json:"radioDesc"`
	Checkboxes int      `json:"checkboxes"`
	Checked    int      `json:"checked"`
	Selects    int      `json:"selects"`
}

// analyzeJS inspects the page for a login form or an approve button.
const analyzeJS = `(() => {
  const vis = e => { if (!e || !e.isConnected) return false; const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const usable = e => vis(e) && !e.disabled && !e.readOnly;
  let n = 0;
  const mark = e => { let v = e.getAttribute('data-pacheck'); if (!v) { v = 'p' + Date.now().toString(36) + '-' + (n++); e.setAttribute('data-pacheck', v); }
    return '[data-pacheck="' + v + '"]'; };
  const clean = s => (s || '').replace(/\s+/g, ' ').trim().slice(0, 60);
  const label = e => clean((e.labels && e.labels.length ? e.labels[0].innerText : '') || e.getAttribute('aria-label') || e.placeholder || e.name || e.id);
  const desc = e => { let d = e.tagName.toLowerCase(); const t = e.getAttribute('type'); if (t) d += '[type=' + t + ']';
    if (e.id) d += '#' + e.id; else if (e.name) d += '[name=' + e.name + ']'; const l = label(e); if (l && e.tagName === 'INPUT') d += ' (' + l + ')'; return d; };
  const btext = e => clean(e.innerText || e.value || e.getAttribute('aria-label') || e.title);
  const buttons = root => [...root.querySelectorAll('button, input[type=submit], input[type=button], input[type=image], [role=button], a.btn, a.button')].filter(usable);
  const bad = /\b(deny|denied|cancel|reject|decline|refuse|back|no|disagree|forgot|reset|register|sign ?up|create|help)\b/i;
  const pick = (list, res) => { for (const re of res) { const b = list.find(e => re.test(btext(e)) && !bad.test(btext(e))); if (b) return b; } return null; };
  const textTypes = ['text', 'email', 'tel', ''];
  const hint = /user|login|email|e-mail|account|member|ident|name/i;
  const isText = e => e.tagName === 'INPUT' && textTypes.includes((e.getAttribute('type') || '').toLowerCase()) && usable(e);
  const submitOf = (scope, res) => { const bs = buttons(scope); return pick(bs, res) || bs.find(e => (e.type || '').toLowerCase() === 'submit' && !bad.test(btext(e))); };
  const loginWords = [/log ?in|sign ?in/i, /submit|continue|next|enter|\bok\b/i];
  const out = {kind: 'none', radios: [], radioDesc: []};
  const pw = [...document.querySelectorAll('input[type=password]')].find(usable);
  if (pw) {
    const scope = pw.form || document;
    const cands = [...scope.querySelectorAll('input')].filter(isText);
    let user = cands.find(e => hint.test([e.name, e.id, e.getAttribute('autocomplete'), label(e)].join(' ')));
    if (!user) { const before = cands.filter(e => e.compareDocumentPosition(pw) & Node.DOCUMENT_POSITION_FOLLOWING); user = before.length ? before[before.length - 1] : cands[0]; }
    out.kind = 'login'; out.pass = mark(pw); out.passDesc = desc(pw);
    if (user) { out.user = mark(user); out.userDesc = desc(user); }
    const sb = submitOf(scope, loginWords);
    if (sb) { out.submit = mark(sb); out.submitDesc = desc(sb) + ' "' + btext(sb) + '"'; }
    return out;
  }
  const approve = [/approve/i, /allow/i, /authori[sz]e/i, /accept/i, /grant/i, /agree/i, /consent/i, /confirm/i, /continue/i, /\byes\b/i, /launch/i, /\bok\b/i, /submit/i];
  const uin = [...document.querySelectorAll('input')].filter(e => isText(e) && hint.test([e.name, e.id, e.getAttribute('autocomplete'), label(e)].join(' ')));
  if (uin.length === 1 && !uin[0].value) {
    const scope = uin[0].form || document;
    const sb = submitOf(scope, loginWords);
    if (sb) { out.kind = 'username'; out.user = mark(uin[0]); out.userDesc = desc(uin[0]); out.submit = mark(sb); out.submitDesc = desc(sb) + ' "' + btext(sb) + '"'; return out; }
  }
  const ab = pick(buttons(document), approve);
  if (!ab) return out;
  out.kind = 'consent'; out.submit = mark(ab); out.submitDesc = desc(ab) + ' "' + btext(ab) + '"';
  const groups = {};
  for (const r of document.querySelectorAll('input[type=radio]')) { if (!usable(r)) continue; (groups[r.name || ('#' + r.id)] ||= []).push(r); }
  for (const g of Object.values(groups)) { if (!g.some(r => r.checked)) { out.radios.push(mark(g[0])); out.radioDesc.push(desc(g[0])); } }
  const cbs = [...document.querySelectorAll('input[type=checkbox]')].filter(usable);
  out.checkboxes = cbs.length; out.checked = cbs.filter(c => c.checked).length;
  out.selects = [...document.querySelectorAll('select')].filter(usable).length;
  return out;
})()`

// defaultPage handles one page with the default strategy and returns the page kind.
func (r *run) defaultPage(lastKind string) (string, error) {
	// Pages that render their form with script after load get a few seconds to show controls.
	settle := min(3*time.Second, r.b.opts.StepTimeout)
	end := time.Now().Add(settle)
	var p plan
	for {
		ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
		var err error
		p, err = chromedp.Run(ctx, chromedp.Evaluate[plan](analyzeJS))
		cancel()
		if err != nil {
			return "", r.fail("default strategy: analyse the page", "", err)
		}
		if p.Kind != "none" || time.Now().After(end) {
			break
		}
		if _, ok := r.waitCapture(300 * time.Millisecond); ok {
			return "captured", nil
		}
	}
	var used []string
	switch p.Kind {
	case "login", "username":
		if lastKind == p.Kind {
			return "", r.fail("default strategy: "+p.Kind+" page", "", fmt.Errorf("the login form came back after submitting it: the credentials were refused or the page needs explicit steps"))
		}
		if r.creds.Username == "" || (p.Kind == "login" && r.creds.Password == "") {
			return "", r.fail("default strategy: "+p.Kind+" page", "", fmt.Errorf("a login form is shown but no credentials are configured (Options.Credentials)"))
		}
		if p.User != "" {
			if err := r.fill("default strategy: username", p.User, r.creds.Username, false); err != nil {
				return "", err
			}
			used = append(used, fmt.Sprintf("typed the username into %s", p.UserDesc))
		}
		if p.Kind == "login" {
			if err := r.fill("default strategy: password", p.Pass, r.creds.Password, true); err != nil {
				return "", err
			}
			used = append(used, fmt.Sprintf("typed the password (masked) into %s", p.PassDesc))
		}
		if p.Submit != "" {
			used = append(used, "clicked "+p.SubmitDesc)
			if err := r.click("default strategy: submit the login form", p.Submit, strings.Join(used, "; ")); err != nil {
				return "", err
			}
		} else {
			used = append(used, "pressed Enter in the last field (no submit button found)")
			target := p.Pass
			if target == "" {
				target = p.User
			}
			label := "default strategy: submit the login form"
			r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: label,
				Text: "page: " + fhirhttp.Redact(r.pageURL) + "\n" + strings.Join(used, "; "), Screenshot: r.screenshot(label)})
			ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
			err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(target), "\r"))
			cancel()
			if err != nil {
				if _, ok := r.takeCapture(); !ok {
					return "", r.fail("default strategy: submit the login form", target, err)
				}
			}
		}
	case "consent":
		for i, sel := range p.Radios {
			ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
			err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
			cancel()
			if err != nil {
				return "", r.fail("default strategy: choose an option", p.RadioDesc[i], err)
			}
			used = append(used, "chose the first option "+p.RadioDesc[i]+" of a choice nobody had made")
		}
		if p.Checkboxes > 0 {
			used = append(used, fmt.Sprintf("left %d checkboxes as they were (%d ticked)", p.Checkboxes, p.Checked))
		}
		if p.Selects > 0 {
			used = append(used, fmt.Sprintf("left %d drop-down lists at their defaults", p.Selects))
		}
		used = append(used, "clicked "+p.SubmitDesc)
		if err := r.click("default strategy: approve", p.Submit, strings.Join(used, "; ")); err != nil {
			return "", err
		}
	default:
		return "", r.fail("default strategy", "", fmt.Errorf("%w; if this is not an error page, give explicit steps for it", ErrNoControls))
	}
	line := fmt.Sprintf("%s page %s: %s", p.Kind, fhirhttp.Redact(r.pageURL), strings.Join(used, "; "))
	r.res.Controls = append(r.res.Controls, r.mask(line))
	return p.Kind, nil
}

func (r *run) fill(label, sel, val string, secret bool) error {
	ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
	defer cancel()
	if secret {
		r.secrets = append(r.secrets, val)
	}
	c := chromedp.CSS(sel)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(c)); err != nil {
		return r.fail(label, sel, err)
	}
	if err := r.guardTyping(); err != nil {
		return r.fail(label, sel, err)
	}
	if err := chromedp.Do(ctx, clearField(sel), chromedp.SendKeys(c, val)); err != nil {
		return r.fail(label, sel, err)
	}
	shown := fmt.Sprintf("%q", val)
	if secret {
		shown = fhirhttp.Mask + " (secret)"
	}
	// No screenshot here: the one taken before the form is submitted shows every filled field.
	r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: label,
		Text: "page: " + fhirhttp.Redact(r.pageURL) + "\ntyped " + shown})
	return nil
}

func (r *run) click(label, sel, what string) error {
	shot := r.screenshot(label)
	r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: label,
		Text: "page: " + fhirhttp.Redact(r.pageURL) + "\n" + what, Screenshot: shot})
	ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		if _, ok := r.takeCapture(); ok {
			return nil
		}
		return r.fail(label, sel, err)
	}
	return nil
}
