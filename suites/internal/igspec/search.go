package igspec

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/search"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Rules of the issues the search, include and revinclude specs raise besides checks/search's.
const (
	RuleMissingMatch = "search.missing-match"
	RuleBundleType   = "search.bundle-type"
	RuleFormsDiffer  = "search.reference-forms"
	RuleInclude      = "search.include"
	RuleRevinclude   = "search.revinclude"
	maxExamples      = 3
)

var checker = &search.Checker{}

// noSystem is a code system no resource uses: system|code with it must match nothing.
const noSystem = "urn:pacheck:no-such-system"

// Search is one generated search: its parameters and the weakest expectation the
// CapabilityStatement states for them (or for the combination).
type Search struct {
	Params      []string
	Expectation string // SHALL | SHOULD | MAY
}

// Name is the search's section name: the parameters joined by "+".
func (s Search) Name() string { return strings.Join(s.Params, "+") }

// Searches are the profile's searches, from the CapabilityStatement either way (IG.Combinations):
// its SHALL/SHOULD parameters and combinations, or every declared parameter with the patient
// parameter, at the weakest expectation among them.
func (pc *ProfileCtx) Searches() []Search {
	var out []Search
	if pc.IG.Combinations {
		for _, c := range pc.Res.Combos {
			out = append(out, Search{Params: c.Params, Expectation: c.Expectation})
		}
		return out
	}
	for _, c := range pc.perParameter() {
		weakest := "SHALL"
		for _, name := range c {
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
		out = append(out, Search{Params: c, Expectation: weakest})
	}
	return out
}

// SearchIDs are the requirement ids a search cites: by its expectation (Reqs.Search, SearchShould,
// SearchMay), a SHALL search adding those of its parameters' types (Reqs.SearchType), any search
// those of its named parameters (Reqs.SearchParam).
func (pc *ProfileCtx) SearchIDs(s Search) []string {
	r := pc.IG.Reqs
	var ids []string
	switch {
	case s.Expectation == "SHOULD" && r.SearchShould != nil:
		ids = slices.Clone(r.SearchShould)
	case s.Expectation == "MAY" && r.SearchMay != nil:
		ids = slices.Clone(r.SearchMay)
	default:
		ids = slices.Clone(r.Search)
		if s.Expectation != "SHALL" && s.Expectation != "" {
			break
		}
		for _, name := range s.Params {
			if sp := pc.Res.Param(name); sp != nil {
				for _, id := range r.SearchType[sp.Param.Type] {
					if !slices.Contains(ids, id) {
						ids = append(ids, id)
					}
				}
			}
		}
	}
	for _, name := range s.Params {
		for _, id := range r.SearchParam[name] {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return pc.ReqIDs(ids...)
}

// Param is the search parameter of the profile's type: the CapabilityStatement's with its
// definition, else any loaded package's definition of that code for the type (PDex's
// ExplanationOfBenefit insurer is CARIN BB's).
func (pc *ProfileCtx) Param(name string) *ig.SearchParam {
	if sp := pc.IG.Srv.AnyParam(pc.Res, name); sp != nil && sp.Param.Expression != "" {
		return sp
	}
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

// Query is a search built from one source resource's values.
type Query struct {
	Criteria []search.Criterion
	Source   map[string]any
	PID      string // the source's patient
}

// Values are the query's parameters.
func (q *Query) Values() url.Values { return search.Query(q.Criteria...) }

// BuildQuery builds the search for the parameters from the values of one resource of the pool:
// the one with the latest date when a date parameter is searched (so an ignored date filter
// returns earlier resources that fail the check), else the first with a value for every
// parameter. A date, dateTime or instant is searched at its own precision (the narrowest range
// that still contains the resource), a Period by ge its start and le its end. Nil and why when
// no resource has values for every parameter.
func (pc *ProfileCtx) BuildQuery(params []string, td *TypeData, pool []map[string]any) (*Query, string) {
	ctx := pc.Run.Context()
	var best *Query
	var bestKey string
	missing := map[string]int{}
	for _, r := range pool {
		q := &Query{Source: r, PID: td.PatientOf[igdata.ID(r)]}
		key := ""
		ok := true
		for _, name := range params {
			sp := pc.Param(name)
			if sp == nil || sp.Param.Expression == "" && name != "_id" && name != "patient" {
				return nil, fmt.Sprintf("parameter %s of %s has no definition with an expression in the package set (%s %s)", name, pc.Res.Type, pc.IG.Short, pc.IG.Version)
			}
			var val string
			switch {
			case name == "patient" && pc.Res.Type != "Patient":
				val = q.PID
			case name == "_id":
				val = igdata.ID(r)
			default:
				vals := search.SearchValues(ctx, nil, r, sp.Param)
				if len(vals) > 0 {
					val = vals[0]
					if sp.Param.Type == "date" {
						key = val
						if start, end, ok := periodOf(ctx, r, sp.Param); ok {
							if end != "" {
								q.Criteria = append(q.Criteria, search.Criterion{Param: sp.Param, Values: []string{"le" + end}})
							}
							val = "ge" + start
						}
					}
				}
			}
			if val == "" {
				ok = false
				missing[name]++
				break
			}
			q.Criteria = append(q.Criteria, search.Criterion{Param: sp.Param, Values: []string{val}})
		}
		if !ok {
			continue
		}
		if best == nil || key > bestKey {
			best, bestKey = q, key
		}
		if key == "" {
			break
		}
	}
	if best != nil {
		return best, ""
	}
	var parts []string
	for _, name := range params {
		if n := missing[name]; n > 0 {
			expr := ""
			if sp := pc.Param(name); sp != nil {
				expr = sp.Param.Expression
			}
			parts = append(parts, fmt.Sprintf("%s (%s) missing in %d", name, expr, n))
		}
	}
	return nil, fmt.Sprintf("none of the %d %s resource(s) of %s has a value for every parameter of %s: %s",
		len(pool), pc.Prof.ID, pc.Who(), strings.Join(params, "+"), strings.Join(parts, "; "))
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

// Search sends the search (GET, or POST _search) with the patient's client and follows the
// pages. A non-200 first answer, or a page that is not a searchset Bundle, is a failure issue;
// tool trouble ends the spec as an error.
func (pc *ProfileCtx) Search(pid string, q url.Values, post bool) (*fhirhttp.Pages, issue.List) {
	GinkgoHelper()
	c := pc.ClientFor(pid)
	if c == nil {
		framework.Infra(pc.Run.NoAccess(pid))
	}
	label := "GET " + pc.Res.Type + "?" + pc.redactQuery(q)
	if post {
		label = "POST " + pc.Res.Type + "/_search " + pc.redactQuery(q)
	}
	pages, out := igdata.Search(pc.Run, c, pc.Res.Type, q, post, label)
	if pages == nil {
		return nil, out
	}
	for i, pg := range pages.Pages {
		if pg.Resource == nil {
			continue
		}
		if t, _ := pg.Resource["type"].(string); pg.ResourceType() == "Bundle" && t != "searchset" {
			out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleBundleType, Path: "Bundle.type",
				Message: fmt.Sprintf("%s: page %d is a Bundle of type %q, expected searchset", label, i+1, t)})
		}
	}
	return pages, out
}

// redactQuery renders a query for messages with the values of string parameters replaced.
func (pc *ProfileCtx) redactQuery(q url.Values) string {
	cp := url.Values{}
	for k, vs := range q {
		name, _, _ := strings.Cut(k, ":")
		if sp := pc.Res.Param(name); sp != nil && sp.Param.Type == "string" {
			vs = []string{"<text>"}
		}
		cp[k] = vs
	}
	return cp.Encode()
}

// SafeQuery renders criteria for failure messages: string parameters search names and
// addresses, so their values are replaced by a placeholder (the evidence keeps the real URL).
func SafeQuery(cs []search.Criterion) string {
	var parts []string
	for _, c := range cs {
		k := c.Param.Code
		if c.Modifier != "" {
			k += ":" + c.Modifier
		}
		v := strings.Join(c.Values, ",")
		if c.Param.Type == "string" {
			v = "<text>"
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "&")
}

// semanticIssues checks the matches against one criterion and names in each mismatch's rule the
// kind of parameter it breaks: search-semantics:<parameter type>, and for a system|code token
// that the resource would match without its system, search-semantics:token-system (the system
// was ignored, not the code).
func semanticIssues(ctx context.Context, typ string, matches []map[string]any, c search.Criterion) issue.List {
	out := checker.Check(ctx, typ, matches, []search.Criterion{c})
	var codeOnly map[string]bool // paths of the matches that miss the code itself
	if c.Param.Type == "token" && c.Modifier == "" {
		bare := c
		bare.Values = nil
		for _, v := range c.Values {
			if sys, code, ok := strings.Cut(v, "|"); ok && sys != "" {
				bare.Values = append(bare.Values, code)
			}
		}
		if len(bare.Values) == len(c.Values) {
			codeOnly = map[string]bool{}
			for _, is := range checker.Check(ctx, typ, matches, []search.Criterion{bare}) {
				codeOnly[is.Path] = true
			}
		}
	}
	for i := range out {
		if out[i].Rule != search.Rule {
			continue
		}
		out[i].Rule = search.Rule + ":" + c.Param.Type
		if codeOnly != nil && !codeOnly[out[i].Path] {
			out[i].Rule = search.Rule + ":token-system"
		}
	}
	return out
}

// CheckResult checks every match against the criteria and that the source resource (sourceID,
// "" for none) came back.
func (pc *ProfileCtx) CheckResult(pages *fhirhttp.Pages, criteria []search.Criterion, sourceID, label string) issue.List {
	matches := pages.Matches()
	var out issue.List
	for _, c := range criteria {
		out = append(out, semanticIssues(pc.Run.Context(), pc.Res.Type, matches, c)...)
	}
	for i := range out {
		if out[i].Severity == issue.Error {
			out[i].Message = label + ": " + out[i].Message
		}
	}
	if sourceID != "" && !slices.Contains(igdata.IDs(matches, pc.Res.Type), sourceID) {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleMissingMatch, Path: pc.Res.Type,
			Message: fmt.Sprintf("%s: %s/%s, whose values were searched, is not among the %d match(es)", label, pc.Res.Type, sourceID, len(igdata.IDs(matches, pc.Res.Type)))})
	}
	return out
}

// SpecSearch sends the search built from a resource of the profile's pool and checks that every
// match meets each criterion and that the resource came back; with IG.Variants, also each
// variant of each criterion.
func (pc *ProfileCtx) SpecSearch(s Search) {
	td, pool := pc.NeedPool()
	q, why := pc.BuildQuery(s.Params, td, pool)
	if q == nil {
		framework.SkipBecause(why, fmt.Sprintf("a %s claiming %s with values for %s", pc.Res.Type, pc.Prof.ID, strings.Join(s.Params, ", ")))
	}
	source := igdata.ID(q.Source)
	label := "GET " + pc.Res.Type + "?" + SafeQuery(q.Criteria)
	pages, all := pc.Search(q.PID, q.Values(), false)
	if pages != nil {
		framework.Note("search", "%s: %d match(es)", label, len(pages.Matches()))
		all = append(all, pc.CheckResult(pages, q.Criteria, source, label)...)
	}
	if pc.IG.Variants {
		for i, cr := range q.Criteria {
			for _, v := range pc.variants(cr) {
				crit := slices.Clone(q.Criteria)
				crit[i] = v
				vlabel := "GET " + pc.Res.Type + "?" + SafeQuery(crit)
				vp, vf := pc.Search(q.PID, search.Query(crit...), false)
				all = append(all, vf...)
				want := source
				if strings.HasPrefix(v.Values[0], noSystem) {
					want = "" // a system no code has: nothing may match, nothing must
				}
				if vp == nil {
					continue
				}
				all = append(all, pc.CheckResult(vp, crit, want, vlabel)...)
				if cr.Param.Type == "reference" && pages != nil {
					a, b := igdata.IDs(pages.Matches(), pc.Res.Type), igdata.IDs(vp.Matches(), pc.Res.Type)
					if !slices.Equal(a, b) {
						all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleFormsDiffer, Path: cr.Param.Code,
							Message: fmt.Sprintf("%s returned %d match(es) but %s returned %d: both reference forms must find the same resources", label, len(a), vlabel, len(b))})
					}
				}
			}
		}
	}
	framework.ExpectConformant("search "+s.Name(), all)
}

