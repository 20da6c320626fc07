package validate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/pacheck/pacheck/checks/fhirpath"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/validate/structure"
)

const maxDepth = 64

// walker holds the state of one validation; walkers are pooled so steady-state validation does
// not allocate per-resource scaffolding.
type walker struct {
	v  *Validator
	sc *scope // the validation's package context: meta.profile claims resolve here
	// tsc is the scope in which the profile being walked (tprof) resolves the canonicals it
	// refers to: its bindings' value sets, code systems, type and target profiles (profileScope).
	tsc    *scope
	tprof  *Profile
	ctx    context.Context
	issues issue.List
	path   structure.PathBuilder
	frames []frame
	depth  int

	first       bool // first profile pass over this resource: report once-only findings
	ms          []bool
	msProfile   *Profile
	noted       map[string]bool
	counts      []int
	deferred    []int // (slice index, value index) pairs of re-sliced values, per sliceGroup
	quiet       int   // >0 while probing a slice/profile match: only count errors
	errCount    int
	rootRes     map[string]any
	env         fhirpath.Env
	discUnknown bool
	extStrict   bool     // ValidateOptions.RejectUnknownExtensions
	extDomains  []string // ValidateOptions.AllowedExtensionDomains
	// ctxSanctioned: paths where a profile's slice places an extension outside its context
	ctxSanctioned map[string]string
	// collect gathers the bound values of one profile (BoundValues); nil in a validation
	collect *boundCollector
}

type frame struct {
	res       map[string]any
	contained bool
	bundle    bool
	byURL     map[string]map[string]any // Bundle fullUrl -> resource, built lazily
	urlOf     map[uintptr]string        // Bundle entry resource (map pointer) -> its fullUrl
}

var walkerPool = sync.Pool{New: func() any {
	w := &walker{path: make(structure.PathBuilder, 0, 256), noted: map[string]bool{}}
	w.initEnv()
	return w
}}

func getWalker(v *Validator, sc *scope, ctx context.Context) *walker {
	w := walkerPool.Get().(*walker)
	w.v, w.sc, w.tsc, w.tprof, w.ctx = v, sc, sc, nil, ctx
	return w
}

func putWalker(w *walker) {
	w.issues = nil
	w.path = w.path[:0]
	w.frames = w.frames[:0]
	w.depth, w.quiet, w.errCount = 0, 0, 0
	w.counts, w.deferred = w.counts[:0], w.deferred[:0]
	w.ms, w.msProfile, w.rootRes = nil, nil, nil
	w.extStrict, w.extDomains, w.ctxSanctioned = false, nil, nil
	w.collect = nil
	clear(w.noted)
	w.v, w.sc, w.tsc, w.tprof, w.ctx = nil, nil, nil, nil, nil
	walkerPool.Put(w)
}

// enter makes p the profile being walked, switching the terminology/profile scope to the one p
// resolves in; leave restores the previous state.
func (w *walker) enter(p *Profile) (*scope, *Profile) {
	tsc, tprof := w.tsc, w.tprof
	if p != nil && p != tprof {
		w.tprof = p
		w.tsc = w.v.profileScope(p.pkg, tsc, w.sc)
	}
	return tsc, tprof
}

func (w *walker) leave(tsc *scope, tprof *Profile) { w.tsc, w.tprof = tsc, tprof }

func (w *walker) add(sev issue.Severity, rule string, e *Elem, suffix, msg string) {
	w.addWant(sev, rule, e, suffix, msg, "", "")
}

// addWant reports a finding with its Expected and Actual: only profile-side facts and the
// instance's shape, counts, resource types and codes (issue.Issue says why).
func (w *walker) addWant(sev issue.Severity, rule string, e *Elem, suffix, msg, expected, actual string) {
	if sev == issue.Error {
		w.errCount++
	}
	if w.quiet > 0 {
		return
	}
	is := issue.Issue{Severity: sev, Rule: rule, Path: string(w.path) + suffix, Message: msg, Expected: expected, Actual: actual}
	if e != nil && e.profile != nil {
		is.Profile = e.profile.Canonical
		is.ElementID = e.ID
	}
	w.issues = append(w.issues, is)
}

