package validate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// sliced assigns each value of a sliced element to a slice, checks slicing rules and per-slice
// cardinality, and validates each value against its slice (or the base element).
func (w *walker) sliced(c *Elem, items, unds []any, arr bool, typ string) {
	w.sliceGroup(c, items, unds, nil, arr, typ)
}

// sliceGroup slices the values of c (all of them when sel is nil, else those at the indices in sel)
// among the slices of c. A slice that is itself sliced (a re-slice, "a/b" in element ids) gets its
// values sliced again the same way, to any depth: its slicing rules and its re-slices'
// cardinality apply among the values of that slice.
func (w *walker) sliceGroup(c *Elem, items, unds []any, sel []int, arr bool, typ string) {
	count := max(len(items), len(unds))
	if sel != nil {
		count = len(sel)
	}
	sl := c.Slicing
	nc := len(w.counts)
	ns := len(c.Slices)
	for range 2 * ns {
		w.counts = append(w.counts, 0)
	}
	nd := len(w.deferred)
	last := -1
	unmatched := false
	for k := 0; k < count; k++ {
		i := k
		if sel != nil {
			i = sel[k]
		}
		var it, u any
		if i < len(items) {
			it = items[i]
		}
		if i < len(unds) {
			u = unds[i]
		}
		m := len(w.path)
		if arr {
			w.path.PushIndex(i)
		}
		si, unc := -1, -1
		if it != nil {
			si, unc = w.matchSliceU(c, it, typ)
		}
		if si < 0 && unc >= 0 {
			// membership could not be decided without a terminology server
			w.counts[nc+ns+unc]++
			w.item(c, it, u, typ)
		} else if si < 0 {
			switch {
			case sl.Rules == "closed":
				w.add(issue.Error, "slicing", c, "", fmt.Sprintf("value matches none of the slices of %s, and the slicing is closed", c.ID))
			}
			unmatched = true
			w.item(c, it, u, typ)
		} else {
			if sl.Rules == "openAtEnd" && unmatched {
				w.add(issue.Error, "slicing", c, "", fmt.Sprintf("slice %s follows an unsliced value, but %s is openAtEnd", c.Slices[si].SliceName, c.ID))
			}
			if sl.Ordered && si < last {
				w.add(issue.Error, "slicing", c, "", fmt.Sprintf("slice %s is out of order (slicing of %s is ordered)", c.Slices[si].SliceName, c.ID))
			}
			last = si
			w.counts[nc+si]++
			w.markMS(c, it, u)
			if s := c.Slices[si]; s.Slicing != nil && len(s.Slices) > 0 {
				// re-sliced: its values are sliced among its re-slices below
				w.deferred = append(w.deferred, si, i)
			} else {
				w.item(s, it, u, typ)
			}
		}
		w.path.Pop(m)
	}
	if len(w.deferred) > nd {
		for si, s := range c.Slices {
			var sub []int
			for j := nd; j < len(w.deferred); j += 2 {
				if w.deferred[j] == si {
					sub = append(sub, w.deferred[j+1])
				}
			}
			if len(sub) > 0 {
				w.sliceGroup(s, items, unds, sub, arr, typ)
			}
		}
		w.deferred = w.deferred[:nd]
	}
	for si, s := range c.Slices {
		n := w.counts[nc+si]
		if n < s.Min && n+w.counts[nc+ns+si] >= s.Min {
			w.add(issue.Information, "slicing", s, "", fmt.Sprintf("slice %s (%s) not checked: no terminology server to decide which values belong to it", s.SliceName, s.ID))
		} else if n < s.Min {
			w.addWant(issue.Error, "cardinality", s, "", fmt.Sprintf("slice %s (%s) requires at least %d, found %d", s.SliceName, s.ID, s.Min, n), cardText(s.Min, s.Max), strconv.Itoa(n))
		}
		if s.Max >= 0 && n > s.Max {
			w.addWant(issue.Error, "cardinality", s, "", fmt.Sprintf("slice %s (%s) allows at most %d, found %d", s.SliceName, s.ID, s.Max, n), cardText(s.Min, s.Max), strconv.Itoa(n))
		}
	}
	w.counts = w.counts[:nc]
}

// matchSlice returns the index of the first slice of c that value it matches, or -1.
func (w *walker) matchSlice(c *Elem, it any, typ string) int {
	si, _ := w.matchSliceU(c, it, typ)
	return si
}