// variants returns the alternative criteria a search also sends for one criterion: the other
// reference form, the token code alone and with a system no code has, and each date comparator
// the CapabilityStatement makes SHALL around the searched day.
func (pc *ProfileCtx) variants(cr search.Criterion) []search.Criterion {
	v := cr.Values[0]
	var out []search.Criterion
	with := func(val string) search.Criterion {
		return search.Criterion{Param: cr.Param, Modifier: cr.Modifier, Values: []string{val}}
	}
	switch cr.Param.Type {
	case "reference":
		if strings.Contains(v, "://") {
			break // an absolute URL or canonical has one form
		}
		if t, id, ok := strings.Cut(v, "/"); ok && t != "" {
			out = append(out, with(id))
		} else if len(cr.Param.Targets) > 0 {
			out = append(out, with(cr.Param.Targets[0]+"/"+v))
		} else if cr.Param.Code == "patient" {
			out = append(out, with("Patient/"+v))
		}
	case "token":
		if _, code, ok := strings.Cut(v, "|"); ok && code != "" && cr.Param.Code != "_id" {
			out = append(out, with(code), with(noSystem+"|"+code))
		}
	case "date":
		sp := pc.Res.Param(cr.Param.Code)
		if sp == nil {
			break
		}
		_, rest := splitComparator(v)
		day, ok := dayOf(rest)
		if !ok {
			break
		}
		for _, cmp := range []string{"gt", "ge", "lt", "le"} {
			if sp.Comparators[cmp] != "SHALL" {
				continue
			}
			switch cmp {
			case "gt":
				out = append(out, with("gt"+day.AddDate(0, 0, -2).Format("2006-01-02")))
			case "lt":
				out = append(out, with("lt"+day.AddDate(0, 0, 2).Format("2006-01-02")))
			case "ge":
				out = append(out, with("ge"+day.AddDate(0, 0, -1).Format("2006-01-02")))
			case "le":
				if !strings.HasPrefix(v, "ge") { // an open Period may reach past any le value
					out = append(out, with("le"+day.AddDate(0, 0, 1).Format("2006-01-02")))
				}
			}
		}
	}
	return out
}

