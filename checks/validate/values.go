package validate

import (
	"encoding/json"
	"math/big"
	"strings"
)

// jsonEqual compares two decoded JSON values exactly (numbers by value).
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && numEqual(x, y)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !jsonEqual(v, y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case nil:
		return b == nil
	}
	return false
}

func numEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	x, ok1 := new(big.Rat).SetString(string(a))
	y, ok2 := new(big.Rat).SetString(string(b))
	return ok1 && ok2 && x.Cmp(y) == 0
}

// patternMatch reports whether instance value v matches pattern p: every property of p is present
// in v with a matching value; for arrays each pattern item must be matched by some instance item.
func patternMatch(v, p any) bool {
	switch px := p.(type) {
	case map[string]any:
		vx, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k, pv := range px {
			if !patternMatch(vx[k], pv) {
				return false
			}
		}
		return true
	case []any:
		vx, ok := v.([]any)
		if !ok {
			if v == nil {
				return false
			}
			vx = []any{v}
		}
		for _, pi := range px {
			found := false
			for _, vi := range vx {
				if patternMatch(vi, pi) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	default:
		return jsonEqual(v, p)
	}
}

// valuesAt collects the values at a simple dotted path inside a JSON value (arrays flatten).
func valuesAt(v any, segs []pathSeg, out []any) []any {
	if a, ok := v.([]any); ok {
		for _, x := range a {
			out = valuesAt(x, segs, out)
		}
		return out
	}
	if v == nil {
		return out
	}
	if len(segs) == 0 {
		return append(out, v)
	}
	s := segs[0]
	switch s.kind {
	case segThis:
		return valuesAt(v, segs[1:], out)
	case segName:
		m, ok := v.(map[string]any)
		if !ok {
			return out
		}
		if x, ok := m[s.name]; ok {
			return valuesAt(x, segs[1:], out)
		}
		// choice: name[x] stripped; look for a key with that prefix and an upper-case type suffix
		for k, x := range m {
			if len(k) > len(s.name) && strings.HasPrefix(k, s.name) && k[len(s.name)] >= 'A' && k[len(s.name)] <= 'Z' {
				out = valuesAt(x, segs[1:], out)
			}
		}
		return out
	case segExt:
		m, ok := v.(map[string]any)
		if !ok {
			return out
		}
		exts, _ := m["extension"].([]any)
		for _, x := range exts {
			if xm, ok := x.(map[string]any); ok && xm["url"] == s.name {
				out = valuesAt(xm, segs[1:], out)
			}
		}
		return out
	}
	return out
}

var primitiveTypes = map[string]bool{"boolean": true, "integer": true, "string": true, "decimal": true, "uri": true,
	"url": true, "canonical": true, "base64Binary": true, "instant": true, "date": true, "dateTime": true, "time": true,
	"code": true, "oid": true, "id": true, "markdown": true, "unsignedInt": true, "positiveInt": true, "uuid": true,
	"xhtml": true, "integer64": true}
