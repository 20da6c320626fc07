package structure

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pacheck/pacheck/profiles"
)

// The model is the part of the R4 core StructureDefinitions (specializations only) that FHIR JSON
// rules need: for each type its JSON properties, whether each repeats, which type it holds, choice
// groups, and for primitives their JSON kind and regex. Both the schema generator and the walker
// read it, so they agree on every property name.

type typeKind uint8

const (
	kindPrimitive typeKind = iota + 1
	kindComplex
	kindResource
	kindBackbone // an inline BackboneElement/Element of a resource or complex type
)

// jsonKind is the JSON type a primitive takes.
type jsonKind uint8

const (
	jsonString jsonKind = iota + 1
	jsonBool
	jsonNumber  // decimal
	jsonInteger // integer, positiveInt, unsignedInt
)

func (k jsonKind) String() string {
	switch k {
	case jsonBool:
		return "boolean"
	case jsonNumber:
		return "number"
	case jsonInteger:
		return "integer"
	}
	return "string"
}

type typeDef struct {
	name     string // type name; for backbones the element path (Observation.component)
	kind     typeKind
	abstract bool
	url      string // StructureDefinition canonical (for backbones, the owner's)

	// Primitives.
	json    jsonKind
	pattern string            // FHIR regex, unanchored as the SD gives it ("" for none)
	re      *regexp.Regexp    // anchored
	format  func(string) bool // fast scanner for re (format.go), nil to use re
	min     int64             // integer range
	max     int64

	// Complex types, resources and backbones.
	elems   map[string]*elem // by JSON property name (choices expanded; no "_" siblings)
	order   []*elem          // elems in StructureDefinition order
	choices map[string]*choice
}

type elem struct {
	name  string // JSON name: given, valueQuantity
	id    string // ElementDefinition id/path: HumanName.given, Observation.value[x]
	array bool   // max != "1"
	// typ is the type the value has; nil until linked. For a contentReference the backbone it points to.
	typ      *typeDef
	typeName string
	choice   *choice // the choice group a valueFoo property belongs to
	// sibling: the property may have a "_name" companion (primitive-typed elements, Extension.url).
	sibling bool
	// resource: the value is any resource, chosen by its resourceType (contained, Bundle.entry.resource).
	resource   bool
	contentRef string
}

type choice struct {
	base  string   // value
	id    string   // Observation.value[x]
	types []string // type codes in SD order
	array bool
}

type model struct {
	keys      map[string]string   // every property name, for interning while parsing
	types     map[string]*typeDef // primitive, complex and resource types by name
	resources []string            // concrete resource types, sorted
	backbones []*typeDef          // in creation order
}

