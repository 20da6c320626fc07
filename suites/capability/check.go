package capability

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Rules of the CapabilityStatement checks.
const (
	RuleFHIRVersion  = "capability.fhir-version"
	RuleFormat       = "capability.format-json"
	RuleContentType  = "capability.http.content-type"
	RuleRestServer   = "capability.rest-server"
	RuleInstantiates = "capability.instantiates"
	RuleProfiles     = "capability.supported-profiles"
	RuleSearchParams = "capability.search-params"
	RuleInteractions = "capability.interactions"
	RuleSecurity     = "capability.smart-security"
)

// serverRest returns rest entries with mode server.
func serverRest(cs map[string]any) []map[string]any {
	var out []map[string]any
	rests, _ := cs["rest"].([]any)
	for _, r := range rests {
		rm, _ := r.(map[string]any)
		if m, _ := rm["mode"].(string); m == "server" {
			out = append(out, rm)
		}
	}
	return out
}

// serverResources indexes rest[mode=server].resource by type.
func serverResources(cs map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, rest := range serverRest(cs) {
		rs, _ := rest["resource"].([]any)
		for _, r := range rs {
			rm, _ := r.(map[string]any)
			if t, _ := rm["type"].(string); t != "" {
				out[t] = rm
			}
		}
	}
	return out
}

func strList(x any) []string {
	arr, _ := x.([]any)
	var out []string
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func canonicalBase(s string) string {
	u, _, _ := strings.Cut(s, "|")
	return u
}

// CheckBasics checks fhirVersion, JSON format and rest.mode server.
func CheckBasics(cs map[string]any, contentType string) issue.List {
	var out issue.List
	if v, _ := cs["fhirVersion"].(string); v != "4.0.1" {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleFHIRVersion, Path: "CapabilityStatement.fhirVersion",
			Message: fmt.Sprintf("expected fhirVersion 4.0.1, got %q", v)})
	}
	json := false
	for _, f := range strList(cs["format"]) {
		switch strings.ToLower(f) {
		case "json", "application/fhir+json", "application/json", "application/json+fhir":
			json = true
		}
	}
	if !json {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleFormat, Path: "CapabilityStatement.format",
			Message: fmt.Sprintf("expected format to list json (or application/fhir+json), got %v", strList(cs["format"]))})
	}
	if contentType != "" && contentType != "application/fhir+json" && contentType != "application/json" && contentType != "application/json+fhir" {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleContentType, Path: "Content-Type",
			Message: fmt.Sprintf("expected the metadata response as application/fhir+json, got %q", contentType)})
	}
	return out
}

// CheckRestServer checks for a rest entry with mode server.
func CheckRestServer(cs map[string]any) issue.List {
	if len(serverRest(cs)) == 0 {
		var modes []string
		rests, _ := cs["rest"].([]any)
		for _, r := range rests {
			rm, _ := r.(map[string]any)
			m, _ := rm["mode"].(string)
			modes = append(modes, m)
		}
		return issue.List{{Severity: issue.Error, Rule: RuleRestServer, Path: "CapabilityStatement.rest",
			Message: fmt.Sprintf("expected a rest entry with mode server, got modes %v", modes)}}
	}
	return nil
}

// CheckSecurity checks the SMART oauth-uris extension and the SMART-on-FHIR service code.
func CheckSecurity(cs map[string]any) issue.List {
	var out issue.List
	rests := serverRest(cs)
	if len(rests) == 0 {
		return issue.List{{Severity: issue.Error, Rule: RuleSecurity, Path: "CapabilityStatement.rest",
			Message: "no rest entry with mode server, so no rest.security"}}
	}
	sec, _ := rests[0]["security"].(map[string]any)
	if sec == nil {
		return issue.List{{Severity: issue.Error, Rule: RuleSecurity, Path: "CapabilityStatement.rest[0].security",
			Message: "expected rest.security with the SMART oauth-uris extension, got none"}}
	}
	found := false
	exts, _ := sec["extension"].([]any)
	for _, e := range exts {
		em, _ := e.(map[string]any)
		if u, _ := em["url"].(string); u != "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris" {
			continue
		}
		found = true
		have := map[string]bool{}
		sub, _ := em["extension"].([]any)
		for _, s := range sub {
			sm, _ := s.(map[string]any)
			u, _ := sm["url"].(string)
			if v, _ := sm["valueUri"].(string); v != "" {
				have[u] = true
			}
		}
		for _, need := range []string{"authorize", "token"} {
			if !have[need] {
				out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleSecurity, Path: "CapabilityStatement.rest[0].security.extension",
					Message: fmt.Sprintf("oauth-uris extension lacks the %q endpoint (valueUri)", need)})
			}
		}
	}
	if !found {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleSecurity, Path: "CapabilityStatement.rest[0].security.extension",
			Message: "expected the extension http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris, got none"})
	}
	svc := false
	services, _ := sec["service"].([]any)
	for _, s := range services {
		sm, _ := s.(map[string]any)
		cs, _ := sm["coding"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			if code, _ := cm["code"].(string); code == "SMART-on-FHIR" {
				svc = true
			}
		}
	}
	if !svc {
		out = append(out, issue.Issue{Severity: issue.Warning, Rule: RuleSecurity, Path: "CapabilityStatement.rest[0].security.service",
			Message: "rest.security.service does not carry the SMART-on-FHIR code (restful-security-service)"})
	}
	return out
}

