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

func isNumberInt(n json.Number) bool {
	s := string(n)
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return "unknown"
}

func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for j := i; j < i+n; j++ {
		c := s[j]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// checkDate validates a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD); returns the index after it.
func checkDate(s string) (int, bool) {
	y, ok := digits(s, 0, 4)
	if !ok || y == 0 {
		return 0, false
	}
	if len(s) == 4 || s[4] != '-' {
		return 4, true
	}
	m, ok := digits(s, 5, 2)
	if !ok || m < 1 || m > 12 {
		return 0, false
	}
	if len(s) == 7 || s[7] != '-' {
		return 7, true
	}
	d, ok := digits(s, 8, 2)
	if !ok || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return 10, true
}

func checkTime(s string) (int, bool) {
	h, ok1 := digits(s, 0, 2)
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, false
	}
	mi, ok2 := digits(s, 3, 2)
	se, ok3 := digits(s, 6, 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || se > 60 {
		return 0, false
	}
	i := 8
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	return i, true
}

func checkTZ(s string) bool {
	if s == "Z" {
		return true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return false
	}
	h, ok1 := digits(s, 1, 2)
	m, ok2 := digits(s, 4, 2)
	return ok1 && ok2 && (h < 14 || (h == 14 && m == 0)) && m < 60
}

func checkDateTime(s string, instant bool) bool {
	n, ok := checkDate(s)
	if !ok {
		return false
	}
	if n == len(s) {
		return !instant
	}
	if n != 10 || s[n] != 'T' {
		return false
	}
	m, ok := checkTime(s[n+1:])
	if !ok {
		return false
	}
	return checkTZ(s[n+1+m:])
}

// primitiveOK checks a primitive's lexical form; it returns a short description of the expected
// form when it does not match.
func primitiveOK(typ string, v any) (bool, string) {
	switch typ {
	case "boolean":
		_, ok := v.(bool)
		return ok, "a JSON boolean"
	case "integer", "positiveInt", "unsignedInt", "integer64":
		n, ok := v.(json.Number)
		if !ok || !isNumberInt(n) {
			return false, "a JSON integer"
		}
		i, err := n.Int64()
		if err != nil || i > 2147483647 || i < -2147483648 {
			return false, "a 32-bit integer"
		}
		if typ == "positiveInt" && i < 1 {
			return false, "a positive integer"
		}
		if typ == "unsignedInt" && i < 0 {
			return false, "a non-negative integer"
		}
		return true, ""
	case "decimal":
		_, ok := v.(json.Number)
		return ok, "a JSON number"
	}
	s, ok := v.(string)
	if !ok {
		return false, "a JSON string"
	}
	if s == "" {
		return false, "a non-empty string"
	}
	switch typ {
	case "string", "markdown":
		return strings.TrimSpace(s) != "" || len(s) > 0, ""
	case "code":
		if strings.TrimSpace(s) != s || strings.Contains(s, "  ") || strings.ContainsAny(s, "\t\n\r") {
			return false, "a code (no leading, trailing or repeated whitespace)"
		}
	case "id":
		if len(s) > 64 {
			return false, "an id of at most 64 characters [A-Za-z0-9-.]"
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				return false, "an id of at most 64 characters [A-Za-z0-9-.]"
			}
		}
	case "date":
		if n, ok := checkDate(s); !ok || n != len(s) {
			return false, "a date YYYY, YYYY-MM or YYYY-MM-DD"
		}
	case "dateTime":
		if !checkDateTime(s, false) {
			return false, "a dateTime YYYY[-MM[-DD[Thh:mm:ss[.fff](Z|+hh:mm)]]]"
		}
	case "instant":
		if !checkDateTime(s, true) {
			return false, "an instant YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)"
		}
	case "time":
		if n, ok := checkTime(s); !ok || n != len(s) {
			return false, "a time hh:mm:ss[.fff]"
		}
	case "uri", "url", "canonical":
		if strings.ContainsAny(s, " \t\n\r") {
			return false, "a URI without whitespace"
		}
	case "oid":
		if !strings.HasPrefix(s, "urn:oid:") {
			return false, "an OID urn:oid:1.2.3"
		}
	case "uuid":
		if !strings.HasPrefix(s, "urn:uuid:") || len(s) != 45 {
			return false, "a UUID urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
		}
	case "base64Binary":
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == ' ' || c == '\n' || c == '\r') {
				return false, "base64 text"
			}
		}
	}
	return true, ""
}

var primitiveTypes = map[string]bool{"boolean": true, "integer": true, "string": true, "decimal": true, "uri": true,
	"url": true, "canonical": true, "base64Binary": true, "instant": true, "date": true, "dateTime": true, "time": true,
	"code": true, "oid": true, "id": true, "markdown": true, "unsignedInt": true, "positiveInt": true, "uuid": true,
	"xhtml": true, "integer64": true}
