package oauth

import (
	"net/url"
	"strings"
)

// Scope is one parsed SMART scope (v1 "patient/Observation.read", v2 "patient/Observation.rs",
// granular v2 "patient/Observation.rs?category=laboratory", or a special scope like "openid").
type Scope struct {
	Raw      string
	Special  string     // openid, fhirUser, profile, launch, launch/patient, offline_access, online_access ...; "" for resource scopes
	Context  string     // patient | user | system
	Resource string     // FHIR type or "*"
	Perms    string     // normalised v2 letters subset of "cruds"
	Version  int        // 1 or 2 for resource scopes (0 for special scopes)
	Query    url.Values // granular parameters (v2 only)
	Valid    bool       // false when the text is not a well-formed SMART scope
}

// ParseScopes splits a space-separated scope string.
func ParseScopes(s string) []Scope {
	var out []Scope
	for _, f := range strings.Fields(s) {
		out = append(out, ParseScope(f))
	}
	return out
}

// ParseScope parses one scope.
func ParseScope(s string) Scope {
	sc := Scope{Raw: s}
	slash := strings.IndexByte(s, '/')
	ctx := ""
	if slash > 0 {
		ctx = s[:slash]
	}
	if ctx != "patient" && ctx != "user" && ctx != "system" {
		sc.Special = s
		sc.Valid = s != "" && !strings.ContainsAny(s, " \"\\")
		return sc
	}
	sc.Context = ctx
	rest := s[slash+1:]
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		v, err := url.ParseQuery(rest[q+1:])
		if err != nil {
			return sc
		}
		sc.Query = v
		rest = rest[:q]
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot <= 0 {
		return sc
	}
	sc.Resource, rest = rest[:dot], rest[dot+1:]
	switch rest {
	case "read":
		sc.Version, sc.Perms = 1, "rs"
	case "write":
		sc.Version, sc.Perms = 1, "cud"
	case "*":
		sc.Version, sc.Perms = 1, "cruds"
	default:
		// v2: an ordered, non-empty subset of c r u d s.
		order := "cruds"
		i := 0
		for _, r := range rest {
			j := strings.IndexRune(order[i:], r)
			if j < 0 {
				return sc
			}
			i += j + 1
		}
		if rest == "" {
			return sc
		}
		sc.Version, sc.Perms = 2, rest
	}
	if sc.Query != nil && sc.Version != 2 {
		return sc
	}
	sc.Valid = sc.Resource == "*" || isTypeName(sc.Resource)
	return sc
}

func isTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// interactionPerm maps a FHIR interaction to its v2 letter.
func interactionPerm(interaction string) byte {
	switch interaction {
	case "create":
		return 'c'
	case "read", "vread", "history":
		return 'r'
	case "update", "patch":
		return 'u'
	case "delete":
		return 'd'
	case "search":
		return 's'
	}
	return 0
}

// Allows reports whether this resource scope permits interaction (read, search, create, update,
// delete) on resourceType, ignoring granular query restrictions (see Granular).
func (s Scope) Allows(resourceType, interaction string) bool {
	if !s.Valid || s.Special != "" {
		return false
	}
	if s.Resource != "*" && s.Resource != resourceType {
		return false
	}
	p := interactionPerm(interaction)
	return p != 0 && strings.IndexByte(s.Perms, p) >= 0
}

// Granular reports whether the scope restricts by query parameters.
func (s Scope) Granular() bool { return len(s.Query) > 0 }

// Covers reports whether scope s grants at least everything g grants (same context, resource
// wildcard or equal, permissions superset, and no extra granular restriction on s).
func (s Scope) Covers(g Scope) bool {
	if s.Special != "" || g.Special != "" {
		return s.Special == g.Special && s.Special != ""
	}
	if !s.Valid || !g.Valid || s.Context != g.Context {
		return false
	}
	if s.Resource != "*" && s.Resource != g.Resource {
		return false
	}
	for i := 0; i < len(g.Perms); i++ {
		if strings.IndexByte(s.Perms, g.Perms[i]) < 0 {
			return false
		}
	}
	if len(s.Query) == 0 {
		return true
	}
	return s.Query.Encode() == g.Query.Encode()
}

// CompareScopes returns the requested scopes no granted scope covers (not granted) and the granted
// scopes no requested scope covers (widened). Order follows the inputs.
func CompareScopes(requested, granted []string) (notGranted, widened []string) {
	rq, gr := parseAll(requested), parseAll(granted)
	for _, r := range rq {
		if !anyCovers(gr, r) {
			notGranted = append(notGranted, r.Raw)
		}
	}
	for _, g := range gr {
		if !anyCovers(rq, g) {
			widened = append(widened, g.Raw)
		}
	}
	return
}

func parseAll(ss []string) []Scope {
	var out []Scope
	for _, s := range ss {
		out = append(out, ParseScopes(s)...)
	}
	return out
}

func anyCovers(set []Scope, x Scope) bool {
	for _, s := range set {
		if s.Covers(x) {
			return true
		}
	}
	return false
}

// HasScope reports whether the space-separated scope string contains name exactly.
func HasScope(scopes, name string) bool {
	for _, f := range strings.Fields(scopes) {
		if f == name {
			return true
		}
	}
	return false
}

// JoinScopes dedupes and joins scopes with single spaces, keeping first-seen order.
func JoinScopes(scopes ...string) string {
	seen := map[string]bool{}
	var out []string
	for _, s := range scopes {
		for _, f := range strings.Fields(s) {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return strings.Join(out, " ")
}
