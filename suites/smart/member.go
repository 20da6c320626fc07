package smart

import (
	"fmt"
	"strings"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/issue"
)

// What the member suite (suites/member) reads from this suite's sign-ins, so the consent page is
// judged from the main launch's browser run and Deny from the consent-deny probe: no further
// sign-in.

// ConsentView is the consent page of the main launch.
type ConsentView struct {
	// Page is the page as the member saw it (text, links, buttons, screenshot); nil when the
	// sign-in showed no page the tool took for a consent page. Err says why the launch ended
	// before (then Page may be nil).
	Page *browser.PageSnapshot
	// Scopes are the scopes the launch requested.
	Scopes []string
	// Explicit: the sign-in used explicit steps, so Page is the last page before the redirect.
	Explicit bool
	Err      error
}

// MainConsent returns the main launch's consent page. Outside a browser-mode run it skips the
// running spec saying why (as every SMART browser spec does).
func MainConsent() ConsentView {
	s := needBrowser()
	m := s.main()
	v := ConsentView{Explicit: len(s.set.Login.Steps) > 0}
	if m.req != nil {
		v.Scopes = strings.Fields(m.req.Scope)
	}
	if m.result != nil {
		v.Page = m.result.Consent
	}
	switch {
	case m.blocked != nil:
		v.Err = m.blocked
	case m.infra != nil:
		v.Err = fmt.Errorf("the main launch: %w", m.infra)
	case m.browserErr != nil:
		v.Err = fmt.Errorf("the main launch's sign-in: %w", m.browserErr)
	}
	return v
}

// DenyOutcome is the consent-deny probe's result, for another suite to cite.
type DenyOutcome struct {
	SpecID string // the spec that judges it (smart-<version>/probes/consent-deny)
	Issues issue.List
	Skip   string // why the probe did not run, and what would enable it
	Enable string
	Err    error
}

// ConsentDeny returns the consent-deny probe's result, running the probe when no spec ran it yet
// (once per run: the SMART spec and the caller share it).
func ConsentDeny() DenyOutcome {
	s := needBrowser()
	o := s.probeDeny()
	return DenyOutcome{SpecID: "smart-" + s.version + "/probes/consent-deny", Issues: o.issues, Skip: o.skip, Enable: o.enable, Err: o.infra}
}
