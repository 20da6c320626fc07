package validate

// Native implementations of the R4 invariants that occur on almost every element, keyed by their
// exact FHIRPath text (so a profile's own invariant with the same key but other text still goes
// to the FHIRPath engine). They give the same answers as the expressions, checked by
// TestNativeInvariantsAgree.

type nativeFn func(w *walker, node map[string]any) bool

var nativeInvariants = map[string]nativeFn{
	// ext-1
	"extension.exists() != value.exists()": func(_ *walker, m map[string]any) bool {
		exts, _ := m["extension"].([]any)
		return (len(exts) > 0) != hasChoice(m, "value")
	},
	// ref-1
	"reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))": func(w *walker, m map[string]any) bool {
		ref, _ := m["reference"].(string)
		if len(ref) <= 1 || ref[0] != '#' {
			// "#" (a contained resource's reference to its container): substring(1) is empty,
			// so the expression is empty, which is no failure
			return true
		}
		root := w.rootResource()
		cs, _ := root["contained"].([]any)
		for _, c := range cs {
			if cm, ok := c.(map[string]any); ok && cm["id"] == ref[1:] {
				return true
			}
		}
		return false
	},
	// qty-3
	"code.empty() or system.exists()": func(_ *walker, m map[string]any) bool {
		return !hasElem(m, "code") || hasElem(m, "system")
	},
	// dom-2
	"contained.contained.empty()": func(_ *walker, m map[string]any) bool {
		cs, _ := m["contained"].([]any)
		for _, c := range cs {
			if cm, ok := c.(map[string]any); ok {
				if x, ok := cm["contained"].([]any); ok && len(x) > 0 {
					return false
				}
			}
		}
		return true
	},
	// dom-4
	"contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()": func(_ *walker, m map[string]any) bool {
		cs, _ := m["contained"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			meta, _ := cm["meta"].(map[string]any)
			if meta["versionId"] != nil || meta["lastUpdated"] != nil {
				return false
			}
		}
		return true
	},
	// dom-5
	"contained.meta.security.empty()": func(_ *walker, m map[string]any) bool {
		cs, _ := m["contained"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			meta, _ := cm["meta"].(map[string]any)
			if s, ok := meta["security"].([]any); ok && len(s) > 0 {
				return false
			}
		}
		return true
	},
	// obs-6
	"dataAbsentReason.empty() or value.empty()": func(_ *walker, m map[string]any) bool {
		_, dar := m["dataAbsentReason"]
		return !dar || !hasChoice(m, "value")
	},
	// us-core-2, vs-2
	"(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or value.exists())": func(_ *walker, m map[string]any) bool {
		_, comp := m["component"]
		_, hm := m["hasMember"]
		_, dar := m["dataAbsentReason"]
		return comp || hm || dar || hasChoice(m, "value")
	},
	// us-core-3
	"value.ofType(Quantity).system.empty() or value.ofType(Quantity).system = 'http://unitsofmeasure.org'": func(_ *walker, m map[string]any) bool {
		q, _ := m["valueQuantity"].(map[string]any)
		sys, ok := q["system"]
		return !ok || sys == "http://unitsofmeasure.org"
	},
	// sqty-1
	"comparator.empty()": func(_ *walker, m map[string]any) bool {
		return !hasElem(m, "comparator")
	},
	// obs-3
	"low.exists() or high.exists() or text.exists()": func(_ *walker, m map[string]any) bool {
		_, l := m["low"]
		_, h := m["high"]
		_, t := m["text"]
		return l || h || t
	},
	// obs-7
	"value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()": func(w *walker, m map[string]any) bool {
		if !hasChoice(m, "value") {
			return true
		}
		var res map[string]any
		if f := len(w.frames); f > 0 {
			res = w.frames[f-1].res
		}
		rc, _ := res["code"].(map[string]any)
		rcs, _ := rc["coding"].([]any)
		comps, _ := m["component"].([]any)
		for _, c := range comps {
			cm, _ := c.(map[string]any)
			cc, _ := cm["code"].(map[string]any)
			ccs, _ := cc["coding"].([]any)
			for _, x := range ccs {
				for _, y := range rcs {
					if jsonEqual(x, y) {
						return false
					}
				}
			}
		}
		return true
	},
	// cpt-2
	"value.empty() or system.exists()": func(_ *walker, m map[string]any) bool {
		return !hasElem(m, "value") || hasElem(m, "system")
	},
	// att-1
	"data.empty() or contentType.exists()": func(_ *walker, m map[string]any) bool {
		return !hasElem(m, "data") || hasElem(m, "contentType")
	},
	// rat-1
	"(numerator.empty() xor denominator.exists()) and (numerator.exists() or extension.exists())": func(_ *walker, m map[string]any) bool {
		num, den, ext := hasElem(m, "numerator"), hasElem(m, "denominator"), hasElem(m, "extension")
		return (!num != den) && (num || ext)
	},
	// dom-6
	"text.`div`.exists()": func(_ *walker, m map[string]any) bool {
		t, _ := m["text"].(map[string]any)
		_, ok := t["div"]
		return ok
	},
}

