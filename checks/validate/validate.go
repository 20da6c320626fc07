// Package validate is pacheck's FHIR R4 profile validator: structural JSON rules, profile rules
// from StructureDefinition snapshots (cardinality, types, fixed/pattern, slicing, extensions,
// reference targets, contained resources, Bundles), terminology without a server, invariants and
// must-support coverage. Profiles are compiled once into trees and shared; a Validator is safe for
// concurrent use.
package validate

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/validate/structure"
	"github.com/pacheck/pacheck/profiles"
)

// Options tunes a Validator.
type Options struct {
	// DefaultIG is the package context ("id#version") used when ValidateOptions.IG is empty; empty
	// means the whole set, highest versions first.
	DefaultIG string
	// NoInvariants turns off invariant evaluation (and the "not evaluated" notes).
	NoInvariants bool
	// NoTerminology turns off binding checks.
	NoTerminology bool
	// NoMustSupport skips must-support bookkeeping.
	NoMustSupport bool
	// JSONSchema runs the structural rules through jsonschema/v5 with the schema generated from the
	// R4 StructureDefinitions. By default pacheck's walker checks the same rules itself: the two
	// report identical findings on every official example and mutant (structure.TestEnginesAgree),
	// and the walker is several times faster, which the suites' throughput needs.
	JSONSchema bool
	// BestPractice is the level at which best-practice invariants (those the core spec marks with
	// the elementdefinition-bestpractice extension, e.g. dom-6) are reported; the zero value is
	// warning, as in the HL7 validator.
	BestPractice BestPracticeLevel
	// Terminology, when set, is asked about codes in value sets that cannot be expanded offline
	// (NewTxClient: --tx URL). Without it they are reported as "not checked" information.
	Terminology TerminologyServer
}

// ValidateOptions tunes one validation.
type ValidateOptions struct {
	// Profiles to validate against in addition to meta.profile: canonicals, optionally url|version.
	Profiles []string
	// IG is the package context id#version in which canonicals resolve.
	IG string
	// RejectUnknownExtensions makes an extension whose definition is not loaded an error, unless
	// its url is in an example domain (example.org...) or in AllowedExtensionDomains: the HL7 Java
	// validator CLI's default, and pacheck validate's. Off (the library default, used by the server
	// suites) it is a warning, since FHIR lets servers define their own extensions.
	RejectUnknownExtensions bool
	// AllowedExtensionDomains are hosts (fhir.acme.org, subdomains included), URL prefixes
	// (http://acme.org/fhir/) or "any", whose extensions may be used without a loaded definition.
	AllowedExtensionDomains []string
}

// Result is the outcome of validating one resource.
type Result struct {
	ResourceType string
	// Profiles are the canonicals (url|version) the resource was validated against.
	Profiles []string
	Issues   issue.List
	// MustSupport per profile canonical (url|version), for each profile in Profiles that has
	// must-support elements; nil with Options.NoMustSupport. See MustSupport for what it covers.
	MustSupport map[string]MustSupport
}

// MustSupport lists the must-support element ids of one profile the resource populates or misses.
//
// It covers the elements of that profile's own snapshot with mustSupport true, at any depth
// (Patient.name.family, Observation.component:systolic.code), slices included, in snapshot order;
// the profile root is left out. An element is present when the top-level resource has a value
// for it that is not only a data-absent-reason extension. A value in a slice is a value of the
// sliced element too, so it also makes present the unsliced element and its children
// (component:systolic.code counts for component.code).
//
// It does not cover: must-support flags of other profiles the walk steps into (type profiles
// such as extension or datatype profiles, target profiles), resources nested in the resource
// (contained resources, Bundle entries: their profiles are validated but not tallied here), and
// values seen only while probing which slice or type profile a value matches.
type MustSupport struct {
	Present []string `json:"present"`
	Missing []string `json:"missing"`
}

// Validator validates FHIR R4 JSON resources. It is safe for concurrent use.
type Validator struct {
	set  *profiles.Set
	opts Options

	mu       sync.Mutex
	contexts map[string]*scope
	compiled sync.Map // *profiles.Resource -> *compiledEntry
	// pkgScopes maps a package to its own package context (profileScope).
	pkgScopes sync.Map // *profiles.Package -> *scope
	terms     *terminology
	inv       invariantEngine
	structv   *structure.Validator // the structural JSON layer: owns every FHIR JSON rule
	// resourceTypes are the R4 resource type names.
	resourceTypes map[string]bool
}

type compiledEntry struct {
	once sync.Once
	p    *Profile
	err  error
}

// scope is a package context plus its resolution caches.
type scope struct {
	v       *Validator
	ctx     *profiles.Context
	missing map[string]bool // package ids declared but missing
	sds     sync.Map        // canonical -> *sdResult
	vs      sync.Map        // canonical -> *expansion
	base    sync.Map        // type code -> *Profile (nil when unknown)
	css     sync.Map        // code system url -> *codeSystem (nil when not held)
	// pkgs are the packages whose canonicals this scope resolves to first: the context's
	// packages, or for the whole set the highest version of each package id.
	pkgs map[*profiles.Package]bool
}

