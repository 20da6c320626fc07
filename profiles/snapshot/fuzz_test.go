package snapshot

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzGenerate: no differential, however malformed, makes the generator panic, and what it
// generates is JSON. Seeds run with the package tests; fuzz with go test -fuzz FuzzGenerate.
func FuzzGenerate(f *testing.F) {
	for _, d := range []string{
		`[{"id":"Obs.code.coding.system","path":"Obs.code.coding.system","min":1}]`,
		`[{"id":"Obs.component:a/b/c.valueQuantity.unit","path":"Obs.component.valueQuantity.unit"}]`,
		`[{"id":"Obs.item.item.item.item.text","min":"x","type":"Quantity","binding":3,"slicing":[]}]`,
		`[{"path":"Obs.extension","sliceName":"e","type":[{"code":"Extension","profile":["http://nowhere"]}]},{"path":"Obs.extension.url"}]`,
		`[{"id":"Obs.valueQuantity:valueQuantity.value"},{"id":"Obs.valueString"},{"id":"Obs..code"},{"id":""},{}]`,
		`[1,"x",null,{"id":"Obs.extension:x.extension:y.extension:z.value[x]"}]`,
		`{"not":"a list"}`,
	} {
		f.Add(profile("http://example.org/p", "Obs", obsBase, d))
	}
	f.Add(`{"resourceType":"StructureDefinition","derivation":"constraint","baseDefinition":"http://example.org/p"}`)
	f.Add(`[]`)
	r := resolver()
	f.Fuzz(func(t *testing.T, sd string) {
		out, err := Generate([]byte(sd), r)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on several lines: %q", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("generated invalid JSON")
		}
	})
}
