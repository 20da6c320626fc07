package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A miniature core, written for these tests: a few datatypes and a resource "Obs".
var miniCore = map[string]string{
	"Coding": `[{"id":"Coding","path":"Coding","min":0,"max":"*"},
		{"id":"Coding.system","path":"Coding.system","min":0,"max":"1","type":[{"code":"uri"}]},
		{"id":"Coding.code","path":"Coding.code","min":0,"max":"1","type":[{"code":"code"}]}]`,
	"CodeableConcept": `[{"id":"CodeableConcept","path":"CodeableConcept","min":0,"max":"*"},
		{"id":"CodeableConcept.coding","path":"CodeableConcept.coding","min":0,"max":"*","type":[{"code":"Coding"}]},
		{"id":"CodeableConcept.text","path":"CodeableConcept.text","min":0,"max":"1","type":[{"code":"string"}]}]`,
	"Quantity": `[{"id":"Quantity","path":"Quantity","min":0,"max":"*"},
		{"id":"Quantity.value","path":"Quantity.value","min":0,"max":"1","type":[{"code":"decimal"}]},
		{"id":"Quantity.unit","path":"Quantity.unit","min":0,"max":"1","type":[{"code":"string"}]}]`,
	"Extension": `[{"id":"Extension","path":"Extension","min":0,"max":"*"},
		{"id":"Extension.extension","path":"Extension.extension","min":0,"max":"*","type":[{"code":"Extension"}]},
		{"id":"Extension.url","path":"Extension.url","min":1,"max":"1","type":[{"code":"uri"}]},
		{"id":"Extension.value[x]","path":"Extension.value[x]","min":0,"max":"1","type":[{"code":"Quantity"},{"code":"string"},{"code":"CodeableConcept"}]}]`,
	"Obs": `[{"id":"Obs","path":"Obs","min":0,"max":"*","constraint":[{"key":"obs-1","severity":"error","human":"h","expression":"true"}]},
		{"id":"Obs.extension","path":"Obs.extension","min":0,"max":"*","type":[{"code":"Extension"}]},
		{"id":"Obs.status","path":"Obs.status","min":1,"max":"1","type":[{"code":"code"}],
			"binding":{"strength":"required","valueSet":"http://example.org/vs/status"}},
		{"id":"Obs.code","path":"Obs.code","min":1,"max":"1","type":[{"code":"CodeableConcept"}],
			"binding":{"strength":"example","valueSet":"http://example.org/vs/codes","description":"codes"}},
		{"id":"Obs.subject","path":"Obs.subject","min":0,"max":"1","type":[{"code":"Reference","targetProfile":["http://hl7.org/fhir/StructureDefinition/Patient","http://hl7.org/fhir/StructureDefinition/Group"]}]},
		{"id":"Obs.value[x]","path":"Obs.value[x]","min":0,"max":"1","type":[{"code":"Quantity"},{"code":"string"}]},
		{"id":"Obs.component","path":"Obs.component","min":0,"max":"*","type":[{"code":"BackboneElement"}]},
		{"id":"Obs.component.code","path":"Obs.component.code","min":1,"max":"1","type":[{"code":"CodeableConcept"}]},
		{"id":"Obs.component.value[x]","path":"Obs.component.value[x]","min":0,"max":"1","type":[{"code":"Quantity"},{"code":"string"}]},
		{"id":"Obs.item","path":"Obs.item","min":0,"max":"*","type":[{"code":"BackboneElement"}]},
		{"id":"Obs.item.text","path":"Obs.item.text","min":0,"max":"1","type":[{"code":"string"}]},
		{"id":"Obs.item.item","path":"Obs.item.item","min":0,"max":"*","contentReference":"#Obs.item"}]`,
}

const core = "http://hl7.org/fhir/StructureDefinition/"

