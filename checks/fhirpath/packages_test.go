package fhirpath

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/internal/shared"
)

// pkgFile is one JSON file of a FHIR package.
type pkgFile struct {
	pkg, name string
	data      []byte
}

// readPackage calls fn for every package/*.json (and package/example/*.json when examples).
func readPackage(t testing.TB, tgz string, examples bool, fn func(pkgFile)) {
	t.Helper()
	f, err := os.Open(tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", tgz, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", tgz, err)
		}
		dir := path.Dir(h.Name)
		if !strings.HasSuffix(h.Name, ".json") || !(dir == "package" || examples && dir == "package/example") {
			continue
		}
		if examples != (dir == "package/example") {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, 256<<20))
		if err != nil {
			t.Fatalf("%s %s: %v", tgz, h.Name, err)
		}
		fn(pkgFile{pkg: filepath.Base(tgz), name: h.Name, data: data})
	}
}

type sdConstraints struct {
	ResourceType string `json:"resourceType"`
	URL          string `json:"url"`
	Kind         string `json:"kind"`
	Type         string `json:"type"`
	Derivation   string `json:"derivation"`
	Snapshot     struct {
		Element []sdConstraintElement `json:"element"`
	} `json:"snapshot"`
	Differential struct {
		Element []sdConstraintElement `json:"element"`
	} `json:"differential"`
}

type sdConstraintElement struct {
	Path       string `json:"path"`
	Constraint []struct {
		Key        string `json:"key"`
		Severity   string `json:"severity"`
		Expression string `json:"expression"`
	} `json:"constraint"`
}

func packagePaths(t testing.TB) []string {
	dir := shared.Require(t, "fhir-packages")
	tgzs, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil || len(tgzs) == 0 {
		t.Skipf("skipped: no FHIR packages (*.tgz) in %s", dir)
	}
	sort.Strings(tgzs)
	return tgzs
}

// TestPackageInvariantsCompile compiles every constraint expression of every
// StructureDefinition in every package.
func TestPackageInvariantsCompile(t *testing.T) {
	var total, failed int
	seen := map[string]bool{}
	for _, tgz := range packagePaths(t) {
		readPackage(t, tgz, false, func(f pkgFile) {
			if !strings.Contains(f.name, "StructureDefinition") {
				return
			}
			var sd sdConstraints
			if err := json.Unmarshal(f.data, &sd); err != nil || sd.ResourceType != "StructureDefinition" {
				return
			}
			for _, els := range [][]sdConstraintElement{sd.Snapshot.Element, sd.Differential.Element} {
				for _, e := range els {
					for _, c := range e.Constraint {
						if c.Expression == "" || seen[c.Expression] {
							continue
						}
						seen[c.Expression] = true
						total++
						if _, err := Compile(c.Expression); err != nil {
							failed++
							t.Errorf("%s %s %s (%s): %q: %v", f.pkg, sd.URL, c.Key, e.Path, c.Expression, err)
						}
					}
				}
			}
		})
	}
	t.Logf("compiled %d distinct invariant expressions, %d failed", total, failed)
	if total == 0 {
		t.Fatal("no invariants found in the packages")
	}
}