// nativePrechecks answer "holds" cheaply in the common case; otherwise FHIRPath decides.
var nativePrechecks = map[string]nativeFn{
	// per-1
	"start.hasValue().not() or end.hasValue().not() or (start <= end)": func(_ *walker, m map[string]any) bool {
		return perHolds(m)
	},
	// rng-2: with low or high absent it holds; comparing two quantities needs FHIRPath (units)
	"low.empty() or high.empty() or (low <= high)": func(_ *walker, m map[string]any) bool {
		return !hasElem(m, "low") || !hasElem(m, "high")
	},
	// dom-3: only resources with contained resources need the expensive descendants() scan
	"contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()": func(_ *walker, m map[string]any) bool {
		cs, _ := m["contained"].([]any)
		if len(cs) == 0 {
			return true
		}
		// every contained resource referenced as "#id" from the resource: dom-3 holds
		ids := make(map[string]bool, len(cs))
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			id, _ := cm["id"].(string)
			if id == "" {
				return false
			}
			ids["#"+id] = false
		}
		markRefs(m, ids, 0)
		for _, seen := range ids {
			if !seen {
				return false
			}
		}
		return true
	},
}

// hasElem reports whether element name is present as FHIRPath's name.exists() sees it: by its
// value, its "_name" extensions, or as a choice (valueString for value, as choiceAliases names
// it), since a native keyed by expression text may meet any element that uses the name.
func hasElem(m map[string]any, name string) bool {
	if _, ok := m[name]; ok {
		return true
	}
	if _, ok := m["_"+name]; ok {
		return true
	}
	for k := range m {
		if k != "" && k[0] == '_' {
			k = k[1:]
		}
		if len(k) > len(name) && k[:len(name)] == name && choiceTypeSuffix[k[len(name):]] {
			return true
		}
	}
	return false
}

// perHolds is per-1's cheap case: it holds when start or end has no value, or when both are
// dates of the same precision without a time (so without a zone) in order, which compare as
// strings. Anything else (times, zones, mixed precision, a start after the end) is left to
// FHIRPath's date-time comparison.
func perHolds(m map[string]any) bool {
	start, ok1 := m["start"].(string)
	end, ok2 := m["end"].(string)
	if !ok1 || !ok2 {
		return true
	}
	if len(start) != len(end) || len(start) > 10 {
		return false
	}
	return start <= end
}

// markRefs marks the "#id" references found anywhere in v.
func markRefs(v any, ids map[string]bool, depth int) {
	if depth > 64 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			if s, ok := y.(string); ok {
				if k == "reference" {
					if _, want := ids[s]; want {
						ids[s] = true
					}
				}
				continue
			}
			markRefs(y, ids, depth+1)
		}
	case []any:
		for _, y := range x {
			markRefs(y, ids, depth+1)
		}
	}
}

// hasChoice reports whether m has a concrete choice property name+Type.
func hasChoice(m map[string]any, name string) bool {
	for k := range m {
		if len(k) > len(name) && k[:len(name)] == name && k[len(name)] >= 'A' && k[len(name)] <= 'Z' {
			return true
		}
	}
	return false
}

// rootResource is %rootResource: the nearest resource that is not contained.
func (w *walker) rootResource() map[string]any {
	for i := len(w.frames) - 1; i >= 0; i-- {
		if !w.frames[i].contained {
			return w.frames[i].res
		}
	}
	return w.rootRes
}
