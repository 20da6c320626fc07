package smart

import (
	"regexp"
	"sort"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

// Sign-ins ahead of the specs. A SMART spec that judges a stored launch or probe names the
// computation it needs (needs). When the suite starts, the computations of the specs this run
// selects start in the background, in spec order, with at most Settings.Browser.Parallel sign-ins
// at once, so the browser works while earlier specs are judged and other suites run. Specs still
// call the same memoized computation: a result does not depend on whether it was computed ahead,
// and a spec the prediction misses computes on demand as before. The prediction applies the run's
// label filter and focus/skip expressions the way Ginkgo does, and queues them in Ginkgo's run
// order; when it cannot (programmatic focus, file or semantic-version filters) nothing is
// computed ahead.

// needs maps "<section>/<spec>" to the computation the spec judges. The preconditions mirror the
// specs' own skips, so nothing is computed that a selected spec would not use.
var needs = map[string]func(*session){
	"launch/confidential-symmetric-basic": func(s *session) { s.clientLaunch(oauth.AuthSecretBasic) },
	"launch/confidential-symmetric-post":  func(s *session) { s.clientLaunch(oauth.AuthSecretPost) },
	"launch/confidential-asymmetric":      func(s *session) { s.clientLaunch(oauth.AuthPrivateKey) },
	"launch/code-single-use":              func(s *session) { s.lifecycle() },
	"token/refresh": func(s *session) {
		if m := s.main(); mainUsable(m) && (m.token.RefreshToken != "" || statesRefreshScope(m.token.Scope)) {
			s.lifecycle()
		}
	},
	"token/refresh-narrowing":         lifecycleIfMain,
	"token/refresh-widening-refused":  lifecycleIfMain,
	"introspection/active":            lifecycleIfIntrospection,
	"introspection/inactive":          lifecycleIfIntrospection,
	"introspection/exp-matches-token": lifecycleIfIntrospection,
	"introspection/id-token-claims":   lifecycleIfIntrospection,
	"introspection/fhiruser":          lifecycleIfIntrospection,
	"introspection/bearer-accepted":   lifecycleIfIntrospection,
	"revocation/revoked-token-refused": func(s *session) {
		if s.discovery().revokeEndpoint != "" {
			s.lifecycle()
		}
	},
	"scopes/resource-level":        func(s *session) { s.probeResourceScope() },
	"scopes/granular":              func(s *session) { s.probeGranularScope() },
	"scopes/granular-advertised":   func(s *session) { s.probeAdvertisedGranular() },
	"scopes/consent-decline":       func(s *session) { s.probeConsent() },
	"scopes/v1-compat":             func(s *session) { s.probeV1Scopes() },
	"probes/wrong-redirect-uri":    func(s *session) { s.probeWrongRedirect() },
	"probes/unknown-client-id":     func(s *session) { s.probeUnknownClient() },
	"probes/bad-aud":               func(s *session) { s.probeBadAud() },
	"probes/pkce-plain-refused":    func(s *session) { s.probePKCEPlain() },
	"probes/wrong-pkce-verifier":   func(s *session) { s.probeWrongVerifier() },
	"probes/missing-pkce-verifier": func(s *session) { s.probeMissingVerifier() },
	"probes/bad-client-secret":     func(s *session) { s.probeBadSecret() },
	"probes/bad-client-assertion":  func(s *session) { s.probeBadAssertion() },
	"probes/code-other-client":     func(s *session) { s.probeCodeOtherClient() },
	"probes/code-expired": func(s *session) {
		if s.set != nil && s.set.CodeLifetime > 0 {
			// Its own goroutine: holding the code (up to auth.code_lifetime) must not keep a
			// prefetch worker from the sign-ins queued behind it. A panic is kept by once.
			go func() {
				defer func() { _ = recover() }()
				s.probeCodeExpired()
			}()
		}
	},
	"probes/consent-deny":      func(s *session) { s.probeDeny() },
	"probes/other-member-data": func(s *session) { s.probeIsolation() },
}

// startFirst are the computations that wait longest without working (the expired-code probe
// holds its code for auth.code_lifetime): they start before the others, so the wait overlaps the
// other sign-ins instead of ending after them.
var startFirst = map[string]bool{"probes/code-expired": true}

// mainUsable mirrors needMain: the main launch yielded a token.
func mainUsable(m *launch) bool {
	return m.infra == nil && m.browserErr == nil && m.token != nil && m.token.OK()
}

func lifecycleIfMain(s *session) {
	if mainUsable(s.main()) {
		s.lifecycle()
	}
}

func lifecycleIfIntrospection(s *session) {
	if s.discovery().introspectEndpoint != "" {
		s.lifecycle()
	}
}

// declaredSpec is a spec of the tree that needs a computation.
type declaredSpec struct {
	texts  []string // container texts, then the spec's own
	labels []string // its own and its containers'
	order  int      // its section's place in buildVersion
	need   func(*session)
	first  bool // startFirst
}

var (
	declMu   sync.Mutex
	declared []declaredSpec
	declIDs  = map[string]bool{}
	// section is the Describe being built and its place (the tree is built on one goroutine).
	section      string
	sectionOrder int
)

func inSection(order int, name string) { section, sectionOrder = name, order }

// runOrder sorts specs as Ginkgo runs them: by version container, section, then name (the
// specs of a section share one code location, so Ginkgo orders them by text).
func runOrder(specs []declaredSpec) {
	sort.SliceStable(specs, func(i, j int) bool {
		a, b := specs[i], specs[j]
		if a.texts[0] != b.texts[0] {
			return a.texts[0] < b.texts[0]
		}
		if a.order != b.order {
			return a.order < b.order
		}
		return a.texts[2] < b.texts[2]
	})
}

// declare records a spec while the tree is built.
func declare(v, name string, labels Labels) {
	need := needs[section+"/"+name]
	if need == nil {
		return
	}
	texts := []string{"smart-" + v, section, name}
	id := strings.Join(texts, "/")
	declMu.Lock()
	defer declMu.Unlock()
	if declIDs[id] {
		return
	}
	declIDs[id] = true
	all := append([]string{"ig:smart-" + v, "area:smart"}, labels...)
	declared = append(declared, declaredSpec{texts: texts, labels: all, order: sectionOrder, need: need, first: startFirst[section+"/"+name]})
}

// selectedSpecs returns the needs of the declared specs that cfg selects, in their order with
// the startFirst ones ahead; ok is false when the selection cannot be predicted.
func selectedSpecs(description string, cfg types.SuiteConfig, programmaticFocus bool, specs []declaredSpec) (out []func(*session), ok bool) {
	var first []func(*session)
	if programmaticFocus || len(cfg.FocusFiles) > 0 || len(cfg.SkipFiles) > 0 || cfg.SemVerFilter != "" {
		return nil, false
	}
	var label types.LabelFilter
	if cfg.LabelFilter != "" {
		f, err := types.ParseLabelFilter(cfg.LabelFilter)
		if err != nil {
			return nil, false
		}
		label = f
	}
	var focus, skip *regexp.Regexp
	var err error
	if len(cfg.FocusStrings) > 0 {
		if focus, err = regexp.Compile(strings.Join(cfg.FocusStrings, "|")); err != nil {
			return nil, false
		}
	}
	if len(cfg.SkipStrings) > 0 {
		if skip, err = regexp.Compile(strings.Join(cfg.SkipStrings, "|")); err != nil {
			return nil, false
		}
	}
	for _, d := range specs {
		text := description + " " + strings.Join(d.texts, " ")
		if label != nil && !label(d.labels) {
			continue
		}
		if focus != nil && !focus.MatchString(text) {
			continue
		}
		if skip != nil && skip.MatchString(text) {
			continue
		}
		if d.first {
			first = append(first, d.need)
		} else {
			out = append(out, d.need)
		}
	}
	return append(first, out...), true
}

// Start the selected specs' computations once the tree is built and the selection is known.
var _ = ReportBeforeSuite(func(r types.Report) {
	run := framework.Current()
	if run == nil || r.SuiteConfig.DryRun {
		return // a listing runs nothing, so nothing is computed ahead
	}
	v, ok := run.Value(sessionKey)
	if !ok {
		return // no preparation: no SMART settings to launch with
	}
	s := v.(*session)
	if s.set == nil || s.parallel() < 2 || run.Replay != "" {
		return // a replay signs in nowhere (ReplayNoBrowser)
	}
	declMu.Lock()
	specs := append([]declaredSpec(nil), declared...)
	declMu.Unlock()
	runOrder(specs)
	todo, ok := selectedSpecs(r.SuiteDescription, r.SuiteConfig, r.SuiteHasProgrammaticFocus, specs)
	if !ok || len(todo) == 0 {
		return
	}
	s.prefetch(todo)
})

// prefetch runs fs on Parallel workers, in order.
func (s *session) prefetch(fs []func(*session)) {
	work := make(chan func(*session), len(fs))
	for _, f := range fs {
		work <- f
	}
	close(work)
	for range min(s.parallel(), len(fs)) {
		go func() {
			for f := range work {
				func() {
					// A panic is kept by once and raised again in the spec that asks for the
					// value; it must not end the process here.
					defer func() { _ = recover() }()
					f(s)
				}()
			}
		}()
	}
}
