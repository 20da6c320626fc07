package structure

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// Rule codes of the structural layer. Each finding is reported once: the JSON parser owns the
// json-* rules, the walker the FHIR JSON rules a schema cannot express with a precise location,
// and the generated JSON Schema (jsonschema/v5) owns unknown-element, type (JSON type and array vs
// single value) and primitive-format (regex and integer range). Where both see the same place, the
// walker's finding wins and the schema's is dropped.
const (
	RuleSyntax       = "json-syntax"        // not JSON (offset, line, column)
	RuleDuplicateKey = "json-duplicate-key" // a property twice in one object
	RuleEncoding     = "json-encoding"      // invalid UTF-8
	RuleDepth        = "json-depth"         // nesting over the limit
	RuleSize         = "json-size"          // input over the byte limit
	RuleNotResource  = "not-a-resource"     // top level is not a JSON object
	RuleResourceType = "resource-type"      // resourceType missing, unknown, abstract or not the expected one
	RuleUnknown      = "unknown-element"    // property not defined for the type
	RuleType         = "type"               // wrong JSON type, array vs single value, non-whole integer
	RuleFormat       = "primitive-format"   // primitive regex, integer range, control characters
	RuleEmpty        = "empty"              // "", [], {}, or an element with neither value nor children (ele-1)
	RuleChoice       = "choice-type"        // valueFoo with a type not allowed, or two value[x] variants
	RuleSibling      = "element-sibling"    // _x companion rules: no primitive x, unequal arrays, nulls
)

type walker struct {
	m *model
	// full: also check what the schema owns (unknown-element, type, primitive-format), for the
	// walker-only engine.
	full bool
	// schemaRule[i]: issues[i] is one the schema owns (found in full mode).
	schemaRule []bool
	issues     issue.List
	path       PathBuilder
	depth      int
	limit      int
}

func (w *walker) report(rule, path, msg, diag string) {
	w.issues = append(w.issues, issue.Issue{Severity: issue.Error, Rule: rule, Path: path, Message: msg, Diagnostics: diag})
	w.schemaRule = append(w.schemaRule, false)
}

// reportSchemaRule reports a finding of a rule the schema owns (walker-only engine).
func (w *walker) reportSchemaRule(rule, path, msg, diag string) {
	w.report(rule, path, msg, diag)
	w.schemaRule[len(w.schemaRule)-1] = true
}

// merged drops, as the schema engine does, a schema-rule finding at a location the walker's own
// rules already reported, and all but the first schema-rule finding per location.
func (w *walker) merged() issue.List {
	seen := map[string]bool{}
	for i, is := range w.issues {
		if !w.schemaRule[i] {
			seen[is.Path] = true
		}
	}
	out := w.issues[:0]
	for i, is := range w.issues {
		if w.schemaRule[i] {
			if seen[is.Path] {
				continue
			}
			seen[is.Path] = true
		}
		out = append(out, is)
	}
	return out
}

func (w *walker) reportHere(rule, msg string) { w.report(rule, string(w.path), msg, "") }

// resource checks a value that must be a resource; want is the expected type ("" for any).
func (w *walker) resource(v any, want string) {
	obj, ok := v.(map[string]any)
	if !ok {
		return // the schema reports the JSON type
	}
	rt, present := obj["resourceType"]
	name, isStr := rt.(string)
	if len(w.path) == 0 {
		if isStr && name != "" {
			w.path = append(w.path, name...)
		} else {
			w.path = append(w.path, want...)
		}
	}
	switch {
	case !present:
		w.reportHere(RuleResourceType, "resourceType is missing: every resource names its type")
		return
	case !isStr:
		n := w.path.Push("resourceType")
		w.report(RuleResourceType, string(w.path), "resourceType is not a string", quoteValue(rt))
		w.path.Pop(n)
		return
	}
	t := w.m.types[name]
	if t == nil || t.kind != kindResource || t.abstract {
		n := w.path.Push("resourceType")
		w.report(RuleResourceType, string(w.path), "resourceType is not a FHIR R4 resource type", "resourceType "+strconv.Quote(name))
		w.path.Pop(n)
		return
	}
	if want != "" && want != name {
		n := w.path.Push("resourceType")
		w.report(RuleResourceType, string(w.path), fmt.Sprintf("expected a %s resource, found %s", want, name), "")
		w.path.Pop(n)
		return
	}
	w.object(obj, t)
}

