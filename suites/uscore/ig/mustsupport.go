package ig

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// DataAbsentReasonExt and DataAbsentReasonCS are the extension and code system whose presence
// does not count as data.
const (
	DataAbsentReasonExt = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
	DataAbsentReasonCS  = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
)

// MSElement is one must-support element, slice or extension of a profile.
type MSElement struct {
	ID      string   // ElementDefinition.id, e.g. Observation.category:us-core or Patient.extension:race
	Path    string   // ElementDefinition.path
	Kind    string   // element | slice | extension
	Targets []string // for Reference elements: targetProfile canonicals
	IsRef   bool
	// Alternatives are element ids of which one suffices (an invariant "a.exists() or
	// b.exists()" on the parent, such as us-core-6 on DocumentReference attachments).
	Alternatives []string
	// NotRequired says why the element is listed but need not appear in data ("" = required):
	// dataAbsentReason (the stand-in for a missing value, never expected from complete data), or
	// an optional element inherited unchanged from a parent profile that this profile leaves aside
	// (the vital-signs component on a body-weight Observation).
	NotRequired string

	segs []seg
}

type seg struct {
	name    string // JSON name without [x]
	choice  bool
	match   func(key string, v any) bool // slice filter (nil: none)
	sliceID string
}

type elemDef struct {
	ID, Path, SliceName string
	MustSupport         bool
	Max                 string
	Types               []struct {
		Code          string   `json:"code"`
		Profile       []string `json:"profile"`
		TargetProfile []string `json:"targetProfile"`
	} `json:"type"`
	Slicing *struct {
		Discriminator []struct {
			Type string `json:"type"`
			Path string `json:"path"`
		} `json:"discriminator"`
	} `json:"slicing"`
	raw map[string]any
}

// MustSupport lists a profile's must-support elements in snapshot order. Elements under a
// prohibited (max 0) element are left out. base is the parent profile's StructureDefinition (nil
// when the parent is a base resource or unknown): top-level elements this profile does not change
// relative to it are "inherited" (the packages carry no differential, so the snapshots are compared).
func MustSupport(sd map[string]any, base map[string]any) ([]*MSElement, error) {
	return flagged(sd, base, func(d *elemDef) bool { return d.MustSupport })
}

// USCDIRequirementExt flags an element as an Additional USCDI Requirement (US Core 7.0.0 and
// later): not must-support, but what ONC certification asks of certified systems. US Core 7.0.0
// and 8.0.0 define it themselves; USCDIRequirementExtCore is the same flag under the core
// extensions' canonical, accepted too.
const (
	USCDIRequirementExt     = "http://hl7.org/fhir/us/core/StructureDefinition/uscdi-requirement"
	USCDIRequirementExtCore = "http://hl7.org/fhir/StructureDefinition/uscdi-requirement"
)

// USCDIRequirements lists a profile's Additional USCDI Requirements in snapshot order: the
// elements carrying the uscdi-requirement extension (true) that are not must-support (those are
// MustSupport's), with the same element matching, prohibited and inherited rules as MustSupport.
func USCDIRequirements(sd map[string]any, base map[string]any) ([]*MSElement, error) {
	return flagged(sd, base, func(d *elemDef) bool { return !d.MustSupport && hasUSCDIFlag(d.raw) })
}

func hasUSCDIFlag(el map[string]any) bool {
	exts, _ := el["extension"].([]any)
	for _, e := range exts {
		em, _ := e.(map[string]any)
		if (em["url"] == USCDIRequirementExt || em["url"] == USCDIRequirementExtCore) && em["valueBoolean"] == true {
			return true
		}
	}
	return false
}

