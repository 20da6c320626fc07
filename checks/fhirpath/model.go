package fhirpath

import (
	"strings"
	"sync"
)

// typeDef is one FHIR type of the R4 model (primitive, complex type, resource or backbone
// element, the latter named by its path such as "Patient.contact").
type typeDef struct {
	name     string
	baseName string
	base     *typeDef
	kind     byte // 'P', 'C', 'R', 'A' (abstract resource), 'B' (backbone)
	elems    map[string]*elemDef
	concrete map[string]choiceRef // valueQuantity -> value[x] as Quantity
}

type elemDef struct {
	name    string
	types   []string
	choice  bool
	keys    []string // JSON property per type: name, or name+Type for choice elements
	extKeys []string // the matching "_" property holding primitive id/extensions
}

type choiceRef struct {
	elem *elemDef
	typ  string
}

type model struct {
	types map[string]*typeDef
}

var (
	r4Once  sync.Once
	r4Model *model
)

func r4() *model {
	r4Once.Do(func() { r4Model = parseModel(r4ModelText) })
	return r4Model
}

func parseModel(text string) *model {
	m := &model{types: make(map[string]*typeDef, 1024)}
	var cur *typeDef
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if line == "" {
			continue
		}
		if line[0] == '=' {
			f := strings.Fields(line[1:])
			if len(f) != 3 {
				cur = nil
				continue
			}
			cur = &typeDef{name: f[0], baseName: f[1], kind: f[2][0], elems: map[string]*elemDef{}}
			if cur.baseName == "-" {
				cur.baseName = ""
			}
			m.types[cur.name] = cur
			continue
		}
		if cur == nil {
			continue
		}
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name, types := line[:sp], strings.Split(line[sp+1:], "|")
		e := &elemDef{name: name, types: types}
		if strings.HasSuffix(name, "[x]") {
			e.name = strings.TrimSuffix(name, "[x]")
			e.choice = true
			if cur.concrete == nil {
				cur.concrete = map[string]choiceRef{}
			}
			for _, t := range types {
				cur.concrete[e.name+upperFirst(t)] = choiceRef{elem: e, typ: t}
			}
		}
		if e.choice {
			for _, t := range types {
				e.keys = append(e.keys, e.name+upperFirst(t))
			}
		} else {
			e.keys = []string{e.name}
		}
		for _, k := range e.keys {
			e.extKeys = append(e.extKeys, "_"+k)
		}
		cur.elems[e.name] = e
	}
	for _, t := range m.types {
		if t.baseName != "" {
			t.base = m.types[t.baseName]
		}
	}
	return m
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-32) + s[1:]
}

func (m *model) typ(name string) *typeDef {
	if m == nil {
		return nil
	}
	return m.types[name]
}

// element finds an element of t or its bases.
func (t *typeDef) element(name string) *elemDef {
	for x, n := t, 0; x != nil && n < 20; x, n = x.base, n+1 {
		if e, ok := x.elems[name]; ok {
			return e
		}
	}
	return nil
}

func (t *typeDef) concreteChoice(name string) (choiceRef, bool) {
	for x, n := t, 0; x != nil && n < 20; x, n = x.base, n+1 {
		if c, ok := x.concrete[name]; ok {
			return c, true
		}
	}
	return choiceRef{}, false
}

// isSubtype reports whether type name derives from (or is) ancestor.
func (m *model) isSubtype(name, ancestor string) bool {
	if name == ancestor {
		return true
	}
	t := m.typ(name)
	for n := 0; t != nil && n < 20; n++ {
		if t.name == ancestor {
			return true
		}
		t = t.base
	}
	return false
}

// publicName is the type name FHIRPath reports: backbone elements report their base.
func (m *model) publicName(name string) string {
	if strings.IndexByte(name, '.') < 0 {
		return name
	}
	if t := m.typ(name); t != nil && t.baseName != "" {
		return t.baseName
	}
	return "BackboneElement"
}

// isPrimitive reports whether the FHIR type name is a primitive type.
func (m *model) isPrimitive(name string) bool {
	if t := m.typ(name); t != nil {
		return t.kind == 'P'
	}
	return false
}

func (m *model) isResource(name string) bool {
	t := m.typ(name)
	return t != nil && (t.kind == 'R' || t.kind == 'A')
}

// systemKindOfPrimitive maps FHIR primitive types to the System type they hold.
func systemKindOfPrimitive(name string) kind {
	switch name {
	case "boolean":
		return kBool
	case "integer", "positiveInt", "unsignedInt":
		return kInt
	case "integer64":
		return kLong
	case "decimal":
		return kDec
	case "date":
		return kDate
	case "dateTime", "instant":
		return kDateTime
	case "time":
		return kTime
	case "string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown", "base64Binary", "xhtml":
		return kStr
	}
	return kStr
}

// systemTypeKinds maps the System namespace type names to their kinds.
var systemTypeKinds = map[string]kind{
	"Boolean": kBool, "Integer": kInt, "Long": kLong, "Decimal": kDec, "String": kStr,
	"Date": kDate, "DateTime": kDateTime, "Time": kTime, "Quantity": kQty,
}
