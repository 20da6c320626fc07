package validate

import (
	"strings"
	"testing"
)

// TestCompileAllProfiles compiles every StructureDefinition snapshot of every package in
// ../shared/fhir-packages (the CARIN BB ExplanationOfBenefit profiles included).
func TestCompileAllProfiles(t *testing.T) {
	v, pkgs := corpus(t)
	n := 0
	for _, p := range pkgs {
		for _, r := range p.Resources {
			if r.ResourceType != "StructureDefinition" {
				continue
			}
			if !strings.Contains(string(r.Raw), `"snapshot"`) {
				continue // a few logical models and templates ship without a snapshot
			}
			n++
			prof, err := v.compile(r)
			if err != nil {
				t.Errorf("%s (%s): %v", r.Canonical(), p.Ref(), err)
				continue
			}
			if len(prof.Orphans) > 0 {
				t.Logf("%s: elements without a base in the snapshot (ignored): %v", r.Canonical(), prof.Orphans)
			}
			if prof.Root == nil || (prof.Kind != "logical" && prof.Type == "") {
				t.Errorf("%s: empty compiled profile", r.Canonical())
			}
		}
	}
	t.Logf("compiled %d StructureDefinitions", n)
	if n < 1500 {
		t.Errorf("only %d StructureDefinitions compiled", n)
	}
}
