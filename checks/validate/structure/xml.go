package structure

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// FHIR XML (R4, http://hl7.org/fhir/R4/xml.html) to the FHIR JSON tree the validator checks.
// The model says what each element is: repeating elements become arrays, primitives take their
// value attribute with the JSON type of their kind (boolean, number) and an "_name" companion
// for id and extensions, Element.id and Extension.url are attributes, resources inside elements
// (contained, Bundle.entry.resource) are wrapped in an element named after their type, and
// Narrative.div is the XHTML itself as a string. An element the model does not know is carried
// over generically, so the validator reports it as it would in JSON.

const (
	fhirNS  = "http://hl7.org/fhir"
	xhtmlNS = "http://www.w3.org/1999/xhtml"
)

var numberGrammar = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// xnode is one XML element, parsed.
type xnode struct {
	name    string
	ns      string
	attrs   []xml.Attr
	kids    []*xnode
	start   int64
	raw     []byte // the element's own bytes (kept for XHTML)
	hasText bool   // non-space character data directly inside
}

func (n *xnode) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// DecodeXML converts one FHIR R4 XML resource into the JSON tree Validate and ValidateValue use
// (map[string]any, json.Number numbers). It fails on what is not well-formed XML, a DTD, a root
// element outside the FHIR namespace, an unknown resource type, or input over the size and depth
// limits.
func (v *Validator) DecodeXML(data []byte) (map[string]any, error) {
	maxBytes, maxDepth := v.limits()
	if len(data) > maxBytes {
		return nil, fmt.Errorf("the XML is %d bytes, over the %d-byte limit", len(data), maxBytes)
	}
	root, err := parseXML(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), maxDepth)
	if err != nil {
		return nil, err
	}
	if root.ns != fhirNS {
		return nil, fmt.Errorf("the root element <%s> is not in the FHIR namespace %s", root.name, fhirNS)
	}
	t := v.core.m.types[root.name]
	if t == nil || t.kind != kindResource {
		return nil, fmt.Errorf("<%s> is not an R4 resource type", root.name)
	}
	return v.core.m.xmlResource(root, t)
}

func parseXML(data []byte, maxDepth int) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	// HTML's named entities (&reg;, &nbsp;) occur in narratives; they are kept verbatim in the div
	// string, as JSON narratives carry them. No other entity is defined (no DTD is read).
	d.Entity = xml.HTMLEntity
	var stack []*xnode
	var root *xnode
	for {
		start := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errors.New("a DTD or other <!...> declaration is not allowed in FHIR XML")
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("elements nest deeper than %d", maxDepth)
			}
			n := &xnode{name: t.Name.Local, attrs: t.Attr, start: start}
			n.ns = namespaceOf(t, stack)
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			} else if root != nil {
				return nil, errors.New("more than one root element")
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errors.New("unbalanced end tag")
			}
			n := stack[len(stack)-1]
			n.raw = data[n.start:d.InputOffset()]
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && len(bytes.TrimSpace(t)) > 0 {
				stack[len(stack)-1].hasText = true
			} else if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	if len(stack) > 0 {
		return nil, errors.New("not well-formed XML: unexpected end of file")
	}
	return root, nil
}

// namespaceOf resolves an element's namespace from its own and its ancestors' xmlns declarations
// (RawToken does not).
func namespaceOf(t xml.StartElement, stack []*xnode) string {
	prefix := t.Name.Space
	find := func(attrs []xml.Attr) (string, bool) {
		for _, a := range attrs {
			if prefix == "" && a.Name.Space == "" && a.Name.Local == "xmlns" {
				return a.Value, true
			}
			if prefix != "" && a.Name.Space == "xmlns" && a.Name.Local == prefix {
				return a.Value, true
			}
		}
		return "", false
	}
	if ns, ok := find(t.Attr); ok {
		return ns
	}
	for i := len(stack) - 1; i >= 0; i-- {
		if ns, ok := find(stack[i].attrs); ok {
			return ns
		}
	}
	return ""
}

// xmlResource converts a resource element's children.
func (m *model) xmlResource(n *xnode, t *typeDef) (map[string]any, error) {
	out := map[string]any{"resourceType": n.name}
	if err := m.xmlAttrs(n, t, out, true); err != nil {
		return nil, err
	}
	return out, m.xmlChildren(n, t, out)
}

// xmlAttrs takes the attributes that are JSON properties (Element.id, Extension.url) and refuses
// the others, except namespace declarations and xsi:*.
func (m *model) xmlAttrs(n *xnode, t *typeDef, out map[string]any, resource bool) error {
	for _, a := range n.attrs {
		switch {
		case a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") || a.Name.Space == "xsi":
		case a.Name.Space == "" && !resource && (a.Name.Local == "id" || (a.Name.Local == "url" && t != nil && t.name == "Extension")):
			out[a.Name.Local] = a.Value
		default:
			return fmt.Errorf("<%s>: unexpected attribute %s", n.name, attrName(a.Name))
		}
	}
	return nil
}

