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
	missing, notRequired := MustSupportGaps(ms, pool)
	if len(notRequired) > 0 {
		framework.Note("must-support not required in data", "%s", strings.Join(notRequired, "\n"))
	}
	framework.Note("must-support", "%d must-support element(s) of %s; %d found across %d resource(s) of %s",
		len(ms), profID, len(ms)-len(missing), len(pool), who)
	if len(missing) == 0 {
		return
	}
	if run == nil || !run.MustSupportAttested {
		framework.SkipBecause(fmt.Sprintf("%d must-support element(s) of %s are populated in none of the %d resource(s) of %s (%s); "+
			"the IG requires the server to be capable of populating them, which data that lacks them cannot show",
			len(missing), profID, len(pool), who, strings.Join(missing, ", ")),
			"test members whose records hold these elements, and attest it (config attest.must_support_complete: true, or --attest-must-support): an absent element then fails")
	}
	var l issue.List
	for _, id := range missing {
		l = append(l, issue.Issue{Severity: issue.Error, Rule: RuleMustSupport, Path: id, Profile: profURL, ElementID: id,
			Message: fmt.Sprintf("must-support %s is populated in none of the %d %s resource(s) of %s, whose records hold every must-support element (attested)", id, len(pool), profID, who)})
	}
	framework.ExpectConformant(fmt.Sprintf("must-support: missing %s", strings.Join(missing, ", ")), l)
}
