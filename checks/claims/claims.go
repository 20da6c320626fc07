// Package claims checks the business rules of payer data that the profiles cannot express:
// CARIN Blue Button claims (insurer versus the focal coverage's payer, outcome, adjudication and
// totals, claim type, the 2016 look-back), Da Vinci PDex prior authorizations (review action,
// denial reason, decision dates, quantities) and US Drug Formulary links. Resources are decoded
// JSON (map[string]any). Plain Go: every function returns issues, PHI-free in Message.
package claims

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// Rule codes.
const (
	RuleInsurer        = "carinbb.eob.insurer-matches-coverage"
	RuleOutcome        = "carinbb.eob.outcome-complete"
	RuleAdjudication   = "carinbb.eob.adjudication"
	RuleTotals         = "carinbb.eob.totals-consistent"
	RuleType           = "carinbb.eob.type-coded"
	RuleLookback       = "carinbb.eob.lookback"
	RuleReviewAction   = "pdex.priorauth.review-status"
	RuleDenialReason   = "pdex.priorauth.denial-reason"
	RuleDecision       = "pdex.priorauth.decision"
	RuleFormularyLinks = "formulary.links-resolve"
)

// Code systems and extension URLs.
const (
	SysAdjudication     = "http://terminology.hl7.org/CodeSystem/adjudication"
	SysC4BBAdjudication = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
	SysPDexAdjudication = "http://hl7.org/fhir/us/davinci-pdex/CodeSystem/PDexAdjudicationDiscriminator"
	SysDataAbsent       = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
	ExtReviewAction     = "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/extension-reviewAction"
	ExtReviewActionCode = "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/extension-reviewActionCode"
	ExtItemIssueDate    = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-itemPreAuthIssueDate"
	ExtItemPeriod       = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-itemPreAuthPeriod"
	LookbackStart       = "2016-01-01"
)

// X12 306 review action codes.
const (
	ActionCertified        = "A1"
	ActionCertifiedPartial = "A2"
	ActionNotCertified     = "A3"
	ActionPended           = "A4"
	ActionModified         = "A6"
	ActionCancelled        = "C"
	ActionContact          = "CT"
	ActionNoAction         = "NA"
)

// R is a decoded resource.
type R = map[string]any

// ID returns the resource id.
func ID(r R) string { s, _ := r["id"].(string); return s }

func ref(r R) string { t, _ := r["resourceType"].(string); return t + "/" + ID(r) }

func errf(rule, path, format string, args ...any) issue.Issue {
	return issue.Issue{Severity: issue.Error, Rule: rule, Path: path, Message: fmt.Sprintf(format, args...)}
}

func warnf(rule, path, format string, args ...any) issue.Issue {
	return issue.Issue{Severity: issue.Warning, Rule: rule, Path: path, Message: fmt.Sprintf(format, args...)}
}

// IsPriorAuth reports whether an ExplanationOfBenefit is a prior authorization.
func IsPriorAuth(eob R) bool { u, _ := eob["use"].(string); return u == "preauthorization" }

func list(x any) []any { l, _ := x.([]any); return l }
func obj(x any) R      { m, _ := x.(map[string]any); return m }
func str(x any) string { s, _ := x.(string); return s }

// Codings returns the codings of a CodeableConcept as system|code strings.
func Codings(cc any) []string {
	var out []string
	for _, c := range list(obj(cc)["coding"]) {
		cm := obj(c)
		out = append(out, str(cm["system"])+"|"+str(cm["code"]))
	}
	return out
}

func hasCode(cc any, codes ...string) bool {
	for _, c := range Codings(cc) {
		_, code, _ := strings.Cut(c, "|")
		for _, x := range codes {
			if c == x || code == x {
				return true
			}
		}
	}
	return false
}