// matchSliceU is matchSlice that also returns the first slice whose match could not be decided
// (terminology), or -1.
func (w *walker) matchSliceU(c *Elem, it any, typ string) (int, int) {
	ds := c.Slicing.Discriminators
	if len(ds) == 0 {
		return -1, -1
	}
	// fast path: extensions sliced by url
	if len(ds) == 1 && ds[0].Path == "url" && ds[0].Type == "value" {
		m, _ := it.(map[string]any)
		u, _ := m["url"].(string)
		for si, s := range c.Slices {
			if s.discs[0].known && s.discs[0].fixed == u {
				return si, -1
			}
		}
		return -1, -1
	}
	var buf [8]any
	unc := -1
	for si, s := range c.Slices {
		ok := true
		w.discUnknown = false
		for di := range ds {
			if !w.discMatch(&ds[di], &s.discs[di], it, typ, buf[:0]) {
				ok = false
				break
			}
		}
		if ok {
			return si, -1
		}
		if w.discUnknown && unc < 0 {
			unc = si
		}
	}
	return -1, unc
}

func (w *walker) discMatch(d *Discriminator, x *sliceDisc, it any, typ string, buf []any) bool {
	if !x.known {
		return false
	}
	nodes := w.nav(it, d.segs, buf)
	switch d.Type {
	case "value", "pattern":
		for _, n := range nodes {
			switch {
			case x.fixed != nil:
				if d.Type == "pattern" {
					if patternMatch(n, x.fixed) {
						return true
					}
				} else if jsonEqual(n, x.fixed) || (isObj(n) && patternMatch(n, x.fixed)) {
					return true
				}
			case x.pattern != nil:
				if patternMatch(n, x.pattern) {
					return true
				}
			case x.vs != "":
				switch w.inValueSet(x.vs, n) {
				case memberYes:
					return true
				case memberUnknown:
					w.discUnknown = true
				}
			}
		}
		return false
	case "exists":
		return (len(nodes) > 0) == x.exists
	case "type":
		if len(d.segs) == 0 || (len(d.segs) == 1 && d.segs[0].kind == segThis) {
			if typ != "" {
				return containsStr(x.types, typ)
			}
		}
		for _, n := range nodes {
			if m, ok := n.(map[string]any); ok {
				if rt, _ := m["resourceType"].(string); rt != "" {
					for _, t := range x.types {
						if t == rt || w.profileType(t) == rt {
							return true
						}
					}
				}
			}
		}
		return false
	case "profile":
		for _, n := range nodes {
			for _, pr := range x.profiles {
				if w.conforms(n, pr) {
					return true
				}
			}
		}
		return false
	}
	return false
}

func isObj(v any) bool { _, ok := v.(map[string]any); return ok }

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func (w *walker) profileType(canonical string) string {
	if !strings.Contains(canonical, "/") {
		return canonical
	}
	if p, err := w.tsc.profile(canonical); err == nil {
		return p.Type
	}
	return ""
}

