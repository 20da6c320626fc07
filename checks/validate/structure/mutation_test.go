package structure

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// A mutant: a change to one place of a valid example that base R4 JSON forbids, and the finding
// it must give.
type mutant struct {
	apply, undo func()
	rule, path  string
	what        string
}

// mutants lists, for every place of a decoded resource, the broken variants of it.
func mutants(m *model, obj map[string]any, t *typeDef, path string, out *[]mutant) {
	// Unknown property on every object.
	bogus := "pacheckBogus"
	*out = append(*out, mutant{
		apply: func() { obj[bogus] = "x" }, undo: func() { delete(obj, bogus) },
		rule: RuleUnknown, path: join(path, bogus), what: "unknown property"})
	for key, val := range obj {
		e := t.elems[key]
		if e == nil || strings.HasPrefix(key, "_") {
			continue
		}
		key, val := key, val
		p := join(path, key)
		if e.array {
			arr, ok := val.([]any)
			if !ok || len(arr) == 0 {
				continue
			}
			*out = append(*out, mutant{
				apply: func() { obj[key] = arr[0] }, undo: func() { obj[key] = arr },
				rule: RuleType, path: p, what: "single value where FHIR has a list"})
			if _, hasSib := obj["_"+key]; !hasSib {
				*out = append(*out, mutant{
					apply: func() { obj[key] = []any{} }, undo: func() { obj[key] = arr },
					rule: RuleEmpty, path: p, what: "empty array"})
			}
			for i, item := range arr {
				itemMutants(m, e, item, func(v any) { arr[i] = v }, p+"["+strconv.Itoa(i)+"]", out)
			}
			continue
		}
		if _, isArr := val.([]any); !isArr && val != nil {
			*out = append(*out, mutant{
				apply: func() { obj[key] = []any{val} }, undo: func() { obj[key] = val },
				rule: RuleType, path: p, what: "list where FHIR has a single value"})
		}
		itemMutants(m, e, val, func(v any) { obj[key] = v }, p, out)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func itemMutants(m *model, e *elem, val any, set func(any), p string, out *[]mutant) {
	add := func(bad any, rule, what string) {
		*out = append(*out, mutant{apply: func() { set(bad) }, undo: func() { set(val) }, rule: rule, path: p, what: what})
	}
	switch {
	case e.resource:
		if obj, ok := val.(map[string]any); ok {
			rt, _ := obj["resourceType"].(string)
			if t := m.types[rt]; t != nil {
				*out = append(*out, mutant{apply: func() { obj["resourceType"] = rt + "x" }, undo: func() { obj["resourceType"] = rt },
					rule: RuleResourceType, path: p + ".resourceType", what: "unknown resourceType"})
				mutants(m, obj, t, p, out)
			}
		}
	case e.typ == nil:
	case e.typ.kind == kindPrimitive:
		switch e.typ.json {
		case jsonString:
			add("", RuleEmpty, "empty string")
			add(json.Number("1"), RuleType, "number where a string is due")
			if bad := badFormat[e.typ.name]; bad != "" {
				add(bad, RuleFormat, "bad "+e.typ.name)
			}
		case jsonBool:
			add("true", RuleType, "string where a boolean is due")
		case jsonInteger:
			add(json.Number("1.5"), RuleType, "fraction where an integer is due")
			add("1", RuleType, "string where an integer is due")
		case jsonNumber:
			add(fmt.Sprint(val), RuleType, "string where a decimal is due")
		}
	default:
		if obj, ok := val.(map[string]any); ok {
			add(map[string]any{}, RuleEmpty, "empty object")
			add("x", RuleType, "string where an object is due")
			mutants(m, obj, e.typ, p, out)
		}
	}
}

var badFormat = map[string]string{
	"date": "2020-13-01", "dateTime": "2020-01-01T10:00:00", "instant": "2020-01-01", "time": "25:00:00",
	"id": "a b", "code": "a  b", "uri": "a b", "url": "a b", "canonical": "a b", "oid": "1.2.3",
	"uuid": "urn:uuid:XYZ", "base64Binary": "abc$",
}

// TestMutants: every mutant of every official example that base R4 JSON forbids is flagged at
// its place with the right rule, by both engines.
func TestMutants(t *testing.T) {
	v := validator(t)
	engines := map[string]*Validator{"schema": v, "walker": walkerOnly(t)}
	const perExample = 6 // a sample per example keeps the test quick; raise it to sweep
	total, missed := 0, 0
	for _, p := range examplePackages(t) {
		for _, ex := range p.Examples() {
			root, issues := v.Validate(ex.Raw)
			obj, ok := root.(map[string]any)
			if !ok || len(issues.Errors()) > 0 {
				continue // not a resource, or a reviewed broken example
			}
			rt, _ := obj["resourceType"].(string)
			var ms []mutant
			mutants(v.core.m, obj, v.core.m.types[rt], rt, &ms)
			step := len(ms)/perExample + 1
			for i := 0; i < len(ms); i += step {
				mu := ms[i]
				mu.apply()
				for name, ev := range engines {
					total++
					found, atPath := false, 0
					for _, is := range ev.ValidateValue(obj, "") {
						if is.Path == mu.path {
							atPath++
						}
						if is.Rule == mu.rule && is.Path == mu.path {
							found = true
						}
					}
					if atPath > 1 {
						t.Errorf("%s %s (%s engine): %s at %s reported %d times", p.Ref(), ex.Name, name, mu.what, mu.path, atPath)
					}
					if !found {
						missed++
						if missed <= 30 {
							t.Errorf("%s %s (%s engine): %s at %s not flagged as %s; got %v", p.Ref(), ex.Name, name, mu.what, mu.path, mu.rule, ev.ValidateValue(obj, ""))
						}
					}
				}
				mu.undo()
			}
		}
	}
	if total < 1000 {
		t.Errorf("only %d mutants", total)
	}
	t.Logf("%d mutant checks, %d missed", total, missed)
}
