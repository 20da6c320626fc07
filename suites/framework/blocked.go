package framework

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/reports"
)

// BlockedError is the error of a step many specs depend on (discovery, sign-in, token, patient
// read, a probe's baseline). A spec that needs that step ends as an error "blocked by <cause>"
// instead of repeating the step's failure, so one root cause is reported once.
type BlockedError struct {
	Cause  string // spec id or step name of the root cause
	Reason string // one line, PHI-free
}

func (e *BlockedError) Error() string { return fmt.Sprintf("blocked by %s: %s", e.Cause, e.Reason) }

// Block ends the running spec as an error blocked by the root cause b.
func Block(b evidence.Blocked) {
	GinkgoHelper()
	AddReportEntry(evidence.BlockedEntryName, b, ReportEntryVisibilityNever)
	msg := (&BlockedError{Cause: b.Cause, Reason: b.Reason}).Error()
	AddReportEntry(evidence.ErrorEntryName, "error: "+msg, ReportEntryVisibilityAlways)
	Fail("error: " + msg)
}

// blockedBy reports whether err is (or wraps) a *BlockedError, or whether the run's target is
// down: once the breaker has tripped, the target never answered any request of the run, so every
// error of the run is blocked by that one root cause.
func blockedBy(err error) (evidence.Blocked, bool) {
	if run := Current(); run != nil {
		if be := run.TargetDownBlock(); be != nil {
			return evidence.Blocked{Cause: be.Cause, Reason: be.Reason}, true
		}
	}
	var be *BlockedError
	if errors.As(err, &be) {
		return evidence.Blocked{Cause: be.Cause, Reason: be.Reason}, true
	}
	var se *SharedError
	if errors.As(err, &se) {
		if be := se.Blocked(); be != nil {
			return evidence.Blocked{Cause: be.Cause, Reason: be.Reason}, true
		}
	}
	return evidence.Blocked{}, false
}

// SharedError is the failure of a step several specs share (a fetch done once for all of them,
// e.g. [base]/metadata): the first spec that ends with it reports it, and every later spec that
// ends with it is blocked by that first one (Infra does this), so the failure is counted once.
type SharedError struct {
	err   error
	mu    sync.Mutex
	owner string // id of the spec that reported it first
}

// Shared wraps the error of a shared step (nil stays nil).
func Shared(err error) error {
	if err == nil {
		return nil
	}
	return &SharedError{err: err}
}

func (e *SharedError) Error() string { return e.err.Error() }
func (e *SharedError) Unwrap() error { return e.err }

// Blocked returns, for the running spec, the *BlockedError naming the spec that reported the
// failure first, or nil when the running spec is that first one (it reports the failure itself;
// outside a spec there is no one to name).
func (e *SharedError) Blocked() *BlockedError {
	id := currentSpecID()
	if id == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.owner == "" || e.owner == id {
		e.owner = id
		return nil
	}
	reason, _, _ := strings.Cut(e.err.Error(), "\n")
	return &BlockedError{Cause: e.owner, Reason: reason}
}

// TargetDownBlock returns the RootTargetDown root cause once the run's breaker has tripped
// (recording it the first time), or nil while the target is not known to be down.
func (r *Run) TargetDownBlock() *BlockedError {
	if b, ok := r.RootCause(RootTargetDown); ok {
		return &BlockedError{Cause: b.Cause, Reason: b.Reason}
	}
	down := r.TargetDown()
	if down == nil {
		return nil
	}
	// "target <origin> unreachable after N attempts: <cause>": the target is the cause.
	b := evidence.Blocked{Cause: "target", Reason: down.Error()}
	if rest, ok := strings.CutPrefix(b.Reason, "target "); ok {
		if origin, why, ok := strings.Cut(rest, " "); ok {
			b = evidence.Blocked{Cause: "target " + origin, Reason: why}
		}
	}
	r.SetRootCause(RootTargetDown, b)
	b, _ = r.RootCause(RootTargetDown)
	return &BlockedError{Cause: b.Cause, Reason: b.Reason}
}

// Keys of the root causes a run records (Run.SetRootCause): the steps many specs depend on.
const (
	// RootDiscovery: the SMART discovery documents could not be read.
	RootDiscovery = "discovery"
	// RootSignIn: the standalone launch that yields the run's token (browser sign-in, code or
	// token exchange) failed; every spec that needs that token or another sign-in is blocked.
	RootSignIn = "sign-in"
	// RootTargetDown: the target stopped answering (the transport's breaker opened).
	RootTargetDown = "target-down"
)

// SetRootCause records the root cause of key. The first record wins: the spec or step that hit
// the failure first is the one every dependant names. It reports whether b was stored.
func (r *Run) SetRootCause(key string, b evidence.Blocked) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.roots[key]; ok {
		return false
	}
	if r.roots == nil {
		r.roots = map[string]evidence.Blocked{}
	}
	r.roots[key] = b
	return true
}

// RootCause returns the root cause recorded under key.
func (r *Run) RootCause(key string) (evidence.Blocked, bool) {
	if r == nil {
		return evidence.Blocked{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.roots[key]
	return b, ok
}

// RootCauses returns every recorded root cause, by key.
func (r *Run) RootCauses() map[string]evidence.Blocked {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]evidence.Blocked, len(r.roots))
	for k, v := range r.roots {
		out[k] = v
	}
	return out
}

// BlockedBy returns a *BlockedError for the first of keys that has a root cause, or nil.
func (r *Run) BlockedBy(keys ...string) error {
	for _, k := range keys {
		if b, ok := r.RootCause(k); ok {
			return &BlockedError{Cause: b.Cause, Reason: b.Reason}
		}
	}
	return nil
}

// NoAccess is the error of a spec that needs an authorized client for patientID and has none:
// blocked by the target being down or the failed sign-in when the run recorded one (so hundreds
// of data specs name the one cause), otherwise a plain error saying what to configure. Data
// suites end the spec with Infra(run.NoAccess(pid)).
func (r *Run) NoAccess(patientID string) error {
	r.TargetDownBlock() // records the dead target as the root cause when the breaker has tripped
	if err := r.BlockedBy(RootTargetDown, RootSignIn); err != nil {
		return fmt.Errorf("no authorized client for patient %s: %w", patientID, err)
	}
	return fmt.Errorf("no authorized client for patient %s: the run has no token (configure auth, or install one per patient)", patientID)
}

// PatientsBlocked is for a data spec that finds no patient id to examine: when the run's
// sign-in failed (the launch would have named the patient) or its target is down, the
// *BlockedError to end the spec with (Infra), so the missing patient is not reported as a skip
// of its own; nil when the run simply has no patient configured (then skip saying so).
func (r *Run) PatientsBlocked() error {
	r.TargetDownBlock()
	return r.BlockedBy(RootTargetDown, RootSignIn)
}

// currentSpecID is the id of the running spec ("" outside one).
func currentSpecID() (id string) {
	defer func() {
		if recover() != nil {
			id = ""
		}
	}()
	return reports.SpecID(CurrentSpecReport())
}