// nav evaluates a discriminator path on a value.
func (w *walker) nav(v any, segs []pathSeg, out []any) []any {
	if a, ok := v.([]any); ok {
		for _, x := range a {
			out = w.nav(x, segs, out)
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
	case segResolve:
		m, _ := v.(map[string]any)
		ref, _ := m["reference"].(string)
		if r := w.resolveRef(ref); r != nil {
			return w.nav(r, segs[1:], out)
		}
		return out
	case segOfType:
		if m, ok := v.(map[string]any); ok {
			if rt, _ := m["resourceType"].(string); rt == s.name {
				return w.nav(v, segs[1:], out)
			}
		}
		return out
	case segThis:
		return w.nav(v, segs[1:], out)
	}
	// name / extension: one step by valuesAt, then continue
	var tmp [4]any
	step := valuesAt(v, segs[:1], tmp[:0])
	for _, x := range step {
		out = w.nav(x, segs[1:], out)
	}
	return out
}

// conforms reports whether value v conforms to profile canonical (no errors), quietly. The
// canonical comes from the profile being walked (a type, target or slice profile, conformsTo()),
// so it resolves in that profile's scope.
func (w *walker) conforms(v any, canonical string) bool {
	p, err := w.tsc.profile(canonical)
	if err != nil {
		return false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if w.depth > maxDepth {
		return false
	}
	w.quiet++
	before := w.errCount
	if p.Kind == "resource" {
		if rt, _ := m["resourceType"].(string); rt != p.Type {
			w.quiet--
			return false
		}
		w.resourceBody(m, p)
	} else {
		w.leave(w.enterConstraints(p.Root, m))
		w.complexNode(m, p.Root, p.Root)
	}
	ok = w.errCount == before
	w.errCount = before
	w.quiet--
	return ok
}

// nestedResource validates a contained resource or a Bundle entry's resource.
func (w *walker) nestedResource(c *Elem, obj map[string]any, typ string) {
	rt, _ := obj["resourceType"].(string)
	if rt == "" {
		w.add(issue.Error, ruleNotRes, c, "", "a nested resource has no resourceType")
		return
	}
	base := w.sc.baseType(rt)
	if base == nil || base.Kind != "resource" {
		w.add(issue.Error, "type", c, "", fmt.Sprintf("%q is not a FHIR R4 resource type", rt))
		return
	}
	if typ != "Resource" && typ != "DomainResource" && typ != rt {
		w.addWant(issue.Error, "type", c, "", fmt.Sprintf("expected a %s resource here (%s), found %s", typ, c.ID, rt), typ, rt)
	}
	isContained := c.Name == "contained"
	// type profiles are alternatives: the first the resource conforms to (else the first)
	var profs []*Profile
	var alts []*Profile
	for _, t := range c.Types {
		for _, pr := range t.Profiles {
			if p, err := w.tsc.profile(pr); err == nil && p.Type == rt {
				alts = append(alts, p)
			}
		}
	}
	if len(alts) == 1 {
		profs = alts
	} else if len(alts) > 1 {
		pick := alts[0]
		for _, p := range alts {
			if w.conforms(obj, p.Canonical) {
				pick = p
				break
			}
		}
		profs = append(profs, pick)
	}
	if !isContained {
		for _, mp := range metaProfiles(obj) {
			p, err := w.sc.profile(mp)
			if err != nil {
				if pkg, ok := w.sc.declaredMissing(mp); ok {
					w.add(issue.Warning, "profile-unknown", nil, ".meta.profile", fmt.Sprintf("%s belongs to package %s, a declared dependency that is not loaded; not validated against it", mp, pkg))
				} else {
					w.add(issue.Warning, "profile-unknown", nil, ".meta.profile", fmt.Sprintf("cannot resolve profile %s in the loaded packages; the entry was validated against its base type and the profiles that resolve", mp))
				}
				continue
			}
			if p.Type == rt && !containsProfile(profs, p) {
				profs = append(profs, p)
			}
		}
	}
	if len(profs) == 0 {
		profs = append(profs, base)
	}
	n := len(w.path)
	w.path = append(w.path, ".ofType("...)
	w.path = append(w.path, rt...)
	w.path = append(w.path, ')')
	saveFirst := w.first
	saveMS := w.msProfile
	w.msProfile = nil
	for i, p := range profs {
		w.first = saveFirst && i == 0
		w.resourceBodyNested(obj, p, isContained)
	}
	w.first = saveFirst
	w.msProfile = saveMS
	w.path.Pop(n)
}

func containsProfile(ps []*Profile, p *Profile) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func (w *walker) resourceBodyNested(obj map[string]any, p *Profile, contained bool) {
	w.frames = append(w.frames, frame{res: obj, contained: contained, bundle: p.Type == "Bundle"})
	if p.Type == "Bundle" {
		w.checkBundle(obj)
	}
	w.leave(w.enterConstraints(p.Root, obj))
	w.complexNode(obj, p.Root, p.Root)
	w.frames = w.frames[:len(w.frames)-1]
}

// resolveRef finds a referenced resource inside the current resource (contained) or Bundle.
func (w *walker) resolveRef(ref string) map[string]any {
	if ref == "" {
		return nil
	}
	if ref[0] == '#' {
		id := ref[1:]
		for i := len(w.frames) - 1; i >= 0; i-- {
			f := &w.frames[i]
			if f.contained || f.res == nil {
				continue
			}
			cs, _ := f.res["contained"].([]any)
			for _, x := range cs {
				if m, ok := x.(map[string]any); ok && m["id"] == id {
					return m
				}
			}
			if id == "" {
				return f.res
			}
			return nil
		}
		return nil
	}
	for i := len(w.frames) - 1; i >= 0; i-- {
		f := &w.frames[i]
		if !f.bundle {
			continue
		}
		if r, stop := w.resolveInBundle(i, ref); stop {
			return r
		}
	}
	return nil
}

// refTypeID extracts Type and id from a literal reference ("Patient/1", "http://x/fhir/Patient/1",
// ".../Patient/1/_history/2").
func refTypeID(ref string) (string, string) {
	if strings.HasPrefix(ref, "urn:") || strings.HasPrefix(ref, "#") {
		return "", ""
	}
	parts := strings.Split(ref, "/")
	if len(parts) >= 4 && parts[len(parts)-2] == "_history" {
		parts = parts[:len(parts)-2]
	}
	if len(parts) < 2 {
		return "", ""
	}
	t, id := parts[len(parts)-2], parts[len(parts)-1]
	if t == "" || t[0] < 'A' || t[0] > 'Z' || id == "" {
		return "", ""
	}
	return t, id
}

// checkReference checks a Reference's target type against the element's targetProfiles.
func (w *walker) checkReference(c *Elem, obj map[string]any) {
	var targets []string
	for _, t := range c.Types {
		if t.Code == "Reference" {
			targets = t.Targets
		}
	}
	if len(targets) == 0 {
		return
	}
	ref, _ := obj["reference"].(string)
	var rt string
	var target map[string]any
	if ref != "" {
		if r := w.resolveRef(ref); r != nil {
			target = r
			rt, _ = r["resourceType"].(string)
		} else if ref[0] == '#' {
			// ref-1, evaluated on every Reference value, reports it; without invariants, say it here
			if w.v.opts.NoInvariants {
				w.add(issue.Error, "reference-target", c, ".reference", fmt.Sprintf("contained reference %s does not match any contained resource", ref))
			}
			return
		} else {
			rt, _ = refTypeID(ref)
			if rt != "" && !w.isResourceType(rt) {
				w.add(issue.Error, "reference-target", c, ".reference", fmt.Sprintf("%q in the reference is not a resource type", rt))
				return
			}
		}
	}
	if rt == "" {
		rt, _ = obj["type"].(string)
	}
	if rt == "" {
		return
	}
	tc := c.tgtCache.Load()
	if tc == nil || tc.sc != w.tsc {
		tc = &targetCacheEntry{sc: w.tsc}
		for _, t := range targets {
			tt := w.profileType(t)
			if tt == "" {
				tc.unknown = true // a target profile we cannot resolve: cannot tell
			}
			tc.types = append(tc.types, tt)
		}
		c.tgtCache.Store(tc)
	}
	if tc.unknown {
		return
	}
	var allowed []string
	for _, tt := range tc.types {
		if tt == "Resource" || tt == rt {
			w.checkTargetProfiles(c, targets, target, rt)
			return
		}
		allowed = append(allowed, tt)
	}
	w.addWant(issue.Error, "reference-target", c, ".reference", fmt.Sprintf("%s may reference %s, found a reference to %s", c.ID, strings.Join(allowed, " | "), rt), strings.Join(allowed, " | "), rt)
}

// checkTargetProfiles checks a resolvable target (contained or in the Bundle) against the
// element's target profiles of its type: it must conform to one of them.
func (w *walker) checkTargetProfiles(c *Elem, targets []string, target map[string]any, rt string) {
	if target == nil || w.quiet > 0 {
		return
	}
	var profs []string
	for _, t := range targets {
		p, err := w.tsc.profile(t)
		if err != nil {
			return
		}
		if p.Type == "Resource" || (p.Type == rt && p.URL == "http://hl7.org/fhir/StructureDefinition/"+rt) {
			return // the base type: nothing more to check
		}
		if p.Type == rt {
			profs = append(profs, t)
		}
	}
	for _, t := range profs {
		if w.conforms(target, t) {
			return
		}
	}
	if len(profs) > 0 {
		w.add(issue.Error, "reference-target", c, ".reference", fmt.Sprintf("the referenced %s does not conform to %s (%s)", rt, strings.Join(profs, " or "), c.ID))
	}
}

type targetCacheEntry struct {
	sc      *scope
	types   []string
	unknown bool
}
