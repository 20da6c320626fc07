package validate

import (
	"fmt"

	"github.com/pacheck/pacheck/checks/issue"
)

// bestPracticeURL marks a constraint as best practice (R4 extension
// elementdefinition-bestpractice: "Mark that an invariant represents 'best practice' rule").
const bestPracticeURL = "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"

// BestPracticeLevel is how best-practice invariants are reported: ignore, hint, warning (the
// default, as the HL7 validator's -best-practice) or error.
type BestPracticeLevel string

// Best-practice levels (--best-practice).
const (
	BestPracticeIgnore  BestPracticeLevel = "ignore"
	BestPracticeHint    BestPracticeLevel = "hint"
	BestPracticeWarning BestPracticeLevel = "warning"
	BestPracticeError   BestPracticeLevel = "error"
)

// ParseBestPractice reads a --best-practice value.
func ParseBestPractice(s string) (BestPracticeLevel, error) {
	switch l := BestPracticeLevel(s); l {
	case BestPracticeIgnore, BestPracticeHint, BestPracticeWarning, BestPracticeError:
		return l, nil
	}
	return "", fmt.Errorf("%q is not a level: use ignore, hint, warning or error", s)
}

// severity is the severity a failed best-practice invariant is reported at; false: not reported.
func (l BestPracticeLevel) severity() (issue.Severity, bool) {
	switch l {
	case BestPracticeIgnore:
		return "", false
	case BestPracticeHint:
		return issue.Information, true
	case BestPracticeError:
		return issue.Error, true
	}
	return issue.Warning, true
}

// isBestPractice reports whether a decoded ElementDefinition.constraint carries the
// best-practice extension with valueBoolean true.
func isBestPractice(c map[string]any) bool {
	exts, _ := c["extension"].([]any)
	for _, x := range exts {
		m, _ := x.(map[string]any)
		if u, _ := m["url"].(string); u == bestPracticeURL {
			if b, _ := m["valueBoolean"].(bool); b {
				return true
			}
		}
	}
	return false
}