type sdResult struct {
	p   *Profile
	err error
}

// New makes a Validator over a package set (usually profiles.Embedded() plus --package additions).
func New(set *profiles.Set, opts Options) (*Validator, error) {
	if set == nil {
		return nil, fmt.Errorf("validate: no package set")
	}
	v := &Validator{set: set, opts: opts, contexts: map[string]*scope{}}
	v.terms = newTerminology()
	v.inv = newInvariantEngine()
	s, err := newStructure(set, opts.JSONSchema)
	if err != nil {
		return nil, err
	}
	v.structv = s
	v.resourceTypes = map[string]bool{}
	for _, r := range set.Global().All("StructureDefinition") {
		if r.Kind == "resource" && r.Derivation == "specialization" && r.URL == "http://hl7.org/fhir/StructureDefinition/"+r.Type {
			v.resourceTypes[r.Type] = true
		}
	}
	if opts.DefaultIG != "" {
		if _, err := v.scope(opts.DefaultIG); err != nil {
			return nil, err
		}
	}
	// R4 core must be present: every resource's base type comes from it.
	if _, ok := set.Global().ResolveType("StructureDefinition", "http://hl7.org/fhir/StructureDefinition/Resource"); !ok {
		return nil, fmt.Errorf("validate: the package set has no FHIR R4 core (hl7.fhir.r4.core#4.0.1); add it with --package")
	}
	return v, nil
}

// Set returns the package set.
func (v *Validator) Set() *profiles.Set { return v.set }

func (v *Validator) scope(ig string) (*scope, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.contexts[ig]; ok {
		return s, nil
	}
	var ctx *profiles.Context
	if ig == "" {
		ctx = v.set.Global()
	} else {
		c, err := v.set.Context(ig)
		if err != nil {
			return nil, fmt.Errorf("--ig %s: %w", ig, err)
		}
		ctx = c
	}
	s := &scope{v: v, ctx: ctx, missing: map[string]bool{}, pkgs: map[*profiles.Package]bool{}}
	if ig == "" {
		best := map[string]*profiles.Package{}
		for _, p := range v.set.Packages() {
			if b := best[p.ID]; b == nil || profiles.CompareVersions(p.Version, b.Version) > 0 {
				best[p.ID] = p
			}
		}
		for _, p := range best {
			s.pkgs[p] = true
		}
	} else {
		for _, p := range ctx.Packages() {
			s.pkgs[p] = true
		}
	}
	for _, m := range ctx.Missing {
		id, _, _ := strings.Cut(m, "#")
		s.missing[id] = true
	}
	v.contexts[ig] = s
	return s, nil
}

// profileScope is the scope in which the canonicals a profile of package p refers to (value sets,
// code systems, type and target profiles) resolve, when the walk is in scope cur inside a
// validation in context sc: cur or sc when they hold p (a package of the context resolves as the
// context says), else p's own package context. So a CARIN BB 1.1.0 profile claimed in the US Core
// 6.1.0 or CARIN BB 2.0.0 context checks its codes against CARIN BB 1.1.0's code systems.
func (v *Validator) profileScope(p *profiles.Package, cur, sc *scope) *scope {
	if p == nil || cur.pkgs[p] {
		return cur
	}
	if cur != sc && sc.pkgs[p] {
		return sc
	}
	if ps, ok := v.pkgScopes.Load(p); ok {
		return ps.(*scope)
	}
	if q, ok := v.set.Package(p.Ref()); ok && q == p {
		if s, err := v.scope(p.Ref()); err == nil {
			v.pkgScopes.Store(p, s)
			return s
		}
	}
	return sc // a package outside the set (not expected): the validation context
}

// profile resolves and compiles a StructureDefinition by canonical (url or url|version).
func (s *scope) profile(canonical string) (*Profile, error) {
	if r, ok := s.sds.Load(canonical); ok {
		res := r.(*sdResult)
		return res.p, res.err
	}
	res := &sdResult{}
	r, ok := s.ctx.ResolveType("StructureDefinition", canonical)
	if !ok && strings.Contains(canonical, "|") {
		// a version the set lacks: fall back to another version of the same canonical
		r, ok = s.ctx.ResolveType("StructureDefinition", stripVersion(canonical))
	}
	if !ok {
		// not cached: canonicals come from the input, so caching misses would let hostile input
		// grow memory without bound
		return nil, errUnknownProfile
	}
	res.p, res.err = s.v.compile(r)
	s.sds.Store(canonical, res)
	return res.p, res.err
}

var errUnknownProfile = fmt.Errorf("unknown profile")