// sdJSON is the part of a StructureDefinition the model reads.
type sdJSON struct {
	URL      string `json:"url"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Kind     string `json:"kind"`
	Abstract bool   `json:"abstract"`
	Snapshot struct {
		Element []elementJSON `json:"element"`
	} `json:"snapshot"`
}

type elementJSON struct {
	ID               string `json:"id"`
	Path             string `json:"path"`
	Max              string `json:"max"`
	ContentReference string `json:"contentReference"`
	Type             []struct {
		Code      string `json:"code"`
		Extension []struct {
			URL         string `json:"url"`
			ValueURL    string `json:"valueUrl"`
			ValueString string `json:"valueString"`
		} `json:"extension"`
	} `json:"type"`
}

const (
	extRegex    = "http://hl7.org/fhir/StructureDefinition/regex"
	extFHIRType = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
	sdBase      = "http://hl7.org/fhir/StructureDefinition/"
)

// coreSDs picks the R4 core specializations (primitive, complex, resource; no logical models) of
// the set: the ones of package hl7.fhir.r4.core, else any specialization with a core URL.
func coreSDs(set *profiles.Set) ([]*profiles.Resource, error) {
	var out []*profiles.Resource
	seen := map[string]bool{}
	for _, r := range set.Global().All("StructureDefinition") {
		if r.Package == nil || r.Package.ID != "hl7.fhir.r4.core" {
			continue
		}
		if !strings.HasPrefix(r.URL, sdBase) || r.Kind == "logical" || seen[r.URL] {
			continue
		}
		if r.Derivation != "specialization" && r.URL != sdBase+"Element" && r.URL != sdBase+"Resource" {
			continue
		}
		seen[r.URL] = true
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("structure: the profile set holds no FHIR R4 core package (hl7.fhir.r4.core#4.0.1); add it to build the structural model")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out, nil
}

func buildModel(set *profiles.Set) (*model, error) {
	sds, err := coreSDs(set)
	if err != nil {
		return nil, err
	}
	m := &model{types: map[string]*typeDef{}}
	parsed := make([]*sdJSON, 0, len(sds))
	for _, r := range sds {
		var sd sdJSON
		if err := json.Unmarshal(r.Raw, &sd); err != nil {
			return nil, fmt.Errorf("structure: StructureDefinition %s: %w", r.URL, err)
		}
		if sd.Type == "" || len(sd.Snapshot.Element) == 0 {
			continue
		}
		t := &typeDef{name: sd.Type, abstract: sd.Abstract, url: sd.URL}
		switch sd.Kind {
		case "primitive-type":
			t.kind = kindPrimitive
		case "complex-type":
			t.kind = kindComplex
		case "resource":
			t.kind = kindResource
		default:
			continue
		}
		m.types[sd.Type] = t
		parsed = append(parsed, &sd)
	}
	for _, sd := range parsed {
		t := m.types[sd.Type]
		if t.kind == kindPrimitive {
			if err := m.primitive(t, sd); err != nil {
				return nil, err
			}
			continue
		}
		if err := m.structured(t, sd); err != nil {
			return nil, err
		}
	}
	// Link element types.
	link := func(owner *typeDef) error {
		for _, e := range owner.order {
			if e.typ != nil || e.resource {
				continue
			}
			if e.contentRef != "" {
				bb, ok := m.types[e.contentRef]
				if !ok || bb.kind != kindBackbone {
					return fmt.Errorf("structure: %s: contentReference #%s names no backbone element", e.id, e.contentRef)
				}
				e.typ = bb
				continue
			}
			t, ok := m.types[e.typeName]
			if !ok {
				return fmt.Errorf("structure: %s: type %q has no StructureDefinition in R4 core", e.id, e.typeName)
			}
			e.typ = t
		}
		return nil
	}
	for _, t := range m.types {
		if t.kind != kindPrimitive {
			if err := link(t); err != nil {
				return nil, err
			}
		}
		if t.kind == kindResource && !t.abstract {
			m.resources = append(m.resources, t.name)
		}
	}
	sort.Strings(m.resources)
	m.keys = map[string]string{"resourceType": "resourceType"}
	for _, t := range m.types {
		for k, e := range t.elems {
			m.keys[k] = k
			if e.sibling {
				m.keys["_"+k] = "_" + k
			}
		}
	}
	if len(m.resources) == 0 {
		return nil, fmt.Errorf("structure: R4 core holds no resource StructureDefinitions")
	}
	for _, want := range []string{"Element", "Extension", "string", "Resource"} {
		if m.types[want] == nil {
			return nil, fmt.Errorf("structure: R4 core lacks the %s StructureDefinition", want)
		}
	}
	return m, nil
}

func (m *model) primitive(t *typeDef, sd *sdJSON) error {
	switch t.name {
	case "boolean":
		t.json = jsonBool
	case "decimal":
		t.json = jsonNumber
	case "integer":
		t.json, t.min, t.max = jsonInteger, -2147483648, 2147483647
	case "positiveInt":
		t.json, t.min, t.max = jsonInteger, 1, 2147483647
	case "unsignedInt":
		t.json, t.min, t.max = jsonInteger, 0, 2147483647
	default:
		t.json = jsonString
	}
	for _, e := range sd.Snapshot.Element {
		if e.Path != t.name+".value" {
			continue
		}
		for _, ty := range e.Type {
			for _, x := range ty.Extension {
				if x.URL == extRegex && x.ValueString != "" {
					t.pattern = x.ValueString
				}
			}
		}
	}
	if t.pattern != "" && t.json == jsonString {
		re, err := regexp.Compile("^(?:" + t.pattern + ")$")
		if err != nil {
			return fmt.Errorf("structure: primitive %s: regex %q: %w", t.name, t.pattern, err)
		}
		t.re = re
		t.format = fastFormats[t.name]
	}
	return nil
}

// structured builds the properties of a complex type or resource and its backbone elements.
func (m *model) structured(t *typeDef, sd *sdJSON) error {
	owners := map[string]*typeDef{sd.Type: t}
	t.elems, t.choices = map[string]*elem{}, map[string]*choice{}
	els := sd.Snapshot.Element
	for i, e := range els {
		if i == 0 || e.Path == sd.Type {
			continue
		}
		dot := strings.LastIndexByte(e.Path, '.')
		if dot < 0 {
			continue
		}
		parent, name := e.Path[:dot], e.Path[dot+1:]
		owner := owners[parent]
		if owner == nil {
			return fmt.Errorf("structure: %s: element %s has no parent element", sd.URL, e.Path)
		}
		array := e.Max != "1" && e.Max != "0"
		if e.ContentReference != "" {
			ref := strings.TrimPrefix(e.ContentReference, "#")
			if i := strings.IndexByte(ref, '#'); i >= 0 { // url#path form
				ref = ref[i+1:]
			}
			owner.add(&elem{name: name, id: e.Path, array: array, contentRef: ref})
			continue
		}
		if len(e.Type) == 0 {
			return fmt.Errorf("structure: %s: element %s has neither type nor contentReference", sd.URL, e.Path)
		}
		if strings.HasSuffix(name, "[x]") {
			base := strings.TrimSuffix(name, "[x]")
			c := &choice{base: base, id: e.Path, array: array}
			for _, ty := range e.Type {
				code := typeCode(ty.Code, ty.Extension)
				c.types = append(c.types, code)
				owner.add(&elem{name: base + upperFirst(code), id: e.Path, array: array, typeName: code,
					choice: c, sibling: isPrimitiveName(code)})
			}
			owner.choices[base] = c
			continue
		}
		code := typeCode(e.Type[0].Code, e.Type[0].Extension)
		el := &elem{name: name, id: e.Path, array: array, typeName: code}
		switch {
		case code == "Resource":
			el.resource = true
		case (code == "BackboneElement" || code == "Element") && i+1 < len(els) && strings.HasPrefix(els[i+1].Path, e.Path+"."):
			bb := &typeDef{name: e.Path, kind: kindBackbone, url: t.url, elems: map[string]*elem{}, choices: map[string]*choice{}}
			owners[e.Path] = bb
			m.types[e.Path] = bb
			m.backbones = append(m.backbones, bb)
			el.typ = bb
		case strings.HasPrefix(e.Type[0].Code, "http://hl7.org/fhirpath/"):
			// Element.id, Resource.id, Extension.url: JSON attributes; only Extension.url takes a
			// "_url" sibling (as the official schema has it). Resource.id is an id (the R4 SD says
			// System.String/"string"; the specification's Resource page, the official JSON schema
			// and the reference validators check it as id).
			el.sibling = e.Path == "Extension.url"
			if t.kind == kindResource && owner == t && name == "id" {
				el.typeName = "id"
			}
		default:
			el.sibling = isPrimitiveName(code)
		}
		owner.add(el)
	}
	return nil
}

func (t *typeDef) add(e *elem) {
	if _, dup := t.elems[e.name]; dup {
		return
	}
	t.elems[e.name] = e
	t.order = append(t.order, e)
}

// typeCode maps System.* codes to the FHIR type the fhir-type extension names.
func typeCode(code string, exts []struct {
	URL         string `json:"url"`
	ValueURL    string `json:"valueUrl"`
	ValueString string `json:"valueString"`
}) string {
	if !strings.HasPrefix(code, "http://hl7.org/fhirpath/") {
		return code
	}
	for _, x := range exts {
		if x.URL == extFHIRType && x.ValueURL != "" {
			return x.ValueURL
		}
	}
	return "string"
}

// isPrimitiveName: primitive types take a "_name" companion, except xhtml (Narrative.div), which
// FHIR JSON gives no id or extensions.
func isPrimitiveName(code string) bool {
	return code != "" && code[0] >= 'a' && code[0] <= 'z' && code != "xhtml"
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