func splitComparator(v string) (string, string) {
	if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' && v[1] >= 'a' && v[1] <= 'z' {
		return v[:2], v[2:]
	}
	return "", v
}

func dayOf(s string) (time.Time, bool) {
	if len(s) < 10 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s[:10])
	return t, err == nil
}

// ---- include / revinclude ----

// tested reports whether an _include or _revinclude the CapabilityStatement lists is tested: a
// SHALL or SHOULD one (an entry without an expectation takes its resource's).
func tested(e ig.Expect) bool { return e.Expectation == "SHALL" || e.Expectation == "SHOULD" }

// includeSpecs declares one spec per tested _include of the resource type.
func (pc *ProfileCtx) includeSpecs() {
	r := pc.IG.Reqs
	if r.Include == nil && r.IncludeParam == nil {
		return
	}
	for _, in := range pc.Res.Includes {
		if !tested(in) {
			continue
		}
		_, name, _ := pc.includeParts(in.Value)
		if sp := pc.Res.Param(name); sp != nil && pc.searchedElsewhere(sp) {
			continue // the referencing element is another profile's (see perParameter)
		}
		var ids []string
		switch {
		case r.IncludeParam[name] != nil:
			ids = pc.ReqIDs(r.IncludeParam[name]...)
		case in.Expectation != "SHALL" && r.IncludeShould != nil:
			ids = r.IncludeShould
		default:
			ids = pc.ReqIDs(r.Include...)
		}
		pc.Spec("include/"+strings.ReplaceAll(in.Value, ":", "-"), ids, func() { pc.SpecInclude(in.Value) })
	}
}

