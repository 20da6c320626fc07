package search

import (
	"context"
	"encoding/json"
	"strings"
)

// SearchValues returns the search values (without comparator) that a resource offers for p, in
// document order, deduplicated: the values a later search can use so that the resource must be
// among the matches. Values a search cannot express (text-only concepts, contained references)
// are left out.
func SearchValues(ctx context.Context, ev Evaluator, res map[string]any, p Param) []string {
	if ev == nil {
		ev = FHIRPathEvaluator{}
	}
	expr := p.Expression
	if expr == "" && p.Code == "_id" {
		expr, p.Type = "Resource.id", "token"
	}
	vals, err := ev.Eval(ctx, expr, res)
	if err != nil {
		return nil
	}
	vals = extensionValues(vals)
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, v := range vals {
		typ := v.Type
		if typ == "" {
			typ = inferType(v.V)
		}
		switch p.Type {
		case "date":
			switch x := v.V.(type) {
			case string:
				if _, ok := parseDateRange(x); ok {
					add(x)
				}
			case map[string]any:
				if typ == "Period" {
					if s, _ := x["start"].(string); s != "" {
						add(s)
					} else if e, _ := x["end"].(string); e != "" {
						add(e)
					}
				}
				if typ == "Timing" {
					if evs, _ := x["event"].([]any); len(evs) > 0 {
						if s, ok := evs[0].(string); ok {
							add(s)
						}
					}
				}
			}
		case "token":
			switch x := v.V.(type) {
			case string:
				add(x)
			case bool:
				if x {
					add("true")
				} else {
					add("false")
				}
			case map[string]any:
				switch typ {
				case "CodeableConcept":
					cs, _ := x["coding"].([]any)
					for _, c := range cs {
						cm, _ := c.(map[string]any)
						sys, _ := cm["system"].(string)
						code, _ := cm["code"].(string)
						if code != "" && sys != "" {
							add(escape(sys) + "|" + escape(code))
						}
					}
				case "Coding":
					sys, _ := x["system"].(string)
					code, _ := x["code"].(string)
					if code != "" && sys != "" {
						add(escape(sys) + "|" + escape(code))
					}
				case "Identifier", "ContactPoint":
					sys, _ := x["system"].(string)
					val, _ := x["value"].(string)
					if val != "" && sys != "" {
						add(escape(sys) + "|" + escape(val))
					} else if val != "" {
						add(escape(val))
					}
				}
			}
		case "reference":
			var ref string
			switch x := v.V.(type) {
			case map[string]any:
				ref, _ = x["reference"].(string)
			case string: // a canonical: searched by its URL (url|version keeps its bar)
				add(strings.NewReplacer(`\`, `\\`, `,`, `\,`, `$`, `\$`).Replace(x))
				continue
			}
			if ref == "" || strings.HasPrefix(ref, "#") {
				continue
			}
			if t, id := splitRef(ref); t != "" && id != "" {
				add(t + "/" + id)
			}
		case "string":
			for _, s := range stringParts(v) {
				if s = strings.TrimSpace(s); s != "" {
					add(s)
					break
				}
			}
		case "quantity":
			if x, ok := v.V.(map[string]any); ok {
				if n, ok := x["value"].(json.Number); ok {
					sys, _ := x["system"].(string)
					code, _ := x["code"].(string)
					add(n.String() + "|" + escape(sys) + "|" + escape(code))
				}
			}
		case "number":
			if n, ok := v.V.(json.Number); ok {
				add(n.String())
			}
		case "uri":
			if s, ok := v.V.(string); ok {
				add(s)
			}
		}
	}
	return out
}

func escape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `|`, `\|`, `,`, `\,`, `$`, `\$`)
	return r.Replace(s)
}

// extensionValues replaces each Extension among vals by its value[x]: a SearchParameter whose
// expression stops at the extension (Plan-Net's practitionerrole-network,
// "PractitionerRole.extension.where(url='…/network-reference')") searches the extension's value,
// as servers index it.
func extensionValues(vals []Value) []Value {
	out := vals[:0:0]
	for _, v := range vals {
		m, ok := v.V.(map[string]any)
		if _, hasURL := m["url"].(string); ok && hasURL && (v.Type == "Extension" || v.Type == "") {
			for k, x := range m {
				if t, ok := strings.CutPrefix(k, "value"); ok && t != "" {
					v = Value{Type: t, V: x}
					break
				}
			}
		}
		out = append(out, v)
	}
	return out
}
