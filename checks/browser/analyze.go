package browser

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// plan is what analyzeJS finds on a page. Selectors are data-pacheck attribute selectors the
// script puts on the elements it chose; Frame, when set, selects the same-origin iframe that holds
// them (the form was found in it, not in the page itself).
type plan struct {
	Kind       string    `json:"kind"` // login | username | otp | consent | chooser | card | banner | captcha | none
	Frame      string    `json:"frame"`
	User       string    `json:"user"`
	UserDesc   string    `json:"userDesc"`
	Pass       string    `json:"pass"`
	PassDesc   string    `json:"passDesc"`
	OTP        string    `json:"otp"`
	OTPDesc    string    `json:"otpDesc"`
	Submit     string    `json:"submit"`
	SubmitDesc string    `json:"submitDesc"`
	Radios     []string  `json:"radios"`
	RadioDesc  []string  `json:"radioDesc"`
	Selects    []choice  `json:"selects"` // drop-down lists nobody had chosen in, and the option to choose
	Ticks      []string  `json:"ticks"`   // unticked checkboxes to tick: a requested scope, or required
	TickDesc   []string  `json:"tickDesc"`
	Checkboxes int       `json:"checkboxes"`
	Checked    int       `json:"checked"`
	Why        string    `json:"why"` // captcha: what gave it away
	Inventory  inventory `json:"inventory"`
}

type choice struct {
	Sel   string `json:"sel"`
	Desc  string `json:"desc"`
	Value string `json:"value"`
	Text  string `json:"text"`
}

// inventory is what a person would see on the page: for `pacheck login`, and for the diagnosis
// when the default strategy cannot go on.
type inventory struct {
	Title   string    `json:"title"`
	Inputs  []control `json:"inputs"`
	Buttons []control `json:"buttons"`
	Frames  int       `json:"frames"` // same-origin iframes looked into
}

type control struct {
	Sel   string `json:"sel"`   // a stable CSS selector (#id, [name=…]) when there is one, else ""
	Kind  string `json:"kind"`  // input type, select, button, a, div[role=button]…
	Label string `json:"label"` // label, aria-label, placeholder or name (inputs); text (buttons)
}

// analyzeArgs are the run's facts the page analysis needs.
type analyzeArgs struct {
	Member string   `json:"member"` // the member to choose in a chooser (name, id or username)
	Scopes []string `json:"scopes"` // the requested scopes, to tick on a consent page
}

func analyzeScript(a analyzeArgs) string {
	b, _ := json.Marshal(a)
	return "(" + analyzeFn + ")(" + string(b) + ")"
}

