package fhirhttp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

var (
	reType = regexp.MustCompile(`^[A-Z][A-Za-z]{0,63}$`)
	reID   = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
)

// Get fetches an absolute URL or one relative to the base.
func (c *Client) Get(ctx context.Context, ref string) (*Response, error) {
	return c.Do(ctx, &Request{Method: http.MethodGet, URL: ref})
}

// Metadata fetches {base}/metadata (the CapabilityStatement).
func (c *Client) Metadata(ctx context.Context) (*Response, error) {
	return c.Get(ctx, "metadata")
}

// Read fetches {base}/{type}/{id}. A malformed type or id is a tool error (it never reaches the
// server), so the suites see it as a configuration problem.
func (c *Client) Read(ctx context.Context, typ, id string) (*Response, error) {
	if !reType.MatchString(typ) {
		return nil, &TransportError{Method: http.MethodGet, URL: c.Base() + "?", Err: fmt.Errorf("resource type %q is not a FHIR type name", Redact(typ))}
	}
	if !reID.MatchString(id) {
		return nil, &TransportError{Method: http.MethodGet, URL: c.Base() + typ + "/?", Err: fmt.Errorf("id %q is not a FHIR id ([A-Za-z0-9-.]{1,64})", Redact(id))}
	}
	return c.Get(ctx, typ+"/"+id)
}

// Search runs GET {base}/{type}?params (type "" searches the whole system).
func (c *Client) Search(ctx context.Context, typ string, params url.Values) (*Response, error) {
	if typ != "" && !reType.MatchString(typ) {
		return nil, &TransportError{Method: http.MethodGet, URL: c.Base() + "?", Err: fmt.Errorf("resource type %q is not a FHIR type name", Redact(typ))}
	}
	ref := typ
	if q := params.Encode(); q != "" {
		ref += "?" + q
	}
	if ref == "" {
		ref = "."
	}
	return c.Get(ctx, ref)
}

// SearchPost runs POST {base}/{type}/_search with params as a form body.
func (c *Client) SearchPost(ctx context.Context, typ string, params url.Values) (*Response, error) {
	if typ != "" && !reType.MatchString(typ) {
		return nil, &TransportError{Method: http.MethodPost, URL: c.Base() + "?", Err: fmt.Errorf("resource type %q is not a FHIR type name", Redact(typ))}
	}
	ref := "_search"
	if typ != "" {
		ref = typ + "/_search"
	}
	return c.PostForm(ctx, ref, params, nil)
}

// PostForm sends an application/x-www-form-urlencoded POST.
func (c *Client) PostForm(ctx context.Context, ref string, form url.Values, header http.Header) (*Response, error) {
	h := http.Header{}
	for k, v := range header {
		h[k] = v
	}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(ctx, &Request{Method: http.MethodPost, URL: ref, Header: h, Body: []byte(form.Encode())})
}

// Entries returns bundle.entry[*].resource (objects only).
func Entries(bundle map[string]any) []map[string]any {
	var out []map[string]any
	es, _ := bundle["entry"].([]any)
	for _, e := range es {
		em, _ := e.(map[string]any)
		if r, ok := em["resource"].(map[string]any); ok {
			out = append(out, r)
		}
	}
	return out
}

// Link returns the url of bundle.link with the given relation, or "".
func Link(bundle map[string]any, rel string) string {
	ls, _ := bundle["link"].([]any)
	for _, l := range ls {
		lm, _ := l.(map[string]any)
		if r, _ := lm["relation"].(string); r == rel {
			u, _ := lm["url"].(string)
			return u
		}
	}
	return ""
}

// Pages is the result of following a search through its next links.
type Pages struct {
	Pages     []*Response      // every page fetched, first included
	Entries   []map[string]any // entry.resource of every page, in order (duplicates kept)
	Issues    issue.List       // paging problems found (loops, duplicates, bad pages)
	Truncated bool             // stopped at MaxPages with a next link still present
}

// Matches returns the entries with search.mode "match" (or no mode) across pages.
func (p *Pages) Matches() []map[string]any {
	var out []map[string]any
	for _, pg := range p.Pages {
		es, _ := pg.Resource["entry"].([]any)
		for _, e := range es {
			em, _ := e.(map[string]any)
			r, ok := em["resource"].(map[string]any)
			if !ok {
				continue
			}
			s, _ := em["search"].(map[string]any)
			if mode, _ := s["mode"].(string); mode == "" || mode == "match" {
				out = append(out, r)
			}
		}
	}
	return out
}

