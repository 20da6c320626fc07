// Package profiles is pacheck's knowledge of implementation guides: it loads FHIR packages the way
// the FHIR ecosystem does (a package .tgz, an unpacked package folder, or the standard cache
// ~/.fhir/packages/<id>#<version>/package/), indexes their conformance resources by canonical URL
// and version, resolves canonicals within a package's dependency context, and serves the compiled
// packages embedded in the binary. It also holds run presets and the requirements catalogue.
package profiles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pacheck/pacheck/internal/safefile"
)

// Limits that keep a hostile or corrupt package from exhausting memory or time. The largest
// official package (hl7.terminology.r4 7.0.1) inflates to 68 MB in 4,109 entries.
const (
	maxEntryBytes   = 64 << 20  // one file inside a package
	maxPackageBytes = 512 << 20 // all files read from one package, uncompressed
	maxEntries      = 100_000
	// maxInflateBytes bounds everything inflated from a .tgz, files not read included (the tar
	// reader inflates what it skips) and bytes after the end of the archive.
	maxInflateBytesDefault = 1 << 30
)

// maxInflateBytes is maxInflateBytesDefault; tests lower it.
var maxInflateBytes int64 = maxInflateBytesDefault

// Package is one loaded FHIR package.
type Package struct {
	ID           string            // package id, e.g. hl7.fhir.us.core
	Version      string            // e.g. 6.1.0
	Canonical    string            // IG canonical base
	FHIRVersions []string          // e.g. [4.0.1]
	Dependencies map[string]string // id -> version, as package.json declares
	Source       string            // file or folder it came from, or "embedded"
	SHA256       string            // of the package file (tgz) when loaded from one
	Resources    []*Resource       // conformance resources at the package root

	examples []Example
}

// Ref is the package reference "id#version".
func (p *Package) Ref() string { return p.ID + "#" + p.Version }

// Example is one example resource shipped under package/example/.
type Example struct {
	Name string // file name inside the package
	Raw  []byte
}

// Examples returns the package's example resources (none for embedded packages).
func (p *Package) Examples() []Example { return p.examples }

// Resource is one conformance resource of a package, with the fields needed to index it; Raw holds
// its JSON.
type Resource struct {
	ResourceType string
	ID           string
	URL          string
	Version      string
	Name         string
	// StructureDefinition only.
	Kind           string // primitive-type, complex-type, resource, logical
	Type           string // the type it constrains
	Derivation     string // specialization | constraint
	BaseDefinition string
	Abstract       bool

	Package *Package
	Raw     json.RawMessage
}

// Canonical returns url|version.
func (r *Resource) Canonical() string {
	if r.Version == "" {
		return r.URL
	}
	return r.URL + "|" + r.Version
}

// LoadOptions tunes loading.
type LoadOptions struct {
	Examples bool // also read package/example/*.json
}

var refRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)#([0-9A-Za-z][0-9A-Za-z.+-]*)$`)

// ParseRef splits "id#version".
func ParseRef(ref string) (id, version string, ok bool) {
	m := refRE.FindStringSubmatch(ref)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// CacheDir is the standard FHIR package cache: $FHIR_PACKAGE_CACHE or ~/.fhir/packages.
func CacheDir() string {
	if d := os.Getenv("FHIR_PACKAGE_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".fhir", "packages")
	}
	return filepath.Join(home, ".fhir", "packages")
}

// Load reads a package from a .tgz file, an unpacked package folder, or, for an "id#version"
// reference that is not a path, the standard package cache.
func Load(ref string, opts LoadOptions) (*Package, error) {
	st, err := os.Stat(ref)
	switch {
	case err == nil && st.IsDir():
		return LoadDir(ref, opts)
	case err == nil:
		// Only a regular file: a FIFO or device fails here instead of blocking or reading forever.
		f, _, err := safefile.Open(ref)
		if err != nil {
			return nil, fmt.Errorf("package: %w", err)
		}
		defer f.Close()
		return LoadTGZ(f, ref, opts)
	}
	if id, ver, ok := ParseRef(ref); ok {
		dir := filepath.Join(CacheDir(), id+"#"+ver)
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("package %s: not in the package cache %s (give the .tgz with --package, or install it with 'pacheck packages install %s')", ref, CacheDir(), ref)
		}
		return LoadDir(dir, opts)
	}
	return nil, fmt.Errorf("package %s: no such file or folder, and not an id#version reference", ref)
}

// LoadTGZ reads a gzip'd tar FHIR package; source names it in errors.
func LoadTGZ(r io.Reader, source string, opts LoadOptions) (*Package, error) {
	h := sha256.New()
	gzr, err := gzip.NewReader(io.TeeReader(r, h))
	if err != nil {
		return nil, fmt.Errorf("package %s: not a gzip'd FHIR package (%v)", source, err)
	}
	gz := &safefile.CappedReader{R: gzr, Max: maxInflateBytes}
	capErr := func(err error) error {
		if errors.Is(err, safefile.ErrCapped) {
			return fmt.Errorf("package %s: inflates to more than %d bytes; not a FHIR package pacheck reads", source, maxInflateBytes)
		}
		return nil
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	var total int64
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if e := capErr(err); e != nil {
				return nil, e
			}
			return nil, fmt.Errorf("package %s: corrupt archive (%v)", source, err)
		}
		if n >= maxEntries {
			return nil, fmt.Errorf("package %s: more than %d entries", source, maxEntries)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if !wanted(name, opts) {
			continue
		}
		if hdr.Size > maxEntryBytes {
			return nil, fmt.Errorf("package %s: %s is %d bytes, over the %d-byte limit", source, name, hdr.Size, maxEntryBytes)
		}
		if total += hdr.Size; total > maxPackageBytes {
			return nil, fmt.Errorf("package %s: over %d bytes uncompressed", source, maxPackageBytes)
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxEntryBytes+1))
		if err != nil {
			if e := capErr(err); e != nil {
				return nil, e
			}
			return nil, fmt.Errorf("package %s: corrupt archive at %s (%v)", source, name, err)
		}
		files[name] = b
	}
	// Drain so the hash covers the whole file.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		if e := capErr(err); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("package %s: corrupt archive (%v)", source, err)
	}
	p, err := build(files, source, opts)
	if err != nil {
		return nil, err
	}
	if p.SHA256 == "" {
		p.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	return p, nil
}

