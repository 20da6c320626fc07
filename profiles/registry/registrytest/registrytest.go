// Package registrytest serves FHIR packages with a FHIR package registry's API shape, on
// loopback, for tests (no real registry is reachable from them).
package registrytest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pacheck/pacheck/internal/shared"
	"github.com/pacheck/pacheck/profiles"
)

// Server serves the given packages of ../shared/fhir-packages with the registry API's shape: GET /<id> lists
// versions with dist.tarball and dist.shasum, GET /<id>/<version> is the tarball.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	tarballs map[string][]byte // id#version -> tgz
	// Tamper names packages (id#version) whose tarball is served with one byte changed.
	Tamper map[string]bool
	hits   map[string]int
}

func New(t testing.TB, files ...string) *Server {
	t.Helper()
	dir := shared.Require(t, "fhir-packages")
	r := &Server{tarballs: map[string][]byte{}, Tamper: map[string]bool{}, hits: map[string]int{}}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		p, err := profiles.LoadTGZ(strings.NewReader(string(b)), f, profiles.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r.tarballs[p.Ref()] = b
	}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *Server) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	r.hits[req.URL.Path]++
	switch len(parts) {
	case 1:
		versions := map[string]any{}
		for ref, b := range r.tarballs {
			id, v, _ := profiles.ParseRef(ref)
			if id != parts[0] {
				continue
			}
			sum := sha1.Sum(b)
			versions[v] = map[string]any{"name": id, "version": v,
				"dist": map[string]string{"shasum": hex.EncodeToString(sum[:]), "tarball": r.URL + "/" + id + "/" + v}}
		}
		if len(versions) == 0 {
			http.NotFound(w, req)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"_id": parts[0], "name": parts[0], "versions": versions})
	case 2:
		b, ok := r.tarballs[parts[0]+"#"+parts[1]]
		if !ok {
			http.NotFound(w, req)
			return
		}
		if r.Tamper[parts[0]+"#"+parts[1]] {
			b = append([]byte(nil), b...)
			b[len(b)/2] ^= 0xff
		}
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(b)
	default:
		http.NotFound(w, req)
	}
}

// Hits is how many times path was requested.
func (r *Server) Hits(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[path]
}
