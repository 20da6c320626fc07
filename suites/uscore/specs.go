package uscore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/search"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/igspec"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Rules of the issues the specs raise besides checks/search's.
const (
	RuleSearchStatus  = igdata.RuleSearchStatus
	RuleMissingMatch  = "search.missing-match"
	RuleSearchType    = "search.bundle-type"
	RuleFormsDiffer   = "search.reference-forms"
	RulePostDiffers   = "search.post"
	RulePagingLost    = "search.paging.lost"
	RulePagingTotal   = "search.paging.total"
	RuleRead          = igdata.RuleRead
	RuleMustSupport   = igdata.RuleMustSupport
	RuleRefResolve    = "reference.resolve"
	RuleRefTarget     = "reference.target"
	RuleRevinclude    = "search.revinclude"
	RuleInclude       = "search.include"
	searchMaxExamples = 3
)

var checker = &search.Checker{}

// noSystem is a code system no resource uses: system|code with it must match nothing.
const noSystem = "urn:pacheck:no-such-system"

// needPool returns the type's data and the profile's resources, or ends the spec: skip without
// patients or data, error on tool trouble, fail when the server misbehaved while fetching.
func needPool(pc *igspec.ProfileCtx) (*igdata.TypeData, []map[string]any) {
	GinkgoHelper()
	if len(igdata.Patients(pc.Run)) == 0 {
		framework.SkipBecause("no patient id is configured for the run, so no US Core data can be searched",
			"one or more patient ids (patients in the run configuration, or the SMART launch patient)")
	}
	td := fetchType(pc.Run, pc.IG.Srv, pc.Res.Type)
	if td.Err != nil {
		framework.Infra(td.Err)
	}
	if len(td.Fail) > 0 {
		// Paging trouble while fetching is the paging spec's finding (uscore.search.paging,
		// paging-terminates); the other specs of the type are blocked by it instead of failing
		// their own requirements for it.
		if id := pagingSpecID(pc); id != "" && CurrentSpecReport().LeafNodeText != "paging" && allPaging(td.Fail) {
			framework.Block(evidence.Blocked{Cause: id, Reason: fmt.Sprintf("paging through the %s search failed: %s", pc.Res.Type, td.Fail[0].Rule)})
		}
		framework.ExpectConformant("fetching "+pc.Res.Type, td.Fail)
	}
	pl := place(pc.Prof, td)
	if len(pl.Pool) == 0 {
		skipNoPool(pc, td)
	}
	framework.Note("data", "%d %s resource(s) of %s found by %s; placed by %s", len(pl.Pool), pc.Prof.ID, igdata.DescribePatients(pc.Run), strings.Join(td.Queries, ", "), pl.Note())
	return td, pl.Pool
}

// pagingSpecID is the id of the paging spec of the profile ("" when it has none).
func pagingSpecID(pc *igspec.ProfileCtx) string {
	if pc.IG.Srv.PatientParam(pc.Res) == "" {
		return ""
	}
	return "uscore-" + pc.IG.Srv.Version + "/" + pc.Prof.ID + "/paging"
}

// allPaging reports whether every issue is about paging (search.paging.*).
func allPaging(l issue.List) bool {
	for _, is := range l {
		if !strings.HasPrefix(is.Rule, "search.paging.") {
			return false
		}
	}
	return len(l) > 0
}

// comboQuery is a search built from one source resource's values.
type comboQuery struct {
	criteria []search.Criterion
	source   map[string]any
	pid      string
}

func (q *comboQuery) values() url.Values { return search.Query(q.criteria...) }