// validateResource validates a top-level resource against its base type, its meta.profile and the
// requested profiles.
func (w *walker) validateResource(obj map[string]any, rt string, extra []string, res *Result, top bool) {
	base := w.sc.baseType(rt)
	if base == nil || base.Kind != "resource" {
		w.add(issue.Error, "type", nil, "", fmt.Sprintf("%q is not a FHIR R4 resource type", rt))
		return
	}
	var profs []*Profile
	var canon []string
	claims := metaProfiles(obj)
	for i, c := range append(claims, extra...) {
		p, err := w.sc.profile(c)
		if err != nil {
			if err == errUnknownProfile {
				if pkg, ok := w.sc.declaredMissing(c); ok {
					w.add(issue.Warning, "profile-unknown", nil, rt+".meta.profile", fmt.Sprintf("%s belongs to package %s, a declared dependency that is not loaded (add it with --package); not validated against it", c, pkg))
				} else if i < len(claims) {
					// As the HL7 validator does: a claim it cannot resolve is a warning, and the
					// resource is still validated against its base type and the claims it can.
					w.add(issue.Warning, "profile-unknown", nil, rt+".meta.profile", fmt.Sprintf("cannot resolve profile %s in the loaded packages; validated against the base type and the profiles that resolve (add its package with --package or choose --ig)", c))
				} else {
					// A profile the caller asked for (--profile, a suite's spec) must be checked:
					// not finding it is an error, never a silent pass.
					w.add(issue.Error, "profile-unknown", nil, rt, fmt.Sprintf("cannot resolve the requested profile %s in the loaded packages; the resource was not validated against it (add its package with --package or choose --ig)", c))
				}
			} else {
				w.add(issue.Error, "profile-unknown", nil, rt+".meta.profile", fmt.Sprintf("profile %s cannot be used: %v", c, err))
			}
			continue
		}
		if p.Type != rt {
			w.addWant(issue.Error, "profile-type", p.Root, rt, fmt.Sprintf("profile %s constrains %s, but the resource is a %s", p.Canonical, p.Type, rt), p.Type, rt)
			continue
		}
		dup := false
		for _, q := range profs {
			dup = dup || q == p
		}
		if !dup {
			profs = append(profs, p)
			canon = append(canon, p.Canonical)
		}
	}
	if len(profs) == 0 {
		profs = append(profs, base)
		canon = append(canon, base.Canonical)
	}
	if res != nil {
		res.Profiles = canon
	}
	w.rootRes = obj
	for i, p := range profs {
		w.first = i == 0
		if top && res != nil && !w.v.opts.NoMustSupport && len(p.MustSupport) > 0 {
			w.ms = make([]bool, len(p.MustSupport))
			w.msProfile = p
		}
		n := w.path.Push(rt)
		w.resourceBody(obj, p)
		w.path.Pop(n)
		if w.msProfile != nil {
			ms := MustSupport{}
			for j, e := range p.MustSupport {
				if w.ms[j] {
					ms.Present = append(ms.Present, e.ID)
				} else {
					ms.Missing = append(ms.Missing, e.ID)
				}
			}
			if res.MustSupport == nil {
				res.MustSupport = map[string]MustSupport{}
			}
			res.MustSupport[p.Canonical] = ms
			w.ms, w.msProfile = nil, nil
		}
	}
}