// resolver serves the miniature core plus extra StructureDefinitions by url.
func resolver(extra ...string) Resolver {
	sds := map[string][]byte{}
	for name, elems := range miniCore {
		sds[core+name] = []byte(fmt.Sprintf(`{"resourceType":"StructureDefinition","url":"%s%s","type":"%s",
			"derivation":"specialization","snapshot":{"element":%s}}`, core, name, name, elems))
	}
	for _, e := range extra {
		var h struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal([]byte(e), &h); err != nil {
			panic(err)
		}
		sds[h.URL] = []byte(e)
	}
	return func(c string) ([]byte, bool) {
		b, ok := sds[c]
		return b, ok
	}
}

// profile writes a constraint StructureDefinition with a differential.
func profile(url, typ, base, diff string) string {
	return fmt.Sprintf(`{"resourceType":"StructureDefinition","url":"%s","type":"%s","derivation":"constraint",
		"baseDefinition":"%s","differential":{"element":%s}}`, url, typ, base, diff)
}

func generate(t *testing.T, sd string, extra ...string) []map[string]any {
	t.Helper()
	out, err := Generate([]byte(sd), resolver(extra...))
	if err != nil {
		t.Fatal(err)
	}
	m, err := decode(out)
	if err != nil {
		t.Fatal(err)
	}
	var els []map[string]any
	for _, e := range list(m["snapshot"].(map[string]any), "element") {
		els = append(els, e.(map[string]any))
	}
	return els
}

func ids(els []map[string]any) string {
	var out []string
	for _, e := range els {
		out = append(out, str(e, "id"))
	}
	return strings.Join(out, " ")
}

func elem(t *testing.T, els []map[string]any, id string) map[string]any {
	t.Helper()
	for _, e := range els {
		if str(e, "id") == id {
			return e
		}
	}
	t.Fatalf("no element %s in %s", id, ids(els))
	return nil
}

