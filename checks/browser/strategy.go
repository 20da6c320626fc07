package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/internal/totp"
)

// ErrCaptcha is wrapped when the default strategy stops at a CAPTCHA: it never tries to pass one.
var ErrCaptcha = errors.New("the page shows a CAPTCHA, which an unattended sign-in must not try to pass")

// maxBanners bounds the cookie banners dismissed on one page (a banner that comes back forever
// must not loop).
const maxBanners = 3

// analyze runs the page analysis, waiting (bounded) for a page whose form script renders after
// load: it returns as soon as something actionable shows, or what there is after the settle time.
func (r *run) analyze() (plan, bool, error) {
	settle := min(3*time.Second, r.b.opts.StepTimeout)
	end := time.Now().Add(settle)
	member := r.creds.Member
	if member == "" {
		member = r.creds.Username
	}
	js := analyzeScript(analyzeArgs{Member: member, Scopes: r.scopes})
	for {
		ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
		p, err := chromedp.Run(ctx, chromedp.Evaluate[plan](js))
		cancel()
		if err != nil {
			return p, false, err
		}
		if p.Kind != "none" || time.Now().After(end) {
			return p, false, nil
		}
		if _, ok := r.waitCapture(300 * time.Millisecond); ok {
			return p, true, nil
		}
	}
}

