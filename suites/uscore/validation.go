package uscore

import (
	"fmt"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/igspec"
)

// conformsToTarget validates a resolved reference target against the element's target profiles:
// it must conform to at least one of those of its type.
func conformsToTarget(pc *igspec.ProfileCtx, resp *fhirhttp.Response, elem, typ string, targets []string) issue.List {
	val, err := igdata.Validator(pc.Run)
	if err != nil {
		framework.Infra(err)
	}
	var firstErrs issue.List
	tried := 0
	for _, t := range targets {
		if targetType(pc, t) != typ {
			continue
		}
		if _, ok := pc.IG.Srv.Ctx.ResolveType("StructureDefinition", t); !ok {
			continue
		}
		tried++
		ctx, cancel := pc.Run.Ctx()
		l, err := val(ctx, resp.Body, t, pc.IG.Srv.IG)
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
