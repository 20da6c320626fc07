package oauth

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

func jsonObj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheckAssociatedEndpoints(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		want      []string // paths of the errors
	}{
		{"absent", `{}`, nil},
		{"good", `{"associated_endpoints":[{"url":"https://state.example/fhir","capabilities":["smart-app-state"]}]}`, nil},
		{"not an array", `{"associated_endpoints":{"url":"https://x"}}`, []string{"associated_endpoints"}},
		{"entry not an object", `{"associated_endpoints":["https://x"]}`, []string{"associated_endpoints[0]"}},
		{"relative url", `{"associated_endpoints":[{"url":"app-state","capabilities":["smart-app-state"]}]}`, []string{"associated_endpoints[0].url"}},
		{"no url", `{"associated_endpoints":[{"capabilities":[]}]}`, []string{"associated_endpoints[0].url"}},
		{"url a number", `{"associated_endpoints":[{"url":3,"capabilities":[]}]}`, []string{"associated_endpoints[0].url"}},
		{"no capabilities", `{"associated_endpoints":[{"url":"https://x/fhir"}]}`, []string{"associated_endpoints[0].capabilities"}},
		{"capabilities a string", `{"associated_endpoints":[{"url":"https://x/fhir","capabilities":"smart-app-state"}]}`, []string{"associated_endpoints[0].capabilities"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, i := range CheckAssociatedEndpoints(jsonObj(t, c.doc)) {
				if i.Rule != RuleConfigAssociated || i.Severity != issue.Error {
					t.Errorf("unexpected issue %+v", i)
				}
				got = append(got, i.Path)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("paths %q, want %q", got, c.want)
			}
		})
	}
}

func TestBrandRefAndBundle(t *testing.T) {
	bundle := func(orgs ...string) *fhirhttp.Response {
		var entries []any
		for _, o := range orgs {
			entries = append(entries, map[string]any{"resource": map[string]any{"resourceType": "Organization",
				"identifier": []any{map[string]any{"system": "urn:ietf:rfc:3986", "value": o}}}})
		}
		entries = append(entries, map[string]any{"resource": map[string]any{"resourceType": "Endpoint"}})
		return &fhirhttp.Response{Status: 200, Resource: map[string]any{"resourceType": "Bundle", "entry": entries}}
	}
	const one = `{"user_access_brand_bundle":"https://x/brands.json","user_access_brand_identifier":{"system":"urn:ietf:rfc:3986","value":"https://a.example"}}`
	for _, c := range []struct {
		name, doc  string
		resp       *fhirhttp.Response
		shape, bun []string // error paths of ReadBrandRef and CheckBrandBundle
		warn       int
	}{
		{"matches the one brand", one, bundle("https://a.example"), nil, nil, 0},
		{"matches one of two", one, bundle("https://a.example", "https://b.example"), nil, nil, 0},
		{"matches none", one, bundle("https://b.example"), nil, []string{"user_access_brand_identifier"}, 0},
		{"matches two", one, bundle("https://a.example", "https://a.example"), nil, []string{"user_access_brand_identifier"}, 0},
		{"two brands, no identifier", `{"user_access_brand_bundle":"https://x/b"}`, bundle("https://a.example", "https://b.example"), nil, []string{"user_access_brand_identifier"}, 0},
		{"one brand, no identifier", `{"user_access_brand_bundle":"https://x/b"}`, bundle("https://a.example"), nil, nil, 0},
		{"relative bundle URL", `{"user_access_brand_bundle":"brands.json"}`, nil, []string{"user_access_brand_bundle"}, nil, 0},
		{"identifier without value", `{"user_access_brand_bundle":"https://x/b","user_access_brand_identifier":{"system":"urn:x"}}`, bundle("https://a.example"), []string{"user_access_brand_identifier.value"}, nil, 0},
		{"identifier a string", `{"user_access_brand_identifier":"https://a.example"}`, nil, []string{"user_access_brand_identifier"}, nil, 0},
		{"identifier without system", `{"user_access_brand_bundle":"https://x/b","user_access_brand_identifier":{"value":"https://a.example"}}`, bundle("https://a.example"), nil, []string{"user_access_brand_identifier"}, 1},
		{"not a Bundle", one, &fhirhttp.Response{Status: 200, Resource: map[string]any{"resourceType": "Organization"}}, nil, []string{"user_access_brand_bundle"}, 0},
		{"HTTP 404", one, &fhirhttp.Response{Status: 404}, nil, []string{"user_access_brand_bundle"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, iss := ReadBrandRef(jsonObj(t, c.doc))
			if got := paths(iss.Errors()); !slices.Equal(got, c.shape) {
				t.Errorf("shape errors %q, want %q", got, c.shape)
			}
			if w := len(iss) - len(iss.Errors()); w != c.warn {
				t.Errorf("%d warnings, want %d", w, c.warn)
			}
			if c.resp == nil {
				return
			}
			_, more := CheckBrandBundle(c.resp, b)
			if got := paths(more); !slices.Equal(got, c.bun) {
				t.Errorf("bundle errors %q, want %q: %v", got, c.bun, more)
			}
		})
	}
}

func paths(l issue.List) []string {
	var out []string
	for _, i := range l {
		out = append(out, i.Path)
	}
	return out
}
