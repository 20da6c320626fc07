package ig

import (
	"testing"

	"github.com/pacheck/pacheck/profiles"
)

// TestUSCDIRequirements: US Core 6.1.0, 7.0.0 and 8.0.0 flag Additional USCDI Requirements
// (elements that are not must-support) on their profiles; 3.1.1 has none.
func TestUSCDIRequirements(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string][]string{
		"3.1.1": {},
		"6.1.0": {"us-core-patient": {"Patient.extension:race", "Patient.communication"}},
		"7.0.0": {"us-core-patient": {"Patient.extension:race", "Patient.name.suffix", "Patient.communication"}, "us-core-specimen": {"Specimen.condition"}},
		"8.0.0": {"us-core-patient": {"Patient.extension:interpreterRequired"}, "us-core-procedure": {"Procedure.performer.actor"}},
	}
	for v, byProf := range want {
		s, err := Load(set, v)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		got := map[string]map[string]bool{}
		for _, r := range s.Resources {
			for _, p := range r.Profiles {
				if p.Raw == nil {
					continue
				}
				els, err := p.USCDIRequirements()
				if err != nil {
					t.Errorf("%s %s: %v", v, p.ID, err)
				}
				ms, _ := p.MustSupport()
				isMS := map[string]bool{}
				for _, m := range ms {
					isMS[m.ID] = true
				}
				got[p.ID] = map[string]bool{}
				for _, e := range els {
					n++
					got[p.ID][e.ID] = true
					if isMS[e.ID] {
						t.Errorf("%s %s: %s is must-support and a USCDI requirement", v, p.ID, e.ID)
					}
				}
			}
		}
		t.Logf("US Core %s: %d Additional USCDI Requirements", v, n)
		if (v == "3.1.1") != (n == 0) {
			t.Errorf("US Core %s: %d USCDI requirements", v, n)
		}
		for prof, ids := range byProf {
			for _, id := range ids {
				if !got[prof][id] {
					t.Errorf("US Core %s %s: %s not listed (got %v)", v, prof, id, got[prof])
				}
			}
		}
	}
}