// object walks the properties of a complex value of type t (complex type, backbone or resource).
func (w *walker) object(obj map[string]any, t *typeDef) {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > w.limit {
		w.reportHere(RuleDepth, fmt.Sprintf("nesting deeper than %d levels", w.limit))
		return
	}
	var variants []variant
	for key, v := range obj {
		if key == "resourceType" && t.kind == kindResource {
			continue
		}
		name, isSib := key, false
		if strings.HasPrefix(key, "_") {
			name, isSib = key[1:], true
		}
		e := t.elems[name]
		if e == nil {
			if !w.unknownChoice(t, key, name) && w.full {
				n := w.path.Push(key)
				w.reportSchemaRule(RuleUnknown, string(w.path), unknownMessage(t.name), "property "+strconv.Quote(key))
				w.path.Pop(n)
			}
			continue // otherwise the schema reports unknown-element
		}
		if e.choice != nil {
			variants = append(variants, variant{e.choice, name})
		}
		if isSib {
			if !e.sibling {
				n := w.path.Push(key)
				w.reportHere(RuleSibling, fmt.Sprintf("%s is not a primitive element, so it has no _%s companion (element %s)", name, name, e.id))
				w.path.Pop(n)
				continue
			}
			if _, both := obj[name]; both {
				continue // walked with the value
			}
			w.element(e, nil, false, v, true)
			continue
		}
		sv, hasSib := obj["_"+name]
		if !e.sibling {
			hasSib = false
		}
		w.element(e, v, true, sv, hasSib)
	}
	if len(variants) > 1 {
		w.choiceConflicts(variants)
	}
	if t.name == "Bundle.entry" {
		w.entryType(obj)
	}
}

// entryType checks that a RESTful Bundle.entry.fullUrl (.../Type/id) names the type of the entry's
// resource.
func (w *walker) entryType(obj map[string]any) {
	full, _ := obj["fullUrl"].(string)
	res, _ := obj["resource"].(map[string]any)
	rt, _ := res["resourceType"].(string)
	if full == "" || strings.HasPrefix(full, "urn:") {
		return
	}
	if t := w.m.types[rt]; t == nil || t.kind != kindResource {
		return // the resource's own resourceType finding covers it
	}
	if i := strings.Index(full, "/_history/"); i >= 0 {
		full = full[:i]
	}
	parts := strings.Split(strings.TrimSuffix(full, "/"), "/")
	if len(parts) < 2 {
		return
	}
	typ := parts[len(parts)-2]
	if t := w.m.types[typ]; t == nil || t.kind != kindResource || typ == rt {
		return
	}
	n := w.path.Push("fullUrl")
	w.report(RuleResourceType, string(w.path), fmt.Sprintf("fullUrl names a %s but the entry's resource is a %s", typ, rt), "fullUrl "+strconv.Quote(full))
	w.path.Pop(n)
}

type variant struct {
	c    *choice
	name string
}

func (w *walker) choiceConflicts(vs []variant) {
	sort.Slice(vs, func(i, j int) bool { return vs[i].name < vs[j].name })
	for i := 1; i < len(vs); i++ {
		prev := -1
		for j := 0; j < i; j++ {
			if vs[j].c == vs[i].c && vs[j].name != vs[i].name {
				prev = j
				break
			}
		}
		if prev < 0 {
			continue
		}
		dup := false
		for j := 0; j < i; j++ {
			if vs[j].name == vs[i].name {
				dup = true
			}
		}
		if dup {
			continue
		}
		n := w.path.Push(vs[i].name)
		w.reportHere(RuleChoice, fmt.Sprintf("%s has more than one type at once (%s and %s); a choice element takes exactly one",
			vs[i].c.id, vs[prev].name, vs[i].name))
		w.path.Pop(n)
	}
}

// unknownChoice reports a property that looks like a choice variant with a type the choice does
// not allow (valueFoo, _valueFoo).
func (w *walker) unknownChoice(t *typeDef, key, name string) bool {
	for base, c := range t.choices {
		if len(name) > len(base) && strings.HasPrefix(name, base) && name[len(base)] >= 'A' && name[len(base)] <= 'Z' {
			n := w.path.Push(key)
			w.reportHere(RuleChoice, fmt.Sprintf("%s is not a permitted type for %s (allowed: %s)", name[len(base):], c.id, strings.Join(c.types, ", ")))
			w.path.Pop(n)
			return true
		}
	}
	return false
}

// wrongType reports a JSON type mismatch at the current path (walker-only engine).
func (w *walker) wrongType(expected string, v any) {
	w.reportSchemaRule(RuleType, string(w.path), fmt.Sprintf("wrong JSON type: expected %s, but got %s", expected, jsonTypeName(v)), quoteValue(v))
}

