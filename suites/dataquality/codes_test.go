package dataquality

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/validate"
)

func TestTallyCodes(t *testing.T) {
	figs := map[string]*CodeFigures{}
	bv := func(el string, m validate.Membership, codings ...string) validate.BoundValue {
		why := ""
		if m == validate.MemberUndecided {
			why = "SNOMED CT codes are checked for system only"
		}
		return validate.BoundValue{Element: el, Strength: "extensible", ValueSet: "vs", Codings: codings, Member: m, Why: why}
	}
	TallyCodes(figs, "p1", []validate.BoundValue{
		bv("Condition.code", validate.MemberOut, "x|1"),
		bv("Condition.code", validate.MemberOut, "x|1"),
		bv("Condition.code", validate.MemberOut, "x|2", "y|3"),
		bv("Condition.code", validate.MemberOut, "x|4"),
		bv("Condition.code", validate.MemberUndecided, "http://snomed.info/sct|1"),
		bv("Condition.code", validate.MemberIn, "z|1", "x|9"),
	})
	TallyCodes(figs, "p2", []validate.BoundValue{bv("Condition.code", validate.MemberIn, "z|1")})
	got := SortedFigures(figs)
	if len(got) != 2 || got[0].Profile != "p1" || got[1].Profile != "p2" {
		t.Fatalf("figures %+v", got)
	}
	f := got[0]
	if f.Values != 6 || f.Codings != 8 || f.Out != 4 || f.Undecided != 1 || strings.Join(f.Examples, " ") != "x|1 x|2 y|3" || f.Why == "" {
		t.Errorf("figures %+v", f)
	}
	if s := f.String(); !strings.Contains(s, "4 outside the value set") || !strings.Contains(s, "outside: x|1, x|2, y|3") {
		t.Errorf("text %q", s)
	}
	if g := got[1]; g.Out != 0 || g.Values != 1 || len(g.Examples) != 0 {
		t.Errorf("figures %+v", g)
	}
}

func TestCareCode(t *testing.T) {
	for el, want := range map[string]bool{
		"Condition.code": true, "Observation.component.code": true, "Encounter.type": true,
		"Patient.identifier.type": false, "Coverage.identifier:memberid.type": false,
		"Provenance.agent:ProvenanceTransmitter.type": false, "DocumentReference.content.format": false,
	} {
		if got := CareCode(el); got != want {
			t.Errorf("CareCode(%s) = %v, want %v", el, got, want)
		}
	}
}
