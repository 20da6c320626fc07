// Package ig reads what the US Core suites are generated from, out of the IG package itself: the
// server CapabilityStatement (resource types, profiles, search parameters and combinations with
// their expectations, includes, revincludes, interactions), the SearchParameters it points to,
// and the must-support elements of each profile. Nothing here is written per profile, so a new
// US Core version needs its package, not code. Plain Go: no Ginkgo.
package ig

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pacheck/pacheck/checks/search"
	"github.com/pacheck/pacheck/profiles"
)

// Extension URLs of the CapabilityStatement conformance expectations.
const (
	ExtExpectation = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"
	ExtCombination = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination"
	PackageID      = "hl7.fhir.us.core"
	ServerCS       = "http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server"
)

// Server is the US Core server CapabilityStatement of one US Core version, resolved.
type Server struct {
	spMu    sync.Mutex
	spCache map[string]*SearchParam

	Version   string
	IG        string // "hl7.fhir.us.core#6.1.0"
	CS        map[string]any
	Ctx       *profiles.Context
	Resources []*Resource
	// Security is rest.security of the IG's CapabilityStatement (nil when absent).
	Security map[string]any
}

// Resource is one rest.resource entry.
type Resource struct {
	Type         string
	Expectation  string // SHALL | SHOULD | MAY ("SHALL" when the entry carries none)
	Profiles     []*Profile
	SearchParams []*SearchParam
	Combos       []Combo
	Interactions map[string]string // code -> expectation
	Includes     []Expect
	RevIncludes  []Expect
}

// Profile is one supportedProfile of a resource entry.
type Profile struct {
	URL         string
	ID          string // StructureDefinition.id, or the URL tail when unresolved
	Type        string
	Expectation string
	SD          *profiles.Resource // nil when the package set does not hold it
	Raw         map[string]any     // the decoded StructureDefinition (nil when unresolved)
	// Base is the parent profile's decoded StructureDefinition when the parent is itself a
	// profile (constraint on a constraint), else nil.
	Base map[string]any

	ctx         *profiles.Context
	siblings    int // profiles the CapabilityStatement lists for the type
	discOnce    sync.Once
	discs       []*Discriminator
	derivedOnce sync.Once
	derived     []string
}

// MustSupport lists the profile's must-support elements (see the package function).
func (p *Profile) MustSupport() ([]*MSElement, error) { return MustSupport(p.Raw, p.Base) }

// USCDIRequirements lists the profile's Additional USCDI Requirements (none before 7.0.0).
func (p *Profile) USCDIRequirements() ([]*MSElement, error) { return USCDIRequirements(p.Raw, p.Base) }

// SearchParam is one searchParam entry with its resolved definition.
type SearchParam struct {
	Name        string
	Type        string
	Definition  string
	Expectation string
	Param       search.Param
	// MultipleOr is the expectation of multipleOr support ("" when none is stated).
	MultipleOr string
	// Comparators maps each comparator to its expectation.
	Comparators map[string]string
	Resolved    bool
}

// Combo is a search: a parameter combination (or a single parameter) with its expectation.
type Combo struct {
	Params      []string
	Expectation string
}

// Name is the combination's section name: params joined by "+".
func (c Combo) Name() string { return strings.Join(c.Params, "+") }

// Expect is a value with its expectation (an include, a revinclude).
type Expect struct {
	Value       string
	Expectation string
}

// Load reads the US Core server CapabilityStatement of version from set.
func Load(set *profiles.Set, version string) (*Server, error) {
	ref := PackageID + "#" + version
	ctx, err := set.Context(ref)
	if err != nil {
		return nil, fmt.Errorf("US Core %s: %w; add the package (hl7.fhir.us.core-%s.tgz) with --package", version, err, version)
	}
	r, ok := ctx.ResolveType("CapabilityStatement", ServerCS+"|"+version)
	if !ok {
		r, ok = ctx.ResolveType("CapabilityStatement", ServerCS)
	}
	if !ok || r.Package != ctx.Root() {
		return nil, fmt.Errorf("US Core %s: package %s holds no CapabilityStatement %s", version, ref, ServerCS)
	}
	return fromResource(r, ctx, version)
}

// LoadCapability reads any IG's server CapabilityStatement by canonical ("url" or "url|version")
// from the package set, resolved in the context of the package that holds it.
func LoadCapability(set *profiles.Set, canonical string) (*Server, error) {
	r, ok := set.Global().ResolveType("CapabilityStatement", canonical)
	if !ok {
		return nil, fmt.Errorf("CapabilityStatement %s is in no loaded package", canonical)
	}
	ctx, err := set.Context(r.Package.Ref())
	if err != nil {
		return nil, err
	}
	return fromResource(r, ctx, r.Package.Version)
}

