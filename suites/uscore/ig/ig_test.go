package ig

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/profiles"
)

func TestLoadAndMustSupport(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"3.1.1", "6.1.0", "7.0.0", "8.0.0"} {
		s, err := Load(set, v)
		if err != nil {
			t.Fatal(err)
		}
		nprof, ncombo, nms := 0, 0, 0
		for _, r := range s.Resources {
			ncombo += len(r.Combos)
			for _, sp := range r.SearchParams {
				if !sp.Resolved && strings.HasPrefix(sp.Definition, "http://hl7.org/fhir/us/core/") {
					t.Errorf("%s %s: search parameter %s unresolved", v, r.Type, sp.Definition)
				}
			}
			for _, p := range r.Profiles {
				if p.Raw == nil {
					continue
				}
				nprof++
				ms, err := p.MustSupport()
				if err != nil {
					t.Errorf("%s %s: %v", v, p.ID, err)
				}
				nms += len(ms)
			}
		}
		t.Logf("US Core %s: %d resource types, %d profiles, %d searches, %d must-support elements", v, len(s.Resources), nprof, ncombo, nms)
		if nprof < 20 || ncombo < 30 || nms < 200 {
			t.Errorf("US Core %s: too little read from the package", v)
		}
	}
	s, _ := Load(set, "6.1.0")
	obs := s.Resource("Observation")
	shall := map[string]bool{}
	for _, c := range obs.Combos {
		shall[c.Name()] = c.Expectation == "SHALL"
	}
	if !shall["patient+category"] || !shall["patient+code"] || shall["patient+category+status"] {
		t.Fatalf("Observation combos: %+v", obs.Combos)
	}
	if st := obs.Param("status"); st == nil || st.MultipleOr != "SHALL" {
		t.Errorf("Observation status multipleOr: %+v", st)
	}
	if d := obs.Param("date"); d == nil || d.Comparators["ge"] != "SHALL" {
		t.Errorf("date comparators: %+v", d)
	}
	mr := s.Resource("MedicationRequest")
	found := false
	for _, in := range mr.Includes {
		found = found || in.Value == "MedicationRequest:medication"
	}
	if !found {
		t.Errorf("MedicationRequest includes %+v", mr.Includes)
	}
}

func TestMustSupportPresence(t *testing.T) {
	set, _ := profiles.Embedded()
	s, _ := Load(set, "6.1.0")
	var pat *Profile
	for _, p := range s.Resource("Patient").Profiles {
		pat = p
	}
	ms, err := pat.MustSupport()
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	json.Unmarshal([]byte(`{"resourceType":"Patient","id":"x",
	  "extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"text","valueString":"x"}]}],
	  "name":[{"family":"A"}],"gender":"female",
	  "birthDate":"2000-01-01",
	  "_deceasedBoolean":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},
	  "identifier":[{"system":"s","value":"v"}]}`), &r)
	got := map[string]bool{}
	for _, m := range ms {
		got[m.ID] = m.Present(r)
	}
	want := map[string]bool{"Patient.telecom.value": false, "Patient.name.family": true,
		"Patient.name.given": false, "Patient.identifier.system": true, "Patient.address": false, "Patient.gender": true}
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			t.Errorf("%s: present=%v (known %v), want %v", id, g, ok, w)
		}
	}
	// slices by pattern: Observation lab category
	var lab *Profile
	for _, p := range s.Resource("Observation").Profiles {
		if p.ID == "us-core-observation-lab" {
			lab = p
		}
	}
	ms, _ = lab.MustSupport()
	json.Unmarshal([]byte(`{"resourceType":"Observation","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"exam"}]}]}`), &r)
	for _, m := range ms {
		if m.ID == "Observation.category:us-core" && m.Present(r) {
			t.Error("exam category counted as the Laboratory slice")
		}
	}
	json.Unmarshal([]byte(`{"resourceType":"Observation","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}]}`), &r)
	ok := false
	for _, m := range ms {
		if m.ID == "Observation.category:us-core" {
			ok = m.Present(r)
		}
	}
	if !ok {
		t.Error("laboratory category not counted as the Laboratory slice")
	}
}

