package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

// SMART App Launch 2.2 smart-configuration members beyond 2.0: associated_endpoints and the
// User-access Brand pointers (user_access_brand_bundle, user_access_brand_identifier).
const (
	RuleConfigAssociated = "smart-config.associated-endpoints"
	RuleConfigBrand      = "smart-config.user-access-brand"
)

// CheckAssociatedEndpoints judges associated_endpoints when present. SMART 2.2 conformance.html
// Metadata: "Array of objects for endpoints that share the same authorization mechanism as this
// FHIR endpoint, each with a "url" and "capabilities" array", and "All endpoint URLs in the
// response document SHALL be absolute URLs." Absent (OPTIONAL) is no issue.
func CheckAssociatedEndpoints(raw map[string]any) issue.List {
	var out issue.List
	bad := func(path, format string, args ...any) {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleConfigAssociated, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	v, ok := raw["associated_endpoints"]
	if !ok {
		return nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		bad("associated_endpoints", "associated_endpoints: expected an array of objects, got %s", jsonType(v))
		return out
	}
	for i, it := range arr {
		path := fmt.Sprintf("associated_endpoints[%d]", i)
		obj, isObj := it.(map[string]any)
		if !isObj {
			bad(path, "%s: expected an object with url and capabilities, got %s", path, jsonType(it))
			continue
		}
		u, isStr := obj["url"].(string)
		switch {
		case obj["url"] == nil:
			bad(path+".url", "%s.url: expected the endpoint's absolute URL, but it is absent", path)
		case !isStr:
			bad(path+".url", "%s.url: expected a string URL, got %s", path, jsonType(obj["url"]))
		case !absoluteHTTP(u):
			bad(path+".url", "%s.url: expected an absolute http(s) URL (all endpoint URLs SHALL be absolute), got %q", path, clipStr(u, 200))
		}
		switch c, has := obj["capabilities"]; {
		case !has:
			bad(path+".capabilities", "%s.capabilities: expected an array of capability strings, but it is absent", path)
		case !isStrArray(c):
			bad(path+".capabilities", "%s.capabilities: expected an array of strings, got %s", path, jsonType(c))
		}
	}
	return out
}

// BrandRef is what smart-configuration says of the server's User-access Brand.
type BrandRef struct {
	BundleURL         string // user_access_brand_bundle, when an absolute http(s) URL
	HasBundle, HasID  bool   // the members are present
	IDSystem, IDValue string // user_access_brand_identifier
	IDOK              bool   // the identifier is an object with a non-empty string value
}

// ReadBrandRef reads the brand members of a smart-configuration and judges their shapes. SMART
// 2.2 conformance.html: user_access_brand_bundle is the "URL for a Brand Bundle" and
// user_access_brand_identifier the "Identifier for the primary entry in a Brand Bundle";
// brands.html, SMART on FHIR Server: "When populating user_access_brand_identifier: SHALL
// include a value, SHOULD include a system". A missing system is a warning.
func ReadBrandRef(raw map[string]any) (*BrandRef, issue.List) {
	var out issue.List
	bad := func(sev issue.Severity, path, format string, args ...any) {
		out = append(out, issue.Issue{Severity: sev, Rule: RuleConfigBrand, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	b := &BrandRef{}
	if v, ok := raw["user_access_brand_bundle"]; ok {
		b.HasBundle = true
		s, isStr := v.(string)
		switch {
		case !isStr:
			bad(issue.Error, "user_access_brand_bundle", "user_access_brand_bundle: expected a string URL, got %s", jsonType(v))
		case !absoluteHTTP(s):
			bad(issue.Error, "user_access_brand_bundle", "user_access_brand_bundle: expected an absolute http(s) URL of a Brand Bundle, got %q", clipStr(s, 200))
		default:
			b.BundleURL = s
		}
	}
	if v, ok := raw["user_access_brand_identifier"]; ok {
		b.HasID = true
		obj, isObj := v.(map[string]any)
		if !isObj {
			bad(issue.Error, "user_access_brand_identifier", "user_access_brand_identifier: expected a FHIR Identifier (a JSON object), got %s", jsonType(v))
			return b, out
		}
		val, _ := obj["value"].(string)
		sys, _ := obj["system"].(string)
		b.IDSystem, b.IDValue = sys, val
		if val == "" {
			bad(issue.Error, "user_access_brand_identifier.value", "user_access_brand_identifier: expected a value (SHALL), but it has none")
		} else {
			b.IDOK = true
		}
		if sys == "" {
			bad(issue.Warning, "user_access_brand_identifier.system", "user_access_brand_identifier: a system is recommended (SHOULD), but it has none")
		}
	}
	return b, out
}

// CheckBrandBundle judges the Brand Bundle that user_access_brand_bundle points to against the
// identifier: brands.html, SMART on FHIR Server, "SHALL populate user_access_brand_identifier
// ... if the user_access_brand_bundle refers to a Bundle with multiple Brands" and "SHALL ensure
// this identifier matches exactly one Organization.identifier in the referenced Brand Bundle".
// brands is the number of Organizations (Brands) the Bundle holds.
func CheckBrandBundle(resp *fhirhttp.Response, b *BrandRef) (brands int, out issue.List) {
	bad := func(path, format string, args ...any) {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleConfigBrand, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if resp == nil {
		bad("user_access_brand_bundle", "user_access_brand_bundle: the Brand Bundle could not be read")
		return 0, out
	}
	if resp.Status != http.StatusOK {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleConfigBrand, Path: "user_access_brand_bundle",
			Diagnostics: fhirhttp.Redact(snippet(resp.Body))}.Mismatch("user_access_brand_bundle", "HTTP 200 with the Brand Bundle", "HTTP "+strconv.Itoa(resp.Status)))
		return 0, out
	}
	r := resp.Resource
	if rt, _ := r["resourceType"].(string); rt != "Bundle" {
		bad("user_access_brand_bundle", "user_access_brand_bundle: expected a FHIR Bundle, got resourceType %q", clipStr(rt, 80))
		return 0, out
	}
	matches := 0
	entries, _ := r["entry"].([]any)
	for _, e := range entries {
		em, _ := e.(map[string]any)
		res, _ := em["resource"].(map[string]any)
		if rt, _ := res["resourceType"].(string); rt != "Organization" {
			continue
		}
		brands++
		if !b.IDOK {
			continue
		}
		ids, _ := res["identifier"].([]any)
		for _, id := range ids {
			im, _ := id.(map[string]any)
			sys, _ := im["system"].(string)
			val, _ := im["value"].(string)
			if val == b.IDValue && sys == b.IDSystem {
				matches++
				break
			}
		}
	}
	if brands > 1 && !b.HasID {
		bad("user_access_brand_identifier", "user_access_brand_identifier: the Brand Bundle holds %d Brands (Organizations), so the identifier of the primary one is required (SHALL), but it is absent", brands)
	}
	if b.IDOK && matches != 1 {
		bad("user_access_brand_identifier", "user_access_brand_identifier: expected to match exactly one Organization.identifier in the Brand Bundle, but %d of its %d Organizations match (system %q, value %q)",
			matches, brands, clipStr(b.IDSystem, 120), clipStr(b.IDValue, 120))
	}
	return brands, out
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http")
}

func clipStr(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
