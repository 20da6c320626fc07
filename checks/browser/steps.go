package browser

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Step says what to do on pages it applies to: those whose URL matches URL and on which When
// holds (both optional; a step with neither applies to every page). It is plain data for the run
// config:
//
//   - when: {selector: "#password"}
//     actions:
//   - fill: "#username"
//     value: "${PACHECK_USER}"
//   - fill: "#password"
//     value: "${PACHECK_PASSWORD}"
//     secret: true
//   - click: "text=Sign in"
//   - when: {text: "Share your records"}
//     once: true
//     actions:
//   - check: "#scope-offline"
//   - click: "#approve"
type Step struct {
	// URL matches the page URL: a regular expression (unanchored, as in the run configuration;
	// "re:" may prefix it), or "glob:<pattern>" where * matches anything and the glob is anchored at
	// both ends. "" matches every page.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// When matches the page's content; pages that render late get a few seconds to match.
	When    *When    `yaml:"when,omitempty" json:"when,omitempty"`
	Actions []Action `yaml:"actions" json:"actions"`
	// Frame is the CSS selector of a same-origin iframe the actions' selectors apply in (a login
	// form inside a frame); When still looks at the page itself.
	Frame string `yaml:"frame,omitempty" json:"frame,omitempty"`
	// Once: use this step for one page only (later pages need another step).
	Once bool `yaml:"once,omitempty" json:"once,omitempty"`
}

// When is a condition on a page's content; every field given must hold.
type When struct {
	Selector string `yaml:"selector,omitempty" json:"selector,omitempty"` // a CSS selector of a visible element
	Text     string `yaml:"text,omitempty" json:"text,omitempty"`         // text shown on the page (any letter case)
	URL      string `yaml:"url,omitempty" json:"url,omitempty"`           // a URL pattern, as Step.URL
}

// Action is one thing to do on a page. Exactly one of the verb fields is set. Selectors are CSS.
type Action struct {
	Fill       string `yaml:"fill,omitempty" json:"fill,omitempty"`             // selector; types Value
	Value      string `yaml:"value,omitempty" json:"value,omitempty"`           // for fill and select; ${ENV} expanded by Options.Expand
	Secret     bool   `yaml:"secret,omitempty" json:"secret,omitempty"`         // mask Value in evidence (also implied by type=password and by ${...})
	TOTP       bool   `yaml:"totp,omitempty" json:"totp,omitempty"`             // fill: type the current code of Credentials.TOTPSecret (Value unused)
	Click      string `yaml:"click,omitempty" json:"click,omitempty"`           // selector, or "text=Allow": the button, link or role=button element showing that text (any case)
	Select     string `yaml:"select,omitempty" json:"select,omitempty"`         // selector of a <select>; Value is the option's value or its visible text
	Check      string `yaml:"check,omitempty" json:"check,omitempty"`           // selector of a checkbox/radio to tick
	Uncheck    string `yaml:"uncheck,omitempty" json:"uncheck,omitempty"`       // selector of a checkbox to clear
	Wait       string `yaml:"wait,omitempty" json:"wait,omitempty"`             // selector to wait for (visible), "text=<text>", a Go duration ("2s"), or "url:<pattern>" (as WaitURL)
	WaitURL    string `yaml:"waitUrl,omitempty" json:"waitUrl,omitempty"`       // URL pattern (as Step.URL) to wait for
	Screenshot string `yaml:"screenshot,omitempty" json:"screenshot,omitempty"` // take a screenshot with this label
	Timeout    string `yaml:"timeout,omitempty" json:"timeout,omitempty"`       // Go duration overriding StepTimeout
}

// Verb returns the action's verb and its selector/argument, or an error when not exactly one is set.
func (a Action) Verb() (verb, arg string, err error) {
	if rest, ok := strings.CutPrefix(a.Wait, "url:"); ok && a.WaitURL == "" {
		a.Wait, a.WaitURL = "", rest
	}
	n := 0
	for _, v := range []struct{ name, val string }{{"fill", a.Fill}, {"click", a.Click}, {"select", a.Select},
		{"check", a.Check}, {"uncheck", a.Uncheck}, {"wait", a.Wait}, {"waitUrl", a.WaitURL}, {"screenshot", a.Screenshot}} {
		if v.val != "" {
			verb, arg = v.name, v.val
			n++
		}
	}
	if n != 1 {
		return "", "", fmt.Errorf("an action needs exactly one of fill, click, select, check, uncheck, wait, waitUrl, screenshot (found %d)", n)
	}
	return verb, arg, nil
}

// Validate checks steps before a run: patterns compile, every action has one verb and a usable
// argument. Errors name steps[i].actions[j].
func Validate(steps []Step) error {
	for i, s := range steps {
		if err := ValidateStep(s); err != nil {
			return fmt.Errorf("steps[%d]%w", i, err)
		}
	}
	return nil
}

// ValidateStep checks one step; its error starts with ".url", ".when", ":" or ".actions[j]" so a
// caller can prefix where the step is.
func ValidateStep(s Step) error {
	if _, err := compilePattern(s.URL); err != nil {
		return fmt.Errorf(".url %q: %w", s.URL, err)
	}
	if w := s.When; w != nil {
		if w.Selector == "" && w.Text == "" && w.URL == "" {
			return errors.New(".when: give selector, text or url")
		}
		if _, err := compilePattern(w.URL); err != nil {
			return fmt.Errorf(".when.url %q: %w", w.URL, err)
		}
	}
	if len(s.Actions) == 0 {
		return errors.New(": no actions")
	}
	for j, a := range s.Actions {
		verb, arg, err := a.Verb()
		if err != nil {
			return fmt.Errorf(".actions[%d]: %w", j, err)
		}
		switch verb {
		case "waitUrl":
			if _, err := compilePattern(arg); err != nil {
				return fmt.Errorf(".actions[%d] wait for URL %q: %w", j, arg, err)
			}
		case "click", "wait":
			if t, ok := strings.CutPrefix(arg, "text="); ok && strings.TrimSpace(t) == "" {
				return fmt.Errorf(".actions[%d] %s: text= needs the text to look for", j, verb)
			}
		}
		if a.Timeout != "" {
			if d, err := time.ParseDuration(a.Timeout); err != nil || d <= 0 {
				return fmt.Errorf(".actions[%d]: timeout %q is not a Go duration like 10s", j, a.Timeout)
			}
		}
	}
	return nil
}

// MatchURL reports whether pattern (see Step.URL) matches u.
func MatchURL(pattern, u string) bool {
	re, err := compilePattern(pattern)
	return err == nil && re.MatchString(u)
}

func compilePattern(p string) (*regexp.Regexp, error) {
	if p == "" {
		return regexp.MustCompile(``), nil
	}
	rest, ok := strings.CutPrefix(p, "glob:")
	if !ok {
		return regexp.Compile(strings.TrimPrefix(p, "re:"))
	}
	p = rest
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.Compile("^" + strings.Join(parts, ".*") + "$")
}
