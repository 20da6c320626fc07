package snapshot

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// merger applies one differential to a tree built from the base snapshot.
type merger struct {
	g    *Generator
	url  string
	root *node
	// size counts the elements added to the tree (slices, expanded children).
	size int
	// slices remembers, for differentials without element ids, the slice last named at a path.
	slices map[string]string
}

func (m *merger) apply(diff []map[string]any) error {
	m.slices = map[string]string{}
	for i, d := range diff {
		id, err := m.diffID(d)
		if err != nil {
			return err
		}
		n, err := m.find(id)
		if err != nil {
			return err
		}
		if i == 0 && n != m.root {
			// A differential may start below the root; nothing to do about it.
			_ = n
		}
		if err := m.mergeInto(n, d, id); err != nil {
			return err
		}
	}
	sumSliceMins(m.root)
	return nil
}

// sumSliceMins raises a sliced element's lower bound to the sum of its slices' (two required
// slices need at least two values), as the published generator does.
func sumSliceMins(n *node) {
	var sum int64
	for _, s := range n.slices {
		sumSliceMins(s)
		sum += num(s.elem["min"])
	}
	if sum > num(n.elem["min"]) && !n.typeSliced() {
		n.elem["min"] = json.Number(strconv.FormatInt(sum, 10))
	}
	for _, c := range n.children {
		sumSliceMins(c)
	}
}

// diffID is the element's id, or one built from its path and the slices named before it.
func (m *merger) diffID(d map[string]any) (string, error) {
	if id := str(d, "id"); id != "" {
		return id, nil
	}
	path := str(d, "path")
	if path == "" {
		return "", errorf("", "a differential element has neither id nor path")
	}
	segs := strings.Split(path, ".")
	sliceName := str(d, "sliceName")
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
		prefix := strings.Join(segs[:i+1], ".")
		if i == len(segs)-1 {
			if sliceName != "" {
				b.WriteString(":" + sliceName)
			}
			m.slices[prefix] = sliceName
			for k := range m.slices {
				if strings.HasPrefix(k, prefix+".") {
					delete(m.slices, k)
				}
			}
		} else if sl := m.slices[prefix]; sl != "" {
			b.WriteString(":" + sl)
		}
	}
	return b.String(), nil
}

// find walks an element id from the root, expanding datatypes, creating slices and resolving
// choice renames (valueQuantity for value[x]) on the way.
func (m *merger) find(id string) (*node, error) {
	segs := splitID(id)
	if len(segs) == 0 || segs[0] != m.root.name {
		return nil, errorf(id, "does not start with the profile's root %s", m.root.name)
	}
	cur := m.root
	for _, seg := range segs[1:] {
		name, slice, _ := strings.Cut(seg, ":")
		if err := m.expand(cur, id); err != nil {
			return nil, err
		}
		next := cur.child(name)
		if next == nil {
			c, sl, typ := choiceFor(cur, name)
			if c == nil {
				return nil, errorf(id, "no element %s under %s", name, cur.name)
			}
			switch {
			case sl != nil:
				next = sl
			case c.copied && c.elem["slicing"] == nil:
				// Inside a slice whose children were copied from the sliced element, the
				// published generator constrains the choice element itself.
				next = c
				restrictType(c.elem, typ)
			default:
				// Elsewhere it slices the choice element by type (ProfileUtilities' "short
				// cut") and constrains the type's slice. Generators before 2023 also
				// narrowed the choice's own types and closed the slicing; the current one
				// (US Core 6.1.0 on) leaves the types and the slicing open, as here.
				rules := "open"
				if c.elem["slicing"] != nil {
					rules = "closed"
				}
				c.elem["slicing"] = map[string]any{
					"discriminator": []any{map[string]any{"type": "type", "path": "$this"}},
					"ordered":       false, "rules": rules}
				next = m.newSlice(c, name)
				next.typeSlice = true
				restrictType(next.elem, typ)
				next.orig = cloneMap(next.elem)
			}
		}
		if slice == name && next.typeSlice {
			slice = "" // value[x]:valueQuantity written as valueQuantity:valueQuantity
		}
		if slice != "" {
			parts := strings.Split(slice, "/")
			for i := range parts {
				want := strings.Join(parts[:i+1], "/")
				s := next.sliceNamed(want)
				if s == nil && i < len(parts)-1 {
					// a re-slice of a slice nobody defined: the published generator keeps
					// "a/b" as a slice of the element itself
					s = next.sliceNamed(slice)
					if s == nil {
						s = m.newSlice(next, slice)
					}
					next = s
					break
				}
				if s == nil {
					s = m.newSlice(next, want)
				}
				next = s
			}
		}
		cur = next
		if m.size > maxElements {
			return nil, errorf(id, "the snapshot would have over %d elements", maxElements)
		}
	}
	return cur, nil
}

// maxElements bounds a generated snapshot (the largest published ones have a few thousand
// elements), so a hostile differential cannot make the generator exhaust memory.
const maxElements = 100_000

// splitID splits an element id at the dots that separate elements (not those inside a slice
// name such as extension:http://... is never used in R4; slice names hold no dots).
func splitID(id string) []string {
	return strings.Split(id, ".")
}

// choiceFor finds the choice element a renamed key (valueQuantity) constrains, any slice of it
// named for that type, and the type code the suffix names.
func choiceFor(n *node, name string) (choice, slice *node, typ string) {
	for _, c := range n.children {
		base, ok := strings.CutSuffix(c.name, "[x]")
		if !ok || len(name) <= len(base) || !strings.HasPrefix(name, base) {
			continue
		}
		suffix := name[len(base):]
		if suffix[0] < 'A' || suffix[0] > 'Z' {
			continue
		}
		for _, t := range list(c.orig, "type") {
			tm, _ := t.(map[string]any)
			code := str(tm, "code")
			if strings.EqualFold(code, suffix) {
				typ = code
			}
		}
		if typ == "" {
			continue
		}
		return c, c.sliceNamed(name), typ
	}
	return nil, nil, ""
}

