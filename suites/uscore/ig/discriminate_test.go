package ig

import (
	"slices"
	"testing"

	"github.com/pacheck/pacheck/profiles"
)

func cc(system, code string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
}

const (
	obsCat = "http://terminology.hl7.org/CodeSystem/observation-category"
	loinc  = "http://loinc.org"
)

func obs(cat, code string) map[string]any {
	return map[string]any{"resourceType": "Observation", "status": "final",
		"category": []any{cc(obsCat, cat)}, "code": cc(loinc, code)}
}

// TestDiscriminators: the values derived from the official profiles' snapshots tell a profile's
// instances from the other resources of the type.
func TestDiscriminators(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	load := func(cs string) *Server {
		srv, err := LoadCapability(set, cs)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srvs := map[string]*Server{
		"uscore":    load(ServerCS + "|6.1.0"),
		"carinbb":   load("http://hl7.org/fhir/us/carin-bb/CapabilityStatement/c4bb|2.0.0"),
		"pdex":      load("http://hl7.org/fhir/us/davinci-pdex/CapabilityStatement/pdex-server|2.0.0"),
		"formulary": load("http://hl7.org/fhir/us/davinci-drug-formulary/CapabilityStatement/usdf-server|2.0.1"),
	}
	find := func(ig, typ, id string) *Profile {
		r := srvs[ig].Resource(typ)
		if r == nil {
			t.Fatalf("%s lists no %s", ig, typ)
		}
		for _, p := range r.Profiles {
			if p.ID == id {
				return p
			}
		}
		t.Fatalf("%s lists no %s profile %s", ig, typ, id)
		return nil
	}
	eob := func(use, typ string) map[string]any {
		return map[string]any{"resourceType": "ExplanationOfBenefit", "use": use,
			"type": cc("http://terminology.hl7.org/CodeSystem/claim-type", typ)}
	}
	const x12 = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	for _, tc := range []struct {
		ig, typ, profile string
		r                map[string]any
		want             bool
	}{
		{"pdex", "ExplanationOfBenefit", "pdex-priorauthorization", eob("preauthorization", "professional"), true},
		{"pdex", "ExplanationOfBenefit", "pdex-priorauthorization", eob("claim", "professional"), false},
		{"carinbb", "ExplanationOfBenefit", "C4BB-ExplanationOfBenefit-Pharmacy", eob("claim", "pharmacy"), true},
		{"carinbb", "ExplanationOfBenefit", "C4BB-ExplanationOfBenefit-Pharmacy", eob("claim", "institutional"), false},
		{"carinbb", "ExplanationOfBenefit", "C4BB-ExplanationOfBenefit-Pharmacy", eob("preauthorization", "pharmacy"), false},
		{"carinbb", "ExplanationOfBenefit", "C4BB-ExplanationOfBenefit-Professional-NonClinician", eob("claim", "professional"), true},
		{"carinbb", "ExplanationOfBenefit", "C4BB-ExplanationOfBenefit-Professional-NonClinician", eob("claim", "pharmacy"), false},
		{"uscore", "Observation", "us-core-body-weight", obs("vital-signs", "29463-7"), true},
		{"uscore", "Observation", "us-core-body-weight", obs("vital-signs", "8302-2"), false},
		{"uscore", "Observation", "us-core-body-weight", obs("laboratory", "29463-7"), false},
		{"uscore", "Observation", "us-core-vital-signs", obs("vital-signs", "8302-2"), true},
		{"uscore", "Observation", "us-core-observation-lab", obs("laboratory", "2345-7"), true},
		{"uscore", "Observation", "us-core-observation-lab", obs("vital-signs", "8302-2"), false},
		{"uscore", "Observation", "us-core-smokingstatus", obs("social-history", "72166-2"), true},
		{"uscore", "Observation", "us-core-smokingstatus", obs("social-history", "11341-5"), false},
		{"uscore", "Condition", "us-core-condition-problems-health-concerns",
			map[string]any{"category": []any{cc("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")}}, true},
		{"uscore", "Condition", "us-core-condition-problems-health-concerns",
			map[string]any{"category": []any{cc("http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis")}}, false},
		{"uscore", "Condition", "us-core-condition-encounter-diagnosis",
			map[string]any{"category": []any{cc("http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis")}}, true},
		{"formulary", "InsurancePlan", "usdf-Formulary", map[string]any{"type": cc(x12, "DRUGPOL")}, true},
		{"formulary", "InsurancePlan", "usdf-Formulary", map[string]any{"type": cc("http://example.org/plan-type", "medical")}, false},
		{"formulary", "InsurancePlan", "usdf-PayerInsurancePlan", map[string]any{"type": cc(x12, "DRUGPOL")}, false},
		{"formulary", "InsurancePlan", "usdf-PayerInsurancePlan", map[string]any{
			"plan": []any{map[string]any{"type": cc("http://terminology.hl7.org/CodeSystem/insurance-plan-type", "drug")}}}, true},
	} {
		p := find(tc.ig, tc.typ, tc.profile)
		ds := p.Discriminators()
		if len(ds) == 0 {
			t.Errorf("%s: no discriminators derived", tc.profile)
			continue
		}
		got := !slices.ContainsFunc(ds, func(d *Discriminator) bool { return !d.Match(tc.r) })
		if got != tc.want {
			var ls []string
			for _, d := range ds {
				ls = append(ls, d.Label)
			}
			t.Errorf("%s (%v) on %v: match %v, want %v", tc.profile, ls, tc.r, got, tc.want)
		}
	}
	// what the data note says
	if ds := find("pdex", "ExplanationOfBenefit", "pdex-priorauthorization").Discriminators(); len(ds) != 1 || ds[0].Label != "use=preauthorization" {
		t.Errorf("prior authorization discriminators: %v", ds)
	}
	// identifiers and backbone slices are content, not kind; a type with nothing fixed has none
	for _, id := range []string{"us-core-patient", "us-core-location"} {
		if ds := find("uscore", map[string]string{"us-core-patient": "Patient", "us-core-location": "Location"}[id], id).Discriminators(); len(ds) != 0 {
			t.Errorf("%s: discriminators %v, want none", id, ds)
		}
	}
	for _, d := range find("carinbb", "ExplanationOfBenefit", "C4BB-ExplanationOfBenefit-Inpatient-Institutional").Discriminators() {
		if d.name == "supportingInfo" || d.name == "identifier" || d.name == "adjudication" {
			t.Errorf("inpatient discriminator %s (%s) is content, not kind", d.ID, d.Label)
		}
	}
	if got := find("uscore", "Observation", "us-core-vital-signs").Derived(); !slices.Contains(got, "http://hl7.org/fhir/us/core/StructureDefinition/us-core-body-weight") {
		t.Errorf("us-core-vital-signs derived: %v", got)
	}
	if got := find("formulary", "InsurancePlan", "usdf-PayerInsurancePlan").ReferencePaths("http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/usdf-InsurancePlanLocation"); !slices.Equal(got, []string{"InsurancePlan.coverageArea"}) {
		t.Errorf("ReferencePaths = %v", got)
	}
}

func TestPatternMatch(t *testing.T) {
	for _, tc := range []struct {
		v, p any
		want bool
	}{
		{"claim", "claim", true},
		{"claim", "preauthorization", false},
		{nil, "claim", false},
		{cc("s", "a"), cc("s", "a"), true},
		{map[string]any{"coding": []any{map[string]any{"system": "s", "code": "b"}, map[string]any{"system": "s", "code": "a", "display": "A"}}}, cc("s", "a"), true},
		{cc("s", "a"), cc("t", "a"), false},
		{[]any{cc("s", "x"), cc("s", "a")}, []any{cc("s", "a")}, true},
		{"1.0", "1.0", true},
	} {
		if got := PatternMatch(tc.v, tc.p); got != tc.want {
			t.Errorf("PatternMatch(%v, %v) = %v, want %v", tc.v, tc.p, got, tc.want)
		}
	}
}

// TestDiscriminatorsOddSnapshots: a package's StructureDefinition is input; odd snapshots give
// what can be derived (or nothing), never a panic.
func TestDiscriminatorsOddSnapshots(t *testing.T) {
	el := func(m map[string]any) any { return m }
	for _, tc := range []struct {
		name string
		els  []any
		want int
	}{
		{"no snapshot", nil, 0},
		{"not objects", []any{"x", 3, nil}, 0},
		{"choice of an empty type", []any{el(map[string]any{"id": "Observation.value[x]", "path": "Observation.value[x]", "min": 1,
			"type": []any{map[string]any{"code": ""}}, "patternString": "x"})}, 0},
		{"slice without its element", []any{el(map[string]any{"id": "Observation.category:x", "path": "Observation.category", "min": 1,
			"type": []any{map[string]any{"code": "CodeableConcept"}}, "patternCodeableConcept": cc("s", "c")})}, 0},
		{"required coded pattern", []any{el(map[string]any{"id": "Observation.code", "path": "Observation.code", "min": 1,
			"type": []any{map[string]any{"code": "CodeableConcept"}}, "patternCodeableConcept": cc("s", "c")})}, 1},
		{"optional coded pattern", []any{el(map[string]any{"id": "Observation.code", "path": "Observation.code", "min": 0,
			"type": []any{map[string]any{"code": "CodeableConcept"}}, "patternCodeableConcept": cc("s", "c")})}, 0},
		{"min of the wrong type", []any{el(map[string]any{"id": "Observation.code", "path": "Observation.code", "min": "1",
			"type": []any{map[string]any{"code": "CodeableConcept"}}, "patternCodeableConcept": cc("s", "c")})}, 0},
	} {
		sd := map[string]any{"snapshot": map[string]any{"element": tc.els}}
		if got := discriminators(sd, "Observation", nil, true, nil); len(got) != tc.want {
			t.Errorf("%s: %d discriminators, want %d", tc.name, len(got), tc.want)
		}
	}
}
