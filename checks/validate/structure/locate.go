package structure

import (
	"strconv"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// annotate fills Profile (the core StructureDefinition that defines the element) and ElementID of
// each issue from its path, following the decoded resource (contained resources and Bundle
// entries take their type from their resourceType).
func (m *model) annotate(root map[string]any, issues issue.List) {
	for i := range issues {
		if issues[i].ElementID != "" || issues[i].Path == "" {
			continue
		}
		issues[i].Profile, issues[i].ElementID = m.elementAt(root, issues[i].Path)
	}
}

// elementAt returns the defining StructureDefinition URL and element id for a path such as
// Patient.contained[0].name[1].given[0]. For a property the type does not define, it is the
// owner (Patient.name[0].foo -> HumanName).
func (m *model) elementAt(root map[string]any, path string) (url, id string) {
	rt, _ := root["resourceType"].(string)
	t := m.types[rt]
	if t == nil || t.kind != kindResource {
		return "", ""
	}
	rest, ok := strings.CutPrefix(path, rt)
	if !ok {
		return "", ""
	}
	url, id = t.url, t.name
	var cur, sib any = root, nil // sib: the "_name" companion of a primitive value
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			key := rest[:end]
			rest = rest[end:]
			if t == nil {
				return url, id
			}
			if t.kind == kindPrimitive {
				t, cur = m.types["Element"], sib
			}
			name := strings.TrimPrefix(key, "_")
			e := t.elems[name]
			if e == nil {
				for base, c := range t.choices {
					if strings.HasPrefix(name, base) {
						return t.url, c.id
					}
				}
				return t.url, t.name
			}
			url, id = t.url, e.id
			obj, _ := cur.(map[string]any)
			cur, sib = obj[name], obj["_"+name]
			if cur == nil {
				cur = sib
			}
			if e.resource {
				t = nil
				continue
			}
			t = e.typ
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return url, id
			}
			n, err := strconv.Atoi(rest[1:end])
			rest = rest[end+1:]
			arr, _ := cur.([]any)
			if err != nil || n < 0 || n >= len(arr) {
				return url, id
			}
			cur = arr[n]
			if sarr, ok := sib.([]any); ok && n < len(sarr) {
				sib = sarr[n]
			} else {
				sib = nil
			}
		default:
			return url, id
		}
		if t == nil { // a resource inside a resource: its type comes from the data
			obj, _ := cur.(map[string]any)
			rt, _ := obj["resourceType"].(string)
			if rt2 := m.types[rt]; rt2 != nil && rt2.kind == kindResource {
				if _, isArr := cur.([]any); !isArr {
					t = rt2
				}
			}
		}
	}
	return url, id
}
