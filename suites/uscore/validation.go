package uscore

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
)

// isSlice reports whether an ElementDefinition id names a slice (Observation.category:VSCat).
func isSlice(elementID string) bool {
	last := elementID[strings.LastIndex(elementID, ".")+1:]
	return strings.Contains(last, ":")
}

func specValidation(pc *profileCtx, ids []string) {
	_, pool := needPool(pc)
	val, err := igdata.Validator(pc.run)
	if err != nil {
		framework.Infra(err)
	}
	var all issue.List
	canonical := pc.prof.URL
	if pc.prof.SD != nil && pc.prof.SD.Version != "" {
		canonical = pc.prof.SD.URL + "|" + pc.prof.SD.Version
	}
	for _, r := range pool {
		raw, _ := json.Marshal(r)
		ctx, cancel := pc.run.Ctx()
		l, err := val(ctx, raw, canonical, pc.srv.IG)
		cancel()
		if err != nil {
			framework.Infra(err)
		}
		ref := pc.res.Type + "/" + igdata.ID(r)
		for _, is := range l {
			// Findings against other profiles the resource claims (meta.profile) belong to those
			// profiles' specs; structural and base-resource findings (no profile) stay.
			if !relevant(pc, is.Profile) {
				continue
			}
			if is.Rule == "cardinality" && slices.Contains(ids, "uscore.profile.slicing") && isSlice(is.ElementID) {
				// a required slice that is missing breaks the slicing requirement ("fill the
				// profile's required slices"), not the element cardinalities
				is.Requirement = "uscore.profile.slicing"
			}
			is.Path = ref + ": " + is.Path
			is.Message = ref + ": " + is.Message
			all = append(all, is)
		}
	}
	framework.Note("validation", "%d resource(s) validated against %s in %s", len(pool), canonical, pc.srv.IG)
	framework.ExpectConformant("validation against "+pc.prof.ID, all)
}

// conformsToTarget validates a resolved reference target against the element's target profiles:
// it must conform to at least one of those of its type.
func conformsToTarget(pc *profileCtx, resp *fhirhttp.Response, elem, typ string, targets []string) issue.List {
	val, err := igdata.Validator(pc.run)
	if err != nil {
		framework.Infra(err)
	}
	var firstErrs issue.List
	tried := 0
	for _, t := range targets {
		if targetType(pc, t) != typ {
			continue
		}
		if _, ok := pc.srv.Ctx.ResolveType("StructureDefinition", t); !ok {
			continue
		}
		tried++
		ctx, cancel := pc.run.Ctx()
		l, err := val(ctx, resp.Body, t, pc.srv.IG)
		cancel()
		if err != nil {
			framework.Infra(err)
		}
		if !l.HasErrors() {
			return nil
		}
		if firstErrs == nil {
			firstErrs = l.Errors()
		}
	}
	if tried == 0 {
		return nil
	}
	ref := typ + "/" + igdata.ID(resp.Resource)
	return issue.List{{Severity: issue.Error, Rule: RuleRefTarget, Path: elem,
		Message:     fmt.Sprintf("%s: %s conforms to none of the target profiles (%d error(s), first: %s)", elem, ref, len(firstErrs), firstErrs[0].String()),
		Diagnostics: ref}}
}

// relevant reports whether an issue made by profile (canonical, may be empty) belongs to the
// validation of pc's profile: no profile (structure), a base type or datatype definition
// (specialization), the profile itself or one of the profiles it derives from.
func relevant(pc *profileCtx, profile string) bool {
	if profile == "" {
		return true
	}
	u, _, _ := strings.Cut(profile, "|")
	if u == pc.prof.URL {
		return true
	}
	r, ok := pc.srv.Ctx.ResolveType("StructureDefinition", profile)
	if !ok {
		return false
	}
	if r.Derivation == "specialization" || r.Derivation == "" {
		return true
	}
	// ancestors of the tested profile
	cur := pc.prof.SD
	for i := 0; cur != nil && i < 10; i++ {
		if cur.URL == u {
			return true
		}
		next, ok := pc.srv.Ctx.ResolveType("StructureDefinition", cur.BaseDefinition)
		if !ok {
			break
		}
		cur = next
	}
	return false
}
