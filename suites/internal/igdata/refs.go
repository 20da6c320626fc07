package igdata

import (
	"slices"
	"sort"
	"strings"
)

// ID returns a resource's id.
func ID(r map[string]any) string { s, _ := r["id"].(string); return s }

// IDs lists the distinct ids of the resources of type typ, sorted.
func IDs(rs []map[string]any, typ string) []string {
	var out []string
	for _, r := range rs {
		if t, _ := r["resourceType"].(string); t == typ {
			out = append(out, ID(r))
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// ReferencesIn lists every literal Reference.reference in a resource (contained ones aside).
func ReferencesIn(v any) []string {
	var out []string
	var walk func(x any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, y := range t {
				if k == "contained" {
					continue
				}
				if s, ok := y.(string); ok && k == "reference" && !strings.HasPrefix(s, "#") {
					out = append(out, s)
					continue
				}
				walk(y)
			}
		case []any:
			for _, y := range t {
				walk(y)
			}
		}
	}
	walk(v)
	return out
}

// SplitRef returns type and id of "Type/id", "Type/id/_history/v" or an absolute URL.
func SplitRef(ref string) (string, string) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(strings.TrimRight(ref, "/"), "/")
	if len(parts) < 2 {
		return "", ""
	}
	t, id := parts[len(parts)-2], parts[len(parts)-1]
	if t == "" || t[0] < 'A' || t[0] > 'Z' {
		return "", ""
	}
	return t, id
}

// Claims reports whether r claims the profile in meta.profile: the canonical without a version,
// or with version when version is not empty and the claim names one (a claim of another IG
// version's profile is not a claim of this one). With version "" any version counts.
func Claims(r map[string]any, profileURL, version string) bool {
	base, _, _ := strings.Cut(profileURL, "|")
	meta, _ := r["meta"].(map[string]any)
	ps, _ := meta["profile"].([]any)
	for _, p := range ps {
		if s, ok := p.(string); ok {
			u, v, hasV := strings.Cut(s, "|")
			if u == base && (!hasV || version == "" || v == version) {
				return true
			}
		}
	}
	return false
}

// ClaimedVersions lists the versions of the profile that resources claim (for skip messages).
func ClaimedVersions(rs []map[string]any, profileURL string) []string {
	var out []string
	for _, r := range rs {
		meta, _ := r["meta"].(map[string]any)
		ps, _ := meta["profile"].([]any)
		for _, p := range ps {
			s, _ := p.(string)
			if u, v, ok := strings.Cut(s, "|"); ok && u == profileURL && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}
