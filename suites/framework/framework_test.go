package framework

import (
	"slices"
	"testing"
)

func TestReqLabelsAndUnknownIDs(t *testing.T) {
	labels := Req("general.fhir-api", "no.such-requirement")
	if !slices.Contains(labels, "req:general.fhir-api") || !slices.Contains(labels, "level:SHALL") {
		t.Fatalf("labels %v lack the requirement or its level", labels)
	}
	unk := UnknownRequirements()
	if !slices.Contains(unk, "no.such-requirement") || slices.Contains(unk, "general.fhir-api") {
		t.Fatalf("UnknownRequirements() = %v, want exactly the unknown id", unk)
	}
}

func TestRunWantsAndVersions(t *testing.T) {
	var none *Run
	if !none.Wants("uscore") {
		t.Error("a nil run wants every area (listing with defaults)")
	}
	r := &Run{Suites: []string{"smart"}, IGs: map[string][]string{"uscore": {"3.1.1"}}}
	if r.Wants("uscore") || !r.Wants("smart") {
		t.Error("Wants ignores Suites")
	}
	if v := r.Versions("uscore", "6.1.0"); len(v) != 1 || v[0] != "3.1.1" {
		t.Errorf("Versions = %v", v)
	}
	if v := r.Versions("carinbb", "2.0.0"); v[0] != "2.0.0" {
		t.Errorf("default version not used: %v", v)
	}
}
