package igdata

import (
	"fmt"
	"net/http"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/jsondiff"
)

// RuleRead is the rule of a read that does not give back the resource the search returned.
const RuleRead = "read"

// CheckRead checks the read of Type/id against the resource the search returned: HTTP 200, that
// type and id, and the same content (meta aside).
func CheckRead(typ, id string, searched map[string]any, resp *fhirhttp.Response) issue.List {
	ref := typ + "/" + id
	switch {
	case resp.Status != http.StatusOK:
		return issue.List{{Severity: issue.Error, Rule: RuleRead, Path: ref,
			Message: fmt.Sprintf("GET %s: expected HTTP 200, got %d%s", ref, resp.Status, OutcomeText(resp))}}
	case resp.ResourceType() != typ || ID(resp.Resource) != id:
		return issue.List{{Severity: issue.Error, Rule: RuleRead, Path: ref,
			Message: fmt.Sprintf("GET %s: returned %s/%s", ref, resp.ResourceType(), ID(resp.Resource))}}
	}
	if diff := jsondiff.FirstDiff(jsondiff.WithoutMeta(searched), jsondiff.WithoutMeta(resp.Resource), typ); diff != "" {
		return issue.List{{Severity: issue.Error, Rule: RuleRead, Path: diff,
			Message:     fmt.Sprintf("GET %s differs from the resource the search returned, first at %s", ref, diff),
			Diagnostics: ref}}
	}
	return nil
}

// IncludedProvenance counts the Provenance resources a search included (_revinclude=
// Provenance:target) and lists the ids of those that target none of its matches of type typ.
func IncludedProvenance(pages *fhirhttp.Pages, typ string) (found int, stray []string) {
	matched := map[string]bool{}
	for _, id := range IDs(pages.Matches(), typ) {
		matched[typ+"/"+id] = true
	}
	for _, r := range pages.Entries {
		if t, _ := r["resourceType"].(string); t != "Provenance" {
			continue
		}
		found++
		targets, _ := r["target"].([]any)
		hit := false
		for _, x := range targets {
			xm, _ := x.(map[string]any)
			s, _ := xm["reference"].(string)
			t, id := SplitRef(s)
			hit = hit || matched[t+"/"+id]
		}
		if !hit {
			stray = append(stray, ID(r))
		}
	}
	return found, stray
}
