package dataquality

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/validate"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// maxExamples bounds the system|code examples kept per element (codes, never a member's data).
const maxExamples = 3

// CodeFigures are the figures of one bound element of one profile over the member's resources.
type CodeFigures struct {
	Profile   string // profile id
	Element   string // element id
	Strength  string // extensible or preferred
	ValueSet  string
	Values    int // coded values (with a code)
	Codings   int
	Out       int // values whose every coding is decidably outside the value set
	Undecided int // values the local expansion cannot decide (large external code systems)
	Examples  []string
	Why       string // why the first undecided value could not be decided
}

// TallyCodes adds the bound values of one resource to the figures (keyed profile + element).
func TallyCodes(figs map[string]*CodeFigures, profile string, bvs []validate.BoundValue) {
	for _, bv := range bvs {
		k := profile + "\x00" + bv.Element
		f := figs[k]
		if f == nil {
			f = &CodeFigures{Profile: profile, Element: bv.Element, Strength: bv.Strength, ValueSet: bv.ValueSet}
			figs[k] = f
		}
		f.Values++
		f.Codings += len(bv.Codings)
		switch bv.Member {
		case validate.MemberOut:
			f.Out++
			for _, c := range bv.Codings {
				if len(f.Examples) < maxExamples && !slices.Contains(f.Examples, c) {
					f.Examples = append(f.Examples, c)
				}
			}
		case validate.MemberUndecided:
			f.Undecided++
			if f.Why == "" {
				f.Why = bv.Why
			}
		}
	}
}

// SortedFigures lists the figures by profile and element.
func SortedFigures(figs map[string]*CodeFigures) []*CodeFigures {
	out := make([]*CodeFigures, 0, len(figs))
	for _, f := range figs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Profile != out[j].Profile {
			return out[i].Profile < out[j].Profile
		}
		return out[i].Element < out[j].Element
	})
	return out
}

func (f *CodeFigures) String() string {
	s := fmt.Sprintf("%s %s (%s, %s): %d coded value(s), %d coding(s); %d outside the value set, %d undecided locally",
		f.Profile, f.Element, f.Strength, f.ValueSet, f.Values, f.Codings, f.Out, f.Undecided)
	if len(f.Examples) > 0 {
		s += "; outside: " + strings.Join(f.Examples, ", ")
	}
	if f.Undecided > 0 && f.Why != "" {
		s += " (undecided: " + f.Why + ")"
	}
	return s
}

// CareCode reports whether an element holds a code about the member's care (what was found, done,
// given, billed), the codes a member's app shows: not the type of an identifier, a provenance
// agent's role or a document's technical format, where IGs prescribe codes of their own outside
// the base value sets (CARIN BB's identifier types, US Core's transmitter) and a code outside
// tells a member nothing.
func CareCode(element string) bool {
	if strings.HasPrefix(element, "Provenance.") || strings.HasSuffix(element, ".content.format") {
		return false
	}
	for _, seg := range strings.Split(element, ".") {
		if name, _, _ := strings.Cut(seg, ":"); name == "identifier" {
			return false
		}
	}
	return true
}

// carinCapability is the CARIN BB server CapabilityStatement (suites/carinbb.Capability).
const carinCapability = "http://hl7.org/fhir/us/carin-bb/CapabilityStatement/c4bb"

// specCodes judges the member's codes at the elements US Core and CARIN BB bind extensibly or preferably
// (required bindings are the validator's SHALL failures, judged by the US Core profile specs),
// with the validator's own value-set expansion and membership.
func specCodes() {
	c := data()
	run := framework.Current()
	c.note()
	figs := map[string]*CodeFigures{}
	// US Core's clinical profiles, and CARIN BB's claim and coverage profiles when the run tests
	// CARIN BB (its package loaded): the member's token reaches both.
	srvs := []*ig.Server{c.USCore}
	if run.Wants("carinbb") {
		if set, err := igdata.PackageSet(run); err == nil {
			v := run.Versions("carinbb", "2.0.0")[0]
			if srv, err := ig.LoadCapability(set, carinCapability+"|"+v); err == nil {
				srvs = append(srvs, srv)
			} else {
				framework.Note("CARIN BB", "CARIN BB %s codes not judged: %v", v, err)
			}
		}
	}
	for _, srv := range srvs {
		for _, res := range srv.Resources {
			rs := c.ByType[res.Type]
			if len(rs) == 0 {
				continue
			}
			for _, p := range res.Profiles {
				if p.Raw == nil || p.SD == nil {
					continue
				}
				canonical := p.SD.URL
				if p.SD.Version != "" {
					canonical += "|" + p.SD.Version
				}
				for _, r := range igdata.ProfileRule(p, srv.Version).Place(rs).Pool {
					ctx, cancel := run.Ctx()
					bvs, err := igdata.BoundValues(ctx, run, r, canonical, srv.IG, "extensible", "preferred")
					cancel()
					if err != nil {
						framework.Infra(fmt.Errorf("binding figures of %s: %w", p.ID, err))
					}
					TallyCodes(figs, p.ID, bvs)
				}
			}
		}
	}
	if len(figs) == 0 {
		framework.SkipBecause("no fetched resource of a US Core or CARIN BB profile holds a code at an extensibly or preferably bound element", "test members with coded clinical data or claims")
	}
	values, out, undecided := 0, 0, 0
	var lines, extOut []string
	for _, f := range SortedFigures(figs) {
		values += f.Values
		out += f.Out
		undecided += f.Undecided
		lines = append(lines, f.String())
		if f.Out > 0 && f.Strength == "extensible" && CareCode(f.Element) {
			extOut = append(extOut, fmt.Sprintf("%s %s: %d of %d (%s)", f.Profile, f.Element, f.Out, f.Values, strings.Join(f.Examples, ", ")))
		}
	}
	framework.Note("codes per bound element", "%s\n(outside an extensible binding is listed for review at elements about care; identifier types, provenance agents and document formats are figures only)", strings.Join(lines, "\n"))
	figures("codes outside the bound value set", &evidence.DataQuality{Counts: map[string]int{"coded values": values, "outside the value set": out, "undecided locally": undecided}})
	if len(extOut) > 0 {
		framework.Review("codes outside the extensibly bound value set at %d element(s): %s. An extensible binding allows another code only when no code of the value set fits the concept: confirm that none does", len(extOut), strings.Join(extOut, "; "))
	}
}