// Paging rule codes.
const (
	RulePagingLoop      = "search.paging.loop"
	RulePagingDuplicate = "search.paging.duplicate"
	RulePagingStatus    = "search.paging.status"
	RulePagingBundle    = "search.paging.bundle"
	RulePagingMaxPages  = "search.paging.max-pages"
)

// SearchAll runs Search and follows next links (see Follow).
func (c *Client) SearchAll(ctx context.Context, typ string, params url.Values) (*Pages, error) {
	first, err := c.Search(ctx, typ, params)
	if err != nil {
		return nil, err
	}
	return c.Follow(ctx, first)
}

// Follow follows the next links from first, at most MaxPages pages in all. A next link already
// visited is an error issue (loop) and stops; a resource seen on an earlier page is a warning
// issue; a page that is not a 200 searchset Bundle is an error issue and stops. Transport errors
// are returned with the pages fetched so far.
func (c *Client) Follow(ctx context.Context, first *Response) (*Pages, error) {
	p := &Pages{}
	seenURL := map[string]int{}
	seenRes := map[string]int{}
	cur := first
	for page := 1; ; page++ {
		p.Pages = append(p.Pages, cur)
		seenURL[normURL(cur.URL)] = page
		if cur.Status != http.StatusOK {
			p.Issues = append(p.Issues, issue.Issue{Severity: issue.Error, Rule: RulePagingStatus, Path: "Bundle",
				Message:     fmt.Sprintf("search page %d: expected HTTP 200, got %d", page, cur.Status),
				Diagnostics: Redact(cur.URL)})
			return p, nil
		}
		if cur.ResourceType() != "Bundle" {
			p.Issues = append(p.Issues, issue.Issue{Severity: issue.Error, Rule: RulePagingBundle, Path: "Bundle",
				Message:     fmt.Sprintf("search page %d: expected a Bundle, got %s", page, describe(cur)),
				Diagnostics: Redact(cur.URL)})
			return p, nil
		}
		for i, r := range Entries(cur.Resource) {
			p.Entries = append(p.Entries, r)
			rt, _ := r["resourceType"].(string)
			id, _ := r["id"].(string)
			if rt == "" || id == "" {
				continue
			}
			key := rt + "/" + id
			if prev, ok := seenRes[key]; ok && prev != page {
				p.Issues = append(p.Issues, issue.Issue{Severity: issue.Warning, Rule: RulePagingDuplicate,
					Path:        fmt.Sprintf("Bundle.entry[%d]", i),
					Message:     fmt.Sprintf("search page %d repeats a resource already returned on page %d; pages should not overlap", page, prev),
					Diagnostics: key})
			}
			if _, ok := seenRes[key]; !ok {
				seenRes[key] = page
			}
		}
		next := Link(cur.Resource, "next")
		if next == "" {
			return p, nil
		}
		abs, err := url.Parse(cur.URL)
		if err == nil {
			if nu, err2 := abs.Parse(next); err2 == nil {
				next = nu.String()
			}
		}
		if prev, ok := seenURL[normURL(next)]; ok {
			p.Issues = append(p.Issues, issue.Issue{Severity: issue.Error, Rule: RulePagingLoop, Path: "Bundle.link",
				Message:     fmt.Sprintf("search page %d: next link points back to page %d; paging never ends", page, prev),
				Diagnostics: Redact(StripUserinfo(next))})
			return p, nil
		}
		if page >= c.opts.MaxPages {
			p.Truncated = true
			p.Issues = append(p.Issues, issue.Issue{Severity: issue.Information, Rule: RulePagingMaxPages, Path: "Bundle.link",
				Message: fmt.Sprintf("stopped after %d pages (MaxPages) with a next link still present", page)})
			return p, nil
		}
		cur, err = c.Get(ctx, next)
		if err != nil {
			return p, err
		}
	}
}

func describe(r *Response) string {
	if rt := r.ResourceType(); rt != "" {
		return rt
	}
	if ct := r.ContentType(); ct != "" {
		return "a non-FHIR body (" + ct + ")"
	}
	return "a body that is not a FHIR resource"
}

func normURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.Fragment = ""
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.RawQuery = u.Query().Encode()
	return u.String()
}
