// Package registry installs FHIR packages from a FHIR package registry (the npm-style API of
// packages.fhir.org: GET <registry>/<id> lists the versions with their tarball URL and SHA-1
// shasum; GET <registry>/<id>/<version> is the tarball) into the standard package cache
// (~/.fhir/packages/<id>#<version>/package/…), where profiles.Load finds them by id#version.
//
// A tarball is checked before anything is written to the cache: its SHA-1 must match the
// registry's shasum, it must be a FHIR package pacheck can read (profiles.LoadTGZ, bounded) whose
// package.json names the id and version asked for, and it is unpacked into a temporary folder
// renamed into place only when complete. Every request, body, redirect and archive entry is
// bounded: the registry is not trusted more than a FHIR server.
package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1" // npm's dist.shasum is SHA-1; the tarball is also re-read as a FHIR package
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pacheck/pacheck/internal/safefile"
	"github.com/pacheck/pacheck/profiles"
)

// DefaultURL is the public FHIR package registry.
const DefaultURL = "https://packages.fhir.org"

// Limits bound what one install may download and unpack.
const (
	maxMetadataBytes = 16 << 20  // a package's version listing
	maxTarballBytes  = 256 << 20 // one compressed package
	maxUnpackBytes   = 1 << 30   // one package, uncompressed
	maxUnpackEntries = 100_000
	maxRedirects     = 5
	maxPackages      = 64 // a package and its dependencies, transitively
)

// Client installs packages from one registry.
type Client struct {
	// Registry is the registry's base URL (DefaultURL when empty).
	Registry string
	// Cache is the package cache folder (profiles.CacheDir() when empty).
	Cache string
	// HTTP is the client used (a bounded default when nil).
	HTTP *http.Client
	// NoDeps installs only the packages asked for, not their dependencies.
	NoDeps bool
}

// Result is what happened to one package of an install.
type Result struct {
	Ref    string // id#version
	Status string // "installed", "cached" (already there), "failed"
	Err    error  // why it failed
	Dir    string // its cache folder
	// Dependency is true for a package installed because another one depends on it.
	Dependency bool
}

func (c *Client) registry() string {
	if c.Registry == "" {
		return DefaultURL
	}
	return strings.TrimRight(c.Registry, "/")
}

func (c *Client) cache() string {
	if c.Cache == "" {
		return profiles.CacheDir()
	}
	return c.Cache
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{
		Timeout: 2 * time.Minute,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
				return fmt.Errorf("redirect to a %s: URL refused", req.URL.Scheme)
			}
			return nil
		},
	}
}

// Install installs each "id#version" and, unless NoDeps, the dependencies their package.json
// names, transitively. A package already in the cache is left as it is. The error is non-nil
// only when a package asked for could not be installed; a dependency that could not be is a
// failed Result (the loader treats a declared but missing dependency as a warning).
func (c *Client) Install(ctx context.Context, refs ...string) ([]Result, error) {
	type job struct {
		ref string
		dep bool
	}
	var queue []job
	for _, r := range refs {
		if _, _, ok := profiles.ParseRef(r); !ok {
			return nil, fmt.Errorf("%q is not a package reference id#version (e.g. hl7.fhir.us.core#6.1.0)", r)
		}
		queue = append(queue, job{r, false})
	}
	seen := map[string]bool{}
	var out []Result
	var firstErr error
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		if seen[j.ref] {
			continue
		}
		seen[j.ref] = true
		if len(seen) > maxPackages {
			return out, fmt.Errorf("more than %d packages to install: stopped (a dependency loop, or give --no-deps)", maxPackages)
		}
		res, deps := c.installOne(ctx, j.ref)
		res.Dependency = j.dep
		out = append(out, res)
		if res.Err != nil {
			if !j.dep && firstErr == nil {
				firstErr = res.Err
			}
			continue
		}
		if c.NoDeps {
			continue
		}
		for _, d := range deps {
			queue = append(queue, job{d, true})
		}
	}
	return out, firstErr
}

// installOne installs one package and returns its dependencies (id#version).
func (c *Client) installOne(ctx context.Context, ref string) (Result, []string) {
	id, version, _ := profiles.ParseRef(ref)
	res := Result{Ref: ref, Dir: filepath.Join(c.cache(), ref)}
	fail := func(format string, a ...any) (Result, []string) {
		res.Status, res.Err = "failed", fmt.Errorf("package %s: "+format, append([]any{ref}, a...)...)
		return res, nil
	}
	if _, err := os.Stat(filepath.Join(res.Dir, "package", "package.json")); err == nil {
		deps, err := readDeps(filepath.Join(res.Dir, "package", "package.json"))
		if err != nil {
			return fail("in the cache at %s but unreadable: %v (remove that folder and install again)", res.Dir, err)
		}
		res.Status = "cached"
		return res, deps
	}
	tarURL, shasum, err := c.locate(ctx, id, version)
	if err != nil {
		return fail("%v", err)
	}
	data, err := c.get(ctx, tarURL, maxTarballBytes)
	if err != nil {
		return fail("%v", err)
	}
	if shasum != "" {
		sum := sha1.Sum(data)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, shasum) {
			return fail("the tarball from %s has SHA-1 %s, the registry says %s: corrupted or tampered, not installed", tarURL, got, shasum)
		}
	}
	pkg, err := profiles.LoadTGZ(bytes.NewReader(data), tarURL, profiles.LoadOptions{})
	if err != nil {
		return fail("%v", err)
	}
	if pkg.ID != id || pkg.Version != version {
		return fail("the tarball from %s is %s#%s, not the package asked for: not installed", tarURL, pkg.ID, pkg.Version)
	}
	if err := unpack(data, c.cache(), ref); err != nil {
		return fail("%v", err)
	}
	deps, err := readDeps(filepath.Join(res.Dir, "package", "package.json"))
	if err != nil {
		return fail("%v", err)
	}
	res.Status = "installed"
	return res, deps
}

