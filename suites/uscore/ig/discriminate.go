package ig

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pacheck/pacheck/profiles"
)

// Discriminator is one value a profile fixes on a required top-level element: a resource that
// claims no profile of the IG is taken as an instance of the profile only when it carries every
// one (ExplanationOfBenefit.use = preauthorization for the PDex prior authorization,
// Observation.category = vital-signs and Observation.code = 29463-7 for body weight).
type Discriminator struct {
	ID    string // the element or slice: ExplanationOfBenefit.use, Observation.category:VSCat
	Label string // what the data note says: use=preauthorization, category in us-core-problem-or-health-concern
	name  string // JSON property on the resource
	cond  *cond
}

// Match reports whether the resource carries the value.
func (d *Discriminator) Match(r map[string]any) bool { return d.cond.match(items(r[d.name])) }

// cond is what one element's value must satisfy; an array matches when some item does.
type cond struct {
	pattern any             // fixed[x]/pattern[x]: matched as a pattern (every given part present)
	codes   map[string]bool // a required binding: one of system|code
	vs      string          // the bound value set's id, for the label
	fields  map[string]*cond
	slices  []*cond // each must be matched by some item of the same array
}

func (c *cond) empty() bool {
	return c.pattern == nil && c.codes == nil && len(c.fields) == 0 && len(c.slices) == 0
}