func expectedOf(e *elem) string {
	switch {
	case e.resource:
		return "object"
	case e.typ != nil && e.typ.kind == kindPrimitive:
		return e.typ.json.String()
	}
	return "object"
}

// element checks one property: v is the value (hasV false when only "_name" is present), sv the
// "_name" companion.
func (w *walker) element(e *elem, v any, hasV bool, sv any, hasSib bool) {
	if e.array {
		w.arrayElement(e, v, hasV, sv, hasSib)
		return
	}
	if hasV {
		n := w.path.Push(e.name)
		w.single(e, v, hasSib)
		w.path.Pop(n)
	}
	if hasSib {
		w.siblingObject(e.name, sv, hasV && v != nil)
	}
}

func (w *walker) arrayElement(e *elem, v any, hasV bool, sv any, hasSib bool) {
	arr, isArr := v.([]any)
	sarr, sIsArr := sv.([]any)
	if w.full && hasV && !isArr {
		n := w.path.Push(e.name)
		w.wrongType("array", v)
		w.path.Pop(n)
	}
	if w.full && hasSib && !sIsArr {
		n := w.path.Push("_" + e.name)
		w.wrongType("array", sv)
		w.path.Pop(n)
	}
	if hasV && isArr && len(arr) == 0 {
		n := w.path.Push(e.name)
		w.reportHere(RuleEmpty, "empty array: FHIR JSON omits an element rather than giving []")
		w.path.Pop(n)
	}
	if hasSib && sIsArr && len(sarr) == 0 {
		n := w.path.Push("_" + e.name)
		w.reportHere(RuleEmpty, "empty array: FHIR JSON omits an element rather than giving []")
		w.path.Pop(n)
	}
	if hasV && hasSib && isArr && sIsArr && len(arr) != len(sarr) && len(arr) > 0 && len(sarr) > 0 {
		n := w.path.Push("_" + e.name)
		w.reportHere(RuleSibling, fmt.Sprintf("_%s has %d entries but %s has %d: the arrays must align", e.name, len(sarr), e.name, len(arr)))
		w.path.Pop(n)
	}
	if hasV && isArr {
		for i, item := range arr {
			n := w.path.Push(e.name)
			w.path.PushIndex(i)
			hasSi := hasSib && sIsArr && i < len(sarr) && sarr[i] != nil
			if item == nil {
				switch {
				case !e.sibling:
					// the schema reports null as a wrong JSON type
					if w.full {
						w.wrongType(expectedOf(e), nil)
					}
				case !hasSib || !sIsArr:
					w.reportHere(RuleSibling, fmt.Sprintf("null in %s is only allowed where _%s has an entry at the same index", e.name, e.name))
				case i < len(sarr) && sarr[i] == nil:
					w.reportHere(RuleSibling, fmt.Sprintf("both %s and _%s are null at this index", e.name, e.name))
				}
			} else {
				w.single(e, item, hasSi)
			}
			w.path.Pop(n)
		}
	}
	if hasSib && sIsArr {
		for i, s := range sarr {
			if s == nil {
				if !hasV || !isArr || i >= len(arr) {
					n := w.path.Push("_" + e.name)
					w.path.PushIndex(i)
					w.reportHere(RuleSibling, fmt.Sprintf("null in _%s is only allowed where %s has a value at the same index", e.name, e.name))
					w.path.Pop(n)
				}
				continue
			}
			hasVi := hasV && isArr && i < len(arr) && arr[i] != nil
			n := w.path.Push("_" + e.name)
			w.path.PushIndex(i)
			w.siblingContent(e.name, s, hasVi)
			w.path.Pop(n)
		}
	}
}

// siblingObject checks a single "_name" companion.
func (w *walker) siblingObject(name string, sv any, hasValue bool) {
	n := w.path.Push("_" + name)
	w.siblingContent(name, sv, hasValue)
	w.path.Pop(n)
}

