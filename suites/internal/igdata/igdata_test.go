package igdata

import (
	"slices"
	"sort"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

func TestSplitRef(t *testing.T) {
	for in, want := range map[string][2]string{
		"Patient/p1":                        {"Patient", "p1"},
		"Patient/p1/_history/3":             {"Patient", "p1"},
		"https://x.example/fhir/Patient/p1": {"Patient", "p1"},
		"urn:uuid:1234":                     {"", ""},
		"p1":                                {"", ""},
		"patient/p1":                        {"", ""},
	} {
		if typ, id := SplitRef(in); typ != want[0] || id != want[1] {
			t.Errorf("SplitRef(%q) = %q, %q; want %q, %q", in, typ, id, want[0], want[1])
		}
	}
}

func TestReferencesIn(t *testing.T) {
	r := map[string]any{
		"resourceType": "ExplanationOfBenefit",
		"patient":      map[string]any{"reference": "Patient/p1"},
		"contained":    []any{map[string]any{"organization": map[string]any{"reference": "Organization/hidden"}}},
		"provider":     map[string]any{"reference": "#c1"},
		"insurance":    []any{map[string]any{"coverage": map[string]any{"reference": "Coverage/c1"}}},
		// an element named reference that is itself a Reference or Identifier is walked into
		"related": []any{map[string]any{"reference": map[string]any{"assigner": map[string]any{"reference": "Organization/o1"}}}},
	}
	got := ReferencesIn(r)
	sort.Strings(got)
	if want := []string{"Coverage/c1", "Organization/o1", "Patient/p1"}; !slices.Equal(got, want) {
		t.Errorf("ReferencesIn = %v, want %v", got, want)
	}
}

func claiming(id string, profiles ...any) map[string]any {
	return map[string]any{"resourceType": "Coverage", "id": id, "meta": map[string]any{"profile": profiles}}
}

func TestPoolAndClaims(t *testing.T) {
	const url = "http://example.org/StructureDefinition/cov"
	rs := []map[string]any{claiming("a", url+"|1.0.0"), claiming("b", url), claiming("c", url+"|2.0.0"), claiming("d")}
	ids := func(rs []map[string]any) []string {
		var out []string
		for _, r := range rs {
			out = append(out, ID(r))
		}
		return out
	}
	if got := ids(Pool(rs, url, "", false)); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("any version: %v", got)
	}
	if got := ids(Pool(rs, url, "2.0.0", false)); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("version 2.0.0: %v", got)
	}
	if got := ids(Pool(rs, url, "3.0.0", true)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("version 3.0.0: %v", got)
	}
	// nothing claims the profile at any version: the type's only profile takes every resource
	unclaimed := []map[string]any{claiming("x"), claiming("y")}
	if got := ids(Pool(unclaimed, url, "", true)); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("only profile, no claims: %v", got)
	}
	if got := Pool(unclaimed, url, "", false); len(got) != 0 {
		t.Errorf("one of several profiles, no claims: %v", ids(got))
	}
	// a claim at another version stops the fallback
	if got := Pool([]map[string]any{claiming("z", url+"|1.0.0"), claiming("w")}, url, "2.0.0", true); len(got) != 0 {
		t.Errorf("claimed at another version: %v", ids(got))
	}
	if got := ClaimedVersions(rs, url); !slices.Equal(got, []string{"1.0.0", "2.0.0"}) {
		t.Errorf("ClaimedVersions = %v", got)
	}
}

func TestTypeDataAddAndReferenced(t *testing.T) {
	td := NewTypeData("Coverage")
	td.Add("p1", claiming("a"))
	td.Add("p2", claiming("a"))                                         // duplicate id
	td.Add("p1", map[string]any{"resourceType": "Patient", "id": "p1"}) // other type
	td.Add("", claiming(""))                                            // no id
	td.Add("", claiming("b"))
	if len(td.Resources) != 2 || td.PatientOf["a"] != "p1" || len(td.ByPatient["p1"]) != 1 || len(td.ByPatient[""]) != 0 {
		t.Errorf("Add kept %v, PatientOf %v, ByPatient %v", td.Resources, td.PatientOf, td.ByPatient)
	}
	eob := NewTypeData("ExplanationOfBenefit")
	eob.Add("p1", map[string]any{"resourceType": "ExplanationOfBenefit", "id": "e1",
		"insurer": map[string]any{"reference": "Organization/o2"}, "provider": map[string]any{"reference": "Organization/o1"}})
	eob.Add("p2", map[string]any{"resourceType": "ExplanationOfBenefit", "id": "e2",
		"insurer": map[string]any{"reference": "Organization/o2"}, "patient": map[string]any{"reference": "Patient/p2"}})
	got := Referenced("Organization", []*TypeData{eob}, 1)
	if want := []Ref{{Patient: "p1", ID: "o1"}}; !slices.Equal(got, want) {
		t.Errorf("Referenced = %v, want %v", got, want)
	}
	if got := Referenced("Organization", []*TypeData{eob}, 10); len(got) != 2 || got[1] != (Ref{Patient: "p1", ID: "o2"}) {
		t.Errorf("Referenced = %v: o2 belongs to the patient it was first found for", got)
	}
}

func TestIncludedProvenance(t *testing.T) {
	prov := func(id, target string) map[string]any {
		return map[string]any{"resourceType": "Provenance", "id": id, "target": []any{map[string]any{"reference": target}}}
	}
	match := map[string]any{"resourceType": "Device", "id": "d1"}
	bundle := map[string]any{"resourceType": "Bundle", "type": "searchset", "entry": []any{
		map[string]any{"resource": match, "search": map[string]any{"mode": "match"}},
		map[string]any{"resource": prov("pr1", "Device/d1"), "search": map[string]any{"mode": "include"}},
		map[string]any{"resource": prov("pr2", "Device/other"), "search": map[string]any{"mode": "include"}},
	}}
	pages := &fhirhttp.Pages{Pages: []*fhirhttp.Response{{Status: 200, Resource: bundle}}, Entries: fhirhttp.Entries(bundle)}
	found, stray := IncludedProvenance(pages, "Device")
	if found != 2 || !slices.Equal(stray, []string{"pr2"}) {
		t.Errorf("IncludedProvenance = %d, %v; want 2, [pr2]", found, stray)
	}
}

func TestMustSupportGaps(t *testing.T) {
	el := func(path string, ms bool) any { return map[string]any{"id": path, "path": path, "mustSupport": ms} }
	sd := map[string]any{"resourceType": "StructureDefinition", "type": "Coverage", "snapshot": map[string]any{"element": []any{
		el("Coverage", false), el("Coverage.status", true), el("Coverage.period", true), el("Coverage.payor", true), el("Coverage.order", false)}}}
	ms, err := ig.MustSupport(sd, nil)
	if err != nil || len(ms) != 3 {
		t.Fatalf("MustSupport = %v, %v", ms, err)
	}
	pool := []map[string]any{
		{"resourceType": "Coverage", "id": "a", "status": "active"},
		{"resourceType": "Coverage", "id": "b", "payor": []any{map[string]any{"reference": "Organization/o1"}}},
	}
	missing, notRequired := MustSupportGaps(ms, pool)
	if !slices.Equal(missing, []string{"Coverage.period"}) || len(notRequired) != 0 {
		t.Errorf("MustSupportGaps = %v, %v; want [Coverage.period], []", missing, notRequired)
	}
}
