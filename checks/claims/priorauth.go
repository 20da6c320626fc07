package claims

import (
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// ReviewAction returns the X12 306 review action code of an adjudication's reviewAction
// extension ("" when none).
func ReviewAction(adj R) string {
	for _, e := range list(adj["extension"]) {
		em := obj(e)
		if str(em["url"]) != ExtReviewAction {
			continue
		}
		for _, s := range list(em["extension"]) {
			sm := obj(s)
			if u := str(sm["url"]); u == ExtReviewActionCode || u == "code" || u == "reviewActionCode" {
				for _, c := range Codings(sm["valueCodeableConcept"]) {
					_, code, _ := strings.Cut(c, "|")
					if code != "" {
						return code
					}
				}
			}
		}
	}
	return ""
}

// ItemActions returns the review action of each item (by index; "" when the item has none). An
// item without its own takes the header's: the profile's header reviewAction is "the review
// action that is necessary for the authorization for the entire request".
func ItemActions(eob R) []string {
	header := ""
	for _, adj := range list(eob["adjudication"]) {
		if c := ReviewAction(obj(adj)); c != "" {
			header = c
			break
		}
	}
	var out []string
	for _, it := range list(eob["item"]) {
		a := header
		for _, adj := range list(obj(it)["adjudication"]) {
			if c := ReviewAction(obj(adj)); c != "" {
				a = c
				break
			}
		}
		out = append(out, a)
	}
	return out
}

// Decision summarizes a prior authorization: approved, denied, pended, cancelled, partial or
// unknown.
func Decision(eob R) string {
	if str(eob["status"]) == "cancelled" {
		return "cancelled"
	}
	acts := ItemActions(eob)
	has := map[string]bool{}
	for _, a := range acts {
		has[a] = true
	}
	switch {
	case (len(acts) == 0 || has[""]) && str(eob["outcome"]) == "queued":
		return "pended" // no review action, but the outcome says the decision is pending
	case len(acts) == 0 || has[""]:
		return "unknown"
	case has[ActionCancelled]:
		return "cancelled"
	case has[ActionPended]:
		return "pended"
	case has[ActionNotCertified] && len(has) == 1:
		return "denied"
	case has[ActionCertified] && len(has) == 1:
		return "approved"
	}
	return "partial"
}

// ReviewStatus checks that the prior authorization states its status and outcome and the
// payer's decision (review action) on every item.
func ReviewStatus(eob R) issue.List {
	p := ref(eob)
	var out issue.List
	switch str(eob["status"]) {
	case "active", "cancelled", "draft", "entered-in-error":
	default:
		out = append(out, errf(RuleReviewAction, "ExplanationOfBenefit.status", "%s: status %q is not an ExplanationOfBenefit status", p, str(eob["status"])))
	}
	switch str(eob["outcome"]) {
	case "queued", "complete", "error", "partial":
	default:
		out = append(out, errf(RuleReviewAction, "ExplanationOfBenefit.outcome", "%s: outcome %q is not a claim outcome", p, str(eob["outcome"])))
	}
	acts := ItemActions(eob)
	if len(acts) == 0 {
		out = append(out, errf(RuleReviewAction, "ExplanationOfBenefit.item", "%s: no item, so no decision on any item or service", p))
	}
	for i, a := range acts {
		if a == "" {
			out = append(out, errf(RuleReviewAction, "ExplanationOfBenefit.item.adjudication.extension:reviewAction",
				"%s: item %d carries no review action (X12 306 decision: certified, not certified, pended, cancelled...)", p, i+1))
		}
	}
	return out
}

// DenialReason checks that each not-certified item gives a coded denial reason.
func DenialReason(eob R) issue.List {
	p := ref(eob)
	var out issue.List
	for i, it := range list(eob["item"]) {
		im := obj(it)
		denied := false
		reason := false
		for _, adj := range list(im["adjudication"]) {
			am := obj(adj)
			if ReviewAction(am) == ActionNotCertified {
				denied = true
			}
			if hasCode(am["category"], SysPDexAdjudication+"|denialreason", "denialreason") && len(Codings(am["reason"])) > 0 {
				reason = true
			}
		}
		if denied && !reason {
			out = append(out, errf(RuleDenialReason, "ExplanationOfBenefit.item.adjudication:denialreason",
				"%s: item %d is not certified (denied) but gives no coded denial reason (adjudication category denialreason with reason)", p, i+1))
		}
	}
	return out
}

// DecisionDetails checks the 422.119(b)(1)(iv) details: the decision date (created), the items
// and services (coded), for certified items when the authorization ends (its period) and the
// quantity used to date (consumed units, or the utilization extension on a total), and that
// pended and cancelled authorizations say so in outcome and status. The requested quantity and
// the approved quantity (allowed units) are warnings: the regulation lists neither, the profile
// leaves both optional (item.quantity 0..1, allowedunits 0..1) and the IG's own example
// PDexPriorAuth1 (certified, A1) gives neither.
func DecisionDetails(eob R) issue.List {
	p := ref(eob)
	var out issue.List
	if str(eob["created"]) == "" {
		out = append(out, errf(RuleDecision, "ExplanationOfBenefit.created", "%s: no created date (the date of the decision record)", p))
	}
	utilTotal := false
	for _, t := range list(eob["total"]) {
		for _, e := range list(obj(t)["extension"]) {
			if strings.HasSuffix(str(obj(e)["url"]), "/PriorAuthorizationUtilization") {
				utilTotal = true
			}
		}
	}
	periodHeader := len(list(eob["preAuthRefPeriod"])) > 0
	acts := ItemActions(eob)
	for i, it := range list(eob["item"]) {
		im := obj(it)
		if len(Codings(im["productOrService"])) == 0 {
			out = append(out, errf(RuleDecision, "ExplanationOfBenefit.item.productOrService", "%s: item %d names no coded item or service", p, i+1))
		}
		if _, ok := obj(im["quantity"])["value"]; !ok {
			out = append(out, warnf(RuleDecision, "ExplanationOfBenefit.item.quantity", "%s: item %d gives no requested quantity", p, i+1))
		}
		a := ""
		if i < len(acts) {
			a = acts[i]
		}
		if a != ActionCertified && a != ActionCertifiedPartial && a != ActionModified {
			continue
		}
		allowed, consumed, period := false, false, periodHeader
		for _, adj := range list(im["adjudication"]) {
			am := obj(adj)
			if hasCode(am["category"], "allowedunits") {
				_, allowed = am["value"]
			}
			if hasCode(am["category"], "consumedunits") {
				_, consumed = am["value"]
			}
		}
		for _, e := range list(im["extension"]) {
			if str(obj(e)["url"]) == ExtItemPeriod {
				period = true
			}
		}
		if str(obj(im["servicedPeriod"])["start"]) != "" {
			period = true
		}
		if !allowed {
			out = append(out, warnf(RuleDecision, "ExplanationOfBenefit.item.adjudication:allowedunits", "%s: item %d is certified but gives no approved quantity (allowedunits)", p, i+1))
		}
		if !consumed && !utilTotal {
			out = append(out, errf(RuleDecision, "ExplanationOfBenefit.item.adjudication:consumedunits", "%s: item %d is certified but gives no quantity used (consumedunits or the utilization total)", p, i+1))
		}
		if !period {
			out = append(out, errf(RuleDecision, "ExplanationOfBenefit.item.extension:itemPreAuthPeriod", "%s: item %d is certified but states no authorized period (end date of the authorization)", p, i+1))
		}
	}
	switch Decision(eob) {
	case "pended":
		if o := str(eob["outcome"]); o == "complete" {
			out = append(out, errf(RuleDecision, "ExplanationOfBenefit.outcome", "%s: an item is pended but outcome is complete (expected queued or partial)", p))
		}
	case "cancelled":
		if str(eob["status"]) != "cancelled" {
			for _, a := range acts {
				if a != ActionCancelled {
					out = append(out, warnf(RuleDecision, "ExplanationOfBenefit.status", "%s: an item is cancelled but status is %q", p, str(eob["status"])))
					break
				}
			}
		}
	}
	return out
}