// buildCombo finds the first resource of the pool that has a value for every parameter of the
// combination and builds the search from its values. why explains a failure to find one.
func buildCombo(pc *igspec.ProfileCtx, c ig.Combo, td *igdata.TypeData, pool []map[string]any) (*comboQuery, string) {
	ctx := pc.Run.Context()
	missing := map[string]int{}
	for _, r := range pool {
		q := &comboQuery{source: r, pid: td.PatientOf[igdata.ID(r)]}
		ok := true
		for _, name := range c.Params {
			sp := pc.Res.Param(name)
			if sp == nil {
				return nil, fmt.Sprintf("the combination names %s, which the %s entry of the CapabilityStatement does not declare", name, pc.Res.Type)
			}
			var val string
			switch {
			case name == "patient" && pc.Res.Type != "Patient":
				val = q.pid
			case name == "_id":
				val = igdata.ID(r)
			default:
				vals := search.SearchValues(ctx, nil, r, sp.Param)
				if len(vals) > 0 {
					val = vals[0]
					if sp.Param.Type == "date" && isPeriodValue(ctx, r, sp.Param) {
						val = "ge" + val
					}
				}
			}
			if val == "" {
				ok = false
				missing[name]++
				break
			}
			q.criteria = append(q.criteria, search.Criterion{Param: sp.Param, Values: []string{val}})
		}
		if ok {
			return q, ""
		}
	}
	var parts []string
	for _, name := range c.Params {
		if n := missing[name]; n > 0 {
			expr := ""
			if sp := pc.Res.Param(name); sp != nil {
				expr = sp.Param.Expression
			}
			parts = append(parts, fmt.Sprintf("%s (%s) missing in %d", name, expr, n))
		}
	}
	return nil, fmt.Sprintf("none of the %d %s resource(s) of %s has a value for every parameter of %s: %s",
		len(pool), pc.Prof.ID, igdata.DescribePatients(pc.Run), c.Name(), strings.Join(parts, "; "))
}

// isPeriodValue reports whether the first value of a date parameter is a Period (searched with ge).
func isPeriodValue(ctx context.Context, r map[string]any, p search.Param) bool {
	vs, err := search.FHIRPathEvaluator{}.Eval(ctx, p.Expression, r)
	if err != nil || len(vs) == 0 {
		return false
	}
	if m, ok := vs[0].V.(map[string]any); ok {
		_, s := m["start"]
		_, e := m["end"]
		return s || e || vs[0].Type == "Period" || vs[0].Type == "Timing"
	}
	return false
}

// runSearch sends the search (GET, or POST _search) with the patient's client and follows the
// pages. A non-200 first answer is a failure issue; tool trouble ends the spec as an error.
func runSearch(pc *igspec.ProfileCtx, pid string, q url.Values, post bool) (*fhirhttp.Pages, issue.List) {
	GinkgoHelper()
	c := clientFor(pc.Run, pid)
	if c == nil {
		framework.Infra(pc.Run.NoAccess(pid))
	}
	label := "GET " + pc.Res.Type + "?" + redactQuery(pc, q)
	if post {
		label = "POST " + pc.Res.Type + "/_search " + redactQuery(pc, q)
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
			out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleSearchType, Path: "Bundle.type",
				Message: fmt.Sprintf("%s: page %d is a Bundle of type %q, expected searchset", label, i+1, t)})
		}
	}
	return pages, out
}

// semanticIssues checks the matches against one criterion and names in each mismatch's rule the
// search requirement it breaks: search-semantics:<parameter type>, and for a system|code token
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

