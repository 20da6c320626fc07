package igdata

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
)

// RuleSearchStatus is the rule of a search answered with another status than HTTP 200.
const RuleSearchStatus = "search.status"

// Search sends a search of typ with c (POST _search when post, else GET) and follows the pages,
// within the run's Budget. A first answer other than HTTP 200 is a failure issue (and no pages);
// the pages' error issues are returned prefixed with label; tool trouble ends the spec as an
// error.
func Search(run *framework.Run, c *fhirhttp.Client, typ string, q url.Values, post bool, label string) (*fhirhttp.Pages, issue.List) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(run.Context(), Budget(run))
	defer cancel()
	var first *fhirhttp.Response
	var err error
	if post {
		first, err = c.SearchPost(ctx, typ, q)
	} else {
		first, err = c.Search(ctx, typ, q)
	}
	if err != nil {
		framework.Infra(err)
	}
	if first.Status != http.StatusOK {
		return nil, issue.List{searchStatus(label, typ, first, "expected HTTP 200 with a searchset Bundle")}
	}
	pages, err := c.Follow(ctx, first)
	if err != nil {
		framework.Infra(err)
	}
	var out issue.List
	for _, is := range pages.Issues {
		if is.Severity == issue.Error {
			is.Message = label + ": " + is.Message
			out = append(out, is)
		}
	}
	return pages, out
}

func searchStatus(label, typ string, resp *fhirhttp.Response, expected string) issue.Issue {
	return issue.Issue{Severity: issue.Error, Rule: RuleSearchStatus, Path: typ,
		Message: fmt.Sprintf("%s: %s, got %d%s", label, expected, resp.Status, OutcomeText(resp))}
}

func sortRefs(refs []Ref) {
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].ID < refs[j].ID })
}
