// Package jsondiff compares decoded FHIR JSON values: the read checks ask whether a resource read
// by id is the one a search returned.
package jsondiff

import (
	"fmt"
	"reflect"
	"sort"
)

// WithoutMeta returns a shallow copy of r without its meta element, which servers may legitimately
// vary between a search and a read (e.g. lastUpdated precision, tags).
func WithoutMeta(r map[string]any) map[string]any {
	out := make(map[string]any, len(r))
	for k, v := range r {
		if k != "meta" {
			out[k] = v
		}
	}
	return out
}

// FirstDiff returns the path of the first difference between two JSON values ("" when equal).
func FirstDiff(a, b any, path string) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if d := FirstDiff(x[k], y[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path
		}
		for i := range x {
			if d := FirstDiff(x[i], y[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	default:
		if fmt.Sprint(a) != fmt.Sprint(b) || reflect.TypeOf(a) != reflect.TypeOf(b) {
			return path
		}
		return ""
	}
}
