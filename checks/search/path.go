package search

import (
	"context"
	"fmt"
	"strings"
	"unicode"
)

// Value is one value a SearchParameter expression selects from a resource: its JSON form and,
// when known, its FHIR type (from a choice element's suffix such as effectivePeriod, or from an
// as()/ofType() filter). An empty Type means "infer it from the JSON shape".
type Value struct {
	Type string
	V    any
	// Ext is the "_name" companion of a primitive (extensions, e.g. a data-absent-reason).
	Ext map[string]any
}

// Evaluator evaluates a SearchParameter expression against one decoded JSON resource.
type Evaluator interface {
	Eval(ctx context.Context, expr string, resource map[string]any) ([]Value, error)
}

// PathEvaluator is the compact evaluator of the subset of FHIRPath that SearchParameter
// expressions use: unions (|), paths with choice types, as(T)/"as T"/ofType(T), where(url='...'),
// where(resolve() is T), extension('url'), first(), and a leading resource type that must match.
// It is the fallback until checks/fhirpath evaluates expressions; an expression outside the
// subset is an error (the caller reports "not checked", never a silent pass).
type PathEvaluator struct{}

// Eval implements Evaluator.
func (PathEvaluator) Eval(_ context.Context, expr string, res map[string]any) ([]Value, error) {
	rt, _ := res["resourceType"].(string)
	var out []Value
	for _, alt := range splitTop(expr, '|') {
		vs, err := evalAlt(strings.TrimSpace(alt), rt, res)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// splitTop splits s at sep outside parentheses and quotes.
func splitTop(s string, sep byte) []string {
	var parts []string
	depth, start := 0, 0
	inQ := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && (i == 0 || s[i-1] != '\\'):
			inQ = !inQ
		case inQ:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// stripParens removes parentheses enclosing the whole expression.
func stripParens(s string) string {
	for {
		s = strings.TrimSpace(s)
		if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
			return s
		}
		depth := 0
		whole := true
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 && i != len(s)-1 {
					whole = false
				}
			}
		}
		if !whole {
			return s
		}
		s = s[1 : len(s)-1]
	}
}

func evalAlt(expr, rt string, res map[string]any) ([]Value, error) {
	expr = stripParens(expr)
	// "X as T" / "X is T" at the top level.
	if i := topKeyword(expr, " as "); i >= 0 {
		vs, err := evalAlt(expr[:i], rt, res)
		if err != nil {
			return nil, err
		}
		return filterType(vs, strings.TrimSpace(expr[i+4:])), nil
	}
	steps := splitTop(expr, '.')
	if len(steps) == 0 || steps[0] == "" {
		return nil, fmt.Errorf("empty expression")
	}
	head := strings.TrimSpace(steps[0])
	switch {
	case head == "Resource" || head == "DomainResource" || head == rt:
	case isTypeName(head):
		return nil, nil // another resource type's branch of a shared parameter
	default:
		return nil, fmt.Errorf("expression %q does not start with a resource type", expr)
	}
	cur := []Value{{Type: rt, V: res}}
	for _, st := range steps[1:] {
		st = strings.TrimSpace(st)
		var err error
		cur, err = step(cur, st)
		if err != nil {
			return nil, fmt.Errorf("expression %q: %w", expr, err)
		}
	}
	return cur, nil
}

func topKeyword(s, kw string) int {
	depth := 0
	inQ := false
	for i := 0; i+len(kw) <= len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			inQ = !inQ
		case inQ:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && s[i:i+len(kw)] == kw:
			return i
		}
	}
	return -1
}

func isTypeName(s string) bool {
	if s == "" || !unicode.IsUpper(rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// step applies one path step or function to every value.
func step(in []Value, st string) ([]Value, error) {
	if i := strings.IndexByte(st, '('); i > 0 && strings.HasSuffix(st, ")") {
		fn, arg := st[:i], strings.TrimSpace(st[i+1:len(st)-1])
		switch fn {
		case "as", "ofType":
			return filterType(in, arg), nil
		case "first":
			if len(in) > 0 {
				return in[:1], nil
			}
			return nil, nil
		case "extension":
			url := strings.Trim(arg, "'")
			exts, _ := step(in, "extension")
			return whereURL(exts, url), nil
		case "where":
			return where(in, arg)
		case "resolve":
			return in, nil // kept as references; "where(resolve() is T)" filters them
		default:
			return nil, fmt.Errorf("function %s() is outside the compact evaluator", fn)
		}
	}
	if !isName(st) {
		return nil, fmt.Errorf("step %q is outside the compact evaluator", st)
	}
	var out []Value
	for _, v := range in {
		m, ok := v.V.(map[string]any)
		if !ok {
			continue
		}
		if x, ok := m[st]; ok {
			ext, _ := m["_"+st].(map[string]any)
			out = appendFlat(out, "", x, ext)
			continue
		}
		if ext, ok := m["_"+st]; ok { // primitive with only extensions (e.g. data-absent-reason)
			em, _ := ext.(map[string]any)
			out = append(out, Value{V: nil, Ext: em})
			continue
		}
		// choice element: name + TypeSuffix
		for k, x := range m {
			if len(k) > len(st) && strings.HasPrefix(k, st) && unicode.IsUpper(rune(k[len(st)])) {
				out = appendFlat(out, lowerFirstType(k[len(st):]), x, nil)
			}
		}
	}
	return out, nil
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			return false
		}
	}
	return true
}