// defaultPage handles one page with the default strategy and returns the page kind.
func (r *run) defaultPage(lastKind string) (string, error) {
	var p plan
	var banners []string
	for {
		var captured bool
		var err error
		p, captured, err = r.analyze()
		if captured {
			return "captured", nil
		}
		if err != nil {
			return "", r.fail("default strategy: analyse the page", "", err)
		}
		if p.Kind != "banner" || len(banners) >= maxBanners {
			break
		}
		// Dismissing a banner changes nothing worth a screenshot; the page's own step takes one.
		if err := r.clickIn("default strategy: dismiss a banner", p.Frame, p.Submit); err != nil {
			return "", err
		}
		banners = append(banners, "dismissed a banner with "+p.SubmitDesc+"; ")
		line := fmt.Sprintf("banner on %s: clicked %s", fhirhttp.Redact(r.pageURL), p.SubmitDesc)
		r.res.Controls = append(r.res.Controls, r.mask(line))
		r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: "default strategy: dismissed a banner", Text: "page: " + fhirhttp.Redact(r.pageURL) + "\nclicked " + p.SubmitDesc})
		time.Sleep(150 * time.Millisecond) // let the banner's script remove it
	}
	r.lastPlan = &p
	var used []string
	if p.Frame != "" {
		used = append(used, "found the form in the same-origin frame "+p.Frame)
	}
	switch p.Kind {
	case "login", "username", "otp":
		if lastKind == p.Kind && p.Kind != "otp" {
			return "", r.diagnose("default strategy: "+p.Kind+" page", p, fmt.Errorf("the login form came back after submitting it: the credentials were refused or the page needs explicit steps"))
		}
		if p.Kind == "otp" {
			if r.creds.TOTPSecret == "" {
				return "", r.diagnose("default strategy: one-time code page", p, errors.New("the page asks for a one-time code but no TOTP secret is configured (login.totp_secret)"))
			}
			code, err := totp.Code(r.creds.TOTPSecret, time.Now())
			if err != nil {
				return "", r.fail("default strategy: one-time code", "", err)
			}
			if err := r.fillIn("default strategy: one-time code", p.Frame, p.OTP, code, true); err != nil {
				return "", err
			}
			used = append(used, "typed the current authenticator code (masked) into "+p.OTPDesc)
		} else {
			if r.creds.Username == "" || (p.Kind == "login" && r.creds.Password == "") {
				return "", r.diagnose("default strategy: "+p.Kind+" page", p, fmt.Errorf("a login form is shown but no credentials are configured (Options.Credentials)"))
			}
			if p.User != "" {
				if err := r.fillIn("default strategy: username", p.Frame, p.User, r.creds.Username, false); err != nil {
					return "", err
				}
				used = append(used, fmt.Sprintf("typed the username into %s", p.UserDesc))
			}
			if p.Kind == "login" {
				if err := r.fillIn("default strategy: password", p.Frame, p.Pass, r.creds.Password, true); err != nil {
					return "", err
				}
				used = append(used, fmt.Sprintf("typed the password (masked) into %s", p.PassDesc))
			}
		}
		if p.Submit != "" {
			used = append(used, "clicked "+p.SubmitDesc)
			if err := r.clickShot("default strategy: submit the "+p.Kind+" form", p.Frame, p.Submit, strings.Join(used, "; ")); err != nil {
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
			err := r.withNode(ctx, p.Frame, target, func(sel chromedp.CSS, o []chromedp.QueryOption) error {
				return chromedp.Do(ctx, chromedp.SendKeys(sel, "\r", o...))
			})
			cancel()
			if err != nil {
				if _, ok := r.takeCapture(); !ok {
					return "", r.fail("default strategy: submit the login form", target, err)
				}
			}
		}
	case "consent", "chooser", "card":
		for _, c := range p.Selects {
			if err := r.selectIn("default strategy: choose in a list", p.Frame, c.Sel, c.Value); err != nil {
				return "", err
			}
			used = append(used, fmt.Sprintf("chose %q in %s", c.Text, c.Desc))
		}
		for i, sel := range p.Radios {
			if err := r.clickIn("default strategy: choose an option", p.Frame, sel); err != nil {
				return "", err
			}
			used = append(used, "chose "+p.RadioDesc[i]+" of a choice nobody had made")
		}
		for i, sel := range p.Ticks {
			if err := r.clickIn("default strategy: tick a requested scope", p.Frame, sel); err != nil {
				return "", err
			}
			used = append(used, "ticked "+p.TickDesc[i])
		}
		if n := p.Checkboxes - len(p.Ticks); n > 0 {
			other := ""
			if len(p.Ticks) > 0 {
				other = " other"
			}
			used = append(used, fmt.Sprintf("left %d%s checkboxes as they were (%d ticked)", n, other, p.Checked))
		}
		used = append(used, "clicked "+p.SubmitDesc)
		if p.Kind == "consent" {
			r.consent = r.snapshot(p.Kind) // before the click: what the member is asked to approve
		}
		err := r.clickShot("default strategy: "+map[string]string{"consent": "approve", "chooser": "choose and go on", "card": "choose a member"}[p.Kind], p.Frame, p.Submit, strings.Join(used, "; "))
		if p.Kind == "consent" {
			r.shotOf(r.consent)
		}
		if err != nil {
			return "", err
		}
	case "captcha":
		return "", r.diagnose("default strategy", p, fmt.Errorf("%w (%s); sign in with explicit steps on a test account without one, or give a token (auth.mode: token)", ErrCaptcha, p.Why))
	default:
		return "", r.diagnose("default strategy", p, fmt.Errorf("%w; if this is not an error page, give explicit steps for it", ErrNoControls))
	}
	r.lastAction = r.mask(p.Kind + " page: " + strings.Join(banners, "; ") + strings.Join(used, "; "))
	line := fmt.Sprintf("%s page %s: %s", p.Kind, fhirhttp.Redact(r.pageURL), strings.Join(used, "; "))
	r.res.Controls = append(r.res.Controls, r.mask(line))
	return p.Kind, nil
}

// diagnose fails the sign-in with one error that says what the page holds and which steps would
// get past it.
func (r *run) diagnose(step string, p plan, err error) error {
	r.diag = "the page holds: " + r.mask(p.Inventory.describe()) + "\nsuggested steps for this page (pacheck login shows every page):\n" + suggestSteps(p.Inventory)
	return r.fail(step, "", err)
}

// requestedScopes returns the scope parameter of the authorization URL, split.
func requestedScopes(authorizeURL string) []string {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return nil
	}
	return strings.Fields(u.Query().Get("scope"))
}

