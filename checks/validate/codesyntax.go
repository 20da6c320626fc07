package validate

import (
	"fmt"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// Codes of large external code systems cannot be looked up without a terminology server; their
// syntax can be checked. codeSyntax returns a description of the expected form when code does not
// have it ("" when it does or the system is not one of these).
func codeSyntax(system, code string) string {
	switch system {
	case "http://loinc.org":
		// 12345-6, and LOINC parts / answers LP12345-6, LA12345-6, LG..., LL...
		c := code
		if len(c) > 2 && c[0] == 'L' && c[1] >= 'A' && c[1] <= 'Z' {
			c = c[2:]
		}
		dash := strings.IndexByte(c, '-')
		if dash < 1 || dash != len(c)-2 || !allDigits(c[:dash]) || !allDigits(c[dash+1:]) {
			return "a LOINC code such as 12345-6"
		}
	case "http://snomed.info/sct":
		// a concept id (6-18 digits); post-coordinated expressions are left alone
		if strings.ContainsAny(code, ":=|{}+ ") {
			return ""
		}
		if len(code) < 6 || len(code) > 18 || !allDigits(code) || code[0] == '0' {
			return "a SNOMED CT concept id (6 to 18 digits)"
		}
	case "http://www.nlm.nih.gov/research/umls/rxnorm", "http://hl7.org/fhir/sid/cvx":
		if len(code) > 10 || !allDigits(code) {
			return "a numeric code"
		}
	case "http://hl7.org/fhir/sid/icd-10-cm":
		// A00, A00.0, S72.001A (the dot is optional in some exchanges)
		c := strings.Replace(code, ".", "", 1)
		if len(c) < 3 || len(c) > 7 || c[0] < 'A' || c[0] > 'Z' || !alnum(c) {
			return "an ICD-10-CM code such as E11.9"
		}
	case "http://hl7.org/fhir/sid/ndc":
		c := strings.ReplaceAll(code, "-", "")
		if len(c) < 10 || len(c) > 11 || !allDigits(c) {
			return "an NDC code of 10 or 11 digits"
		}
	case "http://unitsofmeasure.org":
		// annotations in braces may hold any text
		depth, bad := 0, false
		for i := 0; i < len(code); i++ {
			switch c := code[i]; {
			case c == '{':
				depth++
			case c == '}':
				depth--
			case depth == 0 && (c == ' ' || c == '\t' || c == '\n'):
				bad = true
			}
		}
		if bad || depth != 0 {
			return "a UCUM expression (no whitespace outside {annotations}, balanced braces)"
		}
	}
	return ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

func (w *walker) checkCodeSyntax(c *Elem, system, code string) {
	if want := codeSyntax(system, code); want != "" {
		w.add(issue.Error, "code-syntax", c, ".code", fmt.Sprintf("%q is not %s (system %s; checked for form only, no terminology server)", code, want, system))
	}
}
