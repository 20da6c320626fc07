// Package issue is the leaf vocabulary every check speaks: one Issue is one finding about one place
// in one resource or exchange. It imports nothing of pacheck so every layer can use it.
package issue

import (
	"fmt"
	"strings"
)

// Severity orders findings: only errors make a SHALL check fail.
type Severity string

const (
	Error       Severity = "error"
	Warning     Severity = "warning"
	Information Severity = "information"
)

// Issue is one finding. Message is PHI-free (safe for console and JUnit): it names the rule and
// expected vs actual in terms of the specification. Diagnostics may echo server data (values,
// display strings) and goes only to HTML/JSON evidence.
type Issue struct {
	Severity    Severity `json:"severity"`
	Rule        string   `json:"rule"`                  // stable code: cardinality, type, binding, slicing, invariant:us-core-2 ...
	Path        string   `json:"path"`                  // FHIRPath-style location: Observation.category[1].coding[0].code
	Message     string   `json:"message"`               // rule, expected vs actual; never PHI
	Profile     string   `json:"profile,omitempty"`     // canonical URL (|version) of the profile that made the rule
	ElementID   string   `json:"elementId,omitempty"`   // ElementDefinition.id in that profile
	Diagnostics string   `json:"diagnostics,omitempty"` // may quote server data
	// Requirement is the one requirement id (profiles/requirements) this finding breaks, when
	// known; a failed spec marks failed only the requirements its error issues name.
	Requirement string `json:"requirement,omitempty"`
	// Expected and Actual are the finding as data, for reports that show auditors what was
	// wanted and what was found without parsing Message. Like Message they are PHI-free, and the
	// rule is stricter: Expected holds only specification-side facts (a cardinality "1..*", a
	// fixed or pattern value from the profile, a value set canonical, an HTTP status, a JSON
	// type); Actual only shapes, counts, resource types, protocol values and codes
	// ("system|code") — never a patient's free text, name, date of birth or identifier value.
	// A check that cannot say Actual within that rule leaves it empty.
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
}

// Mismatch sets Expected and Actual and words Message from them as "subject: expected E, got A"
// (just "expected E, got A" without a subject), so the text and the data cannot disagree.
func (i Issue) Mismatch(subject, expected, actual string) Issue {
	i.Expected, i.Actual = expected, actual
	i.Message = "expected " + expected + ", got " + actual
	if subject != "" {
		i.Message = subject + ": " + i.Message
	}
	return i
}

func (i Issue) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", i.Severity, i.Rule, i.Message)
	if i.Path != "" {
		fmt.Fprintf(&b, " @ %s", i.Path)
	}
	return b.String()
}

// List is a set of findings with helpers the suites and CLI share.
type List []Issue

// Errors returns the error-severity issues only.
func (l List) Errors() List { return l.filter(Error) }

// Warnings returns the warning-severity issues only.
func (l List) Warnings() List { return l.filter(Warning) }

// HasErrors reports whether any issue is an error.
func (l List) HasErrors() bool {
	for _, i := range l {
		if i.Severity == Error {
			return true
		}
	}
	return false
}

func (l List) filter(s Severity) List {
	var out List
	for _, i := range l {
		if i.Severity == s {
			out = append(out, i)
		}
	}
	return out
}
