package fhirpath

import (
	"encoding/xml"
	"io"
	"strings"
)

// extensionsOf returns the extension array of a complex value or a primitive's _element.
func extensionsOf(it Item) []any {
	var obj map[string]any
	if it.k == kNode {
		obj, _ = it.v.(map[string]any)
	} else {
		obj = it.ext
	}
	if obj == nil {
		return nil
	}
	arr, _ := obj["extension"].([]any)
	return arr
}

func fnExtension(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	url, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	var out Collection
	for _, it := range f {
		for _, e := range extensionsOf(it) {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			if u, _ := m["url"].(string); u == url {
				out = append(out, Item{k: kNode, fhir: "Extension", v: m})
			}
		}
	}
	if err := c.step(len(f) + 1); err != nil {
		return nil, err
	}
	return out, nil
}

// primitive navigation also needs ".extension" / ".id" on primitives; children() handles
// maps only, so memberNode falls back here.
func primitiveChildren(it Item, name string) Collection {
	if it.ext == nil {
		return nil
	}
	switch name {
	case "extension":
		var out Collection
		for _, e := range extensionsOf(it) {
			out = append(out, nodeItem(e, "Extension"))
		}
		return out
	case "id":
		if id, ok := it.ext["id"].(string); ok {
			return Collection{{k: kStr, fhir: "string", v: id}}
		}
	}
	return nil
}

func fnHasValue(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	if len(f) != 1 {
		return boolColl(false), nil
	}
	return boolColl(f[0].IsFHIR() && f[0].hasPrimitiveValue()), nil
}

func fnGetValue(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	if len(f) != 1 || !f[0].IsFHIR() || !f[0].hasPrimitiveValue() {
		return nil, nil
	}
	it := f[0]
	return Collection{{k: it.k, v: it.Value()}}, nil
}

func fnResolve(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	var out Collection
	for _, it := range f {
		if err := c.step(1); err != nil {
			return nil, err
		}
		var ref string
		switch {
		case it.k == kNode:
			m, _ := it.v.(map[string]any)
			ref, _ = m["reference"].(string)
		case it.k == kStr:
			ref, _ = it.strVal()
		}
		if ref == "" {
			continue
		}
		r, err := resolveRef(c, ref)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, nodeItem(r, ""))
		}
	}
	return out, nil
}

func resolveRef(c *evalCtx, ref string) (any, error) {
	if strings.HasPrefix(ref, "#") {
		id := ref[1:]
		for _, holder := range []Item{c.resource, c.root} {
			m, _ := holder.v.(map[string]any)
			if m == nil {
				continue
			}
			if id == "" {
				return m, nil
			}
			cont, _ := m["contained"].([]any)
			for _, x := range cont {
				if cm, ok := x.(map[string]any); ok {
					if cid, _ := cm["id"].(string); cid == id {
						return cm, nil
					}
				}
			}
		}
		return nil, nil
	}
	if root, ok := c.root.v.(map[string]any); ok {
		if rt, _ := root["resourceType"].(string); rt == "Bundle" {
			entries, _ := root["entry"].([]any)
			for _, e := range entries {
				em, _ := e.(map[string]any)
				if em == nil {
					continue
				}
				res, _ := em["resource"].(map[string]any)
				if res == nil {
					continue
				}
				if fu, _ := em["fullUrl"].(string); fu != "" && fu == ref {
					return res, nil
				}
				rt, _ := res["resourceType"].(string)
				id, _ := res["id"].(string)
				if rt != "" && id != "" && (ref == rt+"/"+id || strings.HasSuffix(ref, "/"+rt+"/"+id)) {
					return res, nil
				}
			}
		}
	}
	if c.env.Resolver != nil {
		return c.env.Resolver(c.ctx, ref)
	}
	return nil, nil
}

