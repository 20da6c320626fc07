// Package igspec is the one generator of IG data specs: an IG area (US Core, CARIN BB, PDex, US
// Drug Formulary, and the next ones) describes an IG version as data (IG: area, version, server
// CapabilityStatement canonical, requirement ids per kind of spec and per expectation) and the
// generator declares, per resource type and profile of that CapabilityStatement, a container with
// the profile's specs: its searches (one per declared parameter, or the CapabilityStatement's
// SHALL/SHOULD combinations: IG.Combinations; with variants: IG.Variants), read, profile
// validation, must-support, _include and _revinclude=Provenance:target, each with one body for
// every area. Hooks take an area's genuine extras: more specs (Extra: US Core's multiple-or, POST,
// paging, references; the payer IGs' business rules). Data is fetched one way for every area
// (Fetch, NeedPool), once per run, store (IG.Store) and resource type.
package igspec

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Reqs are the requirement ids of each kind of generated spec.
type Reqs struct {
	// PublicAccess is the requirement of the public-access spec (Public IGs): every resource
	// type of the CapabilityStatement answers a search without a token.
	PublicAccess []string
	// Search labels a search whose parameters are SHALL (nil entries below fall back to it).
	Search, Read, Validation, MustSupport, Include, Revinclude []string
	// Package labels the spec that reports a version whose package cannot be loaded (nil: the
	// Validation ids).
	Package []string
	// SearchShould and SearchMay label searches whose parameters the CapabilityStatement lists
	// as SHOULD or MAY (nil: the Search ids).
	SearchShould, SearchMay []string
	// SearchType adds, to a SHALL search, the ids of its parameters' types ("date" ->
	// uscore.search.date), so a defect is attributed to the kind of parameter it breaks.
	SearchType map[string][]string
	// SearchParam adds, to any search (SHALL, SHOULD or MAY) with the named parameter, these ids:
	// a requirement the IG's text states for the parameter itself (US Core 7.0.0's "Servers SHOULD
	// support the _lastUpdated search parameter"), whatever combination carries it.
	SearchParam map[string][]string
	// IncludeShould and RevincludeShould label an _include / _revinclude the CapabilityStatement
	// lists as SHOULD (nil: Include / Revinclude).
	IncludeShould, RevincludeShould []string
	// IncludeParam labels the _include of a named reference parameter ("medication") in place
	// of Include, whatever its expectation: a SHALL stated by the IG's text.
	IncludeParam map[string][]string
	// Optional labels every spec of a resource type the CapabilityStatement lists below SHALL,
	// so such specs never fail a SHALL verdict (nil: the ids of each kind).
	Optional []string
	// Slicing is the requirement a missing required slice breaks (a validator cardinality finding
	// on a slice), when the validation spec cites it; "" leaves such findings to the rule map.
	Slicing string
}

// IG describes one IG version's generated specs.
type IG struct {
	Short      string // ig short name in spec ids and labels: uscore, carinbb, pdex, formulary
	Version    string
	Capability string // server CapabilityStatement canonical
	Public     bool   // data is public: fetched and searched with no token
	// PublicAccess is the id of the spec that judges access without a token (Public IGs): a
	// spec whose fetch is refused 401/403 is blocked by it instead of failing its own
	// requirement for the same refusal.
	PublicAccess string
	// PublicWhat names the IG's data in the public-access spec's messages ("formulary").
	PublicWhat string
	// AnyVersion takes resources claiming the profile at any version up to the one under test (prior authorizations
	// claiming the 2.0.0 profile are checked against 2.1.0, the version updated for CMS-0057-F).
	AnyVersion bool
	Reqs       Reqs
	// Keep selects the (resource, profile) pairs to generate (nil: all resolvable profiles).
	Keep func(res *ig.Resource, p *ig.Profile) bool
	// Extra adds IG-specific specs inside a profile's container.
	Extra func(pc *ProfileCtx)
	// ExtraLabels are added to a profile's container.
	ExtraLabels func(p *ig.Profile) []string
	// LoadServer resolves the version's server CapabilityStatement (nil: Capability|Version in
	// the loaded packages).
	LoadServer func(set *profiles.Set, version string) (*ig.Server, error)
	// Container names a profile's container (nil: ShortName of the profile id).
	Container func(p *ig.Profile) string
	// Optional reports whether a profile's specs cite Reqs.Optional instead of their own ids
	// (nil: the resource type is below SHALL in the CapabilityStatement).
	Optional func(pc *ProfileCtx) bool
	// Combinations takes the searches from the CapabilityStatement's SHALL and SHOULD parameters
	// and search-parameter-combination extensions (US Core) instead of one search per declared
	// parameter with the patient parameter (the payer IGs).
	Combinations bool
	// Variants also sends, for each criterion of a search, the other reference form, the token
	// without and with a foreign system, and the date comparators the CapabilityStatement makes
	// SHALL; each must still find the searched resource.
	Variants bool
	// Store names the run's store the area's data is fetched into ("": the payer IGs' shared
	// one); areas with one store fetch each type once.
	Store string
	// PagingSpec is the id of the spec that judges paging through the profile's type ("" or nil:
	// none): fetch failures that are all paging block the type's other specs on it.
	PagingSpec func(pc *ProfileCtx) string

	Srv *ig.Server
}