// checkResult checks every match against the criteria and that the source resource came back.
func checkResult(pc *igspec.ProfileCtx, pages *fhirhttp.Pages, criteria []search.Criterion, sourceID, label string) issue.List {
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

func specSearch(pc *igspec.ProfileCtx, c ig.Combo) {
	td, pool := needPool(pc)
	q, why := buildCombo(pc, c, td, pool)
	if q == nil {
		framework.SkipBecause(why, fmt.Sprintf("a %s record (claiming %s) with values for %s", pc.Res.Type, pc.Prof.ID, strings.Join(c.Params, ", ")))
	}
	source := igdata.ID(q.source)
	var all issue.List
	label := "GET " + pc.Res.Type + "?" + safeQuery(q.criteria)
	pages, fails := runSearch(pc, q.pid, q.values(), false)
	all = append(all, fails...)
	if pages != nil {
		framework.Note("search", "%s: %d match(es)", label, len(pages.Matches()))
		all = append(all, checkResult(pc, pages, q.criteria, source, label)...)
	}
	// Variants: the other reference form, a token without its system, and the SHALL comparators
	// of date parameters, each of which must still find the source resource.
	for i, cr := range q.criteria {
		for _, v := range variants(pc, cr, q.source) {
			crit := slices.Clone(q.criteria)
			crit[i] = v
			vq := search.Query(crit...)
			vlabel := "GET " + pc.Res.Type + "?" + safeQuery(crit)
			vp, vf := runSearch(pc, q.pid, vq, false)
			all = append(all, vf...)
			want := source
			if strings.HasPrefix(v.Values[0], noSystem) {
				want = "" // a system no code has: nothing may match, nothing must
			}
			if vp != nil {
				all = append(all, checkResult(pc, vp, crit, want, vlabel)...)
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
	framework.ExpectConformant("search "+c.Name(), all)
}

// redactQuery renders a query for messages with the values of string parameters replaced.
func redactQuery(pc *igspec.ProfileCtx, q url.Values) string {
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

// safeQuery renders criteria for failure messages: string parameters search names and
// addresses, so their values are replaced by a placeholder (the evidence keeps the real URL).
func safeQuery(cs []search.Criterion) string {
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

// variants returns the alternative criteria the search spec also sends for one criterion.
func variants(pc *igspec.ProfileCtx, cr search.Criterion, source map[string]any) []search.Criterion {
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

func specMultipleOr(pc *igspec.ProfileCtx, sp *ig.SearchParam) {
	td, pool := needPool(pc)
	// The values present in the data, then a code of the element's value set as the other value.
	var src map[string]any
	var first string
	seen := map[string]bool{}
	var vals []string
	for _, r := range pool {
		for _, v := range search.SearchValues(pc.Run.Context(), nil, r, sp.Param) {
			if !seen[v] {
				seen[v] = true
				vals = append(vals, v)
				if src == nil {
					src, first = r, v
				}
			}
		}
	}
	if src == nil {
		framework.SkipBecause(fmt.Sprintf("none of the %d %s resource(s) of %s has a value for %s (%s)", len(pool), pc.Prof.ID, igdata.DescribePatients(pc.Run), sp.Name, sp.Param.Expression),
			fmt.Sprintf("a %s record with %s", pc.Res.Type, sp.Param.Expression))
	}
	pid := td.PatientOf[igdata.ID(src)]
	// values of resources of the same patient
	var others []string
	for _, r := range td.ByPatient[pid] {
		for _, v := range search.SearchValues(pc.Run.Context(), nil, r, sp.Param) {
			if v != first && !slices.Contains(others, v) {
				others = append(others, v)
			}
		}
	}
	if len(others) == 0 {
		others = append(others, otherCode(pc, sp, first))
	}
	orVals := append([]string{first}, others[:min(2, len(others))]...)
	crit := []search.Criterion{{Param: sp.Param, Values: orVals}}
	if pp := pc.IG.Srv.PatientParam(pc.Res); pp != "" && pp != sp.Name {
		psp := pc.IG.Srv.AnyParam(pc.Res, pp)
		if psp == nil {
			psp = &ig.SearchParam{Param: search.Param{Code: pp, Type: "reference"}}
		}
		crit = append([]search.Criterion{{Param: psp.Param, Values: []string{pid}}}, crit...)
	}
	q := search.Query(crit...)
	label := "GET " + pc.Res.Type + "?" + q.Encode()
	pages, fails := runSearch(pc, pid, q, false)
	all := fails
	if pages != nil {
		all = append(all, checkResult(pc, pages, crit, igdata.ID(src), label)...)
		// every resource of the patient with any of the values must be found
		want := map[string]bool{}
		for _, r := range td.ByPatient[pid] {
			for _, v := range search.SearchValues(pc.Run.Context(), nil, r, sp.Param) {
				if slices.Contains(orVals, v) {
					want[igdata.ID(r)] = true
				}
			}
		}
		got := igdata.IDs(pages.Matches(), pc.Res.Type)
		for id := range want {
			if !slices.Contains(got, id) {
				all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleMissingMatch, Path: sp.Name,
					Message: fmt.Sprintf("%s: %s/%s has one of the values but is not among the matches", label, pc.Res.Type, id)})
			}
		}
	}
	framework.ExpectConformant("multiple-or "+sp.Name, all)
}

// otherCode returns a code of the parameter's element binding other than v (the value set's first
// listed code), or "entered-in-error" as a last resort: a value the search must accept.
func otherCode(pc *igspec.ProfileCtx, sp *ig.SearchParam, v string) string {
	path := strings.TrimSpace(sp.Param.Expression)
	snap, _ := pc.Prof.Raw["snapshot"].(map[string]any)
	els, _ := snap["element"].([]any)
	for _, e := range els {
		em, _ := e.(map[string]any)
		if p, _ := em["path"].(string); p != path {
			continue
		}
		b, _ := em["binding"].(map[string]any)
		vsURL, _ := b["valueSet"].(string)
		if vsURL == "" {
			break
		}
		if r, ok := pc.IG.Srv.Ctx.ResolveType("ValueSet", vsURL); ok {
			var vs map[string]any
			if json.Unmarshal(r.Raw, &vs) == nil {
				for _, code := range valueSetCodes(pc, vs) {
					if code != v && !strings.HasSuffix(v, "|"+code) {
						return code
					}
				}
			}
		}
	}
	return "entered-in-error"
}

func valueSetCodes(pc *igspec.ProfileCtx, vs map[string]any) []string {
	var out []string
	comp, _ := vs["compose"].(map[string]any)
	inc, _ := comp["include"].([]any)
	for _, x := range inc {
		im, _ := x.(map[string]any)
		if cs, ok := im["concept"].([]any); ok {
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				if code, _ := cm["code"].(string); code != "" {
					out = append(out, code)
				}
			}
			continue
		}
		sys, _ := im["system"].(string)
		if r, ok := pc.IG.Srv.Ctx.ResolveType("CodeSystem", sys); ok {
			var cs map[string]any
			if json.Unmarshal(r.Raw, &cs) == nil {
				concepts, _ := cs["concept"].([]any)
				for _, c := range concepts {
					cm, _ := c.(map[string]any)
					if code, _ := cm["code"].(string); code != "" {
						out = append(out, code)
					}
				}
			}
		}
	}
	return out
}

func specPost(pc *igspec.ProfileCtx, c ig.Combo) {
	td, pool := needPool(pc)
	q, why := buildCombo(pc, c, td, pool)
	if q == nil {
		framework.SkipBecause(why, fmt.Sprintf("a %s record (claiming %s) with values for %s", pc.Res.Type, pc.Prof.ID, strings.Join(c.Params, ", ")))
	}
	get, gf := runSearch(pc, q.pid, q.values(), false)
	post, pf := runSearch(pc, q.pid, q.values(), true)
	all := append(gf, pf...)
	if get != nil && post != nil {
		a, b := igdata.IDs(get.Matches(), pc.Res.Type), igdata.IDs(post.Matches(), pc.Res.Type)
		if !slices.Equal(a, b) {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: RulePostDiffers, Path: pc.Res.Type,
				Message: fmt.Sprintf("POST %s/_search %s returned %d match(es), GET returned %d: they must return the same resources", pc.Res.Type, safeQuery(q.criteria), len(b), len(a))})
		}
	}
	// Only the equality is POST's: whether the matches meet the criteria is the GET search
	// spec's judgement (the same search), so a search defect fails that spec's requirement once.
	framework.ExpectConformant("POST _search", all)
}

// pagingResult is memoized per resource type: every profile of the type shares the verdict.
type pagingResult struct {
	skip, enable string
	issues       issue.List
	note         string
	infra        error // no answer to judge (a transport error): the spec errors, it does not fail
}

func specPaging(pc *igspec.ProfileCtx) {
	td, _ := needPool(pc)
	r := igdata.Memo(store(pc.Run), "paging:"+pc.Res.Type, func() *pagingResult { return paging(pc, td) })
	if r.skip != "" {
		framework.SkipBecause(r.skip, r.enable)
	}
	if r.infra != nil {
		framework.Infra(r.infra)
	}
	framework.Note("paging", "%s", r.note)
	framework.ExpectConformant("paging", r.issues)
}

func paging(pc *igspec.ProfileCtx, td *igdata.TypeData) *pagingResult {
	if td.Indirect {
		return &pagingResult{skip: fmt.Sprintf("the %s resources of %s were found only through _revinclude (%s found none), so there is no patient search to page through",
			pc.Res.Type, igdata.DescribePatients(pc.Run), pc.Res.Type+"?"+pc.IG.Srv.PatientParam(pc.Res)+"="),
			enable: fmt.Sprintf("%s resources the server returns for %s?%s=<patient>", pc.Res.Type, pc.Res.Type, pc.IG.Srv.PatientParam(pc.Res))}
	}
	// the patient with the most resources of the type
	best, n := "", 0
	for _, pid := range igdata.Patients(pc.Run) {
		if len(td.ByPatient[pid]) > n {
			best, n = pid, len(td.ByPatient[pid])
		}
	}
	if n < 2 && pc.Res.Type == "Patient" {
		return &pagingResult{skip: fmt.Sprintf("a search for Patient by %s finds one Patient per member (%s), so there is nothing to page through", pc.IG.Srv.PatientParam(pc.Res), igdata.DescribePatients(pc.Run)),
			enable: "access that opens two or more Patient records in one search (e.g. a proxy for several members)"}
	}
	if n < 2 {
		return &pagingResult{skip: fmt.Sprintf("paging needs a patient with at least 2 %s resources; %s have at most %d", pc.Res.Type, igdata.DescribePatients(pc.Run), n),
			enable: fmt.Sprintf("a member with two or more %s resources", pc.Res.Type)}
	}
	count := (n + 2) / 3 // about three pages
	pp := pc.IG.Srv.PatientParam(pc.Res)
	q := url.Values{pp: {td.PatientParamValue(best)}, "_count": {fmt.Sprint(count)}}
	label := "GET " + pc.Res.Type + "?" + q.Encode()
	c := clientFor(pc.Run, best)
	ctx, cancel := context.WithTimeout(pc.Run.Context(), igdata.Budget(pc.Run))
	defer cancel()
	first, err := c.Search(ctx, pc.Res.Type, q)
	res := &pagingResult{}
	if fhirhttp.IsTransport(err) {
		res.infra = fmt.Errorf("%s: %w", label, err)
		return res
	}
	if err != nil {
		res.issues = issue.List{{Severity: issue.Error, Rule: RuleSearchStatus, Message: label + ": " + err.Error()}}
		return res
	}
	if first.Status != http.StatusOK {
		res.issues = issue.List{{Severity: issue.Error, Rule: RuleSearchStatus, Path: pc.Res.Type,
			Message: fmt.Sprintf("%s: expected HTTP 200, got %d%s", label, first.Status, igdata.OutcomeText(first))}}
		return res
	}
	pages, err := c.Follow(ctx, first)
	if fhirhttp.IsTransport(err) {
		res.infra = fmt.Errorf("%s: %w", label, err)
		return res
	}
	if err != nil {
		res.issues = issue.List{{Severity: issue.Error, Rule: RuleSearchStatus, Message: label + ": " + err.Error()}}
		return res
	}
	for _, is := range pages.Issues {
		if is.Rule == fhirhttp.RulePagingDuplicate {
			is.Severity = issue.Error
		}
		if is.Severity == issue.Error {
			is.Message = label + ": " + is.Message
			res.issues = append(res.issues, is)
		}
	}
	for i, pg := range pages.Pages {
		if t, _ := pg.Resource["type"].(string); pg.ResourceType() == "Bundle" && t != "searchset" {
			res.issues = append(res.issues, issue.Issue{Severity: issue.Error, Rule: RuleSearchType, Path: "Bundle.type",
				Message: fmt.Sprintf("%s: page %d is a Bundle of type %q, expected searchset", label, i+1, t)})
		}
	}
	got := igdata.IDs(pages.Matches(), pc.Res.Type)
	want := igdata.IDs(td.ByPatient[best], pc.Res.Type)
	res.note = fmt.Sprintf("%s: %d page(s), %d distinct match(es); the search without _count found %d", label, len(pages.Pages), len(got), len(want))
	if !pages.Truncated {
		var lost []string
		for _, id := range want {
			if !slices.Contains(got, id) {
				lost = append(lost, pc.Res.Type+"/"+id)
			}
		}
		if len(lost) > 0 {
			res.issues = append(res.issues, issue.Issue{Severity: issue.Error, Rule: RulePagingLost, Path: "Bundle.link",
				Message: fmt.Sprintf("%s: the %d page(s) held %d of the %d resources the same search without _count found (%s): the next links did not lead to the others; not reached: %s",
					label, len(pages.Pages), len(got), len(want), pp+"="+td.PatientParamValue(best), strings.Join(lost[:min(len(lost), searchMaxExamples)], ", "))})
		}
		if tot, ok := pages.Pages[0].Resource["total"].(json.Number); ok {
			if t, err := tot.Int64(); err == nil && int(t) != len(got) {
				res.issues = append(res.issues, issue.Issue{Severity: issue.Error, Rule: RulePagingTotal, Path: "Bundle.total",
					Message: fmt.Sprintf("%s: Bundle.total is %d but following the next links gave %d match(es)", label, t, len(got))})
			}
		}
	}
	if len(pages.Pages) < 2 && len(res.issues) == 0 && n > count {
		res.note += fmt.Sprintf("; the server ignored _count=%d and returned all matches on one page", count)
	}
	return res
}

func specReferences(pc *igspec.ProfileCtx) {
	td, pool := needPool(pc)
	ms, err := pc.Prof.MustSupport()
	if err != nil {
		framework.Infra(fmt.Errorf("profile %s: %w", pc.Prof.URL, err))
	}
	type ref struct {
		elem, ref, pid string
		targets        []string
	}
	var refs []ref
	seen := map[string]bool{}
	var refElems []string
	for _, m := range ms {
		if !m.IsRef {
			continue
		}
		refElems = append(refElems, m.ID)
		for _, r := range pool {
			for _, v := range m.Values(r) {
				vm, _ := v.(map[string]any)
				s, _ := vm["reference"].(string)
				if s == "" || strings.HasPrefix(s, "#") || seen[s] {
					continue
				}
				seen[s] = true
				refs = append(refs, ref{elem: m.ID, ref: s, pid: td.PatientOf[igdata.ID(r)], targets: m.Targets})
			}
		}
	}
	if len(refElems) == 0 {
		framework.SkipBecause(fmt.Sprintf("profile %s has no must-support Reference element, so there is nothing to resolve", pc.Prof.ID), "")
	}
	if len(refs) == 0 {
		framework.SkipBecause(fmt.Sprintf("none of the %d %s resource(s) of %s populates a must-support reference (%s) with a literal reference",
			len(pool), pc.Prof.ID, igdata.DescribePatients(pc.Run), strings.Join(refElems, ", ")),
			"a record whose must-support references are literal (Type/id) references")
	}
	var all issue.List
	for i, rf := range refs {
		if i >= maxReads {
			break
		}
		typ, id := igdata.SplitRef(rf.ref)
		if typ == "" {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleRefResolve, Path: rf.elem,
				Message: fmt.Sprintf("%s: reference %q is not a Type/id or absolute URL reference", rf.elem, rf.ref)})
			continue
		}
		resp, err := readOnce(pc.Run, rf.pid, typ, id)
		if err != nil {
			framework.Infra(err)
		}
		if resp.Status != http.StatusOK || resp.ResourceType() != typ {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleRefResolve, Path: rf.elem,
				Message: fmt.Sprintf("%s: reference %s/%s does not resolve: GET answered %d%s", rf.elem, typ, id, resp.Status, igdata.OutcomeText(resp))})
			continue
		}
		if len(rf.targets) > 0 {
			okType := false
			var allowed []string
			for _, t := range rf.targets {
				tt := targetType(pc, t)
				allowed = append(allowed, tt)
				okType = okType || tt == typ || tt == "Resource"
			}
			if !okType {
				all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleRefTarget, Path: rf.elem,
					Message: fmt.Sprintf("%s: reference to %s, but the element allows %s", rf.elem, typ, strings.Join(allowed, ", "))})
				continue
			}
			all = append(all, conformsToTarget(pc, resp, rf.elem, typ, rf.targets)...)
		}
	}
	framework.Note("references", "%d must-support reference(s) resolved", min(len(refs), maxReads))
	framework.ExpectConformant("references", all)
}