// restrictType keeps only type code on a choice element a renamed key constrains.
func restrictType(e map[string]any, code string) {
	var keep []any
	for _, t := range list(e, "type") {
		if tm, _ := t.(map[string]any); str(tm, "code") == code {
			keep = append(keep, t)
		}
	}
	if len(keep) > 0 {
		e["type"] = keep
	}
}

// newSlice adds a slice to the sliced element b, copied from b as inherited (a slice starts from
// the base definition of the element it slices, not from this differential's changes to it).
func (m *merger) newSlice(b *node, name string) *node {
	if b.elem["slicing"] == nil && (b.name == "extension" || b.name == "modifierExtension") {
		// extensions are always sliced by url: the published generator says so explicitly
		b.elem["slicing"] = map[string]any{
			"discriminator": []any{map[string]any{"type": "value", "path": "url"}},
			"ordered":       false, "rules": "open"}
	}
	m.dereference(b)
	e := cloneMap(b.orig)
	delete(e, "slicing")
	e["sliceName"] = name
	// a slice is optional unless the differential says otherwise
	e["min"] = json.Number("0")
	s := &node{elem: e, orig: cloneMap(e), name: b.name, slice: name, sliceOf: b, added: true, ref: b.ref}
	b.slices = append(b.slices, s)
	m.size++
	return s
}

// expand gives n its children when the differential goes below an element the tree has not
// expanded: from the profile on its type (an extension definition, a datatype profile), from the
// element it slices, from a contentReference, or from its datatype's snapshot.
func (m *merger) expand(n *node, id string) error {
	if len(n.children) > 0 {
		return nil
	}
	defer func() {
		for _, c := range n.children {
			m.size += c.count()
		}
	}()
	types := list(n.elem, "type")
	if len(types) == 1 {
		t, _ := types[0].(map[string]any)
		if profs := list(t, "profile"); len(profs) == 1 {
			if p, _ := profs[0].(string); p != "" {
				// a profile pacheck cannot resolve or generate falls back to the
				// datatype's own children, as ProfileUtilities does
				if err := m.graft(n, p, id); err == nil && len(n.children) > 0 {
					return nil
				}
			}
		}
	}
	if s := n.sliceOf; s != nil {
		for s != nil && len(s.children) == 0 && s.sliceOf != nil {
			s = s.sliceOf
		}
		if s != nil && len(s.children) > 0 {
			for _, c := range s.children {
				if !c.added {
					cc := c.copyInherited()
					cc.copied = true
					n.children = append(n.children, cc)
				}
			}
			return nil
		}
	}
	if n.ref != "" {
		target := m.byID(n.ref[strings.IndexByte(n.ref, '#')+1:])
		if target == nil {
			return errorf(id, "contentReference %s names no element", n.ref)
		}
		m.dereference(n)
		// copy first: n may be among the target's children (Questionnaire.item.item)
		var kids []*node
		for _, c := range target.children {
			if !c.added {
				kids = append(kids, c.copyInherited())
			}
		}
		n.children = kids
		return nil
	}
	switch len(types) {
	case 0:
		return errorf(id, "%s has no type to expand", n.name)
	case 1:
	default:
		return errorf(id, "%s has %d types: constrain it to one before constraining below it", n.name, len(types))
	}
	t, _ := types[0].(map[string]any)
	code := str(t, "code")
	if code == "" || strings.Contains(code, "/") {
		return errorf(id, "%s has no children to constrain (type %s)", n.name, code)
	}
	return m.graft(n, "http://hl7.org/fhir/StructureDefinition/"+code, id)
}

// dereference replaces an element's contentReference by the type of the element it names, as
// the published generator does once the element is constrained below or sliced.
func (m *merger) dereference(n *node) {
	if n.ref == "" || str(n.elem, "contentReference") == "" {
		return
	}
	typ := []any{map[string]any{"code": "BackboneElement"}}
	if t := m.byID(n.ref[strings.IndexByte(n.ref, '#')+1:]); t != nil && len(list(t.orig, "type")) > 0 {
		typ = cloneValue(list(t.orig, "type")).([]any)
	}
	for _, e := range []map[string]any{n.elem, n.orig} {
		delete(e, "contentReference")
		e["type"] = cloneValue(typ)
	}
}

// graft copies the children of another definition's root (a datatype, an extension) under n.
func (m *merger) graft(n *node, canonical, id string) error {
	elems, err := m.g.snapshotOf(canonical)
	if err != nil {
		var ge *Error
		if asError(err, &ge) && ge.Element == "" {
			return errorf(id, "%v", ge.Msg)
		}
		return fmt.Errorf("element %s: %w", id, err)
	}
	t, err := buildTree(elems)
	if err != nil {
		return errorf(id, "%s: %v", canonical, err)
	}
	for _, c := range t.children {
		n.children = append(n.children, c)
	}
	return nil
}

// byID finds an element of the tree by id (for contentReference "#Questionnaire.item").
func (m *merger) byID(id string) *node {
	segs := splitID(id)
	if len(segs) == 0 || segs[0] != m.root.name {
		return nil
	}
	cur := m.root
	for _, s := range segs[1:] {
		name, slice, _ := strings.Cut(s, ":")
		cur = cur.child(name)
		if cur == nil {
			return nil
		}
		if slice != "" {
			if cur = cur.sliceNamed(slice); cur == nil {
				return nil
			}
		}
	}
	return cur
}