// analyzeFn looks at the page (and, when it holds no control, at its same-origin iframes) for,
// in order: a CAPTCHA, a cookie banner to dismiss, a password form, a one-time-code field, a lone
// username field, a form to approve (choosing in untouched lists and ticking requested scopes),
// clickable member cards. Buttons match in any letter case, also <a> and role=button elements.
const analyzeFn = `function (args) {
  const member = (args.member || '').toLowerCase(), scopes = args.scopes || [];
  const clean = s => (s || '').replace(/\s+/g, ' ').trim().slice(0, 80);
  let n = 0;
  const mark = e => { let v = e.getAttribute('data-pacheck'); if (!v) { v = 'p' + Date.now().toString(36) + '-' + (n++); e.setAttribute('data-pacheck', v); }
    return '[data-pacheck="' + v + '"]'; };
  const one = (doc, frame) => {
    const win = doc.defaultView;
    const vis = e => { if (!e || !e.isConnected) return false; const r = e.getBoundingClientRect(); const s = win.getComputedStyle(e);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
    const usable = e => vis(e) && !e.disabled && !e.readOnly && e.getAttribute('aria-disabled') !== 'true';
    const label = e => clean((e.labels && e.labels.length ? e.labels[0].innerText : '') || e.getAttribute('aria-label') || e.placeholder || e.name || e.id);
    const desc = e => { let d = e.tagName.toLowerCase(); const t = e.getAttribute('type'); if (t) d += '[type=' + t + ']';
      else if (e.getAttribute('role')) d += '[role=' + e.getAttribute('role') + ']';
      if (e.id) d += '#' + e.id; else if (e.name) d += '[name=' + e.name + ']'; const l = label(e); if (l && e.tagName === 'INPUT') d += ' (' + l + ')'; return d; };
    const stable = e => e.id && /^[A-Za-z][\w-]*$/.test(e.id) ? '#' + e.id : (e.name ? e.tagName.toLowerCase() + '[name="' + e.name + '"]' : '');
    const btext = e => clean(e.innerText || e.value || e.getAttribute('aria-label') || e.title);
    const buttons = root => [...root.querySelectorAll('button, input[type=submit], input[type=button], input[type=image], [role=button], a[href], [role=link]')].filter(usable);
    const bad = /\b(deny|denied|cancel|reject|decline|refuse|back|no|disagree|forgot|reset|register|sign ?up|create|help|manage|preferences|settings|learn more)\b/i;
    const pick = (list, res) => { for (const re of res) { const b = list.find(e => re.test(btext(e)) && !bad.test(btext(e))); if (b) return b; } return null; };
    const textTypes = ['text', 'email', 'tel', ''];
    const hint = /user|login|email|e-mail|account|member|ident|name/i;
    const otpHint = /one-time-code|\botp\b|totp|one.?time|verification|security code|passcode|2fa|mfa|authenticat|\bcode\b/i;
    const isText = e => e.tagName === 'INPUT' && textTypes.concat(['number']).includes((e.getAttribute('type') || '').toLowerCase()) && usable(e);
    const about = e => [e.name, e.id, e.getAttribute('autocomplete'), label(e)].join(' ');
    const submitOf = (scope, res) => { const bs = buttons(scope); return pick(bs, res) || bs.find(e => (e.type || '').toLowerCase() === 'submit' && !bad.test(btext(e))); };
    const loginWords = [/log ?in|sign ?in/i, /submit|continue|next|enter|verify|\bok\b/i];
    const approve = [/approve/i, /allow/i, /authori[sz]e/i, /accept/i, /grant/i, /agree/i, /consent/i, /confirm/i, /continue|proceed/i, /\byes\b/i, /launch/i, /log ?in|sign ?in/i, /\bok\b/i, /submit|next/i];
    const inv = {title: clean(doc.title), inputs: [], buttons: [], frames: 0};
    for (const e of doc.querySelectorAll('input, select, textarea')) {
      if (!vis(e) || (e.type || '') === 'hidden') continue;
      inv.inputs.push({sel: stable(e), kind: e.tagName === 'INPUT' ? (e.getAttribute('type') || 'text').toLowerCase() : e.tagName.toLowerCase(), label: label(e)});
    }
    for (const e of buttons(doc)) inv.buttons.push({sel: stable(e), kind: desc(e).split(/[#(\s]/)[0], label: btext(e)});
    const out = {kind: 'none', frame: frame, radios: [], radioDesc: [], selects: [], ticks: [], tickDesc: [], inventory: inv};
    const done = (k, o) => Object.assign(out, {kind: k}, o || {});
    // A CAPTCHA is never attempted: the sign-in stops and says so.
    const cap = /captcha|recaptcha|hcaptcha|turnstile|not a robot/i;
    for (const e of doc.querySelectorAll('[id], [class], [name], iframe[src], [aria-label], label')) {
      const s = [e.id, typeof e.className === 'string' ? e.className : '', e.getAttribute('name'), e.getAttribute('src'), e.getAttribute('aria-label'), e.tagName === 'LABEL' ? e.innerText : ''].join(' ');
      if (cap.test(s) && vis(e)) return done('captcha', {why: desc(e) + (e.tagName === 'LABEL' ? ' "' + clean(e.innerText) + '"' : '')});
    }
    // A cookie banner (or wall) in front of the page: dismiss it first.
    for (const e of doc.querySelectorAll('[role=dialog], [role=alertdialog], [role=region], [aria-modal], [id*=cookie i], [class*=cookie i], div, section, aside')) {
      if (!vis(e) || !/cookie/i.test(e.innerText || '') || (e.innerText || '').length > 1500) continue;
      const pos = win.getComputedStyle(e).position;
      if (!(pos === 'fixed' || pos === 'sticky' || /dialog|region/.test(e.getAttribute('role') || '') || /cookie/i.test(e.id + ' ' + e.className))) continue;
      const b = pick(buttons(e), [/accept all|allow all/i, /accept|agree|allow|got it|\bok\b|dismiss|close|continue/i]);
      if (b) return done('banner', {submit: mark(b), submitDesc: desc(b) + ' "' + btext(b) + '"'});
    }
    const pw = [...doc.querySelectorAll('input[type=password]')].find(usable);
    if (pw) {
      const scope = pw.form || doc;
      const cands = [...scope.querySelectorAll('input')].filter(isText);
      let user = cands.find(e => hint.test(about(e)));
      if (!user) { const before = cands.filter(e => e.compareDocumentPosition(pw) & Node.DOCUMENT_POSITION_FOLLOWING); user = before.length ? before[before.length - 1] : cands[0]; }
      done('login', {pass: mark(pw), passDesc: desc(pw)});
      if (user) Object.assign(out, {user: mark(user), userDesc: desc(user)});
      const sb = submitOf(scope, loginWords);
      if (sb) Object.assign(out, {submit: mark(sb), submitDesc: desc(sb) + ' "' + btext(sb) + '"'});
      return out;
    }
    const texts = [...doc.querySelectorAll('input')].filter(isText);
    const otp = texts.find(e => e.getAttribute('autocomplete') === 'one-time-code') || (texts.length === 1 && otpHint.test(about(texts[0])) ? texts[0] : null);
    if (otp && !otp.value) {
      const sb = submitOf(otp.form || doc, loginWords);
      if (sb) return done('otp', {otp: mark(otp), otpDesc: desc(otp), submit: mark(sb), submitDesc: desc(sb) + ' "' + btext(sb) + '"'});
    }
    const uin = texts.filter(e => hint.test(about(e)));
    if (uin.length === 1 && !uin[0].value) {
      const sb = submitOf(uin[0].form || doc, loginWords);
      if (sb) return done('username', {user: mark(uin[0]), userDesc: desc(uin[0]), submit: mark(sb), submitDesc: desc(sb) + ' "' + btext(sb) + '"'});
    }
    const mentions = t => member && (t || '').toLowerCase().includes(member);
    const ab = pick(buttons(doc), approve);
    if (ab) {
      let chose = false;
      for (const s of doc.querySelectorAll('select')) {
        if (!usable(s) || s.multiple) continue;
        const opts = [...s.options].filter(o => !o.disabled && o.value !== '');
        const cur = s.options[s.selectedIndex];
        if (!opts.length || (cur && cur.value !== '' && !cur.disabled && !mentions(opts.map(o => o.text + ' ' + o.value).join(' ')))) continue;
        const o = opts.find(o => mentions(o.text) || mentions(o.value)) || (cur && cur.value !== '' && !cur.disabled ? cur : opts[0]);
        if (cur === o) continue;
        out.selects.push({sel: mark(s), desc: desc(s), value: o.value, text: clean(o.text)}); chose = true;
      }
      const groups = {};
      for (const r of doc.querySelectorAll('input[type=radio]')) { if (!usable(r)) continue; (groups[r.name || ('#' + r.id)] ||= []).push(r); }
      for (const g of Object.values(groups)) {
        if (g.some(r => r.checked)) continue;
        const r = g.find(r => mentions(label(r)) || mentions(r.value)) || g[0];
        out.radios.push(mark(r)); out.radioDesc.push(desc(r)); chose = true;
      }
      const cbs = [...doc.querySelectorAll('input[type=checkbox]')].filter(usable);
      out.checkboxes = cbs.length; out.checked = cbs.filter(c => c.checked).length;
      for (const c of cbs) {
        if (c.checked) continue;
        const t = (c.value || '') + ' ' + label(c);
        if (c.required || scopes.some(s => t.split(/\s+/).includes(s) || c.value === s)) { out.ticks.push(mark(c)); out.tickDesc.push(desc(c)); }
      }
      return done(chose ? 'chooser' : 'consent', {submit: mark(ab), submitDesc: desc(ab) + ' "' + btext(ab) + '"'});
    }
    // Member cards: clickable elements, one of them the member (else the first), on a page that asks to choose.
    const body = (doc.body && doc.body.innerText) || '';
    if (/choose|select|pick|who|which|member|patient|account|profile/i.test(body)) {
      const cards = [...doc.querySelectorAll('[role=button], [role=option], [role=link], a[href], [onclick], [tabindex]')].filter(e => usable(e) && btext(e) && !bad.test(btext(e)));
      if (cards.length >= 2 || cards.some(e => mentions(btext(e)))) {
        const c = cards.find(e => mentions(btext(e)) || mentions(e.getAttribute('data-member'))) || cards[0];
        return done('card', {submit: mark(c), submitDesc: desc(c) + ' "' + btext(c) + '"'});
      }
    }
    return out;
  };
  const top = one(document, '');
  if (top.kind !== 'none') return top;
  for (const f of document.querySelectorAll('iframe, frame')) {
    let d = null;
    try { d = f.contentDocument; } catch (e) { d = null; }
    if (!d || !d.body) continue; // another origin: never looked into
    top.inventory.frames++;
    const p = one(d, mark(f));
    if (p.kind !== 'none') { p.inventory.frames = top.inventory.frames; return p; }
  }
  return top;
}`