func fromResource(r *profiles.Resource, ctx *profiles.Context, version string) (*Server, error) {
	cs, err := decode(r.Raw)
	if err != nil {
		return nil, fmt.Errorf("CapabilityStatement %s: %w", r.URL, err)
	}
	s := &Server{Version: version, IG: ctx.Root().Ref(), CS: cs, Ctx: ctx}
	rests, _ := cs["rest"].([]any)
	for _, x := range rests {
		rest, _ := x.(map[string]any)
		if m, _ := rest["mode"].(string); m != "server" {
			continue
		}
		s.Security, _ = rest["security"].(map[string]any)
		rs, _ := rest["resource"].([]any)
		for _, y := range rs {
			rm, _ := y.(map[string]any)
			if rm == nil {
				continue
			}
			s.Resources = append(s.Resources, s.resource(rm))
		}
	}
	return s, nil
}

func decode(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// Expectation returns the capabilitystatement-expectation code of an element (its extension
// list, or the "_x" companion object of a primitive), or "".
func Expectation(x any) string {
	m, _ := x.(map[string]any)
	es, _ := m["extension"].([]any)
	for _, e := range es {
		em, _ := e.(map[string]any)
		if u, _ := em["url"].(string); u == ExtExpectation {
			c, _ := em["valueCode"].(string)
			return c
		}
	}
	return ""
}

func strs(x any) []string {
	arr, _ := x.([]any)
	var out []string
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// withExpect pairs the values of a primitive array with the expectations of its "_x" companion.
func withExpect(m map[string]any, key, def string) []Expect {
	vals := strs(m[key])
	comp, _ := m["_"+key].([]any)
	out := make([]Expect, len(vals))
	for i, v := range vals {
		e := ""
		if i < len(comp) {
			e = Expectation(comp[i])
		}
		if e == "" {
			e = def
		}
		out[i] = Expect{Value: v, Expectation: e}
	}
	return out
}

func (s *Server) resource(rm map[string]any) *Resource {
	r := &Resource{Interactions: map[string]string{}}
	r.Type, _ = rm["type"].(string)
	r.Expectation = Expectation(rm)
	if r.Expectation == "" {
		r.Expectation = "SHALL"
	}
	for _, p := range withExpect(rm, "supportedProfile", r.Expectation) {
		pr := &Profile{URL: p.Value, Expectation: p.Expectation, Type: r.Type, ctx: s.Ctx}
		url, _, _ := strings.Cut(p.Value, "|")
		pr.ID = url[strings.LastIndex(url, "/")+1:]
		if sd, ok := s.Ctx.ResolveType("StructureDefinition", p.Value); ok {
			pr.SD = sd
			pr.ID = sd.ID
			pr.Raw, _ = decode(sd.Raw)
			if b, ok := s.Ctx.ResolveType("StructureDefinition", sd.BaseDefinition); ok && b.Derivation == "constraint" {
				pr.Base, _ = decode(b.Raw)
			}
		}
		r.Profiles = append(r.Profiles, pr)
	}
	for _, pr := range r.Profiles {
		pr.siblings = len(r.Profiles)
	}
	r.Includes = withExpect(rm, "searchInclude", r.Expectation)
	r.RevIncludes = withExpect(rm, "searchRevInclude", r.Expectation)
	its, _ := rm["interaction"].([]any)
	for _, x := range its {
		im, _ := x.(map[string]any)
		code, _ := im["code"].(string)
		e := Expectation(im)
		if e == "" {
			e = "MAY"
		}
		r.Interactions[code] = e
	}
	sps, _ := rm["searchParam"].([]any)
	for _, x := range sps {
		sm, _ := x.(map[string]any)
		sp := &SearchParam{Comparators: map[string]string{}}
		sp.Name, _ = sm["name"].(string)
		sp.Type, _ = sm["type"].(string)
		sp.Definition, _ = sm["definition"].(string)
		sp.Expectation = Expectation(sm)
		if sp.Expectation == "" {
			sp.Expectation = "MAY"
		}
		sp.Param = search.Param{Code: sp.Name, Type: sp.Type, URL: sp.Definition}
		if def, ok := s.Ctx.ResolveType("SearchParameter", sp.Definition); ok {
			if dm, err := decode(def.Raw); err == nil {
				p := search.ParamFromSearchParameter(dm)
				p.Code = sp.Name
				if p.Type == "" {
					p.Type = sp.Type
				}
				sp.Param = p
				sp.Resolved = true
				sp.MultipleOr = Expectation(dm["_multipleOr"])
				cmps := strs(dm["comparator"])
				comp, _ := dm["_comparator"].([]any)
				for i, c := range cmps {
					e := ""
					if i < len(comp) {
						e = Expectation(comp[i])
					}
					sp.Comparators[c] = e
				}
			}
		}
		if sp.Param.Expression == "" && sp.Name == "_id" {
			sp.Param.Expression = r.Type + ".id"
			sp.Param.Type = "token"
		}
		r.SearchParams = append(r.SearchParams, sp)
	}
	// Combinations first (in CapabilityStatement order), then single parameters marked SHALL or
	// SHOULD that no combination already covers alone.
	exts, _ := rm["extension"].([]any)
	seen := map[string]bool{}
	for _, x := range exts {
		em, _ := x.(map[string]any)
		if u, _ := em["url"].(string); u != ExtCombination {
			continue
		}
		c := Combo{Expectation: Expectation(em)}
		sub, _ := em["extension"].([]any)
		for _, y := range sub {
			ym, _ := y.(map[string]any)
			if u, _ := ym["url"].(string); u == "required" {
				if v, ok := ym["valueString"].(string); ok {
					c.Params = append(c.Params, v)
				}
			}
		}
		if len(c.Params) == 0 || seen[c.Name()] {
			continue
		}
		if c.Expectation == "" {
			c.Expectation = "SHOULD"
		}
		seen[c.Name()] = true
		r.Combos = append(r.Combos, c)
	}
	for _, sp := range r.SearchParams {
		if (sp.Expectation == "SHALL" || sp.Expectation == "SHOULD") && !seen[sp.Name] {
			seen[sp.Name] = true
			r.Combos = append(r.Combos, Combo{Params: []string{sp.Name}, Expectation: sp.Expectation})
		}
	}
	// SHALL before SHOULD, keeping the CapabilityStatement order within each.
	sort.SliceStable(r.Combos, func(i, j int) bool {
		return rank(r.Combos[i].Expectation) > rank(r.Combos[j].Expectation)
	})
	return r
}

func rank(e string) int {
	switch e {
	case "SHALL":
		return 3
	case "SHOULD":
		return 2
	case "MAY":
		return 1
	}
	return 0
}

// Param returns the search parameter with that name.
func (r *Resource) Param(name string) *SearchParam {
	for _, sp := range r.SearchParams {
		if sp.Name == name {
			return sp
		}
	}
	return nil
}

// Resource returns the entry for a resource type, or nil.
func (s *Server) Resource(typ string) *Resource {
	for _, r := range s.Resources {
		if r.Type == typ {
			return r
		}
	}
	return nil
}

// PatientParam returns the name of the parameter that scopes r to a patient: "patient" when
// declared, "_id" for Patient, "" when the type is not searched by patient.
func (r *Resource) PatientParam() string {
	if r.Type == "Patient" {
		return "_id"
	}
	if r.Param("patient") != nil {
		return "patient"
	}
	return ""
}

// PatientParam is Resource.PatientParam, falling back to a FHIR core "patient" search parameter
// of the type (e.g. Provenance?patient=), so such types are fetched per patient too.
func (s *Server) PatientParam(r *Resource) string {
	if pp := r.PatientParam(); pp != "" {
		return pp
	}
	if sp := s.AnyParam(r, "patient"); sp != nil {
		return "patient"
	}
	return ""
}

// AnyParam returns the resource's declared search parameter with that code, or else the
// SearchParameter of the package context (US Core, then FHIR core) whose base includes the type.
func (s *Server) AnyParam(r *Resource, code string) *SearchParam {
	if sp := r.Param(code); sp != nil && sp.Param.Expression != "" {
		return sp
	}
	s.spMu.Lock()
	defer s.spMu.Unlock()
	key := r.Type + "?" + code
	if sp, ok := s.spCache[key]; ok {
		return sp
	}
	if s.spCache == nil {
		s.spCache = map[string]*SearchParam{}
	}
	sp := s.lookupParam(r, code)
	s.spCache[key] = sp
	return sp
}

func (s *Server) lookupParam(r *Resource, code string) *SearchParam {
	for _, res := range s.Ctx.All("SearchParameter") {
		dm, err := decode(res.Raw)
		if err != nil {
			continue
		}
		if c, _ := dm["code"].(string); c != code {
			continue
		}
		base := false
		for _, b := range strs(dm["base"]) {
			base = base || b == r.Type || b == "Resource" || b == "DomainResource"
		}
		if !base {
			continue
		}
		p := search.ParamFromSearchParameter(dm)
		return &SearchParam{Name: code, Type: p.Type, Definition: p.URL, Expectation: "MAY", Param: p, Resolved: true, Comparators: map[string]string{}}
	}
	return nil
}