func metaProfiles(obj map[string]any) []string {
	m, _ := obj["meta"].(map[string]any)
	ps, _ := m["profile"].([]any)
	var out []string
	for _, p := range ps {
		if s, ok := p.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// resourceBody walks a resource object against a profile root (path already pushed).
func (w *walker) resourceBody(obj map[string]any, p *Profile) {
	w.frames = append(w.frames, frame{res: obj, bundle: p.Type == "Bundle"})
	if p.Type == "Bundle" {
		w.checkBundle(obj)
	}
	w.leave(w.enterConstraints(p.Root, obj))
	w.complexNode(obj, p.Root, p.Root)
	w.frames = w.frames[:len(w.frames)-1]
}

// enterConstraints evaluates the invariants of a profile root in the profile's own scope and
// returns the state to restore.
func (w *walker) enterConstraints(root *Elem, obj any) (*scope, *Profile) {
	tsc, tprof := w.enter(root.profile)
	w.constraints(root, obj, nil)
	return tsc, tprof
}

// enterTypeProfile is enterConstraints for the root of the type profile that a value of element
// c steps into (an extension's definition, SimpleQuantity): invariants c carries with the same key
// (ext-1 on every extension element) were evaluated on the value already and are not repeated.
func (w *walker) enterTypeProfile(root, c *Elem, obj any) (*scope, *Profile) {
	tsc, tprof := w.enter(root.profile)
	w.constraints(root, obj, c)
	return tsc, tprof
}

// defOf returns the element whose children describe a value of element e with type typ.
func (w *walker) defOf(e *Elem, typ string) *Elem {
	if len(e.Children) > 0 {
		return e
	}
	if e.content != nil {
		return e.content
	}
	// a slice whose children the snapshot leaves out: the sliced element's children apply to its
	// values too (they are values of that element), unless the slice names its own type profile
	for b := e.sliceOf; b != nil && !hasTypeProfile(e, typ); b = b.sliceOf {
		if len(b.Children) > 0 {
			return b
		}
		if b.content != nil {
			return b.content
		}
	}
	if dc := e.defCache.Load(); dc != nil && dc.sc == w.tsc && dc.typ == typ {
		return dc.def
	}
	d := w.defOfSlow(e, typ)
	e.defCache.Store(&defCacheEntry{sc: w.tsc, typ: typ, def: d})
	return d
}

type defCacheEntry struct {
	sc  *scope
	typ string
	def *Elem
}

func (w *walker) defOfSlow(e *Elem, typ string) *Elem {
	for _, t := range e.Types {
		if t.Code == typ && len(t.Profiles) > 0 {
			for _, pr := range t.Profiles {
				if p, err := w.tsc.profile(pr); err == nil {
					return p.Root
				}
			}
		}
	}
	if typ == "" {
		return nil
	}
	if p := w.tsc.baseType(typ); p != nil {
		return p.Root
	}
	return nil
}

// complexNode checks the properties of a JSON object against the children of def.
func (w *walker) complexNode(obj map[string]any, e, def *Elem) {
	if def == nil {
		return
	}
	w.depth++
	if w.depth > maxDepth {
		w.add(issue.Error, "json-depth", e, "", "nesting deeper than 64 levels")
		w.depth--
		return
	}
	if def.profile != w.tprof {
		tsc, tprof := w.enter(def.profile)
		w.walkProps(obj, def)
		w.leave(tsc, tprof)
	} else {
		w.walkProps(obj, def)
	}
	w.depth--
}

// walkProps validates the properties of obj against the children of def.
func (w *walker) walkProps(obj map[string]any, def *Elem) {
	// one pass over the instance's properties ...
	for k, val := range obj {
		if k == "" {
			continue
		}
		if k[0] == '_' {
			name := k[1:]
			if _, has := obj[name]; has {
				continue // handled with its value
			}
			c := def.byName[name]
			typ := ""
			if c == nil {
				cc, t, ok := def.choiceChild(name)
				if !ok {
					continue
				}
				if t == "" {
					w.restrictedChoice(cc, k)
					continue
				}
				c, typ = cc, t
			}
			w.element(c, nil, val, name, typ)
			continue
		}
		var und any
		typ := ""
		c := def.byName[k]
		if c == nil {
			cc, t, ok := def.choiceChild(k)
			if !ok {
				continue
			}
			if t == "" {
				w.restrictedChoice(cc, k)
				continue
			}
			c, typ = cc, t
			if primitiveTypes[t] {
				und = obj["_"+k]
			}
		} else if c.prim {
			und = obj[c.UnderName]
		}
		w.element(c, val, und, k, typ)
	}
	// ... then the required children that are absent
	for _, c := range def.required {
		if c.Choice {
			if !hasChoice(obj, c.Name) && !hasChoice(obj, c.UnderName) {
				w.element(c, nil, nil, c.Name, "")
			}
			continue
		}
		if _, ok := obj[c.Name]; ok {
			continue
		}
		if _, ok := obj[c.UnderName]; ok {
			continue
		}
		w.element(c, nil, nil, c.Name, "")
	}
}

func typeList(c *Elem) string {
	var b strings.Builder
	for i, t := range c.Types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.Code)
	}
	return b.String()
}