// lowerFirstType maps a choice suffix to the FHIR type name: DateTime -> dateTime, Period -> Period.
func lowerFirstType(s string) string {
	switch s {
	case "Boolean", "Integer", "String", "Decimal", "Uri", "Url", "Canonical", "Base64Binary", "Instant",
		"Date", "DateTime", "Time", "Code", "Oid", "Id", "Markdown", "UnsignedInt", "PositiveInt", "Uuid":
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

func appendFlat(out []Value, typ string, x any, ext map[string]any) []Value {
	if arr, ok := x.([]any); ok {
		for _, e := range arr {
			out = append(out, Value{Type: typ, V: e})
		}
		return out
	}
	return append(out, Value{Type: typ, V: x, Ext: ext})
}

func filterType(in []Value, typ string) []Value {
	typ = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(typ), "FHIR."), "System.")
	var out []Value
	for _, v := range in {
		t := v.Type
		if t == "" {
			t = inferType(v.V)
		}
		if strings.EqualFold(t, typ) || (strings.EqualFold(typ, "dateTime") && t == "date") {
			v.Type = typ
			if strings.EqualFold(typ, "dateTime") && t == "date" {
				v.Type = "date"
			}
			out = append(out, v)
		}
	}
	return out
}

func whereURL(in []Value, url string) []Value {
	var out []Value
	for _, v := range in {
		m, _ := v.V.(map[string]any)
		if u, _ := m["url"].(string); u == url {
			out = append(out, v)
		}
	}
	return out
}

// where supports url = '...' and resolve() is T (and "and" of those).
func where(in []Value, cond string) ([]Value, error) {
	cond = stripParens(cond)
	if i := topKeyword(cond, " and "); i >= 0 {
		a, err := where(in, cond[:i])
		if err != nil {
			return nil, err
		}
		return where(a, cond[i+5:])
	}
	if strings.HasPrefix(cond, "resolve()") {
		rest := strings.TrimSpace(strings.TrimPrefix(cond, "resolve()"))
		if !strings.HasPrefix(rest, "is ") {
			return nil, fmt.Errorf("where(%s) is outside the compact evaluator", cond)
		}
		typ := strings.TrimSpace(strings.TrimPrefix(rest, "is "))
		typ = strings.TrimPrefix(typ, "FHIR.")
		var out []Value
		for _, v := range in {
			m, _ := v.V.(map[string]any)
			ref, _ := m["reference"].(string)
			if t, _ := splitRef(ref); t == typ {
				out = append(out, v)
			}
		}
		return out, nil
	}
	if l, r, ok := strings.Cut(cond, "="); ok {
		name := strings.TrimSpace(l)
		want := strings.Trim(strings.TrimSpace(r), "'")
		if !isName(name) {
			return nil, fmt.Errorf("where(%s) is outside the compact evaluator", cond)
		}
		var out []Value
		for _, v := range in {
			m, _ := v.V.(map[string]any)
			if s, _ := m[name].(string); s == want {
				out = append(out, v)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("where(%s) is outside the compact evaluator", cond)
}

// inferType guesses the FHIR type of a JSON value from its shape (search matching needs only
// the broad kind: date-like, Period, Coding, CodeableConcept, Identifier, Reference...).
func inferType(x any) string {
	switch v := x.(type) {
	case bool:
		return "boolean"
	case string:
		if _, ok := parseDateRange(v); ok && len(v) >= 4 && v[0] >= '0' && v[0] <= '9' {
			if len(v) <= 10 {
				return "date"
			}
			return "dateTime"
		}
		return "string"
	case map[string]any:
		switch {
		case has(v, "coding") || (has(v, "text") && len(v) <= 2 && !has(v, "family")):
			return "CodeableConcept"
		case has(v, "reference") || (has(v, "identifier") && has(v, "type")) || (has(v, "display") && len(v) == 1):
			return "Reference"
		case has(v, "start") || has(v, "end"):
			return "Period"
		case has(v, "family") || has(v, "given"):
			return "HumanName"
		case has(v, "line") || has(v, "city") || has(v, "postalCode") || has(v, "state") || has(v, "country"):
			return "Address"
		case has(v, "value") && (has(v, "unit") || has(v, "code") || has(v, "comparator")) && isNumber(v["value"]):
			return "Quantity"
		case has(v, "system") && has(v, "value"):
			return "Identifier"
		case has(v, "code") || has(v, "system"):
			return "Coding"
		case has(v, "value"):
			if _, ok := v["value"].(string); ok {
				return "Identifier"
			}
			return "Quantity"
		case has(v, "event") || has(v, "repeat"):
			return "Timing"
		}
	}
	if isNumber(x) {
		return "decimal"
	}
	return ""
}

func has(m map[string]any, k string) bool { _, ok := m[k]; return ok }