func items(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

func (c *cond) match(vs []any) bool {
	if c.pattern != nil || c.codes != nil || len(c.fields) > 0 {
		if !slices.ContainsFunc(vs, c.matchOne) {
			return false
		}
	}
	for _, s := range c.slices {
		if !s.match(vs) {
			return false
		}
	}
	return true
}

func (c *cond) matchOne(v any) bool {
	if c.pattern != nil && !PatternMatch(v, c.pattern) {
		return false
	}
	if c.codes != nil && !codeIn(v, c.codes) {
		return false
	}
	for name, f := range c.fields {
		m, _ := v.(map[string]any)
		if !f.match(items(m[name])) {
			return false
		}
	}
	return true
}

// codeIn reports whether a code, Coding or CodeableConcept holds one of the system|code pairs (a
// bare code matches on the code alone).
func codeIn(v any, codes map[string]bool) bool {
	switch t := v.(type) {
	case string:
		for k := range codes {
			if _, c, _ := strings.Cut(k, "|"); c == t {
				return true
			}
		}
	case map[string]any:
		if cs, ok := t["coding"].([]any); ok {
			return slices.ContainsFunc(cs, func(c any) bool { return codeIn(c, codes) })
		}
		sys, _ := t["system"].(string)
		code, _ := t["code"].(string)
		return codes[sys+"|"+code]
	}
	return false
}

// PatternMatch reports whether v matches the FHIR pattern p: every property of p is present in v
// with a matching value, every item of an array of p matched by some item of v's, primitives
// equal. A display in the pattern is not required: system and code say what the value is (the
// validator still checks the whole pattern).
func PatternMatch(v, p any) bool { return matchPattern(p, v, true) }

// notDiscriminating are the top-level elements whose values say nothing about what a resource
// is: bookkeeping, narrative, and extensions (identified by url through their type profile; a
// required extension is content the profile asks for, not what the resource is).
var notDiscriminating = map[string]bool{"id": true, "meta": true, "implicitRules": true, "language": true,
	"text": true, "contained": true, "extension": true, "modifierExtension": true}

// maxCodes bounds an expanded value set used as a discriminator; a larger one is not used.
const maxCodes = 2000

type sdElem struct {
	ID, Path, SliceName string
	Min                 int
	Max                 string
	Types               []struct {
		Code string `json:"code"`
	} `json:"type"`
	Binding *struct {
		Strength string `json:"strength"`
		ValueSet string `json:"valueSet"`
	} `json:"binding"`
	value any // fixed[x] or pattern[x]
}

func snapshotElems(sd map[string]any) []*sdElem {
	snap, _ := sd["snapshot"].(map[string]any)
	els, _ := snap["element"].([]any)
	var out []*sdElem
	for _, e := range els {
		em, _ := e.(map[string]any)
		b, _ := json.Marshal(em)
		var d sdElem
		if json.Unmarshal(b, &d) != nil {
			continue
		}
		for k, v := range em {
			if strings.HasPrefix(k, "fixed") || strings.HasPrefix(k, "pattern") {
				d.value = v
			}
		}
		out = append(out, &d)
	}
	return out
}

// extraDiscriminators are elements taken as discriminators although the derivation leaves them
// out (a backbone slice, a binding that is not required), by profile id. Each entry's source:
var extraDiscriminators = map[string][]string{
	// usdf-PayerInsurancePlan: the plan:drug-plan slice (min 1) fixes plan.type to
	// insurance-plan-type#drug, what makes a payer plan the formulary's drug plan; the derivation
	// leaves backbone slices out, as most (CARIN BB supportingInfo, adjudication) are content.
	"usdf-PayerInsurancePlan": {"InsurancePlan.plan:drug-plan"},
	// us-core-smokingstatus: Observation.code is bound (extensible) to
	// us-core-smoking-status-observation-codes, the codes that make an observation a smoking
	// status; its only fixed value, category social-history, is shared with other social-history
	// observations.
	"us-core-smokingstatus": {"Observation.code"},
}

// codedTypes are the types of the elements that say what a resource is (use, type, category, code).
var codedTypes = map[string]bool{"code": true, "Coding": true, "CodeableConcept": true}

// Discriminators derives the profile's discriminators from its snapshot: for each required (min
// >= 1) coded top-level element and each required slice of one, the fixed[x]/pattern[x] values on
// it and on its required descendants (slices included), and, when the CapabilityStatement lists
// several profiles for the type, a required binding that closes what the base resource leaves
// open (its binding there is not required), when the value set can be enumerated from the
// loaded packages. Other elements (identifiers, backbone elements such as supportingInfo) carry
// content the profile requires, not what the resource is: a resource missing them must fail the
// profile, not leave its pool. extraDiscriminators adds what the data does not give. Nil for an
// unresolved profile.
func (p *Profile) Discriminators() []*Discriminator {
	p.discOnce.Do(func() {
		p.discs = discriminators(p.Raw, p.Type, p.ctx, p.siblings > 1, extraDiscriminators[p.ID])
	})
	return p.discs
}

type builder struct {
	byID     map[string]*sdElem
	children map[string][]*sdElem // element id -> child element ids (slices included)
	base     map[string]*sdElem   // the base resource's elements by path
	ctx      *profiles.Context
	bindings bool
}

func discriminators(sd map[string]any, typ string, ctx *profiles.Context, bindings bool, extra []string) []*Discriminator {
	if sd == nil {
		return nil
	}
	els := snapshotElems(sd)
	b := &builder{byID: map[string]*sdElem{}, children: map[string][]*sdElem{}, ctx: ctx, bindings: bindings}
	for _, e := range els {
		b.byID[e.ID] = e
		if i := strings.LastIndex(e.ID, "."); i > 0 {
			b.children[e.ID[:i]] = append(b.children[e.ID[:i]], e)
		}
	}
	if ctx != nil {
		if r, ok := ctx.ResolveType("StructureDefinition", "http://hl7.org/fhir/StructureDefinition/"+typ); ok {
			var m map[string]any
			if json.Unmarshal(r.Raw, &m) == nil {
				b.base = map[string]*sdElem{}
				for _, e := range snapshotElems(m) {
					b.base[e.Path] = e
				}
			}
		}
	}
	var out []*Discriminator
	for _, e := range b.children[typ] {
		rest := strings.TrimPrefix(e.ID, typ+".")
		name, slice, _ := strings.Cut(rest, ":")
		explicit := slices.Contains(extra, e.ID)
		if !explicit && (e.Min < 1 || e.Max == "0" || notDiscriminating[name] || !coded(e)) {
			continue
		}
		if slice != "" {
			if parent := b.byID[typ+"."+name]; parent == nil || parent.Max == "0" {
				continue
			}
		}
		jname := jsonName(e)
		if jname == "" {
			continue
		}
		c := b.cond(e, explicit)
		if c.empty() {
			continue
		}
		d := &Discriminator{ID: e.ID, name: jname, cond: c, Label: label(jname, c)}
		if slice != "" {
			// a required slice: some item of the element matches it
			d.cond = &cond{slices: []*cond{c}}
		}
		out = append(out, d)
	}
	return out
}

func coded(e *sdElem) bool {
	for _, t := range e.Types {
		if !codedTypes[t.Code] {
			return false
		}
	}
	return len(e.Types) > 0
}

// jsonName is the element's JSON property: the name, or for a choice element of one type the
// name with the type (value[x] of Quantity: valueQuantity); "" for a choice of several types.
func jsonName(e *sdElem) string {
	last := e.Path[strings.LastIndex(e.Path, ".")+1:]
	if n, ok := strings.CutSuffix(last, "[x]"); ok {
		if len(e.Types) != 1 || e.Types[0].Code == "" {
			return ""
		}
		t := e.Types[0].Code
		return n + strings.ToUpper(t[:1]) + t[1:]
	}
	return last
}

// cond builds the condition of one element (or slice): its fixed or pattern value, else its
// binding (any strength when explicit), and its required children's conditions, slices as
// items some value must match.
func (b *builder) cond(e *sdElem, explicit bool) *cond {
	c := &cond{pattern: e.value}
	if e.value == nil {
		c.codes = b.bindingCodes(e, explicit)
		if c.codes != nil {
			vs, _, _ := strings.Cut(e.Binding.ValueSet, "|")
			c.vs = vs[strings.LastIndex(vs, "/")+1:]
		}
	}
	for _, ch := range b.children[e.ID] {
		if ch.Min < 1 || ch.Max == "0" {
			continue
		}
		last := ch.ID[strings.LastIndex(ch.ID, ".")+1:]
		name, slice, _ := strings.Cut(last, ":")
		jn := jsonName(ch)
		if jn == "" || name == "extension" || name == "modifierExtension" {
			continue
		}
		cc := b.cond(ch, false)
		if cc.empty() {
			continue
		}
		if c.fields == nil {
			c.fields = map[string]*cond{}
		}
		f := c.fields[jn]
		if f == nil {
			f = &cond{}
			c.fields[jn] = f
		}
		if slice != "" {
			f.slices = append(f.slices, cc)
		} else {
			f.pattern, f.codes, f.vs = cc.pattern, cc.codes, cc.vs
			for k, v := range cc.fields {
				if f.fields == nil {
					f.fields = map[string]*cond{}
				}
				f.fields[k] = v
			}
		}
	}
	return c
}

// bindingCodes are the codes of a binding that discriminates: explicit (extraDiscriminators), or
// required where the base resource's binding of the element is not (a profile closing an open
// classification) and the type has several profiles; nil otherwise, or when the value set
// cannot be enumerated.
func (b *builder) bindingCodes(e *sdElem, explicit bool) map[string]bool {
	if e.Binding == nil || e.Binding.ValueSet == "" || b.ctx == nil {
		return nil
	}
	if !explicit {
		if !b.bindings || e.Binding.Strength != "required" {
			return nil
		}
		if be := b.base[e.Path]; be != nil && be.Binding != nil && be.Binding.Strength == "required" {
			return nil
		}
	}
	codes := map[string]bool{}
	if !expand(b.ctx, e.Binding.ValueSet, codes, 0) || len(codes) == 0 || len(codes) > maxCodes {
		return nil
	}
	return codes
}

// expand adds a value set's codes from its compose (enumerated concepts, whole complete code
// systems, included value sets); false when it uses a filter or an exclude, or names what the
// packages do not hold.
func expand(ctx *profiles.Context, canonical string, codes map[string]bool, depth int) bool {
	if depth > 5 {
		return false
	}
	r, ok := ctx.ResolveType("ValueSet", canonical)
	if !ok {
		return false
	}
	var vs struct {
		Compose struct {
			Include []struct {
				System  string `json:"system"`
				Concept []struct {
					Code string `json:"code"`
				} `json:"concept"`
				Filter   []any    `json:"filter"`
				ValueSet []string `json:"valueSet"`
			} `json:"include"`
			Exclude []any `json:"exclude"`
		} `json:"compose"`
	}
	if json.Unmarshal(r.Raw, &vs) != nil || len(vs.Compose.Exclude) > 0 || len(vs.Compose.Include) == 0 {
		return false
	}
	for _, in := range vs.Compose.Include {
		if len(in.Filter) > 0 {
			return false
		}
		for _, v := range in.ValueSet {
			if !expand(ctx, v, codes, depth+1) {
				return false
			}
		}
		switch {
		case len(in.Concept) > 0:
			for _, c := range in.Concept {
				codes[in.System+"|"+c.Code] = true
			}
		case in.System != "":
			if !systemCodes(ctx, in.System, codes) {
				return false
			}
		}
	}
	return true
}

// systemCodes adds every code of a complete code system.
func systemCodes(ctx *profiles.Context, system string, codes map[string]bool) bool {
	r, ok := ctx.ResolveType("CodeSystem", system)
	if !ok {
		return false
	}
	var cs struct {
		Content string `json:"content"`
		Concept []any  `json:"concept"`
	}
	if json.Unmarshal(r.Raw, &cs) != nil || cs.Content != "complete" {
		return false
	}
	var walk func([]any)
	walk = func(cs []any) {
		for _, c := range cs {
			m, _ := c.(map[string]any)
			if code, _ := m["code"].(string); code != "" {
				codes[system+"|"+code] = true
			}
			sub, _ := m["concept"].([]any)
			walk(sub)
		}
	}
	walk(cs.Concept)
	return true
}

// label says what the discriminator asks for: name=code(s) of the fixed or pattern values, or
// name in <value set id> for a binding.
func label(name string, c *cond) string {
	var vals []string
	var collect func(c *cond, key string)
	collect = func(c *cond, key string) {
		if c.pattern != nil {
			vals = append(vals, leafCodes(c.pattern, key)...)
		}
		keys := make([]string, 0, len(c.fields))
		for k := range c.fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			collect(c.fields[k], k)
		}
		for _, s := range c.slices {
			collect(s, key)
		}
	}
	collect(c, name)
	var in []string
	for _, x := range append([]*cond{c}, c.slices...) {
		if x.codes != nil {
			in = append(in, name+" in "+x.vs)
		}
	}
	if len(vals) > 0 {
		in = append([]string{name + "=" + strings.Join(slices.Compact(vals), "+")}, in...)
	}
	return strings.Join(in, ", ")
}