func asList(v any) ([]any, bool) {
	if v == nil {
		return nil, false
	}
	if a, ok := v.([]any); ok {
		return a, true
	}
	return nil, false
}

// element handles all values of one child element: JSON shape, cardinality, slicing, items.
func (w *walker) element(c *Elem, val, und any, key, typ string) {
	var items, unds []any
	var single [1]any
	var singleU [1]any
	arr := false
	if a, ok := asList(val); ok {
		items, arr = a, true
	} else if val != nil {
		single[0] = val
		items = single[:]
	}
	if a, ok := asList(und); ok {
		unds = a
		arr = true
	} else if und != nil {
		singleU[0] = und
		unds = singleU[:]
	}
	count := max(len(items), len(unds))
	if count < c.Min {
		w.addWant(issue.Error, "cardinality", c, "."+key, fmt.Sprintf("%s requires at least %d, found %d", c.ID, c.Min, count), cardText(c.Min, c.Max), strconv.Itoa(count))
	}
	if c.Max >= 0 && count > c.Max {
		w.addWant(issue.Error, "cardinality", c, "."+key, fmt.Sprintf("%s allows at most %d, found %d", c.ID, c.Max, count), cardText(c.Min, c.Max), strconv.Itoa(count))
	}
	if count == 0 {
		if c.Slicing != nil {
			for _, sl := range c.Slices {
				if sl.Min > 0 {
					w.addWant(issue.Error, "cardinality", sl, "."+key, fmt.Sprintf("slice %s (%s) requires at least %d, found 0", sl.SliceName, sl.ID, sl.Min), cardText(sl.Min, sl.Max), "0")
				}
			}
		}
		return
	}
	n := w.path.Push(key)
	if c.Slicing != nil && len(c.Slices) > 0 {
		w.sliced(c, items, unds, arr, typ)
	} else {
		for i := 0; i < count; i++ {
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
			w.item(c, it, u, typ)
			w.path.Pop(m)
		}
	}
	w.path.Pop(n)
}

// markMS records a populated must-support element.
func (w *walker) markMS(e *Elem, it, u any) {
	if w.msProfile == nil || (!e.MustSupport && len(e.msAlso) == 0) || e.profile != w.msProfile || w.quiet > 0 {
		return
	}
	if isDAROnly(it, u) {
		return
	}
	if e.MustSupport {
		w.ms[e.msIndex] = true
	}
	for _, i := range e.msAlso {
		w.ms[i] = true
	}
}

const darURL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

func isDAROnly(it, u any) bool {
	if it != nil {
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		for k := range m {
			if k != "extension" && k != "id" {
				return false
			}
		}
		return hasOnlyDAR(m)
	}
	if m, ok := u.(map[string]any); ok {
		return hasOnlyDAR(m)
	}
	return false
}

func hasOnlyDAR(m map[string]any) bool {
	exts, _ := m["extension"].([]any)
	if len(exts) == 0 {
		return false
	}
	for _, x := range exts {
		xm, _ := x.(map[string]any)
		if xm["url"] != darURL {
			return false
		}
	}
	return true
}