// describe renders the inventory for people: title, inputs with labels, buttons with text.
func (inv inventory) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "title %q", inv.Title)
	list := func(cs []control, none, head string) {
		if len(cs) == 0 {
			b.WriteString(none)
		}
		for i, c := range cs {
			if i == 0 {
				b.WriteString(head)
			} else {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %q", c.Kind, c.Label)
			if c.Sel != "" {
				fmt.Fprintf(&b, " (%s)", c.Sel)
			}
		}
	}
	list(inv.Inputs, "; no input", "; inputs: ")
	list(inv.Buttons, "; no button", "; buttons: ")
	if inv.Frames > 0 {
		fmt.Fprintf(&b, "; looked into %d same-origin frame(s) too", inv.Frames)
	}
	return b.String()
}

// userHint tells a user-name input by its label or selector (its suggested value is the user
// variable, not a generic one).
var userHint = regexp.MustCompile(`(?i)user|login|email|e-mail|member|ident`)

// suggestSteps writes a login.steps snippet for a page the default strategy could not handle:
// a when: on a control of the page, a fill per text/password input, a click on the first button.
func suggestSteps(inv inventory) string {
	var b strings.Builder
	b.WriteString("login:\n  steps:\n")
	when := ""
	for _, c := range append(append([]control{}, inv.Inputs...), inv.Buttons...) {
		if c.Sel != "" {
			when = c.Sel
			break
		}
	}
	if when != "" {
		fmt.Fprintf(&b, "    - when: {selector: %q}\n", when)
	} else {
		fmt.Fprintf(&b, "    - when: {text: %q}\n", clip(inv.Title, 40))
	}
	b.WriteString("      actions:\n")
	n := 0
	for _, c := range inv.Inputs {
		sel := c.Sel
		if sel == "" {
			sel = "CSS selector of the " + c.Kind + " field"
		}
		switch c.Kind {
		case "password":
			fmt.Fprintf(&b, "        - fill: {selector: %q, value: \"${MEMBER_PASSWORD}\", secret: true}\n", sel)
		case "checkbox", "radio":
			fmt.Fprintf(&b, "        - check: %q   # %s\n", sel, c.Label)
		case "select":
			fmt.Fprintf(&b, "        - select: {selector: %q, value: \"VALUE OR VISIBLE TEXT\"}   # %s\n", sel, c.Label)
		default:
			v := "${SOME_VARIABLE}"
			if userHint.MatchString(c.Label + " " + c.Sel) {
				v = "${MEMBER_USERNAME}"
			}
			fmt.Fprintf(&b, "        - fill: {selector: %q, value: %q}   # %s\n", sel, v, c.Label)
		}
		n++
	}
	if len(inv.Buttons) > 0 {
		if inv.Buttons[0].Label != "" {
			fmt.Fprintf(&b, "        - click: %q\n", "text="+inv.Buttons[0].Label)
		} else if inv.Buttons[0].Sel != "" {
			fmt.Fprintf(&b, "        - click: %q\n", inv.Buttons[0].Sel)
		}
		n++
	}
	if n == 0 {
		b.WriteString("        - wait: \"CSS selector of what should appear\"\n")
	}
	return b.String()
}