// targetType returns the resource type a target profile constrains.
func targetType(pc *igspec.ProfileCtx, profile string) string {
	if r, ok := pc.IG.Srv.Ctx.ResolveType("StructureDefinition", profile); ok && r.Type != "" {
		return r.Type
	}
	u, _, _ := strings.Cut(profile, "|")
	return u[strings.LastIndex(u, "/")+1:]
}

func specRevinclude(pc *igspec.ProfileCtx) {
	td, pool := needPool(pc)
	pp := pc.IG.Srv.PatientParam(pc.Res)
	var all issue.List
	found := 0
	var asked []string
	for _, pid := range igdata.Patients(pc.Run) {
		if len(td.ByPatient[pid]) == 0 {
			continue
		}
		q := url.Values{pp: {pid}, "_revinclude": {"Provenance:target"}}
		asked = append(asked, pc.Res.Type+"?"+q.Encode())
		pages, fails := runSearch(pc, pid, q, false)
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
			q := url.Values{"target": {pc.Res.Type + "/" + igdata.ID(r)}}
			c := clientFor(pc.Run, pid)
			ctx, cancel := pc.Run.Ctx()
			resp, err := c.Search(ctx, "Provenance", q)
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
				pc.Res.Type, igdata.DescribePatients(pc.Run), strings.Join(asked, ", ")),
				fmt.Sprintf("a Provenance whose target is a %s of a tested member", pc.Res.Type))
		}
	}
	framework.Note("revinclude", "%d Provenance resource(s) included", found)
	framework.ExpectConformant("_revinclude=Provenance:target", all)
}

