package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// A mutant is a broken copy of an example with the rule code that must flag it.
type mutant struct {
	kind   string
	rule   string
	base   bool // base R4 already forbids it
	doc    any
	detail string
}

type jpath []any // string keys and int indexes

func decodeT(t testing.TB, raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, y := range x {
			m[k] = deepCopy(y)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, y := range x {
			a[i] = deepCopy(y)
		}
		return a
	}
	return v
}

// at returns the container and key/index of the last step of p.
func set(doc any, p jpath, f func(parent any, last any)) {
	cur := doc
	for _, s := range p[:len(p)-1] {
		switch k := s.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	f(cur, p[len(p)-1])
}

// visit walks an instance along a compiled profile, calling f for each (path, element, value).
func visit(w *walker, obj map[string]any, def *Elem, p jpath, depth int, f func(p jpath, e *Elem, v any, typ string)) {
	if def == nil || depth > 12 {
		return
	}
	for _, c := range def.Children {
		keys := []string{c.Name}
		if c.Choice {
			keys = nil
			for k := range obj {
				if ch, t, ok := def.choiceChild(k); ok && ch == c && t != "" {
					keys = append(keys, k)
				}
			}
		}
		for _, k := range keys {
			val, ok := obj[k]
			if !ok {
				continue
			}
			typ := ""
			if c.Choice {
				_, typ, _ = def.choiceChild(k)
			} else if len(c.Types) > 0 {
				typ = c.Types[0].Code
			}
			items := []any{val}
			arr := false
			if a, ok := val.([]any); ok {
				items, arr = a, true
			}
			for i, it := range items {
				q := append(append(jpath{}, p...), k)
				if arr {
					q = append(q, i)
				}
				e := c
				if c.Slicing != nil && len(c.Slices) > 0 {
					if si := w.matchSlice(c, it, typ); si >= 0 {
						e = c.Slices[si]
					}
				}
				f(q, e, it, typ)
				if m, ok := it.(map[string]any); ok && !primitiveTypes[typ] {
					if _, isRes := m["resourceType"]; isRes {
						continue
					}
					visit(w, m, w.defOf(e, typ), q, depth+1, f)
				}
			}
		}
	}
}

var dateKeys = map[string]bool{"birthDate": true, "effectiveDateTime": true, "issued": true, "date": true, "authoredOn": true,
	"recordedDate": true, "onsetDateTime": true, "start": true, "end": true, "lastUpdated": true, "occurrenceDateTime": true,
	"created": true, "deceasedDateTime": true, "performedDateTime": true, "abatementDateTime": true, "effectiveInstant": true,
	"billablePeriod": false, "timestamp": true, "recorded": true, "whenHandedOver": true, "dateAsserted": true}

var dateRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?`)

func makeMutants(t testing.TB, v *Validator, ig string, raw []byte) []mutant {
	doc := decodeT(t, raw)
	root, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	rt, _ := root["resourceType"].(string)
	sc, err := v.scope(ig)
	if err != nil {
		return nil
	}
	var prof *Profile
	for _, c := range metaProfiles(root) {
		if p, err := sc.profile(c); err == nil && p.Type == rt {
			prof = p
			break
		}
	}
	base := sc.baseType(rt)
	if base == nil {
		return nil
	}
	if prof == nil {
		prof = base
	}
	w := getWalker(v, sc, context.Background())
	defer putWalker(w)
	w.frames = append(w.frames, frame{res: root, bundle: rt == "Bundle"})
	w.rootRes = root

	var out []mutant
	add := func(kind, rule string, baseForbids bool, p jpath, detail string, f func(parent any, last any)) {
		d := deepCopy(doc)
		if p == nil {
			f(d, nil)
		} else {
			set(d, p, f)
		}
		out = append(out, mutant{kind: kind, rule: rule, base: baseForbids, doc: d, detail: detail})
	}
	type found struct {
		p   jpath
		e   *Elem
		v   any
		typ string
	}
	var all []found
	visit(w, root, prof.Root, nil, 0, func(p jpath, e *Elem, val any, typ string) {
		if p[0] == "meta" {
			return // meta.profile is the claim under test
		}
		all = append(all, found{p, e, val, typ})
	})
	// start the search for each kind at a different element per example, so the mutants spread
	// over many elements rather than the first one of each profile
	if len(all) > 1 {
		k := int(crc32.ChecksumIEEE(raw) % uint32(len(all)))
		all = append(all[k:], all[:k]...)
	}
	baseMin := func(e *Elem) bool {
		b := base.byID[strings.Replace(e.Path, e.profile.Type, rt, 1)]
		return b != nil && b.Min >= 1
	}
	// 1. drop a required element (min >= 1, not a slice member)
	for _, f := range all {
		if f.e.Min >= 1 && f.e.SliceName == "" && !strings.Contains(f.e.ID, ":") && len(f.p) >= 1 {
			if _, isIdx := f.p[len(f.p)-1].(int); isIdx {
				// the whole array
				q := f.p[:len(f.p)-1]
				add("drop-required", "cardinality", baseMin(f.e), q, f.e.ID, func(parent, last any) {
					delete(parent.(map[string]any), last.(string))
				})
			} else {
				add("drop-required", "cardinality", baseMin(f.e), f.p, f.e.ID, func(parent, last any) {
					delete(parent.(map[string]any), last.(string))
				})
			}
			break
		}
	}
	// 2. wrong primitive type
	for _, f := range all {
		if _, isStr := f.v.(string); isStr && primitiveTypes[f.typ] && f.typ != "xhtml" {
			add("wrong-type", "type", true, f.p, f.e.ID, func(parent, last any) {
				switch k := last.(type) {
				case string:
					parent.(map[string]any)[k] = json.Number("12345")
				case int:
					parent.([]any)[k] = json.Number("12345")
				}
			})
			break
		}
	}
	// 3. bad date
	for _, f := range all {
		s, isStr := f.v.(string)
		if isStr && (f.typ == "date" || f.typ == "dateTime" || f.typ == "instant") && dateRE.MatchString(s) {
			add("bad-date", ruleFormat, true, f.p, f.e.ID, func(parent, last any) {
				switch k := last.(type) {
				case string:
					parent.(map[string]any)[k] = "2021-13-45"
				case int:
					parent.([]any)[k] = "2021-13-45"
				}
			})
			break
		}
	}
	// 4. code outside a required binding whose value set expands locally
	for _, f := range all {
		b := f.e.Binding
		if b == nil || b.Strength != "required" || strings.Contains(f.e.ID, ":") {
			continue
		}
		exp := sc.expand(b.ValueSet)
		if len(exp.open) > 0 || exp.unknown != "" || len(exp.codes) == 0 {
			continue
		}
		bb := base.byID[strings.Replace(f.e.Path, f.e.profile.Type, rt, 1)]
		baseForbids := bb != nil && bb.Binding != nil && bb.Binding.Strength == "required"
		switch f.typ {
		case "code":
			if _, ok := f.v.(string); !ok {
				continue
			}
			add("bad-code", "binding", baseForbids, f.p, f.e.ID, func(parent, last any) {
				switch k := last.(type) {
				case string:
					parent.(map[string]any)[k] = "not-a-real-code"
				case int:
					parent.([]any)[k] = "not-a-real-code"
				}
			})
		case "Coding", "CodeableConcept":
			m, ok := f.v.(map[string]any)
			if !ok {
				continue
			}
			if f.typ == "CodeableConcept" {
				cs, _ := m["coding"].([]any)
				if len(cs) == 0 {
					continue
				}
			} else if _, ok := m["code"]; !ok {
				continue
			}
			add("bad-code", "binding", baseForbids, f.p, f.e.ID, func(parent, last any) {
				var node map[string]any
				switch k := last.(type) {
				case string:
					node = parent.(map[string]any)[k].(map[string]any)
				case int:
					node = parent.([]any)[k].(map[string]any)
				}
				if cs, ok := node["coding"].([]any); ok {
					for _, c := range cs {
						if cm, ok := c.(map[string]any); ok {
							cm["code"] = "not-a-real-code"
						}
					}
				} else {
					node["code"] = "not-a-real-code"
				}
			})
		default:
			continue
		}
		break
	}
	// 5. unknown property
	add("unknown-element", ruleUnknown, true, nil, "root", func(d, _ any) {
		d.(map[string]any)["pacheckUnknownProperty"] = "x"
	})
	// 6. break a required slice: remove the values that match it
	for _, f := range all {
		e := f.e
		if e.SliceName == "" || e.Min < 1 || len(f.p) < 2 {
			continue
		}
		idx, isIdx := f.p[len(f.p)-1].(int)
		if !isIdx {
			continue
		}
		// find the sibling values matching this slice
		arrPath := f.p[:len(f.p)-1]
		var arr []any
		set(root, arrPath, func(parent, last any) { arr, _ = parent.(map[string]any)[last.(string)].([]any) })
		_ = idx
		var baseEl *Elem
		// the sliced element: same id without the last ":slice"
		id := e.ID
		if i := strings.LastIndexByte(id, ':'); i >= 0 {
			baseEl = e.profile.byID[id[:i]]
		}
		if baseEl == nil || baseEl.Slicing == nil {
			continue
		}
		var keep []any
		for _, it := range arr {
			if baseEl.Slices[max(0, w.matchSlice(baseEl, it, ""))] != e || w.matchSlice(baseEl, it, "") < 0 {
				keep = append(keep, it)
			}
		}
		add("broken-slice", "cardinality", false, arrPath, e.ID, func(parent, last any) {
			if len(keep) == 0 {
				delete(parent.(map[string]any), last.(string))
			} else {
				parent.(map[string]any)[last.(string)] = deepCopy(keep)
			}
		})
		break
	}
	// 7. violated invariant: an extension with both a value and extensions (ext-1)
	if base.Root.child("extension") != nil && rt != "Bundle" {
		add("invariant", "invariant:ext-1", true, nil, "ext-1", func(d, _ any) {
			m := d.(map[string]any)
			exts, _ := m["extension"].([]any)
			m["extension"] = append(exts, map[string]any{"url": "http://example.org/pacheck-test", "valueString": "a",
				"extension": []any{map[string]any{"url": "x", "valueString": "b"}}})
		})
	}
	// 8. violated invariant evaluated by the FHIRPath engine: a contained resource nothing
	// references (dom-3)
	if base.Root.child("contained") != nil {
		add("invariant-fhirpath", "invariant:dom-3", true, nil, "dom-3", func(d, _ any) {
			m := d.(map[string]any)
			cs, _ := m["contained"].([]any)
			m["contained"] = append(cs, map[string]any{"resourceType": "Basic", "id": "pacheck-unreferenced", "code": map[string]any{"text": "x"}})
		})
	}
	// 9. Observation: a value and a dataAbsentReason together (obs-6, FHIRPath)
	if rt == "Observation" && hasChoice(root, "value") {
		if _, has := root["dataAbsentReason"]; !has {
			add("invariant-fhirpath", "invariant:obs-6", true, nil, "obs-6", func(d, _ any) {
				d.(map[string]any)["dataAbsentReason"] = map[string]any{"text": "unknown"}
			})
		}
	}
	return out
}

func TestMutations(t *testing.T) {
	v, pkgs := corpus(t)
	type stat struct{ n, flagged, baseN, baseFlagged int }
	stats := map[string]*stat{}
	var misses []string
	for _, p := range pkgs {
		for _, ex := range p.Examples() {
			for _, m := range makeMutants(t, v, p.Ref(), ex.Raw) {
				raw, err := json.Marshal(m.doc)
				if err != nil {
					t.Fatal(err)
				}
				res := v.Validate(context.Background(), raw, ValidateOptions{IG: p.Ref()})
				hit := false
				for _, is := range res.Issues.Errors() {
					if is.Rule == m.rule || (m.kind == "broken-slice" && (is.Rule == "slicing" || is.Rule == "cardinality")) {
						hit = true
						break
					}
				}
				s := stats[m.kind]
				if s == nil {
					s = &stat{}
					stats[m.kind] = s
				}
				s.n++
				if m.base {
					s.baseN++
				}
				if hit {
					s.flagged++
					if m.base {
						s.baseFlagged++
					}
				} else {
					misses = append(misses, fmt.Sprintf("%s %s %s (%s): not flagged with %s; got %v", m.kind, p.Ref(), ex.Name, m.detail, m.rule, res.Issues.Errors()))
				}
			}
		}
	}
	kinds := make([]string, 0, len(stats))
	for k := range stats {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var n, f, bn, bf int
	for _, k := range kinds {
		s := stats[k]
		t.Logf("mutation %-17s %5d mutants, %5d flagged (%.1f%%); base-R4-forbidden %d, flagged %d", k, s.n, s.flagged, 100*float64(s.flagged)/float64(s.n), s.baseN, s.baseFlagged)
		n, f, bn, bf = n+s.n, f+s.flagged, bn+s.baseN, bf+s.baseFlagged
	}
	t.Logf("mutation total %d, flagged %d (%.2f%%); base-R4-forbidden %d, flagged %d", n, f, 100*float64(f)/float64(max(n, 1)), bn, bf)
	sort.Strings(misses)
	for i, m := range misses {
		if i >= 60 {
			t.Logf("... %d more misses", len(misses)-i)
			break
		}
		t.Log("miss: " + m)
	}
	if n < 1000 {
		t.Errorf("only %d mutants", n)
	}
	if float64(f) < 0.99*float64(n) {
		t.Errorf("flagged %d of %d mutants (%.2f%%), want at least 99%%", f, n, 100*float64(f)/float64(n))
	}
	if bf != bn {
		t.Errorf("flagged %d of %d mutants that base R4 forbids, want all", bf, bn)
	}
}
