package oauth

import (
	"fmt"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// RuleScopeEnforced is the rule of CheckScopeEnforced.
const RuleScopeEnforced = "scope.enforced"

// AllowsResource reports whether one of the granted scopes permits interaction ("read" or
// "search") on resource, honouring granular v2 restrictions: a parameter restricts the element of
// the same name (e.g. category -> Observation.category), matched as a FHIR token "system|code",
// "|code" or "code" against its codings (CodeableConcept, Coding, arrays) or plain code/string values.
func AllowsResource(granted []Scope, resource map[string]any, interaction string) bool {
	rt, _ := resource["resourceType"].(string)
	for _, s := range granted {
		if !s.Allows(rt, interaction) {
			continue
		}
		if !s.Granular() || matchesQuery(resource, s) {
			return true
		}
	}
	return false
}

func matchesQuery(resource map[string]any, s Scope) bool {
	for param, vals := range s.Query {
		ok := false
		for _, v := range vals {
			for _, alt := range strings.Split(v, ",") {
				if tokenMatches(resource[param], alt) {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func tokenMatches(v any, token string) bool {
	system, code, hasBar := strings.Cut(token, "|")
	if !hasBar {
		system, code = "", token
	}
	match := func(sys, c string) bool {
		if c != code {
			return false
		}
		if !hasBar {
			return true
		}
		return sys == system
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if tokenMatches(e, token) {
				return true
			}
		}
	case map[string]any:
		if cs, ok := x["coding"].([]any); ok {
			for _, c := range cs {
				if tokenMatches(c, token) {
					return true
				}
			}
			return false
		}
		sys, _ := x["system"].(string)
		c, _ := x["code"].(string)
		if c == "" {
			c, _ = x["value"].(string) // Identifier
		}
		return match(sys, c)
	case string:
		return !hasBar && x == code || hasBar && system == "" && x == code
	}
	return false
}

// CheckScopeEnforced checks that every resource a request returned is permitted by the granted
// scopes (space separated): a resource of a type no scope covers, or outside a granular scope, is
// an error (the server does not enforce scopes). Pass only the search matches (not included or
// OperationOutcome entries); interaction is "read" or "search".
func CheckScopeEnforced(granted, interaction string, resources []map[string]any) issue.List {
	scopes := ParseScopes(granted)
	var out issue.List
	for i, r := range resources {
		if AllowsResource(scopes, r, interaction) {
			continue
		}
		rt, _ := r["resourceType"].(string)
		id, _ := r["id"].(string)
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleScopeEnforced, Path: fmt.Sprintf("Bundle.entry[%d]", i),
			Message:     fmt.Sprintf("%s returned a %s that no granted scope permits (expected only resources the scopes allow)", interaction, safeCode(rt)),
			Diagnostics: rt + "/" + id + " granted: " + granted})
	}
	return out
}
