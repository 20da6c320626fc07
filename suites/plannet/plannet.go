// Package plannet generates the Da Vinci PDex Plan-Net provider directory specs from the IG
// package (42 CFR 422.120, 431.70, 457.760): per profile of the plan-net server
// CapabilityStatement the searches, read, validation, must-support and _include specs with no
// token (suites/internal/igspec, public client), its _revinclude specs, the public-access spec,
// and the reference rules (practitioner, role, organization, network and location references
// resolve to the profiles they target).
// Spec ids: plannet-1.1.0/practitionerrole/search/network.
package plannet

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/search"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/igspec"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Area is the suite area name.
const Area = "plannet"

// DefaultVersion is tested when the run names none.
const DefaultVersion = "1.1.0"

// TopVersions get a top-level container each.
var TopVersions = []string{"1.1.0"}

// Capability is the Plan-Net server CapabilityStatement canonical.
const Capability = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CapabilityStatement/plan-net"

const (
	ruleReferences = "plannet.references-resolve"
	ruleInclude    = "plannet.search.include"
	// extNetwork is PractitionerRole's network: an extension whose value is Reference(plannet-Network).
	planNetSD  = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
	extNetwork = planNetSD + "network-reference"
)

// NewIG is the generated-spec description of one Plan-Net version.
func NewIG(v string) *igspec.IG {
	return &igspec.IG{Short: Area, Version: v, Capability: Capability, Public: true,
		Reqs: igspec.Reqs{Search: []string{"plannet.search.semantics"}, Read: []string{"plannet.read"}, Validation: []string{"plannet.profile.conformance"},
			MustSupport: []string{"plannet.profile.must-support"}, Include: []string{ruleInclude}},
		PublicAccess: Area + "-" + v + "/public-access",
		Container:    func(p *ig.Profile) string { return strings.ToLower(strings.TrimPrefix(p.ID, "plannet-")) },
		Data:         directoryData{},
		Extra:        extra}
}

func build(v string) {
	g := NewIG(v)
	framework.Spec("public-access", []string{"plannet.public-access"}, func() { publicAccess(g) })
	g.Build()
}

var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: TopVersions, Default: DefaultVersion, Build: build})

// publicAccess searches every resource type of the CapabilityStatement with no token.
func publicAccess(g *igspec.IG) {
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
			all = append(all, issue.Issue{Severity: issue.Error, Rule: "plannet.public-access", Path: r.Type,
				Message: fmt.Sprintf("GET %s?_count=1 without a token: expected HTTP 200, got %d%s", r.Type, resp.Status, igdata.OutcomeText(resp))})
			continue
		}
		if resp.ResourceType() == "Bundle" {
			found++
		}
	}
	framework.Note("public access", "%d of %d provider directory resource types searched without a token", found, len(g.Srv.Resources))
	framework.ExpectConformant("provider directory resources without a token", all)
}

// extra adds a profile's _revinclude specs and its reference rule.
func extra(pc *igspec.ProfileCtx) {
	for _, ri := range pc.Res.RevIncludes {
		ri := ri.Value
		framework.Spec("revinclude/"+strings.ReplaceAll(ri, ":", "-"), pc.ReqIDs(ruleInclude), func() { revinclude(pc, ri) })
	}
	if len(targets(pc)) > 0 {
		framework.Spec("rules/references", []string{ruleReferences}, func() { references(pc) })
	}
}

// link is an element whose literal references must resolve to a resource claiming profile.
type link struct {
	path    string // element path: PractitionerRole.location, or "extension(url)" for an extension's value
	profile string
}