// fnMemberOf asks Env.MemberOf. With several input items (US Core us-core-1 applies it to
// all categories of a Condition) the result is true when any item is a member.
func fnMemberOf(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	if len(f) == 0 {
		return nil, nil
	}
	vs, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	if c.env.MemberOf == nil {
		return nil, errorf("memberOf(%s): no terminology service configured (Env.MemberOf)", vs)
	}
	for _, it := range f {
		if err := c.step(10); err != nil {
			return nil, err
		}
		var v any = it.v
		if it.k == kStr {
			v, _ = it.strVal()
		}
		b, err := c.env.MemberOf(c.ctx, v, vs)
		if err != nil {
			return nil, err
		}
		if b {
			return boolColl(true), nil
		}
	}
	return boolColl(false), nil
}

func fnConformsTo(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	it, ok, err := single(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	url, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	if c.env.ConformsTo != nil {
		b, err := c.env.ConformsTo(c.ctx, it.v, url)
		if err != nil {
			return nil, err
		}
		return boolColl(b), nil
	}
	const base = "http://hl7.org/fhir/StructureDefinition/"
	if strings.HasPrefix(url, base) {
		name := url[len(base):]
		if r4().typ(name) != nil {
			return boolColl(it.fhir != "" && r4().isSubtype(it.fhir, name)), nil
		}
	}
	return nil, errorf("conformsTo(%s): unknown profile (no Env.ConformsTo configured)", url)
}

// allowed XHTML elements in FHIR narrative.
var htmlAllowed = map[string]bool{
	"a": true, "abbr": true, "acronym": true, "address": true, "b": true, "big": true, "blockquote": true,
	"br": true, "caption": true, "cite": true, "code": true, "col": true, "colgroup": true, "dd": true,
	"dfn": true, "div": true, "dl": true, "dt": true, "em": true, "h1": true, "h2": true, "h3": true,
	"h4": true, "h5": true, "h6": true, "hr": true, "i": true, "img": true, "kbd": true, "li": true,
	"ol": true, "p": true, "pre": true, "q": true, "samp": true, "small": true, "span": true,
	"strong": true, "sub": true, "sup": true, "table": true, "tbody": true, "td": true, "tfoot": true,
	"th": true, "thead": true, "tr": true, "tt": true, "ul": true, "var": true, "ins": true, "del": true,
	"s": true, "u": true, "strike": true, "center": true, "font": true, "bdo": true, "map": true, "area": true,
	"dir": true, "menu": true, "label": true, "legend": true, "fieldset": true,
}

// htmlSafe checks FHIR narrative XHTML: well-formed, allowed elements only, no scripts,
// event handler attributes or javascript: URLs, root is a div.
func htmlSafe(s string) bool {
	if len(s) > 10<<20 {
		return false
	}
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	d.AutoClose = nil
	depth := 0
	sawRoot := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return sawRoot && depth == 0
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if depth == 0 {
				if sawRoot || name != "div" {
					return false
				}
				sawRoot = true
			}
			depth++
			if !htmlAllowed[name] {
				return false
			}
			for _, a := range t.Attr {
				an := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(an, "on") {
					return false
				}
				v := strings.ToLower(strings.Join(strings.Fields(a.Value), ""))
				if (an == "href" || an == "src" || an == "action" || an == "background" || an == "style") &&
					(strings.Contains(v, "javascript:") || strings.Contains(v, "vbscript:") || strings.Contains(v, "expression(")) {
					return false
				}
			}
		case xml.EndElement:
			depth--
		case xml.ProcInst, xml.Directive:
			return false
		case xml.CharData:
			if depth == 0 && strings.TrimSpace(string(t)) != "" {
				return false
			}
		}
	}
}

func fnHTMLChecks(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	it, ok, err := single(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	str, ok := it.strVal()
	if !ok {
		return boolColl(false), nil
	}
	if err := c.step(len(str)/256 + 1); err != nil {
		return nil, err
	}
	return boolColl(htmlSafe(str)), nil
}