// withNode runs f with the selector and the query options that reach into frame (a same-origin
// iframe's selector) when it is set.
func (r *run) withNode(ctx context.Context, frame, sel string, f func(chromedp.CSS, []chromedp.QueryOption) error) error {
	if frame == "" {
		return f(chromedp.CSS(sel), nil)
	}
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(frame)))
	if err != nil {
		return fmt.Errorf("finding the frame: %w", err)
	}
	if len(nodes) == 0 {
		return errors.New("the frame is gone")
	}
	return f(chromedp.CSS(sel), []chromedp.QueryOption{chromedp.FromNode(nodes[0])})
}

// elemJS is a script expression for the element sel, in frame's document when frame is set.
func elemJS(frame, sel string) string {
	doc := "document"
	if frame != "" {
		doc = "((document.querySelector(" + jsString(frame) + ") || {}).contentDocument || document.createElement('div'))"
	}
	return doc + ".querySelector(" + jsString(sel) + ")"
}

func (r *run) fillIn(label, frame, sel, val string, secret bool) error {
	ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
	defer cancel()
	if secret {
		r.secrets = append(r.secrets, val)
	}
	err := r.withNode(ctx, frame, sel, func(c chromedp.CSS, o []chromedp.QueryOption) error {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(c, o...), chromedp.WaitEnabled(c, o...)); err != nil {
			return err
		}
		if err := r.guardTyping(); err != nil {
			return err
		}
		return chromedp.Do(ctx, clearElem(frame, sel), typeInto(c, val, o...))
	})
	if err != nil {
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

// clickIn clicks without a screenshot (a choice on the way to the page's real submit).
func (r *run) clickIn(label, frame, sel string) error {
	ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
	defer cancel()
	err := r.withNode(ctx, frame, sel, func(c chromedp.CSS, o []chromedp.QueryOption) error {
		return chromedp.Do(ctx, chromedp.WaitVisible(c, o...), chromedp.Click(c, o...))
	})
	if err != nil {
		if _, ok := r.takeCapture(); ok {
			return nil
		}
		return r.fail(label, sel, err)
	}
	return nil
}

// clickShot takes the page's screenshot, records what was done on it and clicks.
func (r *run) clickShot(label, frame, sel, what string) error {
	shot := r.screenshot(label)
	r.evidence(evidence.Entry{Kind: evidence.KindBrowserStep, Title: label,
		Text: "page: " + fhirhttp.Redact(r.pageURL) + "\n" + what, Screenshot: shot})
	return r.clickIn(label, frame, sel)
}

// selectIn sets a drop-down list to value the way a person would (input and change events).
func (r *run) selectIn(label, frame, sel, value string) error {
	ctx, cancel := r.stepCtx(r.b.opts.StepTimeout)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const e = `+elemJS(frame, sel)+`; if (!e) return false;
		e.value = `+jsString(value)+`; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return e.value === `+jsString(value)+`; })()`))
	if err == nil && !ok {
		err = fmt.Errorf("could not choose %q", value)
	}
	if err != nil {
		return r.fail(label, sel, err)
	}
	return nil
}

// typeInto types val into the element: all but the last character in one Input.insertText (an
// input event, as a paste or an IME commit makes), the last as key presses, so a page reacting to
// keydown/keyup (a submit button enabled on keyup) sees them, with the whole value in the field.
// Key presses for every character cost three DevTools round trips each: with four sign-ins at
// once they took a second per form.
func typeInto(sel chromedp.CSS, val string, o ...chromedp.QueryOption) chromedp.Action[chromedp.Void] {
	r := []rune(val)
	if len(r) < 2 {
		return chromedp.SendKeys(sel, val, o...)
	}
	head, last := string(r[:len(r)-1]), string(r[len(r)-1:])
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Focus(sel, o...)(ctx, t); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: head}); err != nil {
			return err
		}
		_, err := chromedp.SendKeys(sel, last, o...)(ctx, t)
		return err
	})
}

// clearElem empties an input with script (chromedp.SetValue to "" reports a false failure).
func clearElem(frame, sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(() => { const e = `+elemJS(frame, sel)+`; if (e && 'value' in e) e.value = ''; return true; })()`)(ctx, t)
		return err
	})
}