// flagged lists the elements want picks (must-support, USCDI requirement) as MSElements.
func flagged(sd map[string]any, base map[string]any, want func(*elemDef) bool) ([]*MSElement, error) {
	snap, _ := sd["snapshot"].(map[string]any)
	els, _ := snap["element"].([]any)
	if len(els) == 0 {
		return nil, fmt.Errorf("StructureDefinition %v has no snapshot", sd["url"])
	}
	defs := map[string]*elemDef{}
	var order []*elemDef
	for _, e := range els {
		em, _ := e.(map[string]any)
		b, _ := json.Marshal(em)
		var d elemDef
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, err
		}
		d.ID, _ = em["id"].(string)
		d.Path, _ = em["path"].(string)
		d.SliceName, _ = em["sliceName"].(string)
		d.MustSupport, _ = em["mustSupport"].(bool)
		d.Max, _ = em["max"].(string)
		d.raw = em
		defs[d.ID] = &d
		order = append(order, &d)
	}
	diff := changedTops(sd, base)
	baseURL, _ := sd["baseDefinition"].(string)
	derived := base != nil
	alt := map[string][]string{}
	for _, d := range order {
		cs, _ := d.raw["constraint"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			expr, _ := cm["expression"].(string)
			if m := reOr.FindStringSubmatch(expr); m != nil {
				a, b := d.ID+"."+m[1], d.ID+"."+m[2]
				alt[a] = append(alt[a], b)
				alt[b] = append(alt[b], a)
			}
		}
	}
	pid, _ := sd["id"].(string)
	for _, group := range NarrativeChoices[pid] {
		for _, a := range group {
			for _, b := range group {
				if a != b {
					alt[a] = append(alt[a], b)
				}
			}
		}
	}
	var out []*MSElement
	for _, d := range order {
		if !want(d) || d.Max == "0" || strings.Count(d.ID, ".") == 0 {
			continue
		}
		if prohibited(defs, d.ID) {
			continue
		}
		m := &MSElement{ID: d.ID, Path: d.Path, Kind: "element", Alternatives: alt[d.ID]}
		topOptional := false
		if td := defs[topElement(d.ID)]; td != nil {
			min, _ := td.raw["min"].(json.Number)
			minF, _ := td.raw["min"].(float64)
			topOptional = (min == "" || min == "0") && minF == 0
		}
		switch {
		case strings.HasSuffix(d.ID, ".dataAbsentReason"):
			m.NotRequired = "dataAbsentReason stands in for a missing value; complete data never needs it"
		case derived && !diff[topElement(d.ID)] && topOptional:
			m.NotRequired = "optional element inherited from " + baseURL + " and not constrained by this profile"
		default:
			m.NotRequired = igConflict(fmt.Sprint(sd["url"]), d.ID)
		}
		last := d.ID[strings.LastIndex(d.ID, ".")+1:]
		if strings.Contains(last, ":") {
			m.Kind = "slice"
			if strings.HasPrefix(last, "extension:") || strings.HasPrefix(last, "modifierExtension:") {
				m.Kind = "extension"
			}
		}
		for _, t := range d.Types {
			if t.Code == "Reference" {
				m.IsRef = true
				m.Targets = append(m.Targets, t.TargetProfile...)
			}
		}
		segs, err := compileSegs(defs, d.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.ID, err)
		}
		m.segs = segs
		out = append(out, m)
	}
	return out, nil
}

// changedTops returns the top-level elements ("Type.element") whose subtree differs from the base
// profile's: new ids (slices), or a changed cardinality, type, fixed/pattern value, binding or
// slicing. Without a base every top-level element counts as changed.
func changedTops(sd, base map[string]any) map[string]bool {
	sig := func(x map[string]any) map[string]string {
		out := map[string]string{}
		snap, _ := x["snapshot"].(map[string]any)
		els, _ := snap["element"].([]any)
		for _, e := range els {
			em, _ := e.(map[string]any)
			id, _ := em["id"].(string)
			keep := map[string]any{}
			for k, v := range em {
				switch {
				case k == "min" || k == "max" || k == "type" || k == "binding" || k == "slicing" || k == "mustSupport",
					strings.HasPrefix(k, "fixed"), strings.HasPrefix(k, "pattern"):
					keep[k] = v
				}
			}
			b, _ := json.Marshal(keep)
			out[id] = string(b)
		}
		return out
	}
	mine := sig(sd)
	changed := map[string]bool{}
	if base == nil {
		for id := range mine {
			changed[topElement(id)] = true
		}
		return changed
	}
	theirs := sig(base)
	for id, v := range mine {
		if theirs[id] != v {
			changed[topElement(id)] = true
		}
	}
	return changed
}

// NarrativeChoices are must-support alternatives the US Core profile pages state in prose ("the
// server SHALL support at least one of these elements"), which the packages do not carry as data
// (narrative is stripped, and no invariant expresses them). Keyed by StructureDefinition id.
var NarrativeChoices = map[string][][]string{
	"us-core-encounter": {{"Encounter.reasonCode", "Encounter.reasonReference"}},
}

var reOr = regexp.MustCompile(`^\(?\s*(\w+)\.exists\(\)\s+or\s+(\w+)\.exists\(\)\s*\)?$`)

// topElement returns "Type.element" of an element id (slice names dropped).
func topElement(id string) string {
	parts := splitID(id)
	if len(parts) < 2 {
		return id
	}
	name, _, _ := strings.Cut(parts[1], ":")
	return parts[0] + "." + name
}

func prohibited(defs map[string]*elemDef, id string) bool {
	for i := len(id) - 1; i > 0; i-- {
		if id[i] == '.' {
			if d := defs[id[:i]]; d != nil && d.Max == "0" {
				return true
			}
		}
	}
	return false
}

