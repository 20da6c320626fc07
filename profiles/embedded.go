package profiles

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"sync"
)

// The compiled packages: the official packages with narrative, documentation and examples
// stripped, produced by `make generate` (profiles/internal/gen) and committed, so the binary
// needs no files and no network.
//
//go:embed embedded
var embedded embed.FS

var (
	embeddedOnce sync.Once
	embeddedPkgs []*Package
	embeddedErr  error
)

// EmbeddedPackages loads (once) and returns the packages compiled into the binary.
func EmbeddedPackages() ([]*Package, error) {
	embeddedOnce.Do(func() {
		names, err := fs.Glob(embedded, "embedded/*.tar.gz")
		if err != nil {
			embeddedErr = err
			return
		}
		sort.Strings(names)
		for _, n := range names {
			b, err := embedded.ReadFile(n)
			if err != nil {
				embeddedErr = err
				return
			}
			p, err := LoadTGZ(bytes.NewReader(b), "embedded:"+n, LoadOptions{})
			if err != nil {
				embeddedErr = fmt.Errorf("embedded data is damaged (rebuild with make generate): %w", err)
				return
			}
			p.Source = "embedded"
			embeddedPkgs = append(embeddedPkgs, p)
		}
		// Generate any missing snapshot now, once: every Set made from these packages shares
		// their resources, so none has to write to them later.
		NewSet(embeddedPkgs...)
	})
	return embeddedPkgs, embeddedErr
}

// Embedded returns a new Set holding the embedded packages; callers may Add more to it.
func Embedded() (*Set, error) {
	pkgs, err := EmbeddedPackages()
	if err != nil {
		return nil, err
	}
	return NewSet(pkgs...), nil
}
