package validate

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/pacheck/pacheck/profiles"
)

// customProfileValidator builds a validator over the embedded set plus one package
// (example.custom#0.1.0) holding a profile of the R4 type typ at url, whose snapshot is the R4
// snapshot after edit (elements as decoded JSON maps, numbers as json.Number).
func customProfileValidator(t *testing.T, typ, url string, edit func([]map[string]any) []map[string]any) *Validator {
	t.Helper()
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	base, ok := set.Global().ResolveType("StructureDefinition", "http://hl7.org/fhir/StructureDefinition/"+typ)
	if !ok {
		t.Fatalf("no R4 %s", typ)
	}
	dec := json.NewDecoder(bytes.NewReader(base.Raw))
	dec.UseNumber()
	var sd map[string]any
	if err := dec.Decode(&sd); err != nil {
		t.Fatal(err)
	}
	var els []map[string]any
	for _, x := range sd["snapshot"].(map[string]any)["element"].([]any) {
		els = append(els, x.(map[string]any))
	}
	els = edit(els)
	list := make([]any, len(els))
	for i, e := range els {
		list[i] = e
	}
	prof := map[string]any{"resourceType": "StructureDefinition", "id": "custom", "url": url,
		"version": "0.1.0", "name": "Custom", "status": "draft", "kind": sd["kind"], "abstract": false,
		"type": typ, "baseDefinition": "http://hl7.org/fhir/StructureDefinition/" + typ,
		"derivation": "constraint", "snapshot": map[string]any{"element": list}}
	return validatorWithPackage(t, set, "example.custom", "custom", prof)
}

// cloneElem deep-copies a decoded element.
func cloneElem(t *testing.T, e map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var c map[string]any
	if err := d.Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}