func specInclude(pc *igspec.ProfileCtx, include string) {
	td, pool := needPool(pc)
	parts := strings.Split(include, ":")
	if len(parts) < 2 || parts[0] != pc.Res.Type {
		framework.SkipBecause(fmt.Sprintf("include %s does not start with %s", include, pc.Res.Type), "")
	}
	sp := pc.IG.Srv.AnyParam(pc.Res, parts[1])
	var expr string
	if sp != nil {
		expr = sp.Param.Expression
	}
	if expr == "" {
		framework.SkipBecause(fmt.Sprintf("%s: parameter %s has no expression in the package, so the referenced resources cannot be predicted", include, parts[1]), "")
	}
	want := map[string]map[string]bool{} // pid -> expected Type/id
	for _, r := range pool {
		vals, err := search.FHIRPathEvaluator{}.Eval(pc.Run.Context(), expr, r)
		if err != nil {
			continue
		}
		pid := td.PatientOf[igdata.ID(r)]
		for _, v := range vals {
			vm, _ := v.V.(map[string]any)
			s, _ := vm["reference"].(string)
			t, id := igdata.SplitRef(s)
			if t == "" || (len(parts) == 3 && t != parts[2]) {
				continue
			}
			if want[pid] == nil {
				want[pid] = map[string]bool{}
			}
			want[pid][t+"/"+id] = true
		}
	}
	if len(want) == 0 {
		what, enable := "a literal reference", "a reference (not a code or contained resource)"
		if len(parts) == 3 {
			what, enable = "a literal reference to a "+parts[2], "a literal reference to a "+parts[2]
		}
		framework.SkipBecause(fmt.Sprintf("none of the %d %s resource(s) of %s has %s at %s (%s)", len(pool), pc.Prof.ID, igdata.DescribePatients(pc.Run), what, parts[1], expr),
			fmt.Sprintf("a %s whose %s is %s", pc.Res.Type, parts[1], enable))
	}
	var all issue.List
	pp := pc.IG.Srv.PatientParam(pc.Res)
	pids := make([]string, 0, len(want))
	for pid := range want {
		pids = append(pids, pid)
	}
	sort.Strings(pids)
	for _, pid := range pids {
		q := url.Values{"_include": {include}}
		if pp != "" && pid != "" {
			q.Set(pp, pid)
		} else {
			var idList []string
			for _, r := range pool {
				if td.PatientOf[igdata.ID(r)] == pid {
					idList = append(idList, igdata.ID(r))
				}
			}
			q.Set("_id", strings.Join(idList, ","))
		}
		pages, fails := runSearch(pc, pid, q, false)
		all = append(all, fails...)
		if pages == nil {
			continue
		}
		got := map[string]bool{}
		for _, r := range pages.Entries {
			t, _ := r["resourceType"].(string)
			got[t+"/"+igdata.ID(r)] = true
		}
		var lost []string
		for ref := range want[pid] {
			if !got[ref] {
				lost = append(lost, ref)
			}
		}
		sort.Strings(lost)
		if len(lost) > 0 {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: RuleInclude, Path: "_include",
				Message: fmt.Sprintf("%s?%s: %d referenced resource(s) not included, e.g. %s", pc.Res.Type, q.Encode(), len(lost), strings.Join(lost[:min(len(lost), searchMaxExamples)], ", "))})
		}
	}
	framework.ExpectConformant("_include="+include, all)
}