// ProfileCtx is what one profile's specs share.
type ProfileCtx struct {
	IG   *IG
	Run  *framework.Run
	Res  *ig.Resource
	Prof *ig.Profile
}

// Load resolves the IG's CapabilityStatement.
func (g *IG) Load(run *framework.Run) error {
	set, err := igdata.PackageSet(run)
	if err != nil {
		return err
	}
	if g.LoadServer != nil {
		g.Srv, err = g.LoadServer(set, g.Version)
		return err
	}
	g.Srv, err = ig.LoadCapability(set, g.Capability+"|"+g.Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w; add the IG package with --package", g.Short, g.Version, err)
	}
	return nil
}

// ShortName turns a profile id into its section name: C4BB-ExplanationOfBenefit-Pharmacy ->
// eob-pharmacy, usdf-FormularyDrug -> formularydrug, pdex-priorauthorization -> priorauthorization.
func ShortName(id string) string {
	s := id
	for _, p := range []string{"C4BB-", "usdf-", "pdex-"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.ToLower(s)
	s = strings.Replace(s, "explanationofbenefit", "eob", 1)
	return s
}

// Abstract reports whether the profile is abstract (the CARIN BB ExplanationOfBenefit parent).
func Abstract(p *ig.Profile) bool {
	a, _ := p.Raw["abstract"].(bool)
	return a
}

// Build generates the specs of the IG version (inside the caller's version container).
func (g *IG) Build() {
	run := framework.Current()
	if run == nil {
		run = &framework.Run{}
	}
	if g.Public && len(g.Reqs.PublicAccess) > 0 {
		framework.Spec("public-access", g.Reqs.PublicAccess, g.specPublicAccess)
	}
	if err := g.Load(run); err != nil {
		ids := g.Reqs.Package
		if ids == nil {
			ids = g.Reqs.Validation
		}
		framework.Spec("package", ids, func() { framework.Infra(err) })
		return
	}
	for _, res := range g.Srv.Resources {
		for _, p := range res.Profiles {
			if p.Raw == nil || Abstract(p) {
				continue // a profile of another IG the package set does not hold (e.g. SDC), or abstract
			}
			if g.Keep != nil && !g.Keep(res, p) {
				continue
			}
			pc := &ProfileCtx{IG: g, Run: run, Res: res, Prof: p}
			labels := []string{"profile:" + p.ID, "resource:" + res.Type}
			if g.ExtraLabels != nil {
				labels = append(labels, g.ExtraLabels(p)...)
			}
			name := ShortName(p.ID)
			if g.Container != nil {
				name = g.Container(p)
			}
			Describe(name, Label(labels...), func() { pc.build() })
		}
	}
}

// Optional reports whether the profile's specs are below SHALL (IG.Optional; by default the
// resource type is below SHALL in the CapabilityStatement).
func (pc *ProfileCtx) Optional() bool {
	if pc.IG.Optional != nil {
		return pc.IG.Optional(pc)
	}
	return pc.Res.Expectation != "SHALL" && pc.Res.Expectation != ""
}

// ReqIDs are the requirement ids a spec of this profile cites for ids: ids, or the IG's
// optional-resource ids when the resource type is below SHALL in the CapabilityStatement.
func (pc *ProfileCtx) ReqIDs(ids ...string) []string {
	if pc.Optional() && len(pc.IG.Reqs.Optional) > 0 {
		return pc.IG.Reqs.Optional
	}
	return ids
}

// perParameter returns the searches generated for the resource: _id and the patient parameter alone,
// every other declared parameter together with the patient parameter (patient+type), or alone
// for types not searched by patient.
//
// A parameter that reads only elements another profile of the type must-supports and this one
// does not is searched under that profile alone: usdf-Formulary and usdf-PayerInsurancePlan are
// both InsurancePlans, and coverage-area reads coverageArea, which only the payer plan carries.
func (pc *ProfileCtx) perParameter() [][]string {
	pp := pc.PatientParam()
	var out [][]string
	for _, sp := range pc.Res.SearchParams {
		switch {
		case sp.Name != pp && pc.searchedElsewhere(sp):
		case sp.Name == "_id" || sp.Name == pp || pp == "" || pp == "_id":
			out = append(out, []string{sp.Name})
		default:
			out = append(out, []string{pp, sp.Name})
		}
	}
	return out
}

// searchedElsewhere reports whether the parameter's element paths are must-support in another
// profile of the type but in none of this profile's (see perParameter).
func (pc *ProfileCtx) searchedElsewhere(sp *ig.SearchParam) bool {
	if len(pc.Res.Profiles) < 2 {
		return false
	}
	paths := expressionPaths(sp.Param.Expression, pc.Res.Type)
	if len(paths) == 0 {
		return false
	}
	if mustSupports(pc.Prof, paths) {
		return false
	}
	for _, o := range pc.Res.Profiles {
		if o != pc.Prof && mustSupports(o, paths) {
			return true
		}
	}
	return false
}

// mustSupports reports whether the profile must-supports one of the paths or an element below it.
func mustSupports(p *ig.Profile, paths []string) bool {
	if p.Raw == nil {
		return true // unresolved: nothing is known, keep the search
	}
	ms, err := p.MustSupport()
	if err != nil {
		return true
	}
	for _, e := range ms {
		for _, path := range paths {
			if e.Path == path || strings.HasPrefix(e.Path, path+".") {
				return true
			}
		}
	}
	return false
}

// expressionPaths are the element paths a search parameter expression reads on the type: for
// each union member starting with "Type.", its leading run of plain names ("InsurancePlan.coverage.
// extension.where(...)" reads InsurancePlan.coverage.extension). Nil when any member is of another
// form (no claim about what it reads).
func expressionPaths(expr, typ string) []string {
	var out []string
	for _, part := range strings.Split(expr, "|") {
		part = strings.TrimSpace(part)
		if !strings.HasPrefix(part, typ+".") {
			if strings.HasPrefix(part, "(") || part == "" {
				return nil
			}
			continue // another type's member of a shared parameter
		}
		segs := strings.Split(part, ".")
		path := segs[0]
		for _, sg := range segs[1:] {
			if sg == "" || !isName(sg) {
				break
			}
			path += "." + sg
		}
		if path == typ {
			return nil
		}
		out = append(out, path)
	}
	return out
}

func isName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// PatientParam is the parameter that scopes the type to a patient ("" when none, or public).
func (pc *ProfileCtx) PatientParam() string {
	if pc.IG.Public {
		return ""
	}
	if pc.Res.Type == "Patient" {
		return "_id"
	}
	if pc.Res.Param("patient") != nil {
		return "patient"
	}
	return ""
}

func (pc *ProfileCtx) build() {
	g := pc.IG
	for _, s := range pc.Searches() {
		pc.Spec("search/"+s.Name(), pc.SearchIDs(s), func() { pc.SpecSearch(s) })
	}
	if pc.Res.Interactions["read"] != "" {
		pc.Spec("read", pc.ReqIDs(g.Reqs.Read...), pc.SpecRead)
	}
	pc.Spec("validation", pc.ReqIDs(g.Reqs.Validation...), pc.SpecValidation)
	pc.Spec("must-support", pc.ReqIDs(g.Reqs.MustSupport...), pc.SpecMustSupport)
	pc.includeSpecs()
	pc.revincludeSpecs()
	if g.Extra != nil {
		g.Extra(pc)
	}
}

// Spec declares a spec of the profile citing ids (framework.Spec). Every generated spec, and an
// area's extras, are declared at this one site, so Ginkgo orders a profile's specs by name.
func (pc *ProfileCtx) Spec(name string, ids []string, body func()) { framework.Spec(name, ids, body) }

// ---- data ----

// TypeData is what was fetched for one resource type.
type TypeData = igdata.TypeData

// store is the run's store of the area's data (IG.Store; the payer IGs share one, the public
// IGs another): each type is fetched once per store.
func (pc *ProfileCtx) store() *igdata.Store {
	key := cmp.Or(pc.IG.Store, "igspec.store")
	if pc.IG.Public {
		key += ".public"
	}
	return igdata.StoreOf(pc.Run, key)
}

// Who names whose data was searched, for messages: the patients, or the public endpoint.
func (pc *ProfileCtx) Who() string {
	if pc.IG.Public {
		return "the public endpoint"
	}
	return igdata.DescribePatients(pc.Run)
}

// ClientFor is the authorized client of a patient (the run's per-patient client,
// framework.Run.SetPatientClient, else its main client), or the public client for public IGs.
func (pc *ProfileCtx) ClientFor(pid string) *fhirhttp.Client {
	if pc.IG.Public {
		c, err := pc.Run.PublicClient()
		if err != nil {
			return nil
		}
		return c
	}
	return pc.Run.PatientClient(pid)
}

// Fetch fetches the resources of a type once per store: the whole type for public IGs; by
// patient for types the CapabilityStatement searches by patient (fetchParam); else by reading the references to the
// type found in the IG's patient-searched types, and when that finds none by the type's SHALL
// reference parameters. A type other types revinclude (Provenance) is also collected through
// those _revinclude searches.
func (pc *ProfileCtx) Fetch(typ string) *TypeData {
	return pc.store().TypeOnce(typ, func() *TypeData { return pc.fetchNow(typ) })
}

// fetchParam is the parameter that fetches a type per patient: the patient parameter the
// CapabilityStatement declares for it (PatientParam), "" for public IGs. A parameter it does not
// declare (FHIR core's Provenance?patient=) is not one the server must support, so such types are
// found through references and _revinclude instead.
func (pc *ProfileCtx) fetchParam(res *ig.Resource) string {
	if res == nil {
		return ""
	}
	return pc.other(res).PatientParam()
}

// other is the context of another resource type of the IG.
func (pc *ProfileCtx) other(r *ig.Resource) *ProfileCtx {
	return &ProfileCtx{IG: pc.IG, Run: pc.Run, Res: r}
}

func (pc *ProfileCtx) fetchNow(typ string) *TypeData {
	g, run := pc.IG, pc.Run
	td := igdata.NewTypeData(typ)
	ctx, cancel := context.WithTimeout(run.Context(), igdata.Budget(run))
	defer cancel()
	res := g.Srv.Resource(typ)
	pp := pc.fetchParam(res)
	switch {
	case g.Public:
		if c := pc.ClientFor(""); c == nil {
			td.Err = run.NoAccess("")
		} else {
			td.SearchAll(ctx, c, "", url.Values{}, true)
		}
		return td
	case pp != "":
		for _, pid := range igdata.Patients(run) {
			c := pc.ClientFor(pid)
			if c == nil {
				td.Err = run.NoAccess(pid)
				break
			}
			if td.SearchPatient(ctx, c, pid, pp, true); td.Err != nil {
				break
			}
		}
	default:
		// referenced types: read the references found in the patient-searched types
		var others []*TypeData
		for _, r := range g.Srv.Resources {
			if r.Type == typ || !pc.keeps(r) || pc.fetchParam(r) == "" {
				continue
			}
			others = append(others, pc.Fetch(r.Type))
		}
		td.ReadAll(igdata.Referenced(typ, others, maxReads), pc.ReadOnce)
		if len(td.Resources) == 0 && td.Err == nil && res != nil {
			pc.other(res).searchByReference(ctx, td)
		}
	}
	if td.Err == nil {
		before := len(td.Resources)
		pc.collectByRevinclude(ctx, typ, td)
		td.Indirect = before == 0 && len(td.Resources) > 0
	}
	return td
}

// searchByReference finds resources of a type no patient record references (PractitionerRole)
// through its SHALL reference search parameters: T?param=Target/id for known targets.
func (pc *ProfileCtx) searchByReference(ctx context.Context, td *TypeData) {
	res := pc.Res
	for _, sp := range res.SearchParams {
		if sp.Expectation != "SHALL" || sp.Param.Type != "reference" {
			continue
		}
		for _, target := range sp.Param.Targets {
			if target == res.Type || pc.IG.Srv.Resource(target) == nil {
				continue
			}
			known := pc.Fetch(target)
			for i, r := range known.Resources {
				if i >= 5 {
					break
				}
				pid := known.PatientOf[igdata.ID(r)]
				c := pc.ClientFor(pid)
				if c == nil {
					return
				}
				if td.SearchAll(ctx, c, pid, url.Values{sp.Name: {target + "/" + igdata.ID(r)}}, true); td.Err != nil {
					return
				}
			}
		}
	}
}

// collectByRevinclude collects resources that point at others (Provenance) through the
// _revinclude=<typ>:<param> searches the CapabilityStatement lists for the IG's patient-searched
// types, for each patient holding data of that type.
func (pc *ProfileCtx) collectByRevinclude(ctx context.Context, typ string, td *TypeData) {
	for _, r := range pc.IG.Srv.Resources {
		pp := pc.fetchParam(r)
		if r.Type == typ || pp == "" || !pc.keeps(r) {
			continue
		}
		for _, ri := range r.RevIncludes {
			if !strings.HasPrefix(ri.Value, typ+":") {
				continue
			}
			other := pc.Fetch(r.Type)
			for _, pid := range igdata.Patients(pc.Run) {
				if len(other.ByPatient[pid]) == 0 {
					continue
				}
				c := pc.ClientFor(pid)
				if c == nil {
					td.Err = pc.Run.NoAccess(pid)
					return
				}
				q := url.Values{pp: {other.PatientParamValue(pid)}, "_revinclude": {ri.Value}}
				td.Queries = append(td.Queries, r.Type+"?"+q.Encode())
				pages, err := c.SearchAll(ctx, r.Type, q)
				if err != nil {
					td.Err = err
					return
				}
				for _, e := range pages.Entries {
					if t, _ := e["resourceType"].(string); t == typ {
						td.Add(pid, e)
					}
				}
			}
		}
	}
}

const (
	maxReads    = 40  // resources read per type or per spec
	maxPoolSize = 200 // resources of a profile the specs judge
)

// allPaging reports whether every issue is about paging (search.paging.*).
func allPaging(l issue.List) bool {
	for _, is := range l {
		if !strings.HasPrefix(is.Rule, "search.paging.") {
			return false
		}
	}
	return len(l) > 0
}

// keeps reports whether the IG generates specs for some profile of the resource type.
func (pc *ProfileCtx) keeps(r *ig.Resource) bool {
	for _, p := range r.Profiles {
		if p.Raw != nil && (pc.IG.Keep == nil || pc.IG.Keep(r, p)) {
			return true
		}
	}
	return false
}

// ReadOnce reads Type/id once per store with the patient's client (a failed read is kept too).
func (pc *ProfileCtx) ReadOnce(pid, typ, id string) (*fhirhttp.Response, error) {
	return pc.store().ReadOnce(typ, id, true, func() (*fhirhttp.Response, error) {
		c := pc.ClientFor(pid)
		if c == nil {
			return nil, pc.Run.NoAccess(pid)
		}
		ctx, cancel := pc.Run.Ctx()
		defer cancel()
		return c.Read(ctx, typ, id)
	})
}

func (pc *ProfileCtx) profVersion() string {
	if pc.Prof.SD != nil && !pc.IG.AnyVersion {
		return pc.Prof.SD.Version
	}
	return ""
}

// Place returns the profile's pool (igdata.ProfileRule): the fetched resources claiming it (or a
// profile derived from it) in meta.profile, and those claiming no profile of its IG that carry
// its discriminating values; for a profile of placedByReference, those referenced by the pool
// of a profile of the IG that targets it.
func (pc *ProfileCtx) Place(td *TypeData) igdata.Placement {
	rule := igdata.ProfileRule(pc.Prof, pc.profVersion())
	if pc.IG.AnyVersion && pc.Prof.SD != nil {
		rule.Through = pc.Prof.SD.Version // prior versions' claims, not later ones'
	}
	if placedByReference[pc.Prof.ID] {
		rule.ByType = ""
		rule.Discriminators = pc.referencedBy()
	}
	return rule.Place(td.Resources)
}

// placedByReference are the profiles whose instances nothing in the resource itself tells apart
// from other resources of the type, but that are what another profile of the IG references:
//   - usdf-InsurancePlanLocation (a Location: no fixed value; US Core Locations share its type)
//     is the target of usdf-PayerInsurancePlan's InsurancePlan.coverageArea (targetProfile
//     usdf-InsurancePlanLocation), so a Location claiming no formulary profile is a plan location
//     when a formulary payer plan references it there.
var placedByReference = map[string]bool{"usdf-InsurancePlanLocation": true}

// referencedBy is the discriminator of a placedByReference profile: referenced, through an
// element whose targetProfile is the profile, by a resource in the pool of the IG's profile
// that has that element (each such profile's pool by its own rule).
func (pc *ProfileCtx) referencedBy() []igdata.Discriminator {
	ids := map[string]bool{}
	var via []string
	for _, r := range pc.IG.Srv.Resources {
		if r.Type == pc.Res.Type || !pc.keeps(r) {
			continue
		}
		for _, o := range r.Profiles {
			if o.Raw == nil || (pc.IG.Keep != nil && !pc.IG.Keep(r, o)) {
				continue
			}
			paths := o.ReferencePaths(pc.Prof.URL)
			if len(paths) == 0 {
				continue
			}
			td := pc.Fetch(r.Type)
			pool := igdata.ProfileRule(o, pc.profVersionOf(o)).Place(td.Resources).Pool
			for _, path := range paths {
				via = append(via, o.ID+" "+path)
				for _, res := range pool {
					for _, ref := range referencesAt(res, path) {
						if t, id := igdata.SplitRef(ref); t == pc.Res.Type {
							ids[id] = true
						}
					}
				}
			}
		}
	}
	if len(via) == 0 {
		return []igdata.Discriminator{{Label: "referenced by no profile of the IG", Match: func(map[string]any) bool { return false }}}
	}
	return []igdata.Discriminator{{Label: "referenced by " + strings.Join(via, ", "),
		Match: func(r map[string]any) bool { return ids[igdata.ID(r)] }}}
}

// profVersionOf is the version claims of another profile of the IG must name.
func (pc *ProfileCtx) profVersionOf(p *ig.Profile) string {
	if p.SD != nil && !pc.IG.AnyVersion {
		return p.SD.Version
	}
	return ""
}

// referencesAt lists the Reference.reference values at an element path (InsurancePlan.plan.
// coverageArea) of a resource.
func referencesAt(r map[string]any, path string) []string {
	segs := strings.Split(path, ".")
	vals := []any{r}
	for _, s := range segs[1:] {
		var next []any
		for _, v := range vals {
			m, _ := v.(map[string]any)
			switch x := m[s].(type) {
			case []any:
				next = append(next, x...)
			case nil:
			default:
				next = append(next, x)
			}
		}
		vals = next
	}
	var out []string
	for _, v := range vals {
		m, _ := v.(map[string]any)
		if s, _ := m["reference"].(string); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// NeedPool returns the type's data and the profile's resources (at most maxPoolSize), or ends
// the spec: skip without patients or data, error on tool trouble, fail when the server
// misbehaved while fetching.
func (pc *ProfileCtx) NeedPool() (*TypeData, []map[string]any) {
	GinkgoHelper()
	if !pc.IG.Public && len(igdata.Patients(pc.Run)) == 0 {
		framework.SkipBecause(fmt.Sprintf("no patient id is configured for the run, so no %s data can be searched", pc.IG.Short),
			"one or more patient ids (patients in the run configuration, or the SMART launch patient)")
	}
	td := pc.Fetch(pc.Res.Type)
	if td.Err != nil {
		framework.Infra(td.Err)
	}
	if pc.IG.Public && pc.IG.PublicAccess != "" && td.Refused != 0 {
		framework.Block(evidence.Blocked{Cause: pc.IG.PublicAccess,
			Reason: fmt.Sprintf("%s without a token was refused with HTTP %d", pc.Res.Type, td.Refused)})
	}
	if len(td.Fail) > 0 {
		// Paging trouble while fetching is the paging spec's finding (IG.PagingSpec); the other
		// specs of the type are blocked by it instead of failing their own requirements for it.
		if pc.IG.PagingSpec != nil {
			if id := pc.IG.PagingSpec(pc); id != "" && CurrentSpecReport().LeafNodeText != "paging" && allPaging(td.Fail) {
				framework.Block(evidence.Blocked{Cause: id, Reason: fmt.Sprintf("paging through the %s search failed: %s", pc.Res.Type, td.Fail[0].Rule)})
			}
		}
		framework.ExpectConformant("fetching "+pc.Res.Type, td.Fail)
	}
	pl := pc.Place(td).Limit(maxPoolSize)
	p := pl.Pool
	if len(p) == 0 {
		who := pc.Who()
		how := strings.Join(td.Queries, ", ")
		if how == "" {
			how = "no query (no reference to " + pc.Res.Type + " found in the searched data)"
		}
		other := ""
		if vs := igdata.ClaimedVersions(td.Resources, pc.Prof.URL); len(vs) > 0 {
			other = fmt.Sprintf("; resources claim it at version %s, not %s", strings.Join(vs, ", "), pc.profVersion())
		}
		vid := pc.Prof.ID
		if v := pc.profVersion(); v != "" {
			vid += "|" + v
		}
		framework.SkipBecause(fmt.Sprintf("no %s claiming %s was found for %s (%d %s resource(s) found by %s%s%s)",
			pc.Res.Type, vid, who, len(td.Resources), pc.Res.Type, how, other, pc.discriminatorNote()),
			fmt.Sprintf("a %s that claims %s in meta.profile%s", pc.Res.Type, pc.Prof.URL, pc.discriminatorWant()))
	}
	framework.Note("data", "%d %s resource(s) found by %s; placed by %s", len(p), pc.Prof.ID, strings.Join(td.Queries, ", "), pl.Note())
	return td, p
}

// discriminatorLabels says what a resource claiming no profile of the IG must carry to be taken
// for the profile ("" when its type suffices).
func (pc *ProfileCtx) discriminatorLabels() string {
	if placedByReference[pc.Prof.ID] {
		return "being referenced by a resource of the IG that targets " + pc.Prof.ID
	}
	var ls []string
	for _, d := range pc.Prof.Discriminators() {
		ls = append(ls, d.Label)
	}
	return strings.Join(ls, ", ")
}

func (pc *ProfileCtx) discriminatorNote() string {
	if ls := pc.discriminatorLabels(); ls != "" {
		return "; none that claims no " + pc.IG.Short + " profile carries " + ls
	}
	return ""
}

func (pc *ProfileCtx) discriminatorWant() string {
	if ls := pc.discriminatorLabels(); ls != "" {
		return ", or that claims none of the IG's profiles and carries " + ls
	}
	return ""
}

// ---- read ----

// SpecRead reads each of the profile's resources (at most maxReads) and checks the read answers
// with the resource the search returned.
func (pc *ProfileCtx) SpecRead() {
	td, pool := pc.NeedPool()
	var all issue.List
	n := 0
	for _, r := range pool {
		if n >= maxReads {
			break
		}
		n++
		id := igdata.ID(r)
		resp, err := pc.ReadOnce(td.PatientOf[id], pc.Res.Type, id)
		if err != nil {
			framework.Infra(err)
		}
		all = append(all, igdata.CheckRead(pc.Res.Type, id, r, resp)...)
	}
	framework.Note("read", "%d resource(s) read", n)
	framework.ExpectConformant("read", all)
}

// ---- validation and must-support ----

// SpecValidation validates the profile's resources against it in the IG's package context.
func (pc *ProfileCtx) SpecValidation() {
	_, pool := pc.NeedPool()
	canonical := pc.Prof.URL
	if pc.Prof.SD != nil && pc.Prof.SD.Version != "" {
		canonical = pc.Prof.SD.URL + "|" + pc.Prof.SD.Version
	}
	all := pc.validate(pool, canonical)
	framework.Note("validation", "%d resource(s) validated against %s in %s%s", len(pool), canonical, pc.IG.Srv.IG, pc.versionNote(pool))
	framework.ExpectConformant("validation against "+pc.Prof.ID, all)
}

// validate validates resources against the profile (canonical) and keeps the findings that are
// the profile's: findings against other profiles a resource claims (meta.profile) belong to
// those profiles' specs; structural and base-resource findings, and those of the profiles the
// tested one derives from (their constraints are the profile's too), stay.
func (pc *ProfileCtx) validate(pool []map[string]any, canonical string) issue.List {
	GinkgoHelper()
	val, err := igdata.Validator(pc.Run)
	if err != nil {
		framework.Infra(err)
	}
	slicing := pc.IG.Reqs.Slicing != "" && slices.Contains(pc.ReqIDs(pc.IG.Reqs.Validation...), pc.IG.Reqs.Slicing)
	var all issue.List
	for _, r := range pool {
		raw, _ := json.Marshal(r)
		ctx, cancel := pc.Run.Ctx()
		l, err := val(ctx, raw, canonical, pc.IG.Srv.IG)
		cancel()
		if err != nil {
			framework.Infra(err)
		}
		ref := pc.Res.Type + "/" + igdata.ID(r)
		for _, is := range l {
			if !pc.relevant(is.Profile) {
				continue
			}
			if slicing && is.Rule == "cardinality" && isSlice(is.ElementID) {
				// a required slice that is missing breaks the slicing requirement ("fill the
				// profile's required slices"), not the element cardinalities
				is.Requirement = pc.IG.Reqs.Slicing
			}
			is.Path = ref + ": " + is.Path
			is.Message = ref + ": " + is.Message
			all = append(all, is)
		}
	}
	return all
}

// isSlice reports whether an ElementDefinition id names a slice (Observation.category:VSCat).
func isSlice(elementID string) bool {
	last := elementID[strings.LastIndex(elementID, ".")+1:]
	return strings.Contains(last, ":")
}

// relevant reports whether a finding made by profile (canonical, may be empty) belongs to the
// validation of the tested profile: no profile (structure), a base type or datatype definition
// (specialization), the profile itself or one of the profiles it derives from.
func (pc *ProfileCtx) relevant(profile string) bool {
	if profile == "" {
		return true
	}
	u, _, _ := strings.Cut(profile, "|")
	if u == pc.Prof.URL {
		return true
	}
	sctx := pc.IG.Srv.Ctx
	r, ok := sctx.ResolveType("StructureDefinition", profile)
	if !ok {
		return false
	}
	if r.Derivation == "specialization" || r.Derivation == "" {
		return true
	}
	cur := pc.Prof.SD
	for i := 0; cur != nil && i < 10; i++ {
		if cur.URL == u {
			return true
		}
		next, ok := sctx.ResolveType("StructureDefinition", cur.BaseDefinition)
		if !ok {
			break
		}
		cur = next
	}
	return false
}

// SpecMustSupport judges the profile's must-support elements over its resources
// (igdata.ExpectMustSupport: an absent element skips unless the run attests complete data).
func (pc *ProfileCtx) SpecMustSupport() {
	_, pool := pc.NeedPool()
	ms, err := pc.Prof.MustSupport()
	if err != nil {
		framework.Infra(fmt.Errorf("profile %s: %w", pc.Prof.URL, err))
	}
	who := igdata.DescribePatients(pc.Run)
	if pc.IG.Public {
		who = "the server's public data"
	}
	igdata.ExpectMustSupport(pc.Run, pc.Prof.URL, pc.Prof.ID, ms, pool, who)
}

// versionNote says when the validated resources claim the profile at another version.
func (pc *ProfileCtx) versionNote(pool []map[string]any) string {
	if pc.Prof.SD == nil {
		return ""
	}
	var other []string
	for _, v := range igdata.ClaimedVersions(pool, pc.Prof.URL) {
		if v != pc.Prof.SD.Version {
			other = append(other, v)
		}
	}
	if len(other) == 0 {
		return ""
	}
	return fmt.Sprintf(" (the resources claim version %s; validated against %s, the version under test)", strings.Join(other, ", "), pc.Prof.SD.Version)
}

// specPublicAccess searches every resource type of the CapabilityStatement with no token: each
// must answer 200.
func (g *IG) specPublicAccess() {
	run := framework.Current()
	if err := g.Load(run); err != nil {
		framework.Infra(err)
	}
	c, err := run.PublicClient()
	if err != nil {
		framework.Infra(err)
	}
	var all issue.List
	found := 0
	for _, r := range g.Srv.Resources {
		ctx, cancel := run.Ctx()
		resp, err := c.Search(ctx, r.Type, url.Values{"_count": {"1"}})
		cancel()
		if err != nil {
			framework.Infra(err)
		}
		if resp.Status != http.StatusOK {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: g.Reqs.PublicAccess[0], Path: r.Type,
				Message: fmt.Sprintf("GET %s?_count=1 without a token: expected HTTP 200, got %d%s", r.Type, resp.Status, igdata.OutcomeText(resp))})
			continue
		}
		if resp.ResourceType() == "Bundle" {
			found++
		}
	}
	framework.Note("public access", "%d of %d %s resource types searched without a token", found, len(g.Srv.Resources), g.PublicWhat)
	framework.ExpectConformant(g.PublicWhat+" resources without a token", all)
}
