package profiles

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNotCached: the package cache does not hold the package.
var ErrNotCached = errors.New("not in the package cache")

// AddFromCache adds the package ref ("id#version") from the package cache (CacheDir), and the
// dependencies it declares that the set lacks and the cache holds, transitively. A package the
// set already has is left as it is; a dependency the cache lacks is left out (Context records
// it as Missing). It returns the packages it added.
func (s *Set) AddFromCache(ref string, opts LoadOptions) ([]*Package, error) {
	if _, _, ok := ParseRef(ref); !ok {
		return nil, fmt.Errorf("package %s: expected id#version", ref)
	}
	var added []*Package
	queue := []string{ref}
	seen := map[string]bool{}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if seen[r] {
			continue
		}
		seen[r] = true
		if _, ok := s.Package(r); ok {
			continue
		}
		dir := filepath.Join(CacheDir(), r)
		if _, err := os.Stat(dir); err != nil {
			if r == ref {
				return added, fmt.Errorf("package %s: %w %s (install it with 'pacheck packages install %s', or give the .tgz with --package)", ref, ErrNotCached, CacheDir(), ref)
			}
			continue
		}
		p, err := LoadDir(dir, opts)
		if err != nil {
			return added, err
		}
		s.Add(p)
		added = append(added, p)
		for id, v := range p.Dependencies {
			queue = append(queue, id+"#"+v)
		}
	}
	return added, nil
}