// CheckInstantiates checks that the server declares conformance to the IG CapabilityStatement
// canonical (at the version, or unversioned), or names the IG in implementationGuide.
func CheckInstantiates(cs map[string]any, canonical, version, igID string) issue.List {
	for _, inst := range strList(cs["instantiates"]) {
		u, v, hasV := strings.Cut(inst, "|")
		if u == canonical && (!hasV || v == version) {
			return nil
		}
	}
	for _, g := range strList(cs["implementationGuide"]) {
		u, v, hasV := strings.Cut(g, "|")
		if strings.Contains(u, "/ImplementationGuide/"+igID) && (!hasV || v == version) {
			return nil
		}
	}
	return issue.List{{Severity: issue.Error, Rule: RuleInstantiates, Path: "CapabilityStatement.instantiates",
		Message: fmt.Sprintf("expected instantiates to list %s|%s (or implementationGuide the %s IG at %s), got %v", canonical, version, igID, version, strList(cs["instantiates"]))}}
}

// CheckDeclared checks that, for each resource type the IG marks SHALL, the server declares the
// type, every SHALL profile, every SHALL search parameter (with its type) and every SHALL read /
// search-type interaction. The IG side is a parsed server CapabilityStatement.
func CheckDeclared(cs map[string]any, srv *ig.Server, what string) issue.List {
	have := serverResources(cs)
	var out issue.List
	for _, r := range srv.Resources {
		if r.Expectation != "SHALL" {
			continue
		}
		sr := have[r.Type]
		if sr == nil {
			rule := map[string]string{"profiles": RuleProfiles, "search": RuleSearchParams, "interactions": RuleInteractions}[what]
			out = append(out, issue.Issue{Severity: issue.Error, Rule: rule, Path: "CapabilityStatement.rest.resource",
				Message: fmt.Sprintf("%s (SHALL in %s) is not declared in rest.resource", r.Type, srv.IG)})
			continue
		}
		path := "CapabilityStatement.rest.resource(" + r.Type + ")"
		switch what {
		case "profiles":
			declared := map[string]bool{}
			for _, p := range append(strList(sr["supportedProfile"]), strList(sr["profile"])...) {
				declared[canonicalBase(p)] = true
			}
			for _, p := range r.Profiles {
				if p.Expectation == "SHALL" && !declared[canonicalBase(p.URL)] && !derivedDeclared(srv, declared, canonicalBase(p.URL)) {
					out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleProfiles, Path: path + ".supportedProfile",
						Message: fmt.Sprintf("%s: supportedProfile lacks %s (SHALL in %s)", r.Type, canonicalBase(p.URL), srv.IG)})
				}
			}
		case "search":
			declared := map[string]string{}
			sps, _ := sr["searchParam"].([]any)
			for _, x := range sps {
				sm, _ := x.(map[string]any)
				n, _ := sm["name"].(string)
				t, _ := sm["type"].(string)
				declared[n] = t
			}
			for _, sp := range r.SearchParams {
				if sp.Expectation != "SHALL" {
					continue
				}
				t, ok := declared[sp.Name]
				switch {
				case !ok:
					out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleSearchParams, Path: path + ".searchParam",
						Message: fmt.Sprintf("%s: searchParam %s (%s, SHALL in %s) is not declared", r.Type, sp.Name, sp.Type, srv.IG)})
				case t != "" && sp.Type != "" && t != sp.Type:
					out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleSearchParams, Path: path + ".searchParam",
						Message: fmt.Sprintf("%s: searchParam %s declared with type %s, expected %s", r.Type, sp.Name, t, sp.Type)})
				}
			}
		case "interactions":
			declared := map[string]bool{}
			its, _ := sr["interaction"].([]any)
			for _, x := range its {
				im, _ := x.(map[string]any)
				c, _ := im["code"].(string)
				declared[c] = true
			}
			for _, code := range []string{"read", "search-type"} {
				if r.Interactions[code] == "SHALL" && !declared[code] {
					out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleInteractions, Path: path + ".interaction",
						Message: fmt.Sprintf("%s: interaction %s (SHALL in %s) is not declared", r.Type, code, srv.IG)})
				}
			}
		}
	}
	return out
}

// decode decodes a JSON object with UseNumber.
func decode(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}

// derivedDeclared reports whether required is an abstract profile and a declared profile derives
// from it (a server declaring the concrete CARIN BB EOB subtypes supports the abstract
// C4BB-ExplanationOfBenefit, which no instance can claim).
func derivedDeclared(srv *ig.Server, declared map[string]bool, required string) bool {
	if r, ok := srv.Ctx.ResolveType("StructureDefinition", required); !ok || !r.Abstract {
		return false // a concrete profile must be declared itself
	}
	for d := range declared {
		cur := d
		for range 10 {
			r, ok := srv.Ctx.ResolveType("StructureDefinition", cur)
			if !ok {
				break
			}
			if r.BaseDefinition == "" {
				break
			}
			cur = canonicalBase(r.BaseDefinition)
			if cur == required {
				return true
			}
		}
	}
	return false
}