func (s *scope) baseType(t string) *Profile {
	if p, ok := s.base.Load(t); ok {
		return p.(*Profile)
	}
	p, _ := s.profile("http://hl7.org/fhir/StructureDefinition/" + t)
	s.base.Store(t, p)
	return p
}

func (v *Validator) compile(r *profiles.Resource) (*Profile, error) {
	e, _ := v.compiled.LoadOrStore(r, &compiledEntry{})
	ce := e.(*compiledEntry)
	ce.once.Do(func() { ce.p, ce.err = compileProfile(r, v.inv) })
	return ce.p, ce.err
}

// Validate decodes and validates one resource.
func (v *Validator) Validate(ctx context.Context, raw []byte, vopts ValidateOptions) Result {
	root, iss := v.structv.Validate(raw)
	if root == nil {
		res := Result{Issues: iss}
		if len(iss) == 0 {
			res.Issues = issue.List{{Severity: issue.Error, Rule: ruleSyntax, Message: "not valid JSON"}}
		}
		return res
	}
	res := v.validateValue(ctx, root, vopts)
	if len(iss) > 0 {
		res.Issues = append(iss, res.Issues...)
		sort.SliceStable(res.Issues, func(i, j int) bool { return res.Issues[i].Path < res.Issues[j].Path })
	}
	return res
}

// ValidateValue validates an already-decoded resource (map[string]any with json.Number numbers,
// as encoding/json with UseNumber gives), structural checks included.
func (v *Validator) ValidateValue(ctx context.Context, root any, vopts ValidateOptions) Result {
	iss := v.structv.ValidateValue(root, "")
	res := v.validateValue(ctx, root, vopts)
	if len(iss) > 0 {
		res.Issues = append(iss, res.Issues...)
		sort.SliceStable(res.Issues, func(i, j int) bool { return res.Issues[i].Path < res.Issues[j].Path })
	}
	return res
}

func (v *Validator) validateValue(ctx context.Context, root any, vopts ValidateOptions) Result {
	var res Result
	obj, ok := root.(map[string]any)
	if !ok {
		res.Issues = append(res.Issues, issue.Issue{Severity: issue.Error, Rule: ruleNotRes, Message: "expected a FHIR resource (a JSON object with resourceType)"})
		return res
	}
	rt, _ := obj["resourceType"].(string)
	res.ResourceType = rt
	if rt == "" {
		res.Issues = append(res.Issues, issue.Issue{Severity: issue.Error, Rule: ruleNotRes, Path: "resourceType",
			Message: "not a FHIR resource: resourceType is missing or not a string"})
		return res
	}
	ig := vopts.IG
	if ig == "" {
		ig = v.opts.DefaultIG
	}
	sc, err := v.scope(ig)
	if err != nil {
		res.Issues = append(res.Issues, issue.Issue{Severity: issue.Error, Rule: "ig-unknown", Message: err.Error()})
		return res
	}
	w := getWalker(v, sc, ctx)
	defer putWalker(w)
	w.extStrict, w.extDomains = vopts.RejectUnknownExtensions, vopts.AllowedExtensionDomains
	w.validateResource(obj, rt, vopts.Profiles, &res, true)
	w.sanctionExtensionContexts()
	res.Issues = w.issues
	w.issues = nil
	if len(res.Issues) > 1 {
		// properties are visited in map order: sort for stable output
		sort.SliceStable(res.Issues, func(i, j int) bool { return res.Issues[i].Path < res.Issues[j].Path })
	}
	return res
}

// declaredMissing reports whether a canonical belongs to a package the context declares but lacks,
// judged by the canonical base that HL7 package ids imply (hl7.fhir.uv.sdc ->
// http://hl7.org/fhir/uv/sdc/) and a few well-known others.
func (s *scope) declaredMissing(canonical string) (string, bool) {
	if len(s.missing) == 0 {
		return "", false
	}
	u := stripVersion(canonical)
	for _, m := range s.ctx.Missing {
		id, _, _ := strings.Cut(m, "#")
		for _, base := range packageBases(id) {
			if strings.HasPrefix(u, base) {
				return m, true
			}
		}
	}
	return "", false
}

func packageBases(id string) []string {
	switch {
	case strings.HasPrefix(id, "hl7.fhir."):
		rest := strings.TrimPrefix(id, "hl7.fhir.")
		rest = strings.TrimSuffix(rest, ".r4")
		return []string{"http://hl7.org/fhir/" + strings.ReplaceAll(rest, ".", "/") + "/"}
	case strings.HasPrefix(id, "hl7.terminology"):
		return []string{"http://terminology.hl7.org/"}
	case strings.HasPrefix(id, "ihe."):
		return []string{"http://profiles.ihe.net/", "https://profiles.ihe.net/"}
	case strings.HasPrefix(id, "us.nlm.vsac"):
		return []string{"http://cts.nlm.nih.gov/fhir/"}
	case strings.HasPrefix(id, "us.cdc.phinvads"):
		return []string{"http://phinvads.cdc.gov/"}
	}
	return nil
}
