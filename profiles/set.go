package profiles

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Set is a collection of loaded packages. It is safe for concurrent reads after loading.
type Set struct {
	mu   sync.RWMutex
	pkgs map[string]*Package // by id#version
	// byURL indexes every canonical resource of every package.
	byURL map[string][]*Resource
}

// NewSet makes a set of the given packages.
func NewSet(pkgs ...*Package) *Set {
	s := &Set{pkgs: map[string]*Package{}, byURL: map[string][]*Resource{}}
	for _, p := range pkgs {
		s.Add(p)
	}
	return s
}

// Add puts a package in the set, replacing one with the same id#version.
func (s *Set) Add(p *Package) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.pkgs[p.Ref()]; ok {
		for _, r := range old.Resources {
			s.byURL[r.URL] = without(s.byURL[r.URL], r)
		}
	}
	s.pkgs[p.Ref()] = p
	for _, r := range p.Resources {
		if r.URL != "" {
			s.byURL[r.URL] = append(s.byURL[r.URL], r)
		}
	}
	s.mu.Unlock()
	s.generateSnapshots()
	s.mu.Lock()
}

func without(rs []*Resource, x *Resource) []*Resource {
	out := rs[:0]
	for _, r := range rs {
		if r != x {
			out = append(out, r)
		}
	}
	return out
}

// Packages returns the packages sorted by reference.
func (s *Set) Packages() []*Package {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Package, 0, len(s.pkgs))
	for _, p := range s.pkgs {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref() < out[j].Ref() })
	return out
}

// Package returns the package with that "id#version" (or the highest version of a bare id).
func (s *Set) Package(ref string) (*Package, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p, ok := s.pkgs[ref]; ok {
		return p, true
	}
	if strings.Contains(ref, "#") {
		return nil, false
	}
	var best *Package
	for _, p := range s.pkgs {
		if p.ID == ref && (best == nil || CompareVersions(p.Version, best.Version) > 0) {
			best = p
		}
	}
	return best, best != nil
}

// Context is the scope in which canonicals resolve: one package and its dependencies, in
// breadth-first order, then (for what they do not hold) the rest of the set.
type Context struct {
	set   *Set
	order []*Package
	in    map[*Package]int
	// Missing lists declared dependencies that are not in the set (id#version).
	Missing []string
	// Substituted maps a declared dependency to the other version of the same package used instead.
	Substituted map[string]string
}

// Context builds the resolution scope of package ref ("id#version", or a bare id for the highest
// version). A dependency at a version the set lacks falls back to the set's highest version of
// that package (recorded in Substituted); one the set lacks entirely is recorded in Missing.
func (s *Set) Context(ref string) (*Context, error) {
	root, ok := s.Package(ref)
	if !ok {
		return nil, fmt.Errorf("package %s is not loaded (known: %s)", ref, strings.Join(s.refs(), ", "))
	}
	c := &Context{set: s, in: map[*Package]int{}, Substituted: map[string]string{}}
	queue := []*Package{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if _, seen := c.in[p]; seen {
			continue
		}
		c.in[p] = len(c.order)
		c.order = append(c.order, p)
		deps := make([]string, 0, len(p.Dependencies))
		for id := range p.Dependencies {
			deps = append(deps, id)
		}
		sort.Strings(deps)
		for _, id := range deps {
			want := id + "#" + p.Dependencies[id]
			d, ok := s.Package(want)
			if !ok {
				if d, ok = s.Package(id); ok {
					c.Substituted[want] = d.Ref()
				}
			}
			if !ok {
				c.Missing = appendUnique(c.Missing, want)
				continue
			}
			queue = append(queue, d)
		}
	}
	return c, nil
}

// Global is the scope of the whole set: for an unversioned canonical, the highest version wins.
func (s *Set) Global() *Context {
	return &Context{set: s, in: map[*Package]int{}, Substituted: map[string]string{}}
}

// Root is the package the context was built for (nil for Global).
func (c *Context) Root() *Package {
	if len(c.order) == 0 {
		return nil
	}
	return c.order[0]
}

// Packages in resolution order.
func (c *Context) Packages() []*Package { return c.order }

// Set is the package set behind the context.
func (c *Context) Set() *Set { return c.set }

// Resolve finds the resource for a canonical "url" or "url|version". Within the context, the
// nearest package wins; outside it, the highest version in the set.
func (c *Context) Resolve(canonical string) (*Resource, bool) {
	url, version, _ := strings.Cut(canonical, "|")
	c.set.mu.RLock()
	cands := c.set.byURL[url]
	c.set.mu.RUnlock()
	if len(cands) == 0 {
		return nil, false
	}
	var best *Resource
	bestRank := 1 << 30
	for _, r := range cands {
		if version != "" && r.Version != version && r.Package.Version != version {
			continue
		}
		rank := 1 << 29
		if i, ok := c.in[r.Package]; ok {
			rank = i
		}
		if best == nil || rank < bestRank || (rank == bestRank && CompareVersions(r.Version, best.Version) > 0) {
			best, bestRank = r, rank
		}
	}
	return best, best != nil
}

// ResolveType is Resolve restricted to one resource type (StructureDefinition, ValueSet...).
func (c *Context) ResolveType(resourceType, canonical string) (*Resource, bool) {
	r, ok := c.Resolve(canonical)
	if !ok || r.ResourceType != resourceType {
		return nil, false
	}
	return r, true
}

// All returns the context's resources of one type, root package first.
func (c *Context) All(resourceType string) []*Resource {
	var out []*Resource
	pkgs := c.order
	if len(pkgs) == 0 {
		pkgs = c.set.Packages()
	}
	for _, p := range pkgs {
		for _, r := range p.Resources {
			if r.ResourceType == resourceType {
				out = append(out, r)
			}
		}
	}
	return out
}

func (s *Set) refs() []string {
	var out []string
	for _, p := range s.Packages() {
		out = append(out, p.Ref())
	}
	return out
}

func appendUnique(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// CompareVersions orders semantic-ish versions numerically where both parts are numbers
// (3.1.1 < 6.1.0 < 10.0.0); a pre-release suffix sorts before the release.
func CompareVersions(a, b string) int {
	pa := strings.FieldsFunc(a, func(r rune) bool { return r == '.' || r == '-' })
	pb := strings.FieldsFunc(b, func(r rune) bool { return r == '.' || r == '-' })
	for i := 0; i < len(pa) || i < len(pb); i++ {
		switch {
		case i >= len(pa): // a is a prefix of b: b is newer unless b goes on with a pre-release tag
			return -extraSign(pb[i])
		case i >= len(pb):
			return extraSign(pa[i])
		}
		x, ex := strconv.Atoi(pa[i])
		y, ey := strconv.Atoi(pb[i])
		if ex == nil && ey == nil {
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
			continue
		}
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// extraSign is the sign of a version that goes on past the other's end with part p: a number
// makes it newer (1.0.1 > 1.0), a tag makes it older (1.0-ballot < 1.0).
func extraSign(p string) int {
	if _, err := strconv.Atoi(p); err == nil {
		return 1
	}
	return -1
}