func TestMustSupportRequiredness(t *testing.T) {
	set, _ := profiles.Embedded()
	s, err := Load(set, "6.1.0")
	if err != nil {
		t.Fatal(err)
	}
	find := func(typ, id string) map[string]*MSElement {
		for _, p := range s.Resource(typ).Profiles {
			if p.ID == id {
				ms, err := p.MustSupport()
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]*MSElement{}
				for _, m := range ms {
					out[m.ID] = m
				}
				return out
			}
		}
		t.Fatalf("no profile %s", id)
		return nil
	}
	weight := find("Observation", "us-core-body-weight")
	bp := find("Observation", "us-core-blood-pressure")
	doc := find("DocumentReference", "us-core-documentreference")
	enc := find("Encounter", "us-core-encounter")
	cases := []struct {
		name     string
		m        *MSElement
		required bool
	}{
		{"body-weight component is inherited, not required", weight["Observation.component"], false},
		{"body-weight value is required", weight["Observation.value[x]"], true},
		{"dataAbsentReason is never required", weight["Observation.dataAbsentReason"], false},
		{"blood-pressure systolic component is required", bp["Observation.component:systolic"], true},
		{"status is required", bp["Observation.status"], true},
	}
	for _, c := range cases {
		if c.m == nil {
			t.Errorf("%s: element not listed", c.name)
			continue
		}
		if got := c.m.NotRequired == ""; got != c.required {
			t.Errorf("%s: required=%v (%s)", c.name, got, c.m.NotRequired)
		}
	}
	if m := doc["DocumentReference.content.attachment.url"]; m == nil || !slices.Contains(m.Alternatives, "DocumentReference.content.attachment.data") {
		t.Errorf("attachment url/data must be alternatives (us-core-6): %+v", m)
	}
	if m := enc["Encounter.reasonReference"]; m == nil || !slices.Contains(m.Alternatives, "Encounter.reasonCode") {
		t.Errorf("Encounter reasonCode/reasonReference must be alternatives: %+v", m)
	}
}

// Extensions on a primitive live in its "_name" sibling; must-support presence must look there.
func TestMustSupportPrimitiveExtensions(t *testing.T) {
	set, _ := profiles.Embedded()
	s, err := Load(set, "6.1.0")
	if err != nil {
		t.Fatal(err)
	}
	var qr *Profile
	for _, p := range s.Resource("QuestionnaireResponse").Profiles {
		qr = p
	}
	ms, err := qr.MustSupport()
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	json.Unmarshal([]byte(`{"resourceType":"QuestionnaireResponse","questionnaire":"http://example.org/Questionnaire/q",
	  "_questionnaire":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/display","valueString":"Q"},
	    {"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-extension-questionnaire-uri","valueUri":"http://example.org/q"}]}}`), &r)
	present := 0
	for _, m := range ms {
		if strings.HasPrefix(m.ID, "QuestionnaireResponse.questionnaire.extension:") {
			if !m.Present(r) {
				t.Errorf("%s not found in _questionnaire", m.ID)
			}
			present++
		}
	}
	if present == 0 {
		t.Fatal("the profile lists no questionnaire extension slices: test data out of date")
	}
	delete(r, "_questionnaire")
	for _, m := range ms {
		if strings.HasPrefix(m.ID, "QuestionnaireResponse.questionnaire.extension:") && m.Present(r) {
			t.Errorf("%s present without any extension", m.ID)
		}
	}
}

func TestIGConflictNotRequired(t *testing.T) {
	set, _ := profiles.Embedded()
	for _, v := range []string{"3.1.1", "6.1.0"} {
		s, err := Load(set, v)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range s.Resource("Observation").Profiles {
			if p.ID != "us-core-pulse-oximetry" {
				continue
			}
			ms, err := p.MustSupport()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if strings.HasPrefix(m.ID, "Observation.component:FlowRate") {
					found = true
					if m.NotRequired == "" {
						t.Errorf("%s %s: NotRequired = %q", v, m.ID, m.NotRequired)
					}
				} else if strings.HasPrefix(m.NotRequired, "IG conflict") {
					t.Errorf("%s %s wrongly marked as an IG conflict", v, m.ID)
				}
			}
		}
		if !found {
			t.Errorf("%s: no FlowRate must-support element found", v)
		}
	}
}