// field renders one property of an element compactly, for comparisons.
func field(e map[string]any, k string) string {
	v, ok := e[k]
	if !ok {
		return "-"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

const obsBase = core + "Obs"

func TestGenerateFeatures(t *testing.T) {
	extDef := profile("http://example.org/ext/weight", "Extension", core+"Extension", `[
		{"id":"Extension","path":"Extension","max":"1"},
		{"id":"Extension.url","path":"Extension.url","fixedUri":"http://example.org/ext/weight"},
		{"id":"Extension.value[x]","path":"Extension.value[x]","type":[{"code":"Quantity"}]}]`)
	for _, c := range []struct {
		name  string
		diff  string
		extra []string
		ids   string            // whole snapshot, in order ("" skips the check)
		want  map[string]string // "id property" -> JSON of the property ("-" absent)
	}{
		{name: "cardinality and mustSupport on the base's elements",
			diff: `[{"id":"Obs.subject","path":"Obs.subject","min":1,"mustSupport":true},{"id":"Obs.value[x]","path":"Obs.value[x]","max":"0"}]`,
			ids:  "Obs Obs.extension Obs.status Obs.code Obs.subject Obs.value[x] Obs.component Obs.component.code Obs.component.value[x] Obs.item Obs.item.text Obs.item.item",
			want: map[string]string{"Obs.subject min": "1", "Obs.subject mustSupport": "true", "Obs.value[x] max": `"0"`, "Obs.value[x] min": "0",
				"Obs.item.item path": `"Obs.item.item"`}},
		{name: "types with profiles and target profiles replace the base's",
			diff: `[{"id":"Obs.subject","path":"Obs.subject","type":[{"code":"Reference","targetProfile":["http://example.org/p/patient"]}]},
				{"id":"Obs.value[x]","path":"Obs.value[x]","type":[{"code":"Quantity","profile":["http://example.org/p/qty"]}]}]`,
			want: map[string]string{"Obs.subject type": `[{"code":"Reference","targetProfile":["http://example.org/p/patient"]}]`,
				"Obs.value[x] type": `[{"code":"Quantity","profile":["http://example.org/p/qty"]}]`}},
		{name: "fixed and pattern values",
			diff: `[{"id":"Obs.status","path":"Obs.status","fixedCode":"final"},
				{"id":"Obs.code","path":"Obs.code","patternCodeableConcept":{"coding":[{"system":"http://loinc.org","code":"1-8"}]}}]`,
			want: map[string]string{"Obs.status fixedCode": `"final"`, "Obs.code patternCodeableConcept": `{"coding":[{"code":"1-8","system":"http://loinc.org"}]}`}},
		{name: "a binding's strength changes and its value set is kept; a new value set replaces",
			diff: `[{"id":"Obs.status","path":"Obs.status","binding":{"strength":"extensible"}},
				{"id":"Obs.code","path":"Obs.code","binding":{"strength":"required","valueSet":"http://example.org/vs/mine"}}]`,
			want: map[string]string{"Obs.status binding": `{"strength":"extensible","valueSet":"http://example.org/vs/status"}`,
				"Obs.code binding": `{"description":"codes","strength":"required","valueSet":"http://example.org/vs/mine"}`}},
		{name: "constraints add to the inherited ones, with the profile as source",
			diff: `[{"id":"Obs","path":"Obs","constraint":[{"key":"my-1","severity":"error","human":"m","expression":"code.exists()"}]}]`,
			want: map[string]string{"Obs constraint": `[{"expression":"true","human":"h","key":"obs-1","severity":"error"},{"expression":"code.exists()","human":"m","key":"my-1","severity":"error","source":"http://example.org/p"}]`}},
		{name: "datatype children are expanded where the differential goes below them",
			diff: `[{"id":"Obs.code.coding.system","path":"Obs.code.coding.system","min":1,"fixedUri":"http://loinc.org"}]`,
			ids:  "Obs Obs.extension Obs.status Obs.code Obs.code.coding Obs.code.coding.system Obs.code.coding.code Obs.code.text Obs.subject Obs.value[x] Obs.component Obs.component.code Obs.component.value[x] Obs.item Obs.item.text Obs.item.item",
			want: map[string]string{"Obs.code.coding.system min": "1", "Obs.code.coding.system path": `"Obs.code.coding.system"`, "Obs.code.coding.code min": "0"}},
		{name: "slices follow the sliced element's children, with its children copied then constrained",
			diff: `[{"id":"Obs.component","path":"Obs.component","slicing":{"discriminator":[{"type":"pattern","path":"code"}],"rules":"open"},"min":1},
				{"id":"Obs.component:sys","path":"Obs.component","sliceName":"sys","min":1,"max":"1"},
				{"id":"Obs.component:sys.code","path":"Obs.component.code","patternCodeableConcept":{"text":"sys"}},
				{"id":"Obs.component:dia","path":"Obs.component","sliceName":"dia","max":"1"}]`,
			ids: "Obs Obs.extension Obs.status Obs.code Obs.subject Obs.value[x] Obs.component Obs.component.code Obs.component.value[x] " +
				"Obs.component:sys Obs.component:sys.code Obs.component:sys.value[x] Obs.component:dia Obs.item Obs.item.text Obs.item.item",
			want: map[string]string{"Obs.component slicing": `{"discriminator":[{"path":"code","type":"pattern"}],"rules":"open"}`,
				"Obs.component:sys sliceName": `"sys"`, "Obs.component:sys slicing": "-", "Obs.component:sys min": "1",
				"Obs.component:sys.code patternCodeableConcept": `{"text":"sys"}`, "Obs.component.code patternCodeableConcept": "-",
				"Obs.component:sys.code path": `"Obs.component.code"`, "Obs.component:dia min": "0", "Obs.component:dia max": `"1"`}},
		{name: "re-slicing a slice",
			diff: `[{"id":"Obs.component","path":"Obs.component","slicing":{"discriminator":[{"type":"pattern","path":"code"}],"rules":"open"}},
				{"id":"Obs.component:bp","path":"Obs.component","sliceName":"bp","slicing":{"discriminator":[{"type":"type","path":"value"}],"rules":"closed"}},
				{"id":"Obs.component:bp/q","path":"Obs.component","sliceName":"bp/q","max":"1"},
				{"id":"Obs.component:bp/q.value[x]","path":"Obs.component.value[x]","type":[{"code":"Quantity"}]}]`,
			ids: "Obs Obs.extension Obs.status Obs.code Obs.subject Obs.value[x] Obs.component Obs.component.code Obs.component.value[x] " +
				"Obs.component:bp Obs.component:bp/q Obs.component:bp/q.code Obs.component:bp/q.value[x] Obs.item Obs.item.text Obs.item.item",
			want: map[string]string{"Obs.component:bp slicing": `{"discriminator":[{"path":"value","type":"type"}],"rules":"closed"}`,
				"Obs.component:bp/q sliceName": `"bp/q"`, "Obs.component:bp/q.value[x] type": `[{"code":"Quantity"}]`}},
		{name: "extension slices by url, sliced implicitly; their children come from the extension definition",
			extra: []string{extDef},
			diff: `[{"id":"Obs.extension:weight","path":"Obs.extension","sliceName":"weight","min":1,"type":[{"code":"Extension","profile":["http://example.org/ext/weight"]}]},
				{"id":"Obs.extension:weight.value[x]","path":"Obs.extension.value[x]","min":1}]`,
			ids: "Obs Obs.extension Obs.extension:weight Obs.extension:weight.extension Obs.extension:weight.url Obs.extension:weight.value[x] " +
				"Obs.status Obs.code Obs.subject Obs.value[x] Obs.component Obs.component.code Obs.component.value[x] Obs.item Obs.item.text Obs.item.item",
			want: map[string]string{"Obs.extension slicing": `{"discriminator":[{"path":"url","type":"value"}],"ordered":false,"rules":"open"}`,
				"Obs.extension min": "1", "Obs.extension:weight.url fixedUri": `"http://example.org/ext/weight"`,
				"Obs.extension:weight.value[x] type": `[{"code":"Quantity"}]`, "Obs.extension:weight.value[x] min": "1"}},
		{name: "a renamed choice (valueQuantity) is a type slice of value[x]",
			diff: `[{"id":"Obs.valueQuantity","path":"Obs.valueQuantity","min":1},
				{"id":"Obs.valueQuantity.unit","path":"Obs.valueQuantity.unit","min":1}]`,
			ids: "Obs Obs.extension Obs.status Obs.code Obs.subject Obs.value[x] Obs.value[x]:valueQuantity Obs.value[x]:valueQuantity.value " +
				"Obs.value[x]:valueQuantity.unit Obs.component Obs.component.code Obs.component.value[x] Obs.item Obs.item.text Obs.item.item",
			want: map[string]string{"Obs.value[x] slicing": `{"discriminator":[{"path":"$this","type":"type"}],"ordered":false,"rules":"open"}`,
				"Obs.value[x]:valueQuantity type": `[{"code":"Quantity"}]`, "Obs.value[x]:valueQuantity min": "1",
				"Obs.value[x]:valueQuantity.unit min": "1", "Obs.value[x]:valueQuantity path": `"Obs.value[x]"`}},
		{name: "a renamed choice inside a new slice constrains the choice element itself",
			diff: `[{"id":"Obs.component","path":"Obs.component","slicing":{"discriminator":[{"type":"pattern","path":"code"}],"rules":"open"}},
				{"id":"Obs.component:q","path":"Obs.component","sliceName":"q"},
				{"id":"Obs.component:q.valueQuantity","path":"Obs.component.valueQuantity","min":1}]`,
			want: map[string]string{"Obs.component:q.value[x] type": `[{"code":"Quantity"}]`, "Obs.component:q.value[x] min": "1",
				"Obs.component.value[x] type": `[{"code":"Quantity"},{"code":"string"}]`}},
		{name: "below a contentReference the referenced element's children are copied",
			diff: `[{"id":"Obs.item.item.text","path":"Obs.item.item.text","min":1}]`,
			ids: "Obs Obs.extension Obs.status Obs.code Obs.subject Obs.value[x] Obs.component Obs.component.code Obs.component.value[x] " +
				"Obs.item Obs.item.text Obs.item.item Obs.item.item.text Obs.item.item.item",
			want: map[string]string{"Obs.item.item.text min": "1", "Obs.item.item contentReference": "-",
				"Obs.item.item type": `[{"code":"BackboneElement"}]`, "Obs.item.text min": "0"}},
		{name: "a binding on an element that holds no code is left out",
			diff: `[{"id":"Obs.component","path":"Obs.component","binding":{"strength":"required","valueSet":"http://example.org/vs/x"}}]`,
			want: map[string]string{"Obs.component binding": "-"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			els := generate(t, profile("http://example.org/p", "Obs", obsBase, c.diff), c.extra...)
			if c.ids != "" && ids(els) != c.ids {
				t.Errorf("ids\n got %s\nwant %s", ids(els), c.ids)
			}
			for k, want := range c.want {
				id, prop, _ := strings.Cut(k, " ")
				if got := field(elem(t, els, id), prop); got != want {
					t.Errorf("%s %s = %s, want %s", id, prop, got, want)
				}
			}
		})
	}
}

func TestGenerateFromBaseWithoutSnapshot(t *testing.T) {
	// mid has only a differential; leaf derives from it: mid is generated first
	mid := profile("http://example.org/mid", "Obs", obsBase, `[{"id":"Obs.subject","path":"Obs.subject","min":1}]`)
	leaf := profile("http://example.org/leaf", "Obs", "http://example.org/mid", `[{"id":"Obs.value[x]","path":"Obs.value[x]","min":1}]`)
	els := generate(t, leaf, mid)
	if field(elem(t, els, "Obs.subject"), "min") != "1" || field(elem(t, els, "Obs.value[x]"), "min") != "1" {
		t.Fatalf("subject %v, value %v", elem(t, els, "Obs.subject"), elem(t, els, "Obs.value[x]"))
	}
}

func TestGenerateErrors(t *testing.T) {
	loopA := profile("http://example.org/a", "Obs", "http://example.org/b", `[]`)
	loopB := profile("http://example.org/b", "Obs", "http://example.org/a", `[]`)
	for _, c := range []struct {
		name, sd string
		extra    []string
		want     string
	}{
		{"not JSON", `{`, nil, "not JSON"},
		{"not a StructureDefinition", `{"resourceType":"Patient"}`, nil, "a Patient, not a StructureDefinition"},
		{"unknown base", profile("http://example.org/p", "Obs", "http://example.org/none", `[]`), nil,
			"snapshot of http://example.org/p: unknown StructureDefinition http://example.org/none"},
		{"no such element", profile("http://example.org/p", "Obs", obsBase, `[{"id":"Obs.nope","path":"Obs.nope","min":1}]`), nil,
			"snapshot of http://example.org/p: element Obs.nope: no element nope under Obs"},
		{"wrong root", profile("http://example.org/p", "Obs", obsBase, `[{"id":"Other.x","path":"Other.x"}]`), nil,
			"element Other.x: does not start with the profile's root Obs"},
		{"below a choice of several types", profile("http://example.org/p", "Obs", obsBase, `[{"id":"Obs.value[x].unit","path":"Obs.value[x].unit"}]`), nil,
			"element Obs.value[x].unit: value[x] has 2 types: constrain it to one before constraining below it"},
		{"a base chain that loops", profile("http://example.org/p", "Obs", "http://example.org/a", `[]`), []string{loopA, loopB},
			"derives from itself"},
		{"a specialization", `{"resourceType":"StructureDefinition","url":"u","derivation":"specialization","baseDefinition":"x"}`, nil,
			"only constraint profiles"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Generate([]byte(c.sd), resolver(c.extra...))
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line with %q", err, c.want)
			}
			var ge *Error
			if c.name != "not JSON" && !errors.As(err, &ge) {
				t.Fatalf("%T is not a *snapshot.Error", err)
			}
		})
	}
}
