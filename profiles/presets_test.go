package profiles

import "testing"

func TestPresets(t *testing.T) {
	ps, err := Presets()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"cms-patient-access": true, "cms-patient-access-2020": true, "cms-0057-2027": true, "public": true, "provider-directory": true, "smart-2.2": true, "uscdi-v4": true, "uscdi-v5": true}
	for _, p := range ps {
		delete(want, p.Name)
		if len(p.Suites) == 0 || p.Description == "" {
			t.Errorf("preset %s has no suites or description", p.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("presets missing: %v", want)
	}
	p, err := LookupPreset("cms-patient-access")
	if err != nil || p.IGs["uscore"][0] != "6.1.0" {
		t.Fatalf("cms-patient-access = %+v, %v", p, err)
	}
	if _, err := LookupPreset("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
}