// includeParts splits an include the CapabilityStatement lists (param, Type:param or
// Type:param:Target) into its full value, its parameter and its target type ("" for any).
func (pc *ProfileCtx) includeParts(v string) (value, param, target string) {
	if !strings.Contains(v, ":") {
		return pc.Res.Type + ":" + v, v, ""
	}
	parts := strings.Split(v, ":")
	if parts[0] != pc.Res.Type {
		return v, parts[0], "" // a bare param:Target is not a form FHIR defines; taken as the param
	}
	if len(parts) >= 3 {
		target = parts[2]
	}
	return v, parts[1], target
}

// includeExprs returns the FHIRPath expressions of an include's parameter (for the wildcard, of
// every other include the CapabilityStatement lists).
func (pc *ProfileCtx) includeExprs(include string) []string {
	_, name, _ := pc.includeParts(include)
	if name == "*" {
		var out []string
		for _, in := range pc.Res.Includes {
			if _, n, _ := pc.includeParts(in.Value); n != "*" {
				out = append(out, pc.includeExprs(in.Value)...)
			}
		}
		return out
	}
	if sp := pc.Param(name); sp != nil && sp.Param.Expression != "" {
		return []string{sp.Param.Expression}
	}
	return nil
}

// SpecInclude searches the profile's resources with the _include and checks that every resource
// they reference through the parameter (of the :Target type, when the include names one) is in
// the Bundle. Included resources beyond those are not judged: FHIR R4 does not forbid them.
func (pc *ProfileCtx) SpecInclude(include string) {
	td, pool := pc.NeedPool()
	value, name, target := pc.includeParts(include)
	exprs := pc.includeExprs(include)
	if len(exprs) == 0 {
		framework.SkipBecause(fmt.Sprintf("%s: parameter %s has no definition with an expression in the package set, so the referenced resources cannot be predicted", include, name),
			"the SearchParameter definition in a loaded package (--package)")
	}
	want := map[string]map[string]bool{} // pid -> Type/id
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
				if t == "" || target != "" && t != target {
					continue
				}
				if want[pid] == nil {
					want[pid] = map[string]bool{}
				}
				want[pid][t+"/"+id] = true
			}
		}
	}
	if len(want) == 0 {
		what := "a literal reference"
		if target != "" {
			what = "a literal reference to a " + target
		}
		framework.SkipBecause(fmt.Sprintf("none of the %d %s resource(s) of %s has %s for %s", len(pool), pc.Prof.ID, pc.Who(), what, include),
			fmt.Sprintf("a %s whose %s element is %s", pc.Res.Type, name, what))
	}
	pids := make([]string, 0, len(want))
	for pid := range want {
		pids = append(pids, pid)
	}
	sort.Strings(pids)
	var all issue.List
	n := 0
	pp := pc.PatientParam()
	for _, pid := range pids {
		// the patient's resources of the type; a type searched by no patient parameter, by the
		// pool's ids
		q := url.Values{"_include": {value}}
		if pp != "" && pid != "" {
			q.Set(pp, td.PatientParamValue(pid))
		} else {
			var idl []string
			for _, r := range pool {
				if td.PatientOf[igdata.ID(r)] == pid {
					idl = append(idl, igdata.ID(r))
				}
			}
			q.Set("_id", strings.Join(idl, ","))
		}
		pages, fails := pc.Search(pid, q, false)
		all = append(all, fails...)
		if pages == nil {
			continue
		}
		got := map[string]bool{}
		for _, r := range pages.Entries {
			t, _ := r["resourceType"].(string)
			got[t+"/"+igdata.ID(r)] = true
		}
		n += len(pages.Entries) - len(pages.Matches())
		var lost []string
		for ref := range want[pid] {
			if !got[ref] {
				lost = append(lost, ref)
			}
		}
		sort.Strings(lost)
		if len(lost) > 0 {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleInclude, Path: "_include",
				Message: fmt.Sprintf("%s?%s: %d referenced resource(s) not included, e.g. %s", pc.Res.Type, pc.redactQuery(q), len(lost), strings.Join(lost[:min(len(lost), maxExamples)], ", "))})
		}
	}
	framework.Note("include", "%d resource(s) included", n)
	framework.ExpectConformant("_include="+include, all)
}