// siblingContent checks a "_name" object at the current path ("..._name" or "..._name[i]"): it must
// not be empty and, without a value, must carry extensions (ele-1); its content is walked as an
// Element at the path of the value itself.
func (w *walker) siblingContent(name string, sv any, hasValue bool) {
	obj, ok := sv.(map[string]any)
	if !ok {
		if w.full {
			w.wrongType("object", sv)
		}
		return // schema: type
	}
	if len(obj) == 0 {
		w.reportHere(RuleEmpty, "empty object: FHIR JSON omits an element rather than giving {}")
		return
	}
	if !hasValue {
		if _, ok := obj["extension"]; !ok {
			w.reportHere(RuleEmpty, "primitive element has neither a value nor extensions (ele-1)")
		}
	}
	// Walk the content as Element, located at the value's path.
	save := append([]byte(nil), w.path...)
	w.path = []byte(siblingPath(string(w.path)))
	w.object(obj, w.m.types["Element"])
	w.path = save
}

// siblingPath turns "...._name" or "...._name[3]" into "....name" / "....name[3]".
func siblingPath(p string) string {
	i := strings.LastIndex(p, "._")
	if i < 0 {
		return strings.TrimPrefix(p, "_")
	}
	return p[:i+1] + p[i+2:]
}

// single checks one (non-array) value of element e at the current path.
func (w *walker) single(e *elem, v any, hasSib bool) {
	if _, isArr := v.([]any); isArr && w.full {
		w.wrongType(expectedOf(e), v)
		return
	}
	if e.resource {
		if _, ok := v.(map[string]any); !ok && w.full {
			w.wrongType("object", v)
			return
		}
		w.resource(v, "")
		return
	}
	t := e.typ
	if t == nil {
		return
	}
	if t.kind == kindPrimitive {
		w.primitive(t, v)
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if w.full {
			w.wrongType("object", v)
		}
		return // schema: type
	}
	switch len(obj) {
	case 0:
		w.reportHere(RuleEmpty, "empty object: FHIR JSON omits an element rather than giving {}")
		return
	case 1:
		if _, ok := obj["id"]; ok {
			w.reportHere(RuleEmpty, "element has only an id, neither a value nor children (ele-1)")
		}
	}
	w.object(obj, t)
}

func (w *walker) primitive(t *typeDef, v any) {
	switch x := v.(type) {
	case string:
		if x == "" && t.json == jsonString {
			w.reportHere(RuleEmpty, "empty string: FHIR JSON omits an element rather than giving \"\"")
			return
		}
		if t.json == jsonString && hasControl(x) {
			w.report(RuleFormat, string(w.path), fmt.Sprintf("%s contains a control character (below U+0020 other than tab, CR, LF), which FHIR strings forbid", t.name), quoteValue(v))
			return
		}
		if !w.full {
			return
		}
		if t.json != jsonString {
			w.wrongType(t.json.String(), v)
			return
		}
		if !t.formatOK(x) {
			w.reportSchemaRule(RuleFormat, string(w.path), formatMessage(t.name), quoteValue(v))
		}
	case json.Number:
		if !validNumber(string(x)) { // only reachable through ValidateValue
			w.report(RuleType, string(w.path), "value is a json.Number that is not a JSON number", quoteValue(v))
			return
		}
		if t.json == jsonInteger && !plainInteger(string(x)) {
			w.report(RuleType, string(w.path), fmt.Sprintf("%s must be a whole number written without fraction or exponent", t.name), "value "+string(x))
			return
		}
		if !w.full {
			return
		}
		switch t.json {
		case jsonInteger:
			if n, err := strconv.ParseInt(string(x), 10, 64); err != nil || !t.inRange(n) {
				w.reportSchemaRule(RuleFormat, string(w.path), rangeMessage(t.name), quoteValue(v))
			}
		case jsonNumber:
		default:
			w.wrongType(t.json.String(), v)
		}
	case float64:
		if !w.full {
			return
		}
		switch t.json {
		case jsonInteger:
			if x != float64(int64(x)) {
				w.wrongType("integer", v)
			} else if !t.inRange(int64(x)) {
				w.reportSchemaRule(RuleFormat, string(w.path), rangeMessage(t.name), quoteValue(v))
			}
		case jsonNumber:
		default:
			w.wrongType(t.json.String(), v)
		}
	case bool:
		if w.full && t.json != jsonBool {
			w.wrongType(t.json.String(), v)
		}
	default:
		if w.full {
			w.wrongType(t.json.String(), v)
		}
	}
}

func plainInteger(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// hasControl reports a character below U+0020 other than tab, CR and LF (FHIR R4 datatypes: string).
func hasControl(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		const ones, highs = 0x0101010101010101, 0x8080808080808080
		if (x-ones*0x20)&^x&highs != 0 {
			break // some byte below 0x20: look closer
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\r' && c != '\n' {
			return true
		}
	}
	return false
}

// validNumber reports whether s follows the JSON number grammar.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}
