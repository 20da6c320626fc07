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
// the resolved Coverage (nil when it could not be read: reported as an error).
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

// OutcomeComplete checks outcome = complete on an adjudicated claim.
func OutcomeComplete(eob R) issue.List {
	if o := str(eob["outcome"]); o != "complete" {
		return issue.List{errf(RuleOutcome, "ExplanationOfBenefit.outcome", "%s: outcome is %q, expected complete for an adjudicated claim", ref(eob), o)}
	}
	return nil
}

// TypeCoded checks that type carries a real code, not a data-absent reason.
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
func amount(x R) (float64, bool) {
	a := obj(x["amount"])
	switch v := a["value"].(type) {
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

// Adjudication checks that an adjudicated claim carries adjudication: at least one amount at
// header or line level, and member cost-sharing (a payment and a member liability / patient pay
// or cost-sharing category) somewhere on the claim.
func Adjudication(eob R) issue.List {
	p := ref(eob)
	var amounts []string
	collect := func(adjs []any) {
		for _, a := range adjs {
			am := obj(a)
			if _, ok := amount(am); ok {
				amounts = append(amounts, categoryKey(am))
			}
		}
	}
	collect(list(eob["adjudication"]))
	for _, it := range list(eob["item"]) {
		collect(list(obj(it)["adjudication"]))
	}
	if len(amounts) == 0 {
		return issue.List{errf(RuleAdjudication, "ExplanationOfBenefit.item.adjudication",
			"%s: no adjudication amount at header or line level (%d item(s)): the member cannot see what was allowed, paid and owed", p, len(list(eob["item"])))}
	}
	paid, member := false, false
	for _, k := range amounts {
		_, code, _ := strings.Cut(k, "|")
		switch code {
		case "paidtoprovider", "paidtopatient", "benefit", "paidbypatient":
			paid = true
		case "memberliability", "deductible", "copay", "coinsurance", "paidbypatientcash", "paidbypatientother", "paidbypatienthealthaccount":
			member = true
		}
	}
	var out issue.List
	if !paid {
		out = append(out, errf(RuleAdjudication, "ExplanationOfBenefit.item.adjudication", "%s: no payment amount (paidtoprovider, paidtopatient or benefit) among the %d adjudication amount(s)", p, len(amounts)))
	}
	if !member {
		out = append(out, errf(RuleAdjudication, "ExplanationOfBenefit.item.adjudication", "%s: no member cost-sharing amount (memberliability, deductible, copay or coinsurance) among the %d adjudication amount(s)", p, len(amounts)))
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