// revincludeSpecs declares the _revinclude=Provenance:target spec when the CapabilityStatement
// lists it for a type searched by patient. An entry without an expectation takes its resource's
// (US Core 3.1.1 states none on searchRevInclude; its narrative makes each one SHALL: "A Server
// SHALL be capable of supporting the following _revincludes: Provenance:target").
func (pc *ProfileCtx) revincludeSpecs() {
	g := pc.IG
	if g.Reqs.Revinclude == nil || pc.PatientParam() == "" {
		return
	}
	for _, ri := range pc.Res.RevIncludes {
		if ri.Value != "Provenance:target" || !tested(ri) {
			continue
		}
		ids := pc.ReqIDs(g.Reqs.Revinclude...)
		if ri.Expectation != "SHALL" && g.Reqs.RevincludeShould != nil {
			ids = g.Reqs.RevincludeShould
		}
		pc.Spec("revinclude/provenance", ids, pc.SpecRevinclude)
	}
}

// SpecRevinclude searches each patient's resources of the type with
// _revinclude=Provenance:target: every included Provenance must target a match, and when none
// comes back the spec fails only if Provenance?target= shows the server holds Provenance for one
// of the profile's resources; otherwise it skips (no IG makes Provenance mandatory for every
// resource: PDex and US Core say SHOULD).
func (pc *ProfileCtx) SpecRevinclude() {
	td, pool := pc.NeedPool()
	pp := pc.PatientParam()
	var all issue.List
	found := 0
	var asked []string
	for _, pid := range igdata.Patients(pc.Run) {
		if len(td.ByPatient[pid]) == 0 {
			continue
		}
		q := url.Values{pp: {td.PatientParamValue(pid)}, "_revinclude": {"Provenance:target"}}
		asked = append(asked, pc.Res.Type+"?"+q.Encode())
		pages, fails := pc.Search(pid, q, false)
		all = append(all, fails...)
		if pages == nil {
			continue
		}
		n, stray := igdata.IncludedProvenance(pages, pc.Res.Type)
		found += n
		for _, id := range stray {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleRevinclude, Path: "Provenance.target",
				Message: fmt.Sprintf("%s?%s: Provenance/%s was included but targets none of the matched %s resources", pc.Res.Type, q.Encode(), id, pc.Res.Type)})
		}
	}
	if found == 0 && len(all) == 0 {
		// Does the server hold Provenance for these resources at all?
		for i, r := range pool {
			if i >= 5 {
				break
			}
			pid := td.PatientOf[igdata.ID(r)]
			c := pc.ClientFor(pid)
			if c == nil {
				framework.Infra(pc.Run.NoAccess(pid))
			}
			ctx, cancel := pc.Run.Ctx()
			resp, err := c.Search(ctx, "Provenance", url.Values{"target": {pc.Res.Type + "/" + igdata.ID(r)}})
			cancel()
			if err != nil {
				framework.Infra(err)
			}
			if resp.Status == http.StatusOK && len(fhirhttp.Entries(resp.Resource)) > 0 {
				all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleRevinclude, Path: "_revinclude",
					Message: fmt.Sprintf("Provenance?target=%s/%s finds Provenance, but %s returned none with _revinclude=Provenance:target", pc.Res.Type, igdata.ID(r), strings.Join(asked, ", "))})
				break
			}
		}
		if len(all) == 0 {
			framework.SkipBecause(fmt.Sprintf("no Provenance targets the %s resources of %s (%s returned none, and Provenance?target= found none)",
				pc.Res.Type, pc.Who(), strings.Join(asked, ", ")),
				fmt.Sprintf("a Provenance whose target is a %s of a tested member", pc.Res.Type))
		}
	}
	framework.Note("revinclude", "%d Provenance resource(s) included", found)
	framework.ExpectConformant("_revinclude=Provenance:target", all)
}

