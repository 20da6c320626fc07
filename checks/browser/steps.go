package browser

import (
	"fmt"
	"regexp"
	"strings"
)

// Step says what to do on pages whose URL matches URL. It is plain data for the run config:
//
//   - url: "*/auth/authorize*"
//     actions:
//   - fill: "#username"
//     value: "${PACHECK_USER}"
//   - fill: "#password"
//     value: "${PACHECK_PASSWORD}"
//     secret: true
//   - click: "button[type=submit]"
//   - url: "re:/consent"
//     actions:
//   - check: "#scope-offline"
//   - click: "#approve"
type Step struct {
	// URL matches the page URL: a regular expression (unanchored, as in the run configuration;
	// "re:" may prefix it), or "glob:<pattern>" where * matches anything and the glob is anchored at
	// both ends. "" matches every page.
	URL     string   `yaml:"url,omitempty" json:"url,omitempty"`
	Actions []Action `yaml:"actions" json:"actions"`
	// Once: use this step for one page only (later pages with the same URL need another step).
	Once bool `yaml:"once,omitempty" json:"once,omitempty"`
}

// Action is one thing to do on a page. Exactly one of the verb fields is set. Selectors are CSS.
type Action struct {
	Fill       string `yaml:"fill,omitempty" json:"fill,omitempty"`             // selector; types Value
	Value      string `yaml:"value,omitempty" json:"value,omitempty"`           // for fill and select; ${ENV} expanded by Options.Expand
	Secret     bool   `yaml:"secret,omitempty" json:"secret,omitempty"`         // mask Value in evidence (also implied by type=password and by ${...})
	Click      string `yaml:"click,omitempty" json:"click,omitempty"`           // selector
	Select     string `yaml:"select,omitempty" json:"select,omitempty"`         // selector of a <select>; Value is the option value
	Check      string `yaml:"check,omitempty" json:"check,omitempty"`           // selector of a checkbox/radio to tick
	Uncheck    string `yaml:"uncheck,omitempty" json:"uncheck,omitempty"`       // selector of a checkbox to clear
	Wait       string `yaml:"wait,omitempty" json:"wait,omitempty"`             // selector to wait for (visible), or "url:<pattern>" (as WaitURL)
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

// Validate checks steps before a run: patterns compile, every action has one verb.
func Validate(steps []Step) error {
	for i, s := range steps {
		if _, err := compilePattern(s.URL); err != nil {
			return fmt.Errorf("steps[%d].url %q: %w", i, s.URL, err)
		}
		if len(s.Actions) == 0 {
			return fmt.Errorf("steps[%d]: no actions", i)
		}
		for j, a := range s.Actions {
			verb, arg, err := a.Verb()
			if err != nil {
				return fmt.Errorf("steps[%d].actions[%d]: %w", i, j, err)
			}
			if verb == "waitUrl" {
				if _, err := compilePattern(arg); err != nil {
					return fmt.Errorf("steps[%d].actions[%d] wait for URL %q: %w", i, j, arg, err)
				}
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
