package uscore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/search"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/igspec"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Rules of the issues US Core's own specs raise besides igspec's and checks/search's.
const (
	RuleSearchStatus  = igdata.RuleSearchStatus
	RuleSearchType    = igspec.RuleBundleType
	RuleMissingMatch  = igspec.RuleMissingMatch
	RulePostDiffers   = "search.post"
	RulePagingLost    = "search.paging.lost"
	RulePagingTotal   = "search.paging.total"
	RuleRefResolve    = "reference.resolve"
	RuleRefTarget     = "reference.target"
	searchMaxExamples = 3
)

// pagingSpecID is the id of the paging spec of the profile ("" when it has none).
func pagingSpecID(pc *igspec.ProfileCtx) string {
	if pc.IG.Srv.PatientParam(pc.Res) == "" {
		return ""
	}
	return "uscore-" + pc.IG.Srv.Version + "/" + pc.Prof.ID + "/paging"
}

// maxReads is the most references the references spec resolves.
const maxReads = 40

func specMultipleOr(pc *igspec.ProfileCtx, sp *ig.SearchParam) {
	td, pool := pc.NeedPool()
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
	pages, fails := pc.Search(pid, q, false)
	all := fails
	if pages != nil {
		all = append(all, pc.CheckResult(pages, crit, igdata.ID(src), label)...)
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
	td, pool := pc.NeedPool()
	q, why := pc.BuildQuery(c.Params, td, pool)
	if q == nil {
		framework.SkipBecause(why, fmt.Sprintf("a %s record (claiming %s) with values for %s", pc.Res.Type, pc.Prof.ID, strings.Join(c.Params, ", ")))
	}
	get, gf := pc.Search(q.PID, q.Values(), false)
	post, pf := pc.Search(q.PID, q.Values(), true)
	all := append(gf, pf...)
	if get != nil && post != nil {
		a, b := igdata.IDs(get.Matches(), pc.Res.Type), igdata.IDs(post.Matches(), pc.Res.Type)
		if !slices.Equal(a, b) {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: RulePostDiffers, Path: pc.Res.Type,
				Message: fmt.Sprintf("POST %s/_search %s returned %d match(es), GET returned %d: they must return the same resources", pc.Res.Type, igspec.SafeQuery(q.Criteria), len(b), len(a))})
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
	td, _ := pc.NeedPool()
	r := igdata.Memo(igdata.StoreOf(pc.Run, storeKey), "paging:"+pc.Res.Type, func() *pagingResult { return paging(pc, td) })
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
		return &pagingResult{skip: fmt.Sprintf("the %s resources of %s were found only through _revinclude: the CapabilityStatement declares no patient search for %s, so there is no declared search to page through",
			pc.Res.Type, igdata.DescribePatients(pc.Run), pc.Res.Type),
			enable: fmt.Sprintf("a patient search parameter for %s in the server CapabilityStatement (%s?%s=<patient>)", pc.Res.Type, pc.Res.Type, pc.IG.Srv.PatientParam(pc.Res))}
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
	c := pc.ClientFor(best)
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
	td, pool := pc.NeedPool()
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
		resp, err := pc.ReadOnce(rf.pid, typ, id)
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
