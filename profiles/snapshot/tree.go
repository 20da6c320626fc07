package snapshot

import (
	"strings"
)

// node is one element of a snapshot under construction. Ids and paths are not stored: they are
// rebuilt from the tree when the snapshot is written, so elements grafted from a datatype or an
// extension definition, or copied under a new slice, need no renaming.
type node struct {
	elem map[string]any // the element as it stands, differential applied
	// orig is the element as inherited (base snapshot, datatype or copied slice), before this
	// differential touched it: new slices copy their sliced element from it.
	orig  map[string]any
	name  string // last path segment (value[x], coding)
	slice string // slice name, "a/b" for a re-slice; empty for an unsliced element

	children []*node
	slices   []*node
	sliceOf  *node
	// added marks a slice this differential created: it is not copied under sibling slices.
	added bool
	// typeSlice marks a slice made for a renamed choice key (value[x]:valueQuantity).
	typeSlice bool
	// ref is the element's contentReference ("#Questionnaire.item"), kept after it is replaced.
	ref string
	// copied marks a child copied under a new slice from the element it slices.
	copied bool
}

func newNode(elem map[string]any, name, slice string) *node {
	return &node{elem: elem, orig: cloneMap(elem), name: name, slice: slice, ref: str(elem, "contentReference")}
}

// child returns the unsliced child named name.
func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (n *node) sliceNamed(name string) *node {
	for _, s := range n.slices {
		if s.slice == name {
			return s
		}
	}
	return nil
}

// copyInherited deep-copies a subtree from its inherited content, leaving out the slices this
// differential added.
func (n *node) copyInherited() *node {
	c := &node{elem: cloneMap(n.orig), orig: cloneMap(n.orig), name: n.name, slice: n.slice, ref: n.ref}
	for _, ch := range n.children {
		if !ch.added {
			c.children = append(c.children, ch.copyInherited())
		}
	}
	for _, s := range n.slices {
		if !s.added {
			sc := s.copyInherited()
			sc.sliceOf = c
			c.slices = append(c.slices, sc)
		}
	}
	return c
}

// buildTree turns a snapshot's element list into a tree. Elements whose parent or sliced element
// the list lacks are dropped (they could not apply to anything).
func buildTree(elems []map[string]any) (*node, error) {
	if len(elems) == 0 {
		return nil, errorf("", "the base snapshot is empty")
	}
	rootID := elemID(elems[0])
	root := newNode(cloneMap(elems[0]), rootID, "")
	byID := map[string]*node{rootID: root}
	for _, e := range elems[1:] {
		id := elemID(e)
		i := strings.LastIndexByte(id, '.')
		if i < 0 {
			continue
		}
		parentID, last := id[:i], id[i+1:]
		name, slice, sliced := strings.Cut(last, ":")
		n := newNode(cloneMap(e), name, slice)
		if sliced {
			baseID := parentID + "." + name
			if j := strings.LastIndexByte(slice, '/'); j >= 0 {
				baseID += ":" + slice[:j]
			}
			b := byID[baseID]
			if b == nil {
				continue
			}
			n.sliceOf = b
			b.slices = append(b.slices, n)
		} else {
			p := byID[parentID]
			if p == nil {
				continue
			}
			p.children = append(p.children, n)
		}
		byID[id] = n
	}
	return root, nil
}

// elemID is an element's id, or its path for the few old snapshots without ids.
func elemID(e map[string]any) string {
	if id, _ := e["id"].(string); id != "" {
		return id
	}
	p, _ := e["path"].(string)
	return p
}

// flatten writes the tree back as a snapshot element list, in the order the FHIR spec requires:
// an element, its children, then its slices (each followed by its own children and re-slices).
func flatten(root *node) []any {
	var out []any
	var walk func(n *node, id, path string)
	walk = func(n *node, id, path string) {
		n.elem["id"] = id
		n.elem["path"] = path
		if n.slice != "" {
			n.elem["sliceName"] = n.slice
		}
		out = append(out, n.elem)
		for _, c := range n.children {
			walk(c, id+"."+c.name, path+"."+c.name)
		}
		for _, s := range n.slices {
			// a slice's id replaces the sliced element's last segment
			sid := id
			if i := strings.LastIndexByte(id, '.'); i >= 0 {
				sid = id[:i+1] + s.name + ":" + s.slice
			} else {
				sid = s.name + ":" + s.slice
			}
			walk(s, sid, path)
		}
	}
	walk(root, root.name, rootPath(root))
	return out
}

func rootPath(root *node) string {
	if p, _ := root.elem["path"].(string); p != "" {
		return p
	}
	return root.name
}

// typeSliced reports whether n's slices are the type slices of a choice (at most one applies).
func (n *node) typeSliced() bool {
	for _, s := range n.slices {
		if s.typeSlice {
			return true
		}
	}
	return strings.HasSuffix(n.name, "[x]")
}

// count is the number of elements in the subtree.
func (n *node) count() int {
	c := 1
	for _, ch := range n.children {
		c += ch.count()
	}
	for _, s := range n.slices {
		c += s.count()
	}
	return c
}
