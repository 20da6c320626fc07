package structure

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestDecodeXMLRoundTrip writes every official JSON example of ../shared/fhir-packages as R4 XML
// (in memory, with a writer that follows the R4 XML rules independently of DecodeXML) and checks
// that DecodeXML gives back exactly the example's JSON tree.
func TestDecodeXMLRoundTrip(t *testing.T) {
	pkgs := examplePackages(t)
	v := validator(t)
	total, skipped := 0, 0
	for _, p := range pkgs {
		for _, ex := range p.Examples() {
			if strings.HasSuffix(ex.Name, ".index.json") {
				continue
			}
			d := json.NewDecoder(bytes.NewReader(ex.Raw))
			d.UseNumber()
			var tree map[string]any
			if d.Decode(&tree) != nil {
				continue
			}
			var b bytes.Buffer
			if err := writeXMLResource(v.core.m, &b, tree, true); err != nil {
				skipped++ // e.g. an element R4 does not define: not expressible as FHIR XML
				continue
			}
			total++
			got, err := v.DecodeXML(b.Bytes())
			if err != nil {
				t.Errorf("%s %s: %v", p.Ref(), ex.Name, err)
				continue
			}
			if !reflect.DeepEqual(got, tree) {
				g, _ := json.Marshal(got)
				t.Errorf("%s %s: differs\ngot  %.400s\nwant %.400s", p.Ref(), ex.Name, g, ex.Raw)
			}
		}
	}
	t.Logf("%d examples round-tripped through XML, %d not expressible", total, skipped)
	if total < 1000 {
		t.Errorf("only %d examples round-tripped", total)
	}
}

func xmlAttr(b *bytes.Buffer, name, val string) {
	b.WriteString(" " + name + `="`)
	xml.EscapeText(b, []byte(val))
	b.WriteString(`"`)
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return fmt.Sprint(x), true
	case json.Number:
		return string(x), true
	}
	return "", false
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func writeXMLResource(m *model, b *bytes.Buffer, obj map[string]any, top bool) error {
	rt, _ := obj["resourceType"].(string)
	t := m.types[rt]
	if t == nil || t.kind != kindResource {
		return fmt.Errorf("not a resource: %q", rt)
	}
	b.WriteString("<" + rt)
	if top {
		xmlAttr(b, "xmlns", fhirNS)
	}
	b.WriteString(">")
	if err := writeXMLChildren(m, b, obj, t, true); err != nil {
		return err
	}
	b.WriteString("</" + rt + ">")
	return nil
}

func writeXMLChildren(m *model, b *bytes.Buffer, obj map[string]any, t *typeDef, resource bool) error {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	done := map[string]bool{}
	for _, k := range keys {
		name := strings.TrimPrefix(k, "_")
		if k == "resourceType" || done[name] || (!resource && (name == "id" || (name == "url" && t.name == "Extension"))) {
			continue
		}
		done[name] = true
		e := t.elems[name]
		if e == nil || (e.typ == nil && !e.resource) {
			return fmt.Errorf("unknown element %s", name)
		}
		if e.typ != nil && e.typ.kind == kindPrimitive {
			if e.typ.name == "xhtml" {
				s, _ := obj[name].(string)
				b.WriteString(s)
				continue
			}
			vals, exts := asList(obj[name]), asList(obj["_"+name])
			n := max(len(vals), len(exts))
			for i := range n {
				b.WriteString("<" + name)
				var ext map[string]any
				if i < len(exts) {
					ext, _ = exts[i].(map[string]any)
				}
				if id, ok := ext["id"].(string); ok {
					xmlAttr(b, "id", id)
				}
				if i < len(vals) && vals[i] != nil {
					s, ok := scalar(vals[i])
					if !ok {
						return fmt.Errorf("%s: not a primitive", name)
					}
					xmlAttr(b, "value", s)
				}
				b.WriteString(">")
				if ext != nil {
					if err := writeXMLChildren(m, b, ext, m.types["Element"], false); err != nil {
						return err
					}
				}
				b.WriteString("</" + name + ">")
			}
			continue
		}
		for _, item := range asList(obj[name]) {
			o, ok := item.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: not an object", name)
			}
			b.WriteString("<" + name)
			if e.resource {
				b.WriteString(">")
				if err := writeXMLResource(m, b, o, false); err != nil {
					return err
				}
				b.WriteString("</" + name + ">")
				continue
			}
			if id, ok := o["id"].(string); ok {
				xmlAttr(b, "id", id)
			}
			if u, ok := o["url"].(string); ok && e.typ.name == "Extension" {
				xmlAttr(b, "url", u)
			}
			b.WriteString(">")
			if err := writeXMLChildren(m, b, o, e.typ, false); err != nil {
				return err
			}
			b.WriteString("</" + name + ">")
		}
	}
	return nil
}
