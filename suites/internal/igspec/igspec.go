// Package igspec is the one generator of IG data specs: an IG area (US Core, CARIN BB, PDex, US
// Drug Formulary, and the next ones) describes an IG version as data (IG: area, version, server
// CapabilityStatement canonical, requirement ids per kind of spec) and the generator declares,
// per resource type and profile of that CapabilityStatement, a container with the profile's
// specs: by default one search per declared parameter (with result correctness), read, profile
// validation, must-support, _include and _revinclude=Provenance:target. Hooks take an area's
// extras: its own spec list (US Core: the CapabilityStatement's search combinations, multiple-or,
// POST, paging, references), its own data fetching (Data), business-rule specs (Extra).
// The payer IGs' data is fetched once per run and resource type and shared by their suites.
package igspec

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/search"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Reqs are the requirement ids of each kind of generated spec.
type Reqs struct {
	Search, Read, Validation, MustSupport, Include, Revinclude []string
	// Package labels the spec that reports a version whose package cannot be loaded (nil: the
	// Validation ids).
	Package []string
	// SearchShould and SearchMay label searches whose parameters the CapabilityStatement lists
	// as SHOULD or MAY (nil: the Search ids).
	SearchShould, SearchMay []string
	// Optional labels every spec of a resource type the CapabilityStatement lists below SHALL,
	// so such specs never fail a SHALL verdict (nil: the ids of each kind).
	Optional []string
	// Slicing is the requirement a missing required slice breaks (a validator cardinality finding
	// on a slice), when the validation spec cites it; "" leaves such findings to the rule map.
	Slicing string
}