// wanted keeps package.json, root-level JSON resources and (optionally) examples.
func wanted(name string, opts LoadOptions) bool {
	if !strings.HasPrefix(name, "package/") || !strings.HasSuffix(name, ".json") {
		return false
	}
	rest := strings.TrimPrefix(name, "package/")
	if !strings.Contains(rest, "/") {
		return rest != ".index.json"
	}
	return opts.Examples && strings.HasPrefix(rest, "example/") && strings.Count(rest, "/") == 1
}

// LoadDir reads an unpacked package: a folder holding package/package.json, or the package/ folder
// itself.
func LoadDir(dir string, opts LoadOptions) (*Package, error) {
	root := dir
	if _, err := os.Stat(filepath.Join(dir, "package", "package.json")); err == nil {
		root = filepath.Join(dir, "package")
	} else if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		return nil, fmt.Errorf("package %s: no package.json in it or in its package/ folder", dir)
	}
	files := map[string][]byte{}
	var total int64
	read := func(sub string) error {
		entries, err := os.ReadDir(filepath.Join(root, sub))
		if err != nil {
			if sub != "" && errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, e := range entries {
			name := path.Join("package", sub, e.Name())
			if e.IsDir() || !wanted(name, opts) {
				continue
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			if info.Size() > maxEntryBytes {
				return fmt.Errorf("%s is %d bytes, over the %d-byte limit", name, info.Size(), maxEntryBytes)
			}
			if total += info.Size(); total > maxPackageBytes {
				return fmt.Errorf("over %d bytes", maxPackageBytes)
			}
			// Only regular files (a FIFO named *.json must not block), each bounded.
			b, err := safefile.ReadFile(filepath.Join(root, sub, e.Name()), maxEntryBytes)
			if err != nil {
				return err
			}
			files[name] = b
		}
		return nil
	}
	if err := read(""); err != nil {
		return nil, fmt.Errorf("package %s: %w", dir, err)
	}
	if opts.Examples {
		if err := read("example"); err != nil {
			return nil, fmt.Errorf("package %s: %w", dir, err)
		}
	}
	return build(files, dir, opts)
}

type manifest struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	Canonical    string            `json:"canonical"`
	FHIRVersions []string          `json:"fhirVersions"`
	Dependencies map[string]string `json:"dependencies"`
	// SourceSHA256 is set by the generator on embedded packages: the hash of the official tgz.
	SourceSHA256 string `json:"x-pacheck-source-sha256,omitempty"`
}

// head is the part of a conformance resource that indexing needs.
type head struct {
	ResourceType   string `json:"resourceType"`
	ID             string `json:"id"`
	URL            string `json:"url"`
	Version        string `json:"version"`
	Name           string `json:"name"`
	Kind           string `json:"kind"`
	Type           string `json:"type"`
	Derivation     string `json:"derivation"`
	BaseDefinition string `json:"baseDefinition"`
	Abstract       bool   `json:"abstract"`
}

func build(files map[string][]byte, source string, opts LoadOptions) (*Package, error) {
	mb, ok := files["package/package.json"]
	if !ok {
		return nil, fmt.Errorf("package %s: package/package.json is missing: not a FHIR package", source)
	}
	var m manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("package %s: package.json is not valid JSON (%v)", source, err)
	}
	if m.Name == "" || m.Version == "" {
		return nil, fmt.Errorf("package %s: package.json has no name or version", source)
	}
	p := &Package{ID: m.Name, Version: m.Version, Canonical: m.Canonical, FHIRVersions: m.FHIRVersions,
		Dependencies: m.Dependencies, Source: source, SHA256: m.SourceSHA256}
	if p.Dependencies == nil {
		p.Dependencies = map[string]string{}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n == "package/package.json" {
			continue
		}
		b := files[n]
		if strings.HasPrefix(n, "package/example/") {
			p.examples = append(p.examples, Example{Name: strings.TrimPrefix(n, "package/"), Raw: b})
			continue
		}
		var h head
		if err := json.Unmarshal(b, &h); err != nil || h.ResourceType == "" {
			// Non-resource JSON (e.g. tool metadata) is not an error; only resources count.
			continue
		}
		p.Resources = append(p.Resources, &Resource{ResourceType: h.ResourceType, ID: h.ID, URL: h.URL,
			Version: h.Version, Name: h.Name, Kind: h.Kind, Type: h.Type, Derivation: h.Derivation,
			BaseDefinition: h.BaseDefinition, Abstract: h.Abstract, Package: p, Raw: json.RawMessage(bytes.Clone(b))})
	}
	return p, nil
}
