package igdata

import (
	"fmt"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// RuleMustSupport is the rule code of a must-support element no resource populates.
const RuleMustSupport = "must-support"

// ExpectMustSupport judges a profile's must-support elements over its resources (pool) for the
// must-support spec of every IG area. The IGs require a server to be *capable* of populating each
// must-support element (US Core must-support: "SHALL be capable of populating all data elements
// as part of the query results"; CARIN BB, PDex and formulary alike), so an element the tested
// data does not hold proves nothing about the server: the spec skips, naming the elements and the
// data that would judge them. Only when the run attests that the members' records hold every
// must-support element (run.MustSupportAttested) is an absent element a failure: the server did
// not return data it holds.
//
// who names whose data the pool is (DescribePatients, or the public data of a public IG).
func ExpectMustSupport(run *framework.Run, profURL, profID string, ms []*ig.MSElement, pool []map[string]any, who string) {
	ExpectPopulated(run, MustSupportKind, profURL, profID, ms, pool, who)
}

// ElementKind is a kind of flagged element whose population a spec judges: its rule code and
// the words its findings use.
type ElementKind struct {
	Rule string // issue rule code
	Name string // "must-support", "USCDI requirement"
	Why  string // why data lacking an element shows nothing (the skip's reason)
	Held string // what the attested records hold
}

// MustSupportKind: the IGs' must-support elements.
var MustSupportKind = ElementKind{Rule: RuleMustSupport, Name: "must-support",
	Why:  "the IG requires the server to be capable of populating them, which data that lacks them cannot show",
	Held: "every must-support element"}

// RuleUSCDIRequirement is the rule code of an Additional USCDI Requirement no resource populates.
const RuleUSCDIRequirement = "uscdi-requirement"

// USCDIKind: US Core's Additional USCDI Requirements (ig.USCDIRequirements).
var USCDIKind = ElementKind{Rule: RuleUSCDIRequirement, Name: "USCDI requirement",
	Why:  "US Core asks implementers seeking ONC certification to treat them as must-support, which data that lacks them cannot show",
	Held: "every must-support and USCDI element"}

// ExpectPopulated is ExpectMustSupport for any kind of flagged element (els): notes what the
// pool holds, skips on a gap unless the run attests complete records, and then fails each
// element populated in no resource.
func ExpectPopulated(run *framework.Run, kind ElementKind, profURL, profID string, els []*ig.MSElement, pool []map[string]any, who string) {
	missing, notRequired := MustSupportGaps(els, pool)
	if len(notRequired) > 0 {
		framework.Note(kind.Name+" not required in data", "%s", strings.Join(notRequired, "\n"))
	}
	framework.Note(kind.Name, "%d %s element(s) of %s; %d found across %d resource(s) of %s",
		len(els), kind.Name, profID, len(els)-len(missing), len(pool), who)
	if len(missing) == 0 {
		return
	}
	if run == nil || !run.MustSupportAttested {
		framework.SkipBecause(fmt.Sprintf("%d %s element(s) of %s are populated in none of the %d resource(s) of %s (%s); %s",
			len(missing), kind.Name, profID, len(pool), who, strings.Join(missing, ", "), kind.Why),
			"test members whose records hold these elements, and attest it (config attest.must_support_complete: true, or --attest-must-support): an absent element then fails")
	}
	var l issue.List
	for _, id := range missing {
		l = append(l, issue.Issue{Severity: issue.Error, Rule: kind.Rule, Path: id, Profile: profURL, ElementID: id,
			Message: fmt.Sprintf("%s %s is populated in none of the %d %s resource(s) of %s, whose records hold %s (attested)", kind.Name, id, len(pool), profID, who, kind.Held)})
	}
	framework.ExpectConformant(fmt.Sprintf("%s: missing %s", kind.Name, strings.Join(missing, ", ")), l)
}
