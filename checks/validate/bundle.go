package validate

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/validate/structure"
)

// Bundle rules that R4 states in prose rather than as invariants (bdl-1..bdl-12 are evaluated as
// invariants and not repeated here: bdl-7 duplicate fullUrls, bdl-8 version-specific fullUrls),
// and the resolution of references between entries (R4 bundle.html#references).

// checkBundle checks a Bundle's entries' fullUrls and its links, once per Bundle (path pushed).
func (w *walker) checkBundle(b map[string]any) {
	if !w.first || w.quiet > 0 {
		return
	}
	es, _ := b["entry"].([]any)
	for i, e := range es {
		em, _ := e.(map[string]any)
		fu, ok := em["fullUrl"].(string)
		if !ok || fu == "" {
			continue
		}
		suffix := fmt.Sprintf(".entry[%d].fullUrl", i)
		// Bundle.entry.fullUrl: "The Absolute URL for the resource."
		if !isAbsoluteURI(fu) {
			w.add(issue.Error, "bundle-fullurl", nil, suffix, fmt.Sprintf("fullUrl %q must be an absolute URL (a RESTful URL or a urn:uuid:)", clip(fu)))
			continue
		}
		r, _ := em["resource"].(map[string]any)
		rt, _ := r["resourceType"].(string)
		id, _ := r["id"].(string)
		if rt == "" || id == "" {
			continue
		}
		// "if the fullUrl does look like a RESTful server URL (e.g. meets the regex), then the 'id'
		// portion of the fullUrl SHALL end with the Resource.id" and it "SHALL NOT disagree with
		// the id in the resource" (R4 Bundle.entry.fullUrl)
		// (a type that disagrees is the structure layer's resource-type finding)
		if _, t, uid, ok := restfulURL(fu); ok && w.isResourceType(t) && uid != id && t == rt {
			w.add(issue.Error, "bundle-fullurl", nil, suffix, fmt.Sprintf("fullUrl %s looks like a RESTful URL, so it must end with the resource's type and id (%s/%s)", clip(fu), rt, clip(id)))
		}
	}
	// The link relation "self" names the Bundle itself (RFC 4287 via the IANA registry R4
	// Bundle.link.relation points to): two different self links contradict each other. R4 has no
	// invariant for it, so a warning.
	links, _ := b["link"].([]any)
	self := -1
	for i, l := range links {
		lm, _ := l.(map[string]any)
		if lm["relation"] != "self" {
			continue
		}
		if self >= 0 {
			w.add(issue.Warning, "bundle-link", nil, fmt.Sprintf(".link[%d]", i), fmt.Sprintf("a Bundle has at most one link with relation self (another is link[%d])", self))
			break
		}
		self = i
	}
}

// restfulURL splits an http(s) URL that ends like a RESTful resource URL ("base/Type/id", R4
// references.html#regex, a trailing /_history/version removed) into base, type and id.
func restfulURL(u string) (base, typ, id string, ok bool) {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return "", "", "", false
	}
	if k := strings.Index(u, "/_history/"); k >= 0 {
		u = u[:k]
	}
	i := strings.LastIndexByte(u, '/')
	if i < 0 {
		return "", "", "", false
	}
	id = u[i+1:]
	j := strings.LastIndexByte(u[:i], '/')
	if j < 0 {
		return "", "", "", false
	}
	typ = u[j+1 : i]
	if !structure.IsID(id) || typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return "", "", "", false
	}
	return u[:j], typ, id, true
}

// resolveInBundle resolves a literal reference among the entries of the Bundle of frame i. A
// relative reference (Type/id) made from an entry whose fullUrl is RESTful resolves against that
// fullUrl's base (R4 bundle.html#references: "extract the [root] and append the reference to
// it"); when no entry has the resulting URL it is not in the Bundle (stop). Otherwise the
// reference is looked up as a fullUrl, then by Type/id.
func (w *walker) resolveInBundle(i int, ref string) (r map[string]any, stop bool) {
	f := &w.frames[i]
	if f.byURL == nil {
		f.byURL = map[string]map[string]any{}
		f.urlOf = map[uintptr]string{}
		es, _ := f.res["entry"].([]any)
		for _, e := range es {
			em, _ := e.(map[string]any)
			r, _ := em["resource"].(map[string]any)
			if r == nil {
				continue
			}
			if fu, _ := em["fullUrl"].(string); fu != "" {
				f.byURL[fu] = r
				f.urlOf[reflect.ValueOf(r).Pointer()] = fu
			}
			rt, _ := r["resourceType"].(string)
			id, _ := r["id"].(string)
			if rt != "" && id != "" {
				f.byURL[rt+"/"+id] = r
			}
		}
	}
	t, id := refTypeID(ref)
	if t != "" && !strings.Contains(ref, "://") && len(f.urlOf) > 0 {
		// the entry the reference is made from: the innermost walked resource that is an entry
		for j := len(w.frames) - 1; j > i; j-- {
			fu, ok := f.urlOf[reflect.ValueOf(w.frames[j].res).Pointer()]
			if !ok {
				continue
			}
			if base, _, _, ok := restfulURL(fu); ok {
				return f.byURL[base+"/"+t+"/"+id], true
			}
			break
		}
	}
	if r, ok := f.byURL[ref]; ok {
		return r, true
	}
	if t == "" {
		return nil, false
	}
	if r, ok := f.byURL[t+"/"+id]; ok {
		return r, true
	}
	return nil, false
}