// Data is how an area finds a profile's resources: NeedPool returns the type's data and the
// profile's resources or ends the spec (skip, error, fail), ReadOnce reads Type/id once per run.
type Data interface {
	NeedPool(pc *ProfileCtx) (*TypeData, []map[string]any)
	ReadOnce(pc *ProfileCtx, pid, typ, id string) (*fhirhttp.Response, error)
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
	// AnyVersion takes resources claiming the profile at any version (prior authorizations
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
	// Specs declares a profile's specs in place of the generator's default list (searches per
	// parameter, read, validation, must-support, include, revinclude); the area's list uses the
	// generator's spec bodies (SpecRead, SpecValidation, SpecMustSupport) where its kinds agree.
	Specs func(pc *ProfileCtx)
	// Data fetches and places the area's resources (nil: the payer data of this package).
	Data Data

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

// searchReqs are the ids of a search: by the weakest expectation among its parameters.
func (pc *ProfileCtx) searchReqs(combo []string) []string {
	r := pc.IG.Reqs
	weakest := "SHALL"
	for _, name := range combo {
		if sp := pc.Res.Param(name); sp != nil {
			switch sp.Expectation {
			case "SHOULD":
				if weakest == "SHALL" {
					weakest = "SHOULD"
				}
			case "MAY":
				weakest = "MAY"
			}
		}
	}
	switch {
	case weakest == "SHOULD" && r.SearchShould != nil:
		return r.SearchShould
	case weakest == "MAY" && r.SearchMay != nil:
		return r.SearchMay
	}
	return r.Search
}

// Combos returns the searches generated for the resource: _id and the patient parameter alone,
// every other declared parameter together with the patient parameter (patient+type), or alone
// for types not searched by patient.
//
// A parameter that reads only elements another profile of the type must-supports and this one
// does not is searched under that profile alone: usdf-Formulary and usdf-PayerInsurancePlan are
// both InsurancePlans, and coverage-area reads coverageArea, which only the payer plan carries.
func (pc *ProfileCtx) Combos() [][]string {
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
// profile of the type but in none of this profile's (see Combos).
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
	if g.Specs != nil {
		g.Specs(pc)
		return
	}
	for _, c := range pc.Combos() {
		c := c
		ids := pc.searchReqs(c)
		framework.Spec("search/"+strings.Join(c, "+"), pc.ReqIDs(ids...), func() { pc.specSearch(c) })
	}
	if pc.Res.Interactions["read"] != "" {
		framework.Spec("read", pc.ReqIDs(g.Reqs.Read...), pc.SpecRead)
	}
	framework.Spec("validation", pc.ReqIDs(g.Reqs.Validation...), pc.SpecValidation)
	framework.Spec("must-support", pc.ReqIDs(g.Reqs.MustSupport...), pc.SpecMustSupport)
	for _, in := range pc.Res.Includes {
		in := in
		// the include names its parameter alone or as Type:param[:Target]
		name := in.Value
		if parts := strings.Split(in.Value, ":"); len(parts) >= 2 && parts[0] == pc.Res.Type {
			name = parts[1]
		} else if len(parts) >= 2 {
			name = parts[0]
		}
		if sp := pc.Res.Param(name); sp != nil && pc.searchedElsewhere(sp) {
			continue // the referencing element is another profile's (see Combos)
		}
		framework.Spec("include/"+strings.ReplaceAll(in.Value, ":", "-"), pc.ReqIDs(g.Reqs.Include...), func() { pc.specInclude(in.Value) })
	}
	if len(g.Reqs.Revinclude) > 0 && pc.PatientParam() != "" {
		for _, ri := range pc.Res.RevIncludes {
			if ri.Value == "Provenance:target" {
				framework.Spec("revinclude/provenance", pc.ReqIDs(g.Reqs.Revinclude...), pc.specRevinclude)
			}
		}
	}
	if g.Extra != nil {
		g.Extra(pc)
	}
}

// ---- data ----

// TypeData is what was fetched for one resource type.
type TypeData = igdata.TypeData

// store is the run's store of the payer suites (one for the public IGs, one for the others).
func store(run *framework.Run, public bool) *igdata.Store {
	key := "igspec.store"
	if public {
		key += ".public"
	}
	return igdata.StoreOf(run, key)
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

// Fetch fetches the resources of a type: by patient for patient-searched types, the whole type
// for public IGs, else by reading the references to the type found in the IG's patient-searched
// types.
func (pc *ProfileCtx) Fetch(typ string) *TypeData {
	return store(pc.Run, pc.IG.Public).TypeOnce(typ, func() *TypeData { return pc.fetchNow(typ) })
}

func (pc *ProfileCtx) fetchNow(typ string) *TypeData {
	g, run := pc.IG, pc.Run
	td := igdata.NewTypeData(typ)
	ctx, cancel := context.WithTimeout(run.Context(), igdata.Budget(run))
	defer cancel()
	search := func(pid string, q url.Values) {
		c := pc.ClientFor(pid)
		if c == nil {
			td.Err = run.NoAccess(pid)
			return
		}
		td.SearchAll(ctx, c, pid, q, true)
	}
	res := g.Srv.Resource(typ)
	pp := ""
	if res != nil {
		pp = (&ProfileCtx{IG: g, Run: run, Res: res}).PatientParam()
	}
	switch {
	case g.Public:
		search("", url.Values{})
	case pp == "" && typ == "Provenance":
		// Provenance is found through the types that revinclude it.
		for _, r := range g.Srv.Resources {
			if !pc.keeps(r) || !slices.ContainsFunc(r.RevIncludes, func(e ig.Expect) bool { return e.Value == "Provenance:target" }) {
				continue
			}
			rp := (&ProfileCtx{IG: g, Run: run, Res: r}).PatientParam()
			if rp == "" {
				continue
			}
			for _, pid := range igdata.Patients(run) {
				c := pc.ClientFor(pid)
				if c == nil {
					td.Err = run.NoAccess(pid)
					break
				}
				q := url.Values{rp: {pid}, "_revinclude": {"Provenance:target"}}
				td.Queries = append(td.Queries, r.Type+"?"+q.Encode())
				pages, err := c.SearchAll(ctx, r.Type, q)
				if err != nil {
					td.Err = err
					break
				}
				for _, e := range pages.Entries {
					td.Add(pid, e)
				}
			}
		}
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
			if r.Type == typ || !pc.keeps(r) {
				continue
			}
			if (&ProfileCtx{IG: g, Run: run, Res: r}).PatientParam() == "" {
				continue
			}
			others = append(others, pc.Fetch(r.Type))
		}
		td.ReadAll(igdata.Referenced(typ, others, maxReads), pc.ReadOnce)
	}
	return td
}

const maxReads = 40

// keeps reports whether the IG generates specs for some profile of the resource type.
func (pc *ProfileCtx) keeps(r *ig.Resource) bool {
	for _, p := range r.Profiles {
		if p.Raw != nil && (pc.IG.Keep == nil || pc.IG.Keep(r, p)) {
			return true
		}
	}
	return false
}

// ReadOnce reads Type/id once per run with the patient's client (IG.Data's, else a failed read
// is made again when asked again).
func (pc *ProfileCtx) ReadOnce(pid, typ, id string) (*fhirhttp.Response, error) {
	if pc.IG.Data != nil {
		return pc.IG.Data.ReadOnce(pc, pid, typ, id)
	}
	return store(pc.Run, pc.IG.Public).ReadOnce(typ, id, false, func() (*fhirhttp.Response, error) {
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

// NeedPool returns the type's data and the profile's resources, or ends the spec (IG.Data's,
// else the payer data: skip without patients or data, error on tool trouble, fail when the
// server misbehaved while fetching).
func (pc *ProfileCtx) NeedPool() (*TypeData, []map[string]any) {
	GinkgoHelper()
	if pc.IG.Data != nil {
		return pc.IG.Data.NeedPool(pc)
	}
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
		framework.ExpectConformant("fetching "+pc.Res.Type, td.Fail)
	}
	pl := pc.Place(td)
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

// ---- search ----

var checker = &search.Checker{}

// RunSearch sends a GET search with the patient's client and follows the pages; a non-200
// answer is a failure issue, tool trouble an error outcome.
func (pc *ProfileCtx) RunSearch(pid, typ string, q url.Values) (*fhirhttp.Pages, issue.List) {
	GinkgoHelper()
	return pc.runSearch(pid, typ, q, "GET "+typ+"?"+q.Encode())
}

func (pc *ProfileCtx) runSearch(pid, typ string, q url.Values, label string) (*fhirhttp.Pages, issue.List) {
	GinkgoHelper()
	c := pc.ClientFor(pid)
	if c == nil {
		framework.Infra(pc.Run.NoAccess(pid))
	}
	return igdata.Search(pc.Run, c, typ, q, false, label)
}

// periodOf returns the start and end (day precision) of the parameter's first value when it is a
// Period with a start.
func periodOf(ctx context.Context, r map[string]any, p search.Param) (string, string, bool) {
	vs, err := search.FHIRPathEvaluator{}.Eval(ctx, p.Expression, r)
	if err != nil || len(vs) == 0 {
		return "", "", false
	}
	m, ok := vs[0].V.(map[string]any)
	if !ok {
		return "", "", false
	}
	start, _ := m["start"].(string)
	end, _ := m["end"].(string)
	if len(start) < 10 {
		return "", "", false
	}
	if len(end) >= 10 {
		end = end[:10]
	} else {
		end = ""
	}
	return start[:10], end, true
}

func (pc *ProfileCtx) param(name string) *ig.SearchParam {
	if sp := pc.IG.Srv.AnyParam(pc.Res, name); sp != nil && sp.Param.Expression != "" {
		return sp
	}
	// A parameter the CapabilityStatement names without a definition in its package context
	// (PDex's ExplanationOfBenefit insurer is CARIN BB's): any loaded package's definition.
	if set, err := igdata.PackageSet(pc.Run); err == nil {
		for _, r := range set.Global().All("SearchParameter") {
			p, err := search.ParamFromJSON(r.Raw)
			if err != nil || p.Code != name || p.Expression == "" || !strings.Contains(p.Expression, pc.Res.Type+".") {
				continue
			}
			return &ig.SearchParam{Name: name, Type: p.Type, Param: p, Resolved: true}
		}
	}
	return pc.Res.Param(name)
}

func (pc *ProfileCtx) specSearch(combo []string) {
	td, pool := pc.NeedPool()
	ctx := pc.Run.Context()
	type cand struct {
		crit []search.Criterion
		src  map[string]any
		key  string
	}
	var best *cand
	missing := map[string]int{}
	for _, r := range pool {
		cd := &cand{src: r}
		ok := true
		for _, name := range combo {
			sp := pc.param(name)
			if sp == nil || sp.Param.Expression == "" && name != "_id" && name != "patient" {
				framework.SkipBecause(fmt.Sprintf("parameter %s of %s has no definition with an expression in the package set (%s %s)", name, pc.Res.Type, pc.IG.Short, pc.IG.Version),
					"the IG's SearchParameter definitions in the package set")
			}
			var val string
			switch {
			case name == "patient" && pc.Res.Type != "Patient":
				val = td.PatientOf[igdata.ID(r)]
			case name == "_id":
				val = igdata.ID(r)
			default:
				vals := search.SearchValues(ctx, nil, r, sp.Param)
				if len(vals) > 0 {
					val = vals[0]
					if sp.Param.Type == "date" {
						// bracket the source's date, so resources outside it must not match:
						// a Period by ge start (and le end), a date or instant by its day
						cd.key = val
						if start, end, ok := periodOf(ctx, r, sp.Param); ok {
							if end != "" {
								cd.crit = append(cd.crit, search.Criterion{Param: sp.Param, Values: []string{"le" + end}})
							}
							val = "ge" + start
						} else if len(val) >= 10 {
							val = val[:10]
						}
					}
				}
			}
			if val == "" {
				ok = false
				missing[name]++
				break
			}
			cd.crit = append(cd.crit, search.Criterion{Param: sp.Param, Values: []string{val}})
		}
		if !ok {
			continue
		}
		// for a date, search from the latest value, so an ignored date filter shows
		if best == nil || cd.key > best.key {
			best = cd
		}
		if cd.key == "" {
			break
		}
	}
	if best == nil {
		var parts []string
		for _, n := range combo {
			if missing[n] > 0 {
				parts = append(parts, fmt.Sprintf("%s missing in %d", n, missing[n]))
			}
		}
		framework.SkipBecause(fmt.Sprintf("none of the %d %s resource(s) of %s has a value for every parameter of %s: %s",
			len(pool), pc.Prof.ID, pc.Who(), strings.Join(combo, "+"), strings.Join(parts, "; ")),
			fmt.Sprintf("a %s claiming %s with values for %s", pc.Res.Type, pc.Prof.ID, strings.Join(combo, ", ")))
	}
	pid := td.PatientOf[igdata.ID(best.src)]
	q := search.Query(best.crit...)
	// failure messages are PHI-free: string values (names, addresses) are replaced; the
	// evidence keeps the real URL
	var safe []string
	for _, c := range best.crit {
		v := strings.Join(c.Values, ",")
		if c.Param.Type == "string" {
			v = "<text>"
		}
		safe = append(safe, c.Param.Code+"="+v)
	}
	label := "GET " + pc.Res.Type + "?" + strings.Join(safe, "&")
	pages, all := pc.runSearch(pid, pc.Res.Type, q, label)
	if pages != nil {
		matches := pages.Matches()
		framework.Note("search", "%s: %d match(es)", label, len(matches))
		for _, is := range checker.Check(ctx, pc.Res.Type, matches, best.crit) {
			if is.Severity == issue.Error {
				is.Message = label + ": " + is.Message
			}
			all = append(all, is)
		}
		if !slices.Contains(igdata.IDs(matches, pc.Res.Type), igdata.ID(best.src)) {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: "search.missing-match", Path: pc.Res.Type,
				Message: fmt.Sprintf("%s: %s/%s, whose values were searched, is not among the %d match(es)", label, pc.Res.Type, igdata.ID(best.src), len(matches))})
		}
	}
	framework.ExpectConformant("search "+strings.Join(combo, "+"), all)
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

// ---- include / revinclude ----

// includeValue is the _include value: the CapabilityStatement's, prefixed with the type when
// it names only the parameter.
func (pc *ProfileCtx) includeValue(v string) string {
	if !strings.Contains(v, ":") {
		return pc.Res.Type + ":" + v
	}
	return v
}

// includeExprs returns the FHIRPath expressions of an include value (all reference parameters
// of the other includes for the wildcard).
func (pc *ProfileCtx) includeExprs(include string) []string {
	include = pc.includeValue(include)
	parts := strings.Split(include, ":")
	if len(parts) < 2 {
		return nil
	}
	if parts[1] == "*" {
		var out []string
		for _, in := range pc.Res.Includes {
			if !strings.HasSuffix(in.Value, ":*") && in.Value != "*" {
				out = append(out, pc.includeExprs(in.Value)...)
			}
		}
		return out
	}
	if sp := pc.param(parts[1]); sp != nil && sp.Param.Expression != "" {
		return []string{sp.Param.Expression}
	}
	return nil
}

func (pc *ProfileCtx) specInclude(include string) {
	td, pool := pc.NeedPool()
	exprs := pc.includeExprs(include)
	if len(exprs) == 0 {
		framework.SkipBecause(fmt.Sprintf("%s: the parameter has no definition with an expression in the package set, so the referenced resources cannot be predicted", include),
			"the SearchParameter definition in a loaded package (--package)")
	}
	want := map[string]map[string]bool{} // pid -> Type/id
	order := []string{}
	for _, r := range pool {
		pid := td.PatientOf[igdata.ID(r)]
		for _, expr := range exprs {
			vals, err := search.FHIRPathEvaluator{}.Eval(pc.Run.Context(), expr, r)
			if err != nil {
				continue
			}
			for _, v := range vals {
				vm, _ := v.V.(map[string]any)
				if vr, ok := vm["valueReference"].(map[string]any); ok {
					vm = vr // an expression that stops at the extension (Plan-Net's PractitionerRole:network)
				}
				s, _ := vm["reference"].(string)
				t, id := igdata.SplitRef(s)
				if t == "" {
					continue
				}
				if want[pid] == nil {
					want[pid] = map[string]bool{}
					order = append(order, pid)
				}
				want[pid][t+"/"+id] = true
			}
		}
	}
	if len(want) == 0 {
		framework.SkipBecause(fmt.Sprintf("none of the %d %s resource(s) of %s has a literal reference for %s", len(pool), pc.Prof.ID, pc.Who(), include),
			fmt.Sprintf("a %s whose %s element is a literal reference", pc.Res.Type, include))
	}
	var all issue.List
	n := 0
	for _, pid := range order {
		q := url.Values{"_include": {pc.includeValue(include)}}
		if pp := pc.PatientParam(); pp != "" {
			q.Set(pp, pid)
		}
		// restrict to the profile's resources of the patient
		var idl []string
		for _, r := range pool {
			if td.PatientOf[igdata.ID(r)] == pid {
				idl = append(idl, igdata.ID(r))
			}
		}
		q.Set("_id", strings.Join(idl, ","))
		label := "GET " + pc.Res.Type + "?" + q.Encode()
		pages, fails := pc.RunSearch(pid, pc.Res.Type, q)
		all = append(all, fails...)
		if pages == nil {
			continue
		}
		got := map[string]bool{}
		for _, pg := range pages.Pages {
			es, _ := pg.Resource["entry"].([]any)
			for _, e := range es {
				em, _ := e.(map[string]any)
				r, _ := em["resource"].(map[string]any)
				s, _ := em["search"].(map[string]any)
				if r == nil {
					continue
				}
				t, _ := r["resourceType"].(string)
				key := t + "/" + igdata.ID(r)
				// a referenced resource that is itself a match appears once, as the match
				// (Location:partof among the searched Locations)
				if mode, _ := s["mode"].(string); mode == "include" || mode == "match" && want[pid][key] {
					got[key] = true
				}
			}
		}
		var lost, extra []string
		for k := range want[pid] {
			if !got[k] {
				lost = append(lost, k)
			}
		}
		for k := range got {
			if !want[pid][k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(lost)
		sort.Strings(extra)
		n += len(got)
		if len(lost) > 0 {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: "search.include", Path: "_include",
				Message: fmt.Sprintf("%s: %d referenced resource(s) not included (e.g. %s)", label, len(lost), strings.Join(lost[:min(3, len(lost))], ", "))})
		}
		// ExplanationOfBenefit:* may include resources through reference parameters the
		// CapabilityStatement does not list (facility...): only the listed ones are required.
		if len(extra) > 0 && !strings.HasSuffix(include, ":*") && include != "*" {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: "search.include", Path: "_include",
				Message: fmt.Sprintf("%s: %d included resource(s) are not referenced by the matches through %s (e.g. %s)", label, len(extra), include, strings.Join(extra[:min(3, len(extra))], ", "))})
		}
	}
	framework.Note("include", "%d resource(s) included", n)
	framework.ExpectConformant("_include="+include, all)
}

func (pc *ProfileCtx) specRevinclude() {
	td, pool := pc.NeedPool()
	var all issue.List
	found := 0
	var asked []string
	for _, pid := range igdata.Patients(pc.Run) {
		var idl []string
		for _, r := range pool {
			if td.PatientOf[igdata.ID(r)] == pid {
				idl = append(idl, igdata.ID(r))
			}
		}
		if len(idl) == 0 {
			continue
		}
		q := url.Values{pc.PatientParam(): {pid}, "_id": {strings.Join(idl, ",")}, "_revinclude": {"Provenance:target"}}
		asked = append(asked, pc.Res.Type+"?"+q.Encode())
		pages, fails := pc.RunSearch(pid, pc.Res.Type, q)
		all = append(all, fails...)
		if pages == nil {
			continue
		}
		n, stray := igdata.IncludedProvenance(pages, pc.Res.Type)
		found += n
		for _, id := range stray {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: "search.revinclude", Path: "Provenance.target",
				Message: fmt.Sprintf("%s: Provenance/%s was included but targets none of the matches", pc.Res.Type+"?"+q.Encode(), id)})
		}
	}
	if found == 0 && len(all) == 0 {
		all = append(all, issue.Issue{Severity: issue.Error, Rule: "search.revinclude", Path: "_revinclude",
			Message: fmt.Sprintf("no Provenance was included for the %d %s resource(s) of %s (%s): payer-sourced data must carry Provenance",
				len(pool), pc.Prof.ID, pc.Who(), strings.Join(asked, ", "))})
	}
	framework.Note("revinclude", "%d Provenance resource(s) included", found)
	framework.ExpectConformant("_revinclude=Provenance:target", all)
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