// item validates one value of element c (path pushed).
func (w *walker) item(c *Elem, it, u any, typ string) {
	if w.ctx != nil && w.ctx.Err() != nil {
		return
	}
	w.markMS(c, it, u)
	if typ == "" {
		if len(c.Types) == 1 {
			typ = c.Types[0].Code
		} else if len(c.Types) > 1 {
			// a non-choice element with several types (rare): take the first
			typ = c.Types[0].Code
		}
	}
	if it == nil && u == nil {
		return // null: the structural layer's finding
	}
	if w.collect != nil {
		w.collectBound(c, typ, it)
	}
	if primitiveTypes[typ] {
		w.primitive(c, it, u, typ)
		return
	}
	obj, ok := it.(map[string]any)
	if !ok {
		return // not an object: the structural layer's type finding
	}
	if typ == "Resource" || typ == "DomainResource" || (typ != "" && typ[0] >= 'A' && typ[0] <= 'Z' && w.isResourceType(typ)) {
		w.nestedResource(c, obj, typ)
		return
	}
	if c.Fixed != nil && !jsonEqual(obj, c.Fixed) {
		w.addWant(issue.Error, "fixed", c, "", fmt.Sprintf("%s must equal the %s value of %s", c.Name, c.FixedName, c.ID), short(c.Fixed), codings(obj, typ))
	}
	if c.Pattern != nil && !patternMatch(obj, c.Pattern) {
		w.addWant(issue.Error, "pattern", c, "", fmt.Sprintf("%s does not match %s of %s (expected %s)", c.Name, c.FixedName, c.ID, short(c.Pattern)), short(c.Pattern), codings(obj, typ))
	}
	if c.Binding != nil && !w.v.opts.NoTerminology {
		w.checkBinding(c, obj, typ)
	}
	if typ == "Reference" {
		w.checkReference(c, obj)
	}
	if (typ == "Coding" || typ == "Quantity") && !w.v.opts.NoTerminology {
		w.checkCodingSystem(c, obj)
	}
	w.constraints(c, obj, nil)
	if typ == "Extension" {
		w.checkExtensionURL(c, obj)
	}
	if typ == "Extension" && len(c.Children) == 0 && !hasTypeProfile(c, typ) {
		// an extension not matched by any slice: resolve it by url
		url, _ := obj["url"].(string)
		if url != "" {
			if p, err := w.tsc.profile(url); err == nil && p.Type == "Extension" {
				w.checkExtensionContext(c, p, false)
				w.leave(w.enterTypeProfile(p.Root, c, obj))
				w.complexNode(obj, p.Root, p.Root)
				return
			}
			w.unknownExtension(c, url)
		}
	}
	def := w.defOf(c, typ)
	if len(c.Children) == 0 && c.content == nil {
		// several type profiles are alternatives: use the first the value conforms to
		for _, t := range c.Types {
			if t.Code == typ && len(t.Profiles) > 1 {
				for _, pr := range t.Profiles {
					if w.conforms(obj, pr) {
						if p, err := w.tsc.profile(pr); err == nil {
							def = p.Root
						}
						break
					}
				}
			}
		}
	}
	var prof *Elem
	if def != c && def != nil && def.profile != nil && def == def.profile.Root && def.profile.URL != "http://hl7.org/fhir/StructureDefinition/"+typ {
		// stepping into a profiled type: its root rules apply too
		prof = def
		if typ == "Extension" {
			w.checkExtensionContext(c, def.profile, true)
		}
		w.leave(w.enterTypeProfile(def, c, obj))
		if def.Fixed != nil && !jsonEqual(obj, def.Fixed) {
			w.addWant(issue.Error, "fixed", def, "", fmt.Sprintf("value must equal %s of %s", def.FixedName, def.ID), short(def.Fixed), codings(obj, typ))
		}
	}
	w.datatypeInvariants(c, prof, obj, typ)
	w.complexNode(obj, c, def)
}

func hasTypeProfile(c *Elem, typ string) bool {
	for _, t := range c.Types {
		if t.Code == typ && len(t.Profiles) > 0 {
			return true
		}
	}
	return false
}

func (w *walker) isResourceType(t string) bool { return w.v.resourceTypes[t] }

