package validate

import (
	"fmt"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// restrictedChoice reports the concrete choice property key (effectiveInstant) of choice element
// c when c's profile excludes its type but the base definition allows it: a profile that narrows
// effective[x] to dateTime | Period, or an extension whose value[x] is valueCode only. A type the
// base excludes as well is the structural layer's choice-type finding.
func (w *walker) restrictedChoice(c *Elem, key string) {
	if len(key) <= len(c.Name) {
		return
	}
	if key[0] == '_' {
		key = key[1:]
	}
	suffix := key[len(c.Name):]
	be := w.baseElem(c.Path)
	if be == nil || be == c {
		return
	}
	code := ""
	for _, t := range be.Types {
		if strings.EqualFold(t.Code, suffix) && strings.EqualFold(t.Code[:1], suffix[:1]) {
			code = t.Code
			break
		}
	}
	if code == "" {
		return
	}
	w.add(issue.Error, ruleChoice, c, "."+key, fmt.Sprintf("type %s is not allowed for %s[x]: the profile restricts %s to %s", code, c.Name, c.ID, typeList(c)))
}

// baseElem finds the R4 base definition of an element path (Extension.extension.value[x]),
// stepping into the base definition of an element's type where the path goes below a typed
// element; nil when the path does not resolve.
func (w *walker) baseElem(path string) *Elem {
	segs := strings.Split(path, ".")
	p := w.tsc.baseType(segs[0])
	if p == nil {
		return nil
	}
	e := p.Root
	for _, sg := range segs[1:] {
		if len(e.Children) == 0 {
			switch {
			case e.content != nil:
				e = e.content
			case len(e.Types) == 1:
				t := w.tsc.baseType(e.Types[0].Code)
				if t == nil {
					return nil
				}
				e = t.Root
			default:
				return nil
			}
		}
		name := strings.TrimSuffix(sg, "[x]")
		var next *Elem
		for _, ch := range e.Children {
			if ch.Name == name {
				next = ch
				break
			}
		}
		if next == nil {
			return nil
		}
		e = next
	}
	return e
}