// splitID splits an element id at dots that are not inside a slice name.
func splitID(id string) []string {
	var parts []string
	start := 0
	inSlice := false
	for i := 0; i < len(id); i++ {
		switch id[i] {
		case ':':
			inSlice = true
		case '.':
			// a slice name ends at the next dot followed by a lowercase element name
			if inSlice && i+1 < len(id) && !unicode.IsLower(rune(id[i+1])) {
				continue
			}
			inSlice = false
			parts = append(parts, id[start:i])
			start = i + 1
		}
	}
	return append(parts, id[start:])
}

func compileSegs(defs map[string]*elemDef, id string) ([]seg, error) {
	parts := splitID(id)
	var segs []seg
	prefix := parts[0]
	for _, p := range parts[1:] {
		name, slice, hasSlice := strings.Cut(p, ":")
		unsliced := prefix + "." + name
		prefix = prefix + "." + p
		s := seg{name: strings.TrimSuffix(name, "[x]"), choice: strings.HasSuffix(name, "[x]")}
		if hasSlice {
			s.sliceID = prefix
			s.match = sliceMatcher(defs, unsliced, prefix, slice, s)
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// sliceMatcher builds the filter that selects a slice's members: the extension URL for extension
// slices, the type for choice slices, and the fixed/pattern values of the discriminators.
func sliceMatcher(defs map[string]*elemDef, unslicedID, sliceID, sliceName string, s seg) func(string, any) bool {
	sd := defs[sliceID]
	if s.name == "extension" || s.name == "modifierExtension" {
		url := ""
		if sd != nil {
			for _, t := range sd.Types {
				if len(t.Profile) > 0 {
					url = t.Profile[0]
				}
			}
			if u := fixedOf(defs[sliceID+".url"]); u != nil {
				if us, ok := u.(string); ok {
					url = us
				}
			}
		}
		if url == "" {
			url = sliceName
		}
		url, _, _ = strings.Cut(url, "|")
		return func(_ string, v any) bool {
			m, _ := v.(map[string]any)
			u, _ := m["url"].(string)
			return u == url
		}
	}
	if s.choice { // value[x]:valueQuantity
		return func(key string, _ any) bool { return key == sliceName }
	}
	parent := defs[unslicedID]
	if parent == nil || parent.Slicing == nil {
		return nil
	}
	type want struct {
		path string
		val  any
		typ  string
	}
	var wants []want
	for _, d := range parent.Slicing.Discriminator {
		switch d.Type {
		case "value", "pattern":
			var v any
			if d.Path == "$this" {
				v = fixedOf(sd)
			} else {
				v = fixedOf(defs[sliceID+"."+d.Path])
				if v == nil { // pattern on an intermediate element, e.g. code.coding
					v = nested(defs, sliceID, d.Path)
				}
			}
			if v != nil {
				wants = append(wants, want{path: d.Path, val: v})
			}
		case "type":
			if sd != nil && len(sd.Types) > 0 {
				wants = append(wants, want{path: d.Path, typ: sd.Types[0].Code})
			}
		}
	}
	if len(wants) == 0 {
		return nil
	}
	return func(_ string, v any) bool {
		for _, w := range wants {
			got := walkPath(v, w.path)
			if w.typ != "" {
				continue // type discriminators need the model; count any member
			}
			ok := false
			for _, g := range got {
				if patternMatch(w.val, g) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
}

// nested builds the pattern of path "a.b" from a pattern on "a" (e.g. code with patternCodeableConcept
// when the discriminator is code.coding... or the reverse).
func nested(defs map[string]*elemDef, sliceID, path string) any {
	parts := strings.Split(path, ".")
	for i := len(parts) - 1; i > 0; i-- {
		if v := fixedOf(defs[sliceID+"."+strings.Join(parts[:i], ".")]); v != nil {
			got := walkPath(v, strings.Join(parts[i:], "."))
			if len(got) > 0 {
				return got[0]
			}
		}
	}
	return nil
}

func fixedOf(d *elemDef) any {
	if d == nil {
		return nil
	}
	for k, v := range d.raw {
		if strings.HasPrefix(k, "fixed") || strings.HasPrefix(k, "pattern") {
			return v
		}
	}
	return nil
}

// walkPath follows a dotted path of JSON names (arrays flattened; "$this" is the value itself).
func walkPath(v any, path string) []any {
	cur := []any{v}
	if path == "$this" || path == "" {
		return cur
	}
	for _, name := range strings.Split(path, ".") {
		name = strings.TrimSuffix(name, "[x]")
		var next []any
		for _, c := range cur {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			x, ok := m[name]
			if !ok {
				continue
			}
			if arr, ok := x.([]any); ok {
				next = append(next, arr...)
			} else {
				next = append(next, x)
			}
		}
		cur = next
	}
	return cur
}

// patternMatch reports whether value contains pattern (FHIR pattern[x] semantics: every property
// of the pattern is present with a matching value; arrays: each pattern item matches some item).
func patternMatch(pattern, value any) bool { return matchPattern(pattern, value, false) }

// matchPattern is patternMatch, and PatternMatch when skipDisplay (a display in the pattern is
// not required).
func matchPattern(pattern, value any, skipDisplay bool) bool {
	switch p := pattern.(type) {
	case map[string]any:
		v, ok := value.(map[string]any)
		if !ok {
			return false
		}
		for k, pv := range p {
			if skipDisplay && k == "display" {
				continue
			}
			if !matchPattern(pv, v[k], skipDisplay) {
				return false
			}
		}
		return true
	case []any:
		vs := items(value)
		for _, pi := range p {
			if !slices.ContainsFunc(vs, func(x any) bool { return matchPattern(pi, x, skipDisplay) }) {
				return false
			}
		}
		return true
	case json.Number:
		return value != nil && fmt.Sprint(value) == p.String()
	default:
		return value != nil && (reflect.DeepEqual(pattern, value) || fmt.Sprint(pattern) == fmt.Sprint(value))
	}
}

// Values returns the values of the element in a resource (slice members only), without
// data-absent-reason placeholders.
func (m *MSElement) Values(res map[string]any) []any {
	cur := []any{res}
	for _, s := range m.segs {
		var next []any
		for _, c := range cur {
			cm, ok := c.(map[string]any)
			if !ok {
				continue
			}
			add := func(key string, x any) {
				items := []any{x}
				if arr, ok := x.([]any); ok {
					items = arr
				}
				for _, it := range items {
					if s.match == nil || s.match(key, it) {
						next = append(next, it)
					}
				}
			}
			if s.choice {
				for k, x := range cm {
					if len(k) > len(s.name) && strings.HasPrefix(k, s.name) && unicode.IsUpper(rune(k[len(s.name)])) {
						add(k, x)
					}
				}
			} else {
				if x, ok := cm[s.name]; ok {
					add(s.name, x)
				}
				// A primitive's id and extensions live in its "_name" sibling (FHIR JSON), so
				// must-support paths such as questionnaire.extension:url continue there.
				if x, ok := cm["_"+s.name]; ok {
					add(s.name, x)
				}
			}
		}
		cur = next
	}
	var out []any
	dar := len(m.segs) > 0 && m.segs[len(m.segs)-1].name == "dataAbsentReason"
	for _, v := range cur {
		if dar || !absent(v) {
			out = append(out, v)
		}
	}
	return out
}

// Present reports whether the resource populates the element with real data.
func (m *MSElement) Present(res map[string]any) bool { return len(m.Values(res)) > 0 }

// absent reports whether v is only a data-absent-reason (extension or code) or empty.
func absent(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		if len(x) == 0 {
			return true
		}
		if exts, ok := x["extension"].([]any); ok {
			onlyDAR := true
			for k := range x {
				if k != "extension" && k != "id" {
					onlyDAR = false
				}
			}
			if onlyDAR {
				for _, e := range exts {
					em, _ := e.(map[string]any)
					if u, _ := em["url"].(string); u == DataAbsentReasonExt {
						return true
					}
				}
			}
		}
		if cs, ok := x["coding"].([]any); ok && len(cs) > 0 {
			all := true
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				if s, _ := cm["system"].(string); s != DataAbsentReasonCS {
					all = false
				}
			}
			return all
		}
		if s, _ := x["system"].(string); s == DataAbsentReasonCS {
			return true
		}
	}
	return false
}

// igConflicts are must-support elements that no data can populate without breaking another rule
// of the same IG, reviewed one by one. They are listed, never required, and the spec says why.
var igConflicts = []struct{ profile, element, reason string }{
	{"/us-core-pulse-oximetry", "Observation.component:FlowRate",
		"IG conflict: the FlowRate component fixes its unit to L/min, but the component value is bound " +
			"(required) to ucum-vitals-common, which has no L/min (US Core 3.1.1 itself; in 6.1.0 through " +
			"the R4 vitalsigns profile it derives from), so any FlowRate value fails validation"},
}

func igConflict(profileURL, elementID string) string {
	for _, c := range igConflicts {
		if strings.HasSuffix(profileURL, c.profile) && (elementID == c.element || strings.HasPrefix(elementID, c.element+".")) {
			return c.reason
		}
	}
	return ""
}
