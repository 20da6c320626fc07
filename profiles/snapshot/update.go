package snapshot

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
)

func asError(err error, target **Error) bool { return errors.As(err, target) }

// mergeInto applies one differential element to the snapshot element it constrains, the way
// ProfileUtilities.updateFromDefinition does: most properties replace the inherited ones;
// constraints, mappings, aliases and conditions add to them; binding and slicing merge property by
// property; types replace the inherited list as a whole.
func (m *merger) mergeInto(n *node, d map[string]any, id string) error {
	e := n.elem
	for k, v := range d {
		switch {
		case k == "id" || k == "path" || k == "base":
			// rebuilt from the tree / inherited
		case k == "sliceName":
			// set from the tree
		case k == "constraint":
			e[k] = mergeKeyed(list(e, k), list(d, k), "key", m.url)
		case k == "mapping":
			e[k] = mergeKeyed(list(e, k), list(d, k), "", "")
		case k == "alias" || k == "condition":
			e[k] = union(list(e, k), list(d, k))
		case k == "extension":
			e[k] = mergeExtensions(list(e, k), list(d, k))
		case k == "binding" || k == "slicing":
			old, _ := e[k].(map[string]any)
			nw, _ := v.(map[string]any)
			merged := cloneMap(old)
			if merged == nil {
				merged = map[string]any{}
			}
			for bk, bv := range nw {
				merged[bk] = cloneValue(bv)
			}
			e[k] = merged
		case strings.HasPrefix(k, "fixed") || strings.HasPrefix(k, "pattern"):
			kind := "fixed"
			if strings.HasPrefix(k, "pattern") {
				kind = "pattern"
			}
			for ek := range e {
				if strings.HasPrefix(ek, kind) && ek != k {
					delete(e, ek)
				}
			}
			e[k] = cloneValue(v)
		default:
			e[k] = cloneValue(v)
		}
	}
	if _, ok := d["binding"]; ok && !bindable(e) {
		// a binding on an element no type of which is coded means nothing; the published
		// generator leaves it out
		delete(e, "binding")
	}
	if n.typeSlice && n.sliceOf != nil && len(list(n.sliceOf.elem, "type")) == 1 {
		// the only type's slice: its lower bound is the choice element's too
		if num(e["min"]) > num(n.sliceOf.elem["min"]) {
			n.sliceOf.elem["min"] = e["min"]
		}
	}
	return nil
}

// bindableTypes are the types a binding applies to.
var bindableTypes = map[string]bool{"code": true, "Coding": true, "CodeableConcept": true, "Quantity": true,
	"string": true, "uri": true, "url": true, "canonical": true, "CodeableReference": true}

func bindable(e map[string]any) bool {
	types := list(e, "type")
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		tm, _ := t.(map[string]any)
		if bindableTypes[str(tm, "code")] {
			return true
		}
	}
	return false
}

func num(v any) int64 {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return n
	case float64:
		return int64(x)
	}
	return 0
}

// mergeKeyed appends the differential's entries to the inherited ones; an entry with the same key
// (constraint key) replaces the inherited one, an identical entry is not repeated. New constraints
// get the profile as their source.
func mergeKeyed(old, add []any, key, source string) []any {
	out := make([]any, 0, len(old)+len(add))
	out = append(out, old...)
next:
	for _, a := range add {
		am, _ := a.(map[string]any)
		for i, o := range out {
			om, _ := o.(map[string]any)
			if key != "" && am != nil && str(am, key) != "" && str(am, key) == str(om, key) {
				out[i] = cloneValue(a)
				continue next
			}
			if reflect.DeepEqual(o, a) {
				continue next
			}
		}
		c := cloneValue(a)
		if cm, ok := c.(map[string]any); ok && source != "" && str(cm, "source") == "" {
			cm["source"] = source
		}
		out = append(out, c)
	}
	return out
}

func union(old, add []any) []any {
	out := append([]any{}, old...)
next:
	for _, a := range add {
		for _, o := range out {
			if reflect.DeepEqual(o, a) {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

// mergeExtensions lets the differential's element extensions replace inherited ones by url.
func mergeExtensions(old, add []any) []any {
	urls := map[string]bool{}
	for _, a := range add {
		am, _ := a.(map[string]any)
		urls[str(am, "url")] = true
	}
	var out []any
	for _, o := range old {
		om, _ := o.(map[string]any)
		if !urls[str(om, "url")] {
			out = append(out, o)
		}
	}
	for _, a := range add {
		out = append(out, cloneValue(a))
	}
	return out
}
