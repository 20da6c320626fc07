package reports

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// regulationNames says in plain words what each CFR section the catalogue cites is about
// (design/REGULATIONS.md: CMS-9115-F and CMS-0057-F, and the ONC standards they adopt).
var regulationNames = map[string]string{
	"42 CFR 422.119":  "Patient Access API, Medicare Advantage",
	"42 CFR 431.60":   "Patient Access API, Medicaid fee-for-service",
	"42 CFR 438.242":  "Patient Access API, Medicaid managed care",
	"42 CFR 457.730":  "Patient Access API, CHIP fee-for-service",
	"42 CFR 457.1233": "Patient Access API, CHIP managed care",
	"45 CFR 156.221":  "Patient Access API, qualified health plans on the Federally-facilitated Exchanges",
	"42 CFR 422.120":  "Provider Directory API, Medicare Advantage",
	"42 CFR 431.70":   "Provider Directory API, Medicaid",
	"42 CFR 457.760":  "Provider Directory API, CHIP",
	"45 CFR 170.215":  "API standards adopted by ONC (FHIR, US Core, SMART App Launch, OpenID Connect)",
	"45 CFR 170.315":  "ONC certification criteria (standardized API)",
}

// cfrSection is a citation without its paragraph letters: "42 CFR 422.119(c)(1)" → "42 CFR 422.119".
var cfrSection = regexp.MustCompile(`^[0-9]+ CFR [0-9]+\.[0-9]+`)

// sectionOf returns the section a citation belongs to (the citation itself when it has no
// recognisable section).
func sectionOf(citation string) string {
	if s := cfrSection.FindString(citation); s != "" {
		return s
	}
	return citation
}

// Requirement coverage buckets, in the order the charts and sentences show them.
const (
	covFail       = "fail"
	covKnown      = "known"
	covInconclude = "inconclusive" // a spec ran but showed neither met nor broken: skip, error, not judged
	covUntested   = "untested"
	covAttested   = "attested" // the payer's claim, not tested
	covPass       = "pass"
)

var covBuckets = []string{covFail, covKnown, covInconclude, covUntested, covAttested, covPass}

var covLabels = map[string]string{
	covFail: "fail", covKnown: "known failure", covInconclude: "inconclusive", covUntested: "untested", covAttested: "attested", covPass: "pass",
}

// covBucket sorts a requirement status into a coverage bucket.
func covBucket(status string) string {
	switch status {
	case string(Fail):
		return covFail
	case string(Known):
		return covKnown
	case string(Pass):
		return covPass
	case StatusUntested:
		return covUntested
	case StatusAttested:
		return covAttested
	}
	return covInconclude // skip, error, not-judged
}

// coverage counts requirements per bucket.
type coverage struct {
	Total int
	N     map[string]int
}

func (c *coverage) add(status string) {
	if c.N == nil {
		c.N = map[string]int{}
	}
	c.Total++
	c.N[covBucket(status)]++
}

// Tested are the requirements some spec showed met or broken.
func (c coverage) Tested() int { return c.N[covPass] + c.N[covFail] + c.N[covKnown] }

// regulationLine is one sentence of the top of the report: one CFR section in plain words.
type regulationLine struct {
	Section string // "42 CFR 422.119"
	Name    string // "Patient Access API, Medicare Advantage"
	Status  string // fail, partial, pass, untested (worst first)
	Text    string // "2 requirements fail, 3 untested, 20 pass (of 25)"
	Cov     coverage
}

// regulationLines summarises the requirements per CFR section (a requirement citing several
// paragraphs of one section counts once for it), in section order.
func regulationLines(reqs []RequirementInfo) []regulationLine {
	bySec := map[string]*regulationLine{}
	for _, q := range reqs {
		seen := map[string]bool{}
		for _, c := range q.CFR {
			sec := sectionOf(c)
			if seen[sec] {
				continue
			}
			seen[sec] = true
			l := bySec[sec]
			if l == nil {
				l = &regulationLine{Section: sec, Name: regulationNames[sec]}
				bySec[sec] = l
			}
			l.Cov.add(q.Status)
		}
	}
	out := make([]regulationLine, 0, len(bySec))
	for _, l := range bySec {
		l.Status = covStatus(l.Cov)
		l.Text = covSentence(l.Cov)
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return citationLess(out[i].Section, out[j].Section) })
	return out
}

// covStatus is the status of a set of requirements: fail when one failed; pass when all passed;
// untested when none was tested; partial otherwise (some passed, others untested or
// inconclusive): never shown as pass.
func covStatus(c coverage) string {
	switch {
	case c.N[covFail] > 0:
		return string(Fail)
	case c.Total > 0 && c.N[covPass] == c.Total:
		return string(Pass)
	case c.Total > 0 && c.N[covAttested] == c.Total:
		return StatusAttested
	case c.Tested() == 0 && c.N[covInconclude] == 0:
		return StatusUntested
	case c.N[covKnown] > 0 && c.N[covKnown]+c.N[covPass] == c.Total:
		return string(Known)
	}
	return StatusPartial
}

// covSentence says what the requirements show, worst first: "2 requirements fail, 3 untested,
// 20 pass (of 25)".
func covSentence(c coverage) string {
	if c.Total == 0 {
		return "no requirement"
	}
	var parts []string
	for _, b := range covBuckets {
		n := c.N[b]
		if n == 0 {
			continue
		}
		verb := covLabels[b]
		switch b {
		case covFail:
			if n == 1 {
				verb = "fails"
			}
		case covPass:
			if n == 1 {
				verb = "passes"
			}
		case covKnown:
			verb = "known failure"
			if n > 1 {
				verb += "s"
			}
		}
		if len(parts) == 0 {
			noun := "requirements"
			if n == 1 {
				noun = "requirement"
			}
			parts = append(parts, fmt.Sprintf("%d %s %s", n, noun, verb))
			continue
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, verb))
	}
	s := strings.Join(parts, ", ")
	if c.N[covPass] == c.Total {
		if c.Total == 1 {
			return "its one requirement passes"
		}
		return fmt.Sprintf("all %d requirements pass", c.Total)
	}
	return fmt.Sprintf("%s (of %d)", s, c.Total)
}

// citationLess orders citations by title, then part and section numerically, then paragraphs.
func citationLess(a, b string) bool {
	ka, kb := citationKey(a), citationKey(b)
	if ka != kb {
		return ka < kb
	}
	return a < b
}

var citationNums = regexp.MustCompile(`^([0-9]+) CFR ([0-9]+)\.([0-9]+)(.*)$`)

func citationKey(c string) string {
	m := citationNums.FindStringSubmatch(c)
	if m == nil {
		return "~" + c
	}
	return fmt.Sprintf("%6s %8s %8s %s", m[1], m[2], m[3], m[4])
}