// targets are the profile's reference elements that target a profile of the CapabilityStatement
// (their targetProfile), and PractitionerRole's network extension.
func targets(pc *igspec.ProfileCtx) []link {
	var out []link
	for _, r := range pc.IG.Srv.Resources {
		for _, p := range r.Profiles {
			if p.Raw == nil {
				continue
			}
			for _, path := range pc.Prof.ReferencePaths(p.URL) {
				out = append(out, link{path: path, profile: p.URL})
			}
			if pc.Res.Type == "PractitionerRole" && p.ID == "plannet-Network" {
				out = append(out, link{path: "extension(" + extNetwork + ")", profile: p.URL})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// referencesAt lists the literal references at an element path of a resource (an extension's
// valueReference for "extension(url)").
func referencesAt(r map[string]any, path string) []string {
	var vals []any
	if u, ok := strings.CutPrefix(path, "extension("); ok {
		u = strings.TrimSuffix(u, ")")
		for _, e := range asList(r["extension"]) {
			if em, _ := e.(map[string]any); em["url"] == u {
				vals = append(vals, em["valueReference"])
			}
		}
	} else {
		vals = []any{r}
		for _, s := range strings.Split(path, ".")[1:] {
			var next []any
			for _, v := range vals {
				m, _ := v.(map[string]any)
				next = append(next, asList(m[s])...)
			}
			vals = next
		}
	}
	var out []string
	for _, v := range vals {
		m, _ := v.(map[string]any)
		if s, _ := m["reference"].(string); s != "" && !strings.Contains(s, "://") && !strings.HasPrefix(s, "#") {
			out = append(out, s)
		}
	}
	return out
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// references reads every literal reference the profile's resources make to a directory profile
// and checks it resolves to a resource of the targeted type that claims the targeted profile.
func references(pc *igspec.ProfileCtx) {
	_, pool := pc.NeedPool()
	var all issue.List
	n := 0
	for _, r := range pool {
		key := pc.Res.Type + "/" + igdata.ID(r)
		for _, l := range targets(pc) {
			for _, ref := range referencesAt(r, l.path) {
				n++
				t, id := igdata.SplitRef(ref)
				if t == "" {
					all = append(all, issue.Issue{Severity: issue.Error, Rule: ruleReferences, Path: l.path,
						Message: fmt.Sprintf("%s %s: %q is not a Type/id reference", key, l.path, ref)})
					continue
				}
				resp, err := pc.ReadOnce("", t, id)
				if err != nil {
					framework.Infra(err)
				}
				switch {
				case resp.Status != http.StatusOK || resp.ResourceType() != t:
					all = append(all, issue.Issue{Severity: issue.Error, Rule: ruleReferences, Path: l.path,
						Message: fmt.Sprintf("%s %s: %s does not resolve (GET answered %d%s)", key, l.path, ref, resp.Status, igdata.OutcomeText(resp))})
				case !igdata.Claims(resp.Resource, l.profile, ""):
					all = append(all, issue.Issue{Severity: issue.Error, Rule: ruleReferences, Path: l.path,
						Message: fmt.Sprintf("%s %s: %s does not claim %s, the element's target profile", key, l.path, ref, l.profile)})
				}
			}
		}
	}
	if n == 0 {
		framework.SkipBecause(fmt.Sprintf("none of the %d %s resource(s) has a literal reference to a directory resource", len(pool), pc.Prof.ID),
			fmt.Sprintf("a %s with literal references in its directory reference elements", pc.Prof.ID))
	}
	framework.Note("references", "%d reference(s) of %d %s resource(s) read", n, len(pool), pc.Prof.ID)
	framework.ExpectConformant("directory references resolve", all)
}

// revinclude searches the profile's resources with _revinclude=Source:param and checks the
// answer includes exactly the fetched Source resources that reference them through param.
func revinclude(pc *igspec.ProfileCtx, value string) {
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
	pages, all := pc.RunSearch("", pc.Res.Type, q)
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
			all = append(all, issue.Issue{Severity: issue.Error, Rule: "search.revinclude", Path: "_revinclude",
				Message: fmt.Sprintf("%s: %d referencing %s not included (e.g. %s)", label, len(lost), srcType, strings.Join(lost[:min(3, len(lost))], ", "))})
		}
		if len(extra) > 0 {
			all = append(all, issue.Issue{Severity: issue.Error, Rule: "search.revinclude", Path: "_revinclude",
				Message: fmt.Sprintf("%s: %d included %s do not reference the matches through %s (e.g. %s)", label, len(extra), srcType, name, strings.Join(extra[:min(3, len(extra))], ", "))})
		}
		framework.Note("revinclude", "%d of %d referencing %s included", len(got), len(want), srcType)
	}
	framework.ExpectConformant("_revinclude="+value, all)
}

// directoryData is the generator's own data (a public fetch of each type), without the
// resources that claim another IG's profile and none of Plan-Net's: a payer's drug formulary
// InsurancePlans (usdf-Formulary, usdf-PayerInsurancePlan) carry plannet-InsurancePlan's fixed
// status=active, but they say what they are, and Plan-Net servers SHALL name the Plan-Net profile
// in meta.profile. (igdata.PoolRule leaves such resources out only when the profile has no
// discriminating value.)
type directoryData struct{}

// plain is the profile context with the generator's default data.
func plain(pc *igspec.ProfileCtx) *igspec.ProfileCtx {
	g := *pc.IG
	g.Data = nil
	inner := *pc
	inner.IG = &g
	return &inner
}

func (directoryData) NeedPool(pc *igspec.ProfileCtx) (*igspec.TypeData, []map[string]any) {
	GinkgoHelper()
	td, pool := plain(pc).NeedPool()
	var keep []map[string]any
	var other []string
	for _, r := range pool {
		if claimsOtherIG(r) {
			other = append(other, pc.Res.Type+"/"+igdata.ID(r))
			continue
		}
		keep = append(keep, r)
	}
	if len(other) > 0 {
		framework.Note("data", "%d resource(s) left out: they claim another IG's profile and no Plan-Net profile (%s)", len(other), strings.Join(other, ", "))
	}
	if len(keep) == 0 {
		framework.SkipBecause(fmt.Sprintf("no %s claiming %s was found at the public endpoint (the %d found claim other IGs' profiles)", pc.Res.Type, pc.Prof.ID, len(other)),
			fmt.Sprintf("a %s that claims %s in meta.profile", pc.Res.Type, pc.Prof.URL))
	}
	return td, keep
}

func (directoryData) ReadOnce(pc *igspec.ProfileCtx, pid, typ, id string) (*fhirhttp.Response, error) {
	return plain(pc).ReadOnce(pid, typ, id)
}

// claimsOtherIG reports whether a resource claims profiles, none of them Plan-Net's.
func claimsOtherIG(r map[string]any) bool {
	meta, _ := r["meta"].(map[string]any)
	ps, _ := meta["profile"].([]any)
	claims := false
	for _, p := range ps {
		s, _ := p.(string)
		if strings.HasPrefix(s, planNetSD) {
			return false
		}
		claims = claims || s != ""
	}
	return claims
}
