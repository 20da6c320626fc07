package fhirpath

import "testing"

func TestModel(t *testing.T) {
	m := r4()
	if len(m.types) < 500 {
		t.Fatalf("model has %d types, want the whole R4 core", len(m.types))
	}
	obs := m.typ("Observation")
	if obs == nil || obs.kind != 'R' || obs.baseName != "DomainResource" {
		t.Fatalf("Observation: %+v", obs)
	}
	if e := obs.element("value"); e == nil || !e.choice || len(e.types) != 11 {
		t.Errorf("Observation.value[x]: %+v", e)
	}
	if c, ok := obs.concreteChoice("valueQuantity"); !ok || c.typ != "Quantity" {
		t.Errorf("valueQuantity: %+v %v", c, ok)
	}
	if e := obs.element("meta"); e == nil || e.types[0] != "Meta" {
		t.Errorf("inherited Observation.meta: %+v", e)
	}
	if e := obs.element("id"); e == nil || e.types[0] != "id" {
		t.Errorf("Observation.id: %+v", e)
	}
	if e := m.typ("Questionnaire.item").element("item"); e == nil || e.types[0] != "Questionnaire.item" {
		t.Errorf("Questionnaire.item.item: %+v", e)
	}
	if e := m.typ("Observation.component").element("referenceRange"); e == nil || e.types[0] != "Observation.referenceRange" {
		t.Errorf("Observation.component.referenceRange: %+v", e)
	}
	if e := m.typ("Patient.contact").element("extension"); e == nil {
		t.Error("backbone Patient.contact lacks inherited extension")
	}
	for _, c := range []struct {
		sub, super string
		want       bool
	}{
		{"Patient", "DomainResource", true}, {"Patient", "Resource", true}, {"Bundle", "DomainResource", false},
		{"code", "string", true}, {"Age", "Quantity", true}, {"SimpleQuantity", "Quantity", true},
		{"uri", "string", false}, {"Patient.contact", "BackboneElement", true}, {"HumanName", "Element", true},
	} {
		if got := m.isSubtype(c.sub, c.super); got != c.want {
			t.Errorf("isSubtype(%s, %s) = %v", c.sub, c.super, got)
		}
	}
	if got := m.publicName("Patient.contact"); got != "BackboneElement" {
		t.Errorf("publicName(Patient.contact) = %s", got)
	}
}
