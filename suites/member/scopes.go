package member

import (
	"regexp"
	"strings"

	"github.com/pacheck/pacheck/checks/oauth"
)

var (
	denyRE      = regexp.MustCompile(`(?i)\b(deny|decline|cancel|reject|refuse|disallow|do not (allow|share)|don'?t (allow|share)|not now)\b`)
	privacyRE   = regexp.MustCompile(`(?i)privacy`)
	educationRE = regexp.MustCompile(`(?i)educat|before (you )?shar|protect your|privacy and security|security and privacy|choosing an app|know your rights|third[- ]party app`)
)

// words are member-readable stems naming what a scope gives access to (matched at a word start,
// any letter case). A resource type also matches its own name and its words split apart
// (ExplanationOfBenefit: "explanation of benefit").
var words = map[string][]string{
	"*":                     {"all your", "all of your", "all records", "everything"},
	"openid":                {"who you are", "your identity", "identify you", "sign you in", "your sign-in", "your account"},
	"fhirUser":              {"who you are", "your identity", "which member", "record is yours", "your account", "your user"},
	"profile":               {"your name", "your profile", "your email", "contact"},
	"launch/patient":        {"which member", "which patient", "member record", "patient record"},
	"offline_access":        {"offline", "sign out", "signed out", "log out", "logged out", "until you revoke", "until you cancel", "ongoing", "long-term"},
	"online_access":         {"while you", "signed in", "logged in", "online"},
	"ExplanationOfBenefit":  {"claim", "explanation of benefit", "benefit", "eob"},
	"Coverage":              {"coverage", "insurance", "plan details", "enrollment"},
	"Patient":               {"demographic", "your name", "your profile", "personal information", "patient", "member information"},
	"Observation":           {"observation", "lab", "test result", "vital", "result"},
	"Condition":             {"condition", "problem", "diagnos", "health issue"},
	"MedicationRequest":     {"medication", "prescription", "drug"},
	"MedicationDispense":    {"medication", "prescription", "pharmacy", "drug"},
	"Medication":            {"medication", "drug"},
	"AllergyIntolerance":    {"allerg"},
	"Immunization":          {"immuniz", "vaccin", "shot"},
	"Procedure":             {"procedure", "surger", "operation"},
	"Encounter":             {"encounter", "visit", "appointment", "hospital stay"},
	"DiagnosticReport":      {"report", "lab", "imaging", "test result"},
	"DocumentReference":     {"document", "clinical note", "note"},
	"CarePlan":              {"care plan"},
	"CareTeam":              {"care team"},
	"Goal":                  {"goal"},
	"Device":                {"device", "implant"},
	"Practitioner":          {"doctor", "provider", "practitioner", "clinician"},
	"PractitionerRole":      {"doctor", "provider", "practitioner", "clinician"},
	"Organization":          {"organization", "provider", "hospital", "clinic", "facilit"},
	"Location":              {"location", "address", "facilit"},
	"Provenance":            {"provenance", "history", "source", "where your records came from"},
	"QuestionnaireResponse": {"questionnaire", "form", "survey", "answer"},
	"ServiceRequest":        {"order", "referral", "request"},
	"Specimen":              {"specimen", "sample"},
	"RelatedPerson":         {"related", "contact", "family"},
	"Claim":                 {"claim", "prior authorization"},
	"ClaimResponse":         {"claim", "prior authorization", "decision"},
}

// scopeShown is a requested scope and the words that named it.
type scopeShown struct{ Scope, Words string }

// judgeScopes sorts the requested scopes by what the page's visible text says of them: named in
// words, shown only as the technical scope string, or not at all.
func judgeScopes(scopes []string, text string) (shown []scopeShown, literal, missing []string) {
	low := strings.ToLower(text)
	// Words are looked for outside the technical scope strings ("offline_access" does not say
	// "offline" to a member).
	words := low
	for _, raw := range scopes {
		words = strings.ReplaceAll(words, strings.ToLower(raw), " ")
	}
	for _, raw := range scopes {
		if w, ok := named(raw, words); ok {
			shown = append(shown, scopeShown{raw, w})
		} else if strings.Contains(low, strings.ToLower(raw)) {
			literal = append(literal, raw)
		} else {
			missing = append(missing, raw)
		}
	}
	return shown, literal, missing
}

// named returns the first member-readable word of the scope found in low (lower-case text).
func named(raw, low string) (string, bool) {
	sc := oauth.ParseScope(raw)
	var cands []string
	if sc.Special != "" {
		cands = words[sc.Special]
	} else if sc.Resource != "" {
		cands = append(cands, words[sc.Resource]...)
		if sc.Resource != "*" {
			cands = append(cands, sc.Resource, splitCamel(sc.Resource))
		}
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		re := regexp.MustCompile(`(^|[^\pL])` + regexp.QuoteMeta(strings.ToLower(c)))
		if re.MatchString(low) {
			return c, true
		}
	}
	return "", false
}

// splitCamel turns "ExplanationOfBenefit" into "explanation of benefit".
func splitCamel(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

// what says what a scope gives, for a finding.
func what(raw string) string {
	sc := oauth.ParseScope(raw)
	switch {
	case sc.Special == "offline_access":
		return "access that lasts after the member signs out"
	case sc.Special == "online_access":
		return "access while the member is signed in"
	case sc.Special == "openid" || sc.Special == "fhirUser" || sc.Special == "profile":
		return "the member's identity"
	case sc.Special == "launch/patient":
		return "which member's record the app opens"
	case sc.Resource == "*":
		return "all the member's records"
	case sc.Resource != "":
		return "the member's " + sc.Resource + " records"
	}
	return "access the server defines"
}