// leafCodes are the codes of a pattern value (its "code" properties), else its primitive leaves
// other than systems.
func leafCodes(v any, key string) []string {
	var codes, other []string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				walk(x, k)
			}
		case []any:
			for _, x := range t {
				walk(x, key)
			}
		default:
			s := fmt.Sprint(t)
			switch key {
			case "code":
				codes = append(codes, s)
			case "system", "url", "version":
			default:
				other = append(other, s)
			}
		}
	}
	walk(v, key)
	if len(codes) > 0 {
		sort.Strings(codes)
		return codes
	}
	sort.Strings(other)
	return other
}

// Derived lists the canonicals (without version) of the profiles in the package context that
// derive from this one, directly or through other profiles (us-core-blood-pressure from
// us-core-vital-signs): a resource claiming one of them claims this profile too.
func (p *Profile) Derived() []string {
	p.derivedOnce.Do(func() {
		if p.ctx == nil {
			return
		}
		base, _, _ := strings.Cut(p.URL, "|")
		if p.SD != nil {
			base = p.SD.URL
		}
		parent := map[string]string{}
		for _, r := range p.ctx.All("StructureDefinition") {
			if r.Derivation == "constraint" && r.Type == p.Type {
				b, _, _ := strings.Cut(r.BaseDefinition, "|")
				parent[r.URL] = b
			}
		}
		for u := range parent {
			for x, n := parent[u], 0; x != "" && n < 20; x, n = parent[x], n+1 {
				if x == base {
					p.derived = append(p.derived, u)
					break
				}
			}
		}
		sort.Strings(p.derived)
	})
	return p.derived
}

// ReferencePaths lists the paths of the profile's Reference elements whose targetProfile names
// target (a canonical, version ignored), in snapshot order: usdf-PayerInsurancePlan's
// InsurancePlan.coverageArea for usdf-InsurancePlanLocation.
func (p *Profile) ReferencePaths(target string) []string {
	target, _, _ = strings.Cut(target, "|")
	snap, _ := p.Raw["snapshot"].(map[string]any)
	els, _ := snap["element"].([]any)
	var out []string
	for _, e := range els {
		em, _ := e.(map[string]any)
		path, _ := em["path"].(string)
		ts, _ := em["type"].([]any)
		for _, t := range ts {
			tm, _ := t.(map[string]any)
			tps, _ := tm["targetProfile"].([]any)
			for _, tp := range tps {
				s, _ := tp.(string)
				if u, _, _ := strings.Cut(s, "|"); u == target && !slices.Contains(out, path) {
					out = append(out, path)
				}
			}
		}
	}
	return out
}
