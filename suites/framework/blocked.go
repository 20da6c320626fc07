package framework

import (
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/evidence"
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

// blockedBy reports whether err is (or wraps) a *BlockedError.
func blockedBy(err error) (evidence.Blocked, bool) {
	var be *BlockedError
	if errors.As(err, &be) {
		return evidence.Blocked{Cause: be.Cause, Reason: be.Reason}, true
	}
	return evidence.Blocked{}, false
}