func short(v any) string {
	s := fmt.Sprint(v)
	if m, ok := v.(map[string]any); ok {
		var b strings.Builder
		writeCompact(&b, m)
		s = b.String()
	}
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func writeCompact(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		b.WriteByte('{')
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortStrings(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k)
			b.WriteByte(':')
			writeCompact(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, y := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCompact(b, y)
		}
		b.WriteByte(']')
	default:
		fmt.Fprint(b, x)
	}
}

// primitive checks a primitive value and its _element companion. Its JSON shape and lexical
// form are the structural layer's findings; here only what the profile adds.
func (w *walker) primitive(c *Elem, it, u any, typ string) {
	if it != nil {
		switch x := it.(type) {
		case map[string]any, []any:
			// not a JSON primitive: the structural layer's type finding
		default:
			if typ != "xhtml" {
				if c.Fixed != nil && !jsonEqual(it, c.Fixed) {
					w.addWant(issue.Error, "fixed", c, "", fmt.Sprintf("%s must be %s (%s of %s)", c.Name, short(c.Fixed), c.FixedName, c.ID), short(c.Fixed), codeLike(typ, it))
				}
				if c.Pattern != nil && !jsonEqual(it, c.Pattern) {
					w.addWant(issue.Error, "pattern", c, "", fmt.Sprintf("%s must be %s (%s of %s)", c.Name, short(c.Pattern), c.FixedName, c.ID), short(c.Pattern), codeLike(typ, it))
				}
				if c.Binding != nil && !w.v.opts.NoTerminology && (typ == "code" || typ == "string" || typ == "uri") {
					if s, ok := it.(string); ok {
						w.checkCode(c, s, typ)
					}
				}
			} else if s, ok := x.(string); ok {
				w.checkNarrative(c, s)
			}
		}
	} else if c.Fixed != nil || c.Pattern != nil {
		want := c.Fixed
		if want == nil {
			want = c.Pattern
		}
		w.addWant(issue.Error, "fixed", c, "", fmt.Sprintf("%s has no value but %s requires %s", c.Name, c.ID, c.FixedName), short(want), "no value")
	}
	if it != nil {
		w.constraints(c, it, nil)
	}
	if um, ok := u.(map[string]any); ok {
		// a _name that is not an object is the structural layer's type finding
		if def := w.defOf(c, typ); def != nil {
			// FHIRPath addresses a primitive's id/extension as name.extension
			w.complexNode(um, c, def)
		}
	}
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// cardText is an element's cardinality as the profile states it: "1..*", "0..1".
func cardText(min, max int) string {
	if max < 0 {
		return strconv.Itoa(min) + "..*"
	}
	return strconv.Itoa(min) + ".." + strconv.Itoa(max)
}

// codings is what a finding's Actual may say about a complex value: the system|code of a Coding,
// Quantity or each coding of a CodeableConcept; "" for other types, whose content may be PHI.
func codings(obj map[string]any, typ string) string {
	one := func(m map[string]any) string {
		sys, _ := m["system"].(string)
		code, _ := m["code"].(string)
		if sys == "" && code == "" {
			return ""
		}
		return sys + "|" + code
	}
	switch typ {
	case "Coding", "Quantity":
		return one(obj)
	case "CodeableConcept":
		var out []string
		cs, _ := obj["coding"].([]any)
		for _, c := range cs {
			if m, ok := c.(map[string]any); ok {
				if s := one(m); s != "" {
					out = append(out, s)
				}
			}
		}
		return strings.Join(out, ", ")
	}
	return ""
}

// codeLike is what a finding's Actual may say about a primitive value: the value itself for
// code, boolean, uri and canonical (terminology and definitions), "" for every other type (free
// text, dates, ids and numbers may be a patient's data).
func codeLike(typ string, v any) string {
	switch typ {
	case "code", "uri", "canonical":
		s, _ := v.(string)
		return s
	case "boolean":
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b)
		}
	}
	return ""
}