func attrName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// xmlChildren converts the child elements of n (of type t) into out.
func (m *model) xmlChildren(n *xnode, t *typeDef, out map[string]any) error {
	if n.hasText {
		return fmt.Errorf("<%s> holds text; FHIR XML puts values in value attributes", n.name)
	}
	// group the children by name, keeping the order of first appearance
	var names []string
	groups := map[string][]*xnode{}
	for _, k := range n.kids {
		if k.ns != fhirNS && !(k.name == "div" && k.ns == xhtmlNS) {
			return fmt.Errorf("<%s> is not in the FHIR namespace", k.name)
		}
		if _, ok := groups[k.name]; !ok {
			names = append(names, k.name)
		}
		groups[k.name] = append(groups[k.name], k)
	}
	for _, name := range names {
		ks := groups[name]
		var e *elem
		if t != nil {
			e = t.elems[name]
		}
		if e == nil || (e.typ == nil && !e.resource) {
			// unknown here: carried over so the validator reports it at its JSON path
			vals := make([]any, len(ks))
			for i, k := range ks {
				vals[i] = genericXML(k)
			}
			if len(vals) == 1 {
				out[name] = vals[0]
			} else {
				out[name] = vals
			}
			continue
		}
		if err := m.xmlElement(name, e, ks, out); err != nil {
			return err
		}
	}
	return nil
}

// xmlElement converts the occurrences ks of element e.
func (m *model) xmlElement(name string, e *elem, ks []*xnode, out map[string]any) error {
	single := !e.array && len(ks) == 1 // several of a single element: an array, which JSON validation reports
	if e.typ != nil && e.typ.kind == kindPrimitive {
		if e.typ.name == "xhtml" {
			vals := make([]any, len(ks))
			for i, k := range ks {
				vals[i] = string(k.raw)
			}
			out[name] = pick(vals, single)
			return nil
		}
		vals := make([]any, len(ks))
		exts := make([]any, len(ks))
		anyVal, anyExt := false, false
		for i, k := range ks {
			ext := map[string]any{}
			for _, a := range k.attrs {
				switch {
				case a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") || a.Name.Space == "xsi":
				case a.Name.Space == "" && a.Name.Local == "value":
					vals[i], anyVal = primitiveValue(e.typ.json, a.Value), true
				case a.Name.Space == "" && a.Name.Local == "id":
					ext["id"] = a.Value
				default:
					return fmt.Errorf("<%s>: unexpected attribute %s", k.name, attrName(a.Name))
				}
			}
			if err := m.xmlChildren(k, m.types["Element"], ext); err != nil {
				return err
			}
			if len(ext) > 0 {
				exts[i], anyExt = ext, true
			}
		}
		if anyVal || !anyExt {
			out[name] = pick(vals, single)
		}
		if anyExt {
			out["_"+name] = pick(exts, single)
		}
		return nil
	}
	vals := make([]any, len(ks))
	for i, k := range ks {
		if e.resource {
			if k.hasText || len(k.kids) != 1 {
				return fmt.Errorf("<%s> must hold exactly one resource element", k.name)
			}
			r := k.kids[0]
			rt := m.types[r.name]
			if r.ns != fhirNS || rt == nil || rt.kind != kindResource {
				return fmt.Errorf("<%s> holds <%s>, which is not an R4 resource type", k.name, r.name)
			}
			res, err := m.xmlResource(r, rt)
			if err != nil {
				return err
			}
			vals[i] = res
			continue
		}
		obj := map[string]any{}
		if err := m.xmlAttrs(k, e.typ, obj, false); err != nil {
			return err
		}
		if err := m.xmlChildren(k, e.typ, obj); err != nil {
			return err
		}
		vals[i] = obj
	}
	out[name] = pick(vals, single)
	return nil
}

func pick(vals []any, single bool) any {
	if single {
		return vals[0]
	}
	return vals
}

// primitiveValue gives a value attribute its JSON type; a value that does not fit the type stays
// a string, so the validator reports it as it would in JSON.
func primitiveValue(k jsonKind, s string) any {
	switch k {
	case jsonBool:
		if s == "true" {
			return true
		}
		if s == "false" {
			return false
		}
	case jsonNumber, jsonInteger:
		if numberGrammar.MatchString(s) {
			return json.Number(s)
		}
	}
	return s
}

// genericXML carries over an element the model does not know: its value attribute, else its
// children as properties.
func genericXML(n *xnode) any {
	if v, ok := n.attr("value"); ok && len(n.kids) == 0 {
		return v
	}
	out := map[string]any{}
	for _, k := range n.kids {
		v := genericXML(k)
		switch prev := out[k.name].(type) {
		case nil:
			out[k.name] = v
		case []any:
			out[k.name] = append(prev, v)
		default:
			out[k.name] = []any{prev, v}
		}
	}
	return out
}