// SpecRevincludeRefs searches the profile's resources by _id with _revinclude=Source:param and
// checks the answer includes exactly the fetched Source resources that reference them through
// param (any revinclude of the CapabilityStatement, for types searched without a patient, e.g.
// Plan-Net's directory; SpecRevinclude is the patient-scoped Provenance:target one).
func (pc *ProfileCtx) SpecRevincludeRefs(value string) {
	_, pool := pc.NeedPool()
	srcType, name, ok := strings.Cut(value, ":")
	name, _, _ = strings.Cut(name, ":")
	src := pc.IG.Srv.Resource(srcType)
	var sp *ig.SearchParam
	if ok && src != nil {
		sp = pc.IG.Srv.AnyParam(src, name)
	}
	if sp == nil || sp.Param.Expression == "" {
		framework.SkipBecause(fmt.Sprintf("_revinclude=%s: %s has no definition with an expression in the package set, so the referencing resources cannot be predicted", value, name),
			"the SearchParameter definition in a loaded package (--package)")
	}
	ids := map[string]bool{}
	var idl []string
	for _, r := range pool {
		ids[pc.Res.Type+"/"+igdata.ID(r)] = true
		idl = append(idl, igdata.ID(r))
	}
	sources := pc.Fetch(srcType)
	if sources.Err != nil {
		framework.Infra(sources.Err)
	}
	want := map[string]bool{}
	for _, r := range sources.Resources {
		vals, err := search.FHIRPathEvaluator{}.Eval(pc.Run.Context(), sp.Param.Expression, r)
		if err != nil {
			continue
		}
		for _, v := range vals {
			vm, _ := v.V.(map[string]any)
			if vr, ok := vm["valueReference"].(map[string]any); ok {
				vm = vr
			}
			s, _ := vm["reference"].(string)
			if t, id := igdata.SplitRef(s); t != "" && ids[t+"/"+id] {
				want[srcType+"/"+igdata.ID(r)] = true
			}
		}
	}
	if len(want) == 0 {
		framework.SkipBecause(fmt.Sprintf("none of the %d %s resource(s) found references a %s of the directory through %s", len(sources.Resources), srcType, pc.Prof.ID, name),
			fmt.Sprintf("a %s whose %s references a %s", srcType, name, pc.Prof.ID))
	}
	q := url.Values{"_id": {strings.Join(idl, ",")}, "_revinclude": {value}}
	label := "GET " + pc.Res.Type + "?" + q.Encode()
	pages, all := pc.Search("", q, false)
	if pages != nil {
		got := map[string]bool{}
		for _, pg := range pages.Pages {
			es, _ := pg.Resource["entry"].([]any)
			for _, e := range es {
				em, _ := e.(map[string]any)
				r, _ := em["resource"].(map[string]any)
				s, _ := em["search"].(map[string]any)
				if mode, _ := s["mode"].(string); mode == "include" && r != nil && r["resourceType"] == srcType {
					got[srcType+"/"+igdata.ID(r)] = true
				}
			}
		}
		var lost, extra []string
		for k := range want {
			if !got[k] {
				lost = append(lost, k)
			}
		}
		for k := range got {
			if !want[k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(lost)
		sort.Strings(extra)
		if len(lost) > 0 {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleRevinclude, Path: "_revinclude",
				Message: fmt.Sprintf("%s: %d referencing %s not included (e.g. %s)", label, len(lost), srcType, strings.Join(lost[:min(3, len(lost))], ", "))})
		}
		if len(extra) > 0 {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleRevinclude, Path: "_revinclude",
				Message: fmt.Sprintf("%s: %d included %s do not reference the matches through %s (e.g. %s)", label, len(extra), srcType, name, strings.Join(extra[:min(3, len(extra))], ", "))})
		}
		framework.Note("revinclude", "%d of %d referencing %s included", len(got), len(want), srcType)
	}
	framework.ExpectConformant("_revinclude="+value, all)
}
