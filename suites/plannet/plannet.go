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
	"sort"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
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
		Reqs: igspec.Reqs{PublicAccess: []string{"plannet.public-access"}, Search: []string{"plannet.search.semantics"}, Read: []string{"plannet.read"}, Validation: []string{"plannet.profile.conformance"},
			MustSupport: []string{"plannet.profile.must-support"}, Include: []string{ruleInclude}},
		PublicAccess: Area + "-" + v + "/public-access", PublicWhat: "provider directory",
		Container: func(p *ig.Profile) string { return strings.ToLower(strings.TrimPrefix(p.ID, "plannet-")) },
		Extra:     extra}
}

func build(v string) { NewIG(v).Build() }

var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: TopVersions, Default: DefaultVersion, Build: build})

// extra adds a profile's _revinclude specs and its reference rule.
func extra(pc *igspec.ProfileCtx) {
	for _, ri := range pc.Res.RevIncludes {
		ri := ri.Value
		framework.Spec("revinclude/"+strings.ReplaceAll(ri, ":", "-"), pc.ReqIDs(ruleInclude), func() { pc.SpecRevincludeRefs(ri) })
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
