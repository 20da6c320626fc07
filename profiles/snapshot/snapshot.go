// Package snapshot generates the snapshot of a StructureDefinition that has only a differential,
// following the FHIR R4 profiling rules (https://hl7.org/fhir/R4/profiling.html#snapshot) with the
// HL7 Java validator's ProfileUtilities as the reference behaviour: the differential is merged onto
// the snapshot of the base definition (found by baseDefinition, itself generated when it lacks a
// snapshot). Slices are inserted after the sliced element's children; the children of a slice or of
// a datatype element are expanded only where the differential constrains below it, from the
// sliced element, the type's profile (an extension definition) or the datatype's snapshot.
package snapshot

import (
	"errors"
	"fmt"
	"strings"
)

// Resolver returns the JSON of the StructureDefinition with a canonical ("url" or "url|version"),
// or ok=false when it knows none.
type Resolver func(canonical string) (raw []byte, ok bool)

// maxDepth bounds the chain of bases generated one from another (and catches cycles).
const maxDepth = 32

// Generator generates snapshots with one resolver, caching the snapshots of the bases and
// datatypes it reads. It is not safe for concurrent use.
type Generator struct {
	resolve Resolver
	cache   map[string]*cached
	depth   int
}

type cached struct {
	elems []map[string]any
	err   error
	busy  bool
}

// New makes a Generator.
func New(r Resolver) *Generator {
	return &Generator{resolve: r, cache: map[string]*cached{}}
}

// Generate returns the StructureDefinition JSON with its snapshot generated from its differential
// (any snapshot it has is replaced).
func Generate(raw []byte, r Resolver) ([]byte, error) { return New(r).Generate(raw) }

// Generate returns the StructureDefinition JSON with its snapshot generated from its differential.
func (g *Generator) Generate(raw []byte) ([]byte, error) {
	sd, err := decode(raw)
	if err != nil {
		return nil, err
	}
	elems, err := g.generate(sd)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	sd["snapshot"] = map[string]any{"element": out}
	b, err := marshalSD(sd)
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", str(sd, "url"), err)
	}
	return b, nil
}

// generate builds the snapshot elements of a decoded StructureDefinition.
func (g *Generator) generate(sd map[string]any) (elems []map[string]any, err error) {
	url := str(sd, "url")
	defer func() {
		var ge *Error
		if errors.As(err, &ge) && ge.Profile == "" {
			ge.Profile = url
		}
	}()
	if rt := str(sd, "resourceType"); rt != "StructureDefinition" {
		if rt == "" {
			return nil, &Error{Msg: "not a FHIR resource (no resourceType)"}
		}
		return nil, &Error{Msg: fmt.Sprintf("a %s, not a StructureDefinition", rt)}
	}
	if d := str(sd, "derivation"); d != "" && d != "constraint" {
		return nil, &Error{Msg: fmt.Sprintf("derivation %q: only constraint profiles (and extensions) can be generated", d)}
	}
	base := str(sd, "baseDefinition")
	if base == "" {
		return nil, &Error{Msg: "no baseDefinition"}
	}
	baseElems, err := g.snapshotOf(base)
	if err != nil {
		return nil, err
	}
	diff, _ := sd["differential"].(map[string]any)
	var delems []map[string]any
	for _, e := range list(diff, "element") {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, &Error{Msg: "a differential element is not a JSON object"}
		}
		delems = append(delems, m)
	}
	root, err := buildTree(baseElems)
	if err != nil {
		return nil, err
	}
	m := &merger{g: g, url: url, root: root}
	if err := m.apply(delems); err != nil {
		return nil, err
	}
	return toMaps(flatten(root)), nil
}

func toMaps(xs []any) []map[string]any {
	out := make([]map[string]any, len(xs))
	for i, x := range xs {
		out[i] = x.(map[string]any)
	}
	return out
}

// snapshotOf returns the snapshot elements of the StructureDefinition with that canonical,
// generating it when it has none. The result is shared: callers clone what they change.
func (g *Generator) snapshotOf(canonical string) ([]map[string]any, error) {
	if c, ok := g.cache[canonical]; ok {
		if c.busy {
			return nil, &Error{Msg: fmt.Sprintf("%s derives from itself", canonical)}
		}
		return c.elems, c.err
	}
	c := &cached{busy: true}
	g.cache[canonical] = c
	c.elems, c.err = g.load(canonical)
	c.busy = false
	return c.elems, c.err
}

func (g *Generator) load(canonical string) ([]map[string]any, error) {
	raw, ok := g.resolve(canonical)
	if !ok && strings.Contains(canonical, "|") {
		raw, ok = g.resolve(canonical[:strings.IndexByte(canonical, '|')])
	}
	if !ok {
		return nil, &Error{Msg: fmt.Sprintf("unknown StructureDefinition %s", canonical)}
	}
	sd, err := decode(raw)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("StructureDefinition %s: %v", canonical, err)}
	}
	snap, _ := sd["snapshot"].(map[string]any)
	if els := list(snap, "element"); len(els) > 0 {
		out := make([]map[string]any, 0, len(els))
		for _, e := range els {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out, nil
	}
	if g.depth >= maxDepth {
		return nil, &Error{Msg: fmt.Sprintf("base chain deeper than %d at %s", maxDepth, canonical)}
	}
	g.depth++
	defer func() { g.depth-- }()
	elems, err := g.generate(sd)
	if err != nil {
		return nil, fmt.Errorf("base %s has no snapshot and generating it failed: %w", canonical, err)
	}
	return elems, nil
}