// locate finds a version's tarball URL and SHA-1 in the registry's listing; a registry without
// a listing entry for it is asked for <registry>/<id>/<version> directly (no checksum then).
func (c *Client) locate(ctx context.Context, id, version string) (tarURL, shasum string, err error) {
	listURL := c.registry() + "/" + url.PathEscape(id)
	direct := listURL + "/" + url.PathEscape(version)
	body, err := c.get(ctx, listURL, maxMetadataBytes)
	if err != nil {
		return "", "", err
	}
	var listing struct {
		Versions map[string]struct {
			Dist struct {
				Shasum  string `json:"shasum"`
				Tarball string `json:"tarball"`
			} `json:"dist"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(body, &listing); err != nil {
		return "", "", fmt.Errorf("%s: not a package listing (%v)", listURL, err)
	}
	v, ok := listing.Versions[version]
	if !ok {
		var have []string
		for k := range listing.Versions {
			have = append(have, k)
		}
		sort.Slice(have, func(i, j int) bool { return profiles.CompareVersions(have[i], have[j]) > 0 })
		if len(have) > 8 {
			have = append(have[:8], "…")
		}
		return "", "", fmt.Errorf("%s has no version %s (it has %s)", listURL, version, strings.Join(have, ", "))
	}
	tarURL = direct
	if t := v.Dist.Tarball; t != "" {
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "", "", fmt.Errorf("%s: tarball URL %q is not an http(s) URL", listURL, t)
		}
		tarURL = t
	}
	return tarURL, v.Dist.Shasum, nil
}

// get fetches a URL with a body bound.
func (c *Client) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json, application/gzip, */*")
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	b, err := io.ReadAll(&safefile.CappedReader{R: resp.Body, Max: limit})
	if errors.Is(err, safefile.ErrCapped) {
		return nil, fmt.Errorf("GET %s: body over %s: refused", u, safefile.Bytes(limit))
	}
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return b, nil
}

// unpack writes the tarball into cache/<ref> through a temporary folder renamed when complete.
// Only regular files and folders are written, at clean relative paths.
func unpack(data []byte, cache, ref string) error {
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return fmt.Errorf("package cache %s: %w", cache, err)
	}
	tmp, err := os.MkdirTemp(cache, "."+ref+".installing-*")
	if err != nil {
		return fmt.Errorf("package cache %s: %w", cache, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not a gzip'd package: %w", err)
	}
	tr := tar.NewReader(&safefile.CappedReader{R: gz, Max: maxUnpackBytes})
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, safefile.ErrCapped) {
			return fmt.Errorf("inflates to more than %s: refused", safefile.Bytes(maxUnpackBytes))
		}
		if err != nil {
			return fmt.Errorf("corrupt archive: %w", err)
		}
		if n >= maxUnpackEntries {
			return fmt.Errorf("more than %d entries: refused", maxUnpackEntries)
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if name == "." || path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "\\") {
			return fmt.Errorf("archive entry %q is outside the package: refused", hdr.Name)
		}
		dst := filepath.Join(tmp, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
			}
			_, err = io.Copy(f, io.LimitReader(tr, hdr.Size))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if errors.Is(err, safefile.ErrCapped) {
				return fmt.Errorf("inflates to more than %s: refused", safefile.Bytes(maxUnpackBytes))
			}
			if err != nil {
				return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
			}
		default:
			// links, devices and the rest are not part of a FHIR package: skipped
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(cache, ref)); err != nil {
		return fmt.Errorf("package cache: %w", err)
	}
	done = true
	return nil
}

// readDeps reads the dependencies of an installed package.json as id#version references;
// version ranges and tags (current, dev) cannot be installed and are returned as they are, so
// their install fails with a message naming them.
func readDeps(p string) ([]string, error) {
	b, err := safefile.ReadFile(p, 4<<20)
	if err != nil {
		return nil, err
	}
	var m struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var out []string
	for id, v := range m.Dependencies {
		out = append(out, id+"#"+v)
	}
	sort.Strings(out)
	return out, nil
}

// Installed lists the packages in a cache folder (id#version), sorted.
func Installed(cache string) ([]string, error) {
	if cache == "" {
		cache = profiles.CacheDir()
	}
	entries, err := os.ReadDir(cache)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("package cache %s: %w", cache, err)
	}
	var out []string
	for _, e := range entries {
		if _, _, ok := profiles.ParseRef(e.Name()); ok && e.IsDir() {
			if _, err := os.Stat(filepath.Join(cache, e.Name(), "package", "package.json")); err == nil {
				out = append(out, e.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