// RefTarget returns "Type/id" of a Reference (literal references only; "" otherwise).
func RefTarget(x any) string {
	s := str(obj(x)["reference"])
	if s == "" || strings.HasPrefix(s, "#") {
		return ""
	}
	if i := strings.Index(s, "/_history/"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(strings.TrimRight(s, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

// FocalCoverage returns the reference of the focal insurance's coverage ("" when none).
func FocalCoverage(eob R) string {
	ins := list(eob["insurance"])
	for _, i := range ins {
		im := obj(i)
		if f, _ := im["focal"].(bool); f {
			return RefTarget(im["coverage"])
		}
	}
	if len(ins) == 1 {
		return RefTarget(obj(ins[0])["coverage"])
	}
	return ""
}

// InsurerMatchesCoverage checks that eob.insurer is the payor of the focal Coverage. coverage is
// the resolved Coverage (nil when it could not be read: reported as an error). The rule rests on
// element comments ("Same as insurance.coverage.organization") and the profile page's notes, not
// on a SHALL or an invariant, and several CARIN BB 2.0.0 examples name Payer1 as insurer of a
// Coverage paid by Payer2: its requirement is SHOULD, so a mismatch never decides a SHALL verdict.
func InsurerMatchesCoverage(eob, coverage R) issue.List {
	p := ref(eob)
	ins := RefTarget(eob["insurer"])
	cov := FocalCoverage(eob)
	switch {
	case ins == "":
		return issue.List{errf(RuleInsurer, "ExplanationOfBenefit.insurer", "%s: insurer is not a literal reference, so it cannot be compared with the coverage's payer", p)}
	case cov == "":
		return issue.List{errf(RuleInsurer, "ExplanationOfBenefit.insurance", "%s: no focal insurance with a literal coverage reference", p)}
	case coverage == nil:
		return issue.List{errf(RuleInsurer, "ExplanationOfBenefit.insurance.coverage", "%s: the focal coverage %s could not be read", p, cov)}
	}
	var payors []string
	for _, x := range list(coverage["payor"]) {
		if t := RefTarget(x); t != "" {
			payors = append(payors, t)
			if t == ins {
				return nil
			}
		}
	}
	return issue.List{errf(RuleInsurer, "ExplanationOfBenefit.insurer",
		"%s: insurer is %s but the focal coverage %s is paid by %s", p, ins, cov, orNone(payors))}
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "no literal payor"
	}
	return strings.Join(xs, ", ")
}

// OutcomeComplete compares outcome with the profiles' guidance. The only normative constraint on
// ExplanationOfBenefit.outcome is its required binding (queued | complete | error | partial),
// which profile validation checks; "Expected value is complete" is an element comment, and the
// IG's own examples use partial. So the requirement is SHOULD: partial is a warning (legal, a
// claim adjudicated in part), and only an outcome that says the claim was not adjudicated at all
// (queued, error) or none is an error of that SHOULD requirement.
func OutcomeComplete(eob R) issue.List {
	switch o := str(eob["outcome"]); o {
	case "complete":
		return nil
	case "partial":
		return issue.List{warnf(RuleOutcome, "ExplanationOfBenefit.outcome", "%s: outcome is partial; the profile's comment expects complete, but partial is a legal outcome (the IG's own examples use it)", ref(eob))}
	default:
		return issue.List{errf(RuleOutcome, "ExplanationOfBenefit.outcome", "%s: outcome is %q, so the claim does not read as adjudicated (the profile's comment expects complete)", ref(eob), o)}
	}
}

// TypeCoded checks that type carries a real code, not a data-absent reason: type has a required
// binding to the claim-type value set, and the profile says "a data absent reason is not allowed"
// (its notes on fields, as Inferno's list quotes them in hl7.fhir.us.carin-bb_2.0.0@115: ".type
// SHALL NOT use a data absent reason").
func TypeCoded(eob R) issue.List {
	t := eob["type"]
	cs := Codings(t)
	if len(cs) == 0 {
		return issue.List{errf(RuleType, "ExplanationOfBenefit.type", "%s: type has no coding", ref(eob))}
	}
	for _, c := range cs {
		if strings.HasPrefix(c, SysDataAbsent+"|") {
			return issue.List{errf(RuleType, "ExplanationOfBenefit.type", "%s: type is a data-absent reason (%s)", ref(eob), c)}
		}
	}
	for _, e := range list(obj(t)["extension"]) {
		if strings.HasSuffix(str(obj(e)["url"]), "/data-absent-reason") {
			return issue.List{errf(RuleType, "ExplanationOfBenefit.type", "%s: type carries the data-absent-reason extension", ref(eob))}
		}
	}
	return nil
}

// amount reads an adjudication or total entry's amount.value.
func amount(x R) (float64, bool) { return number(obj(x["amount"])["value"]) }

// number reads a JSON number decoded with or without UseNumber.
func number(x any) (float64, bool) {
	switch v := x.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

func categoryKey(x R) string {
	cs := Codings(x["category"])
	if len(cs) == 0 {
		return ""
	}
	sort.Strings(cs)
	return cs[0]
}

// AmountRule is what a CARIN BB claim profile itself requires of adjudication amounts, read from
// its StructureDefinition, so the rule fails only what the profile's slices, cardinality and
// invariants demand (never amounts the profile leaves optional).
type AmountRule struct {
	// PerLine: item.adjudication:adjudicationamounttype has min >= 1, so every line carries an
	// amount (Pharmacy, Professional/NonClinician, Oral).
	PerLine bool
	// HeaderOrLine: the invariant EOB-institutional-item-or-header-adjudication puts the amounts at
	// header or line level (Inpatient and Outpatient Institutional).
	HeaderOrLine bool
	Source       string // the slice or invariant the rule comes from, for the spec's note
}

// InvHeaderOrLine is the institutional profiles' invariant placing adjudication at one level.
const InvHeaderOrLine = "EOB-institutional-item-or-header-adjudication"

// AmountRuleOf reads the amount requirement of a profile's StructureDefinition (decoded JSON;
// the zero rule when sd is nil or requires no amount).
func AmountRuleOf(sd R) AmountRule {
	var line, inv string
	for _, e := range list(obj(sd["snapshot"])["element"]) {
		em := obj(e)
		if str(em["id"]) == "ExplanationOfBenefit.item.adjudication:adjudicationamounttype" {
			if n, ok := number(em["min"]); ok && n >= 1 {
				line = fmt.Sprintf("item.adjudication:adjudicationamounttype %g..%s, its amount 1..1", n, str(em["max"]))
			}
		}
		for _, c := range list(em["constraint"]) {
			if cm := obj(c); str(cm["key"]) == InvHeaderOrLine {
				inv = "invariant " + InvHeaderOrLine + ": " + strings.Join(strings.Fields(str(cm["human"])), " ")
			}
		}
	}
	switch {
	case line != "": // the stronger demand
		return AmountRule{PerLine: true, Source: line}
	case inv != "":
		return AmountRule{HeaderOrLine: true, Source: inv}
	}
	return AmountRule{}
}

// hasAmount reports whether one of adjs carries an amount: the adjudicationamounttype slice is
// the one whose amount is 1..1 (denial, adjustment, payment-status and unit slices carry none),
// so without a terminology server an amount stands for that slice.
func hasAmount(adjs []any) bool {
	for _, a := range adjs {
		if _, ok := amount(obj(a)); ok {
			return true
		}
	}
	return false
}

// Adjudication checks the adjudication amounts the claim's profile requires (rule): an amount on
// every line, or at header or line level. Which categories are present (paid, member liability)
// is left alone: no slice of the profiles requires one, and the IG's own examples carry only
// "submitted" on some claims.
func Adjudication(eob R, rule AmountRule) issue.List {
	p := ref(eob)
	items := list(eob["item"])
	var out issue.List
	switch {
	case rule.PerLine:
		for i, it := range items {
			if !hasAmount(list(obj(it)["adjudication"])) {
				out = append(out, errf(RuleAdjudication, "ExplanationOfBenefit.item.adjudication",
					"%s: item %d carries no adjudication amount, but the profile requires one on every line (%s)", p, i+1, rule.Source))
			}
		}
	case rule.HeaderOrLine:
		line := false
		for _, it := range items {
			line = line || hasAmount(list(obj(it)["adjudication"]))
		}
		if !line && !hasAmount(list(eob["adjudication"])) {
			out = append(out, errf(RuleAdjudication, "ExplanationOfBenefit.adjudication",
				"%s: no adjudication amount at header or line level (%d item(s)), but the profile requires them at one of the two (%s)", p, len(items), rule.Source))
		}
	}
	return out
}

// TotalsConsistent checks, per amount category, that the total equals the sum of the line
// amounts when every line reports the category. The requirement is SHOULD: the issues are errors
// so the SHOULD spec fails visibly, and its level keeps it out of SHALL verdicts.
func TotalsConsistent(eob R) issue.List {
	items := list(eob["item"])
	if len(items) == 0 {
		return nil
	}
	sums := map[string]float64{}
	counts := map[string]int{}
	for _, it := range items {
		seen := map[string]bool{}
		for _, a := range list(obj(it)["adjudication"]) {
			am := obj(a)
			v, ok := amount(am)
			k := categoryKey(am)
			if !ok || k == "" || seen[k] {
				continue
			}
			seen[k] = true
			sums[k] += v
			counts[k]++
		}
	}
	var out issue.List
	for _, t := range list(eob["total"]) {
		tm := obj(t)
		v, ok := amount(tm)
		k := categoryKey(tm)
		if !ok || counts[k] != len(items) {
			continue
		}
		if math.Abs(v-sums[k]) > 0.005 {
			out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleTotals, Path: "ExplanationOfBenefit.total",
				Message: fmt.Sprintf("%s: total %s is %.2f but its %d line(s) add up to %.2f", ref(eob), k, v, len(items), sums[k])})
		}
	}
	return out
}

// Lookback reports dates of service before 2016-01-01 (billablePeriod, item serviced dates).
func Lookback(eob R) issue.List {
	var out issue.List
	check := func(path, d string) {
		if d != "" && len(d) >= 4 && d < LookbackStart {
			out = append(out, errf(RuleLookback, path, "%s: %s is %s, before the %s look-back start", ref(eob), path, d, LookbackStart))
		}
	}
	bp := obj(eob["billablePeriod"])
	check("ExplanationOfBenefit.billablePeriod.start", str(bp["start"]))
	for _, it := range list(eob["item"]) {
		im := obj(it)
		check("ExplanationOfBenefit.item.servicedDate", str(im["servicedDate"]))
		check("ExplanationOfBenefit.item.servicedPeriod.start", str(obj(im["servicedPeriod"])["start"]))
	}
	return out
}

// ServiceDates returns how many dates of service the claim carries (for "when present").
func ServiceDates(eob R) int {
	n := 0
	if str(obj(eob["billablePeriod"])["start"]) != "" {
		n++
	}
	for _, it := range list(eob["item"]) {
		im := obj(it)
		if str(im["servicedDate"]) != "" || str(obj(im["servicedPeriod"])["start"]) != "" {
			n++
		}
	}
	return n
}
