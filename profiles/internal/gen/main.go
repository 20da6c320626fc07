// Command gen compiles the official FHIR packages into the compact packages embedded in pacheck
// (profiles/embedded/*.tar.gz): the same package layout, keeping only the conformance resources
// validation and the suites need, without narrative, documentation or examples, and only the
// terminology that embedded profiles bind to. Output is deterministic, so regenerating from the
// same packages changes nothing.
//
//	go run ./profiles/internal/gen -packages ../shared/fhir-packages -out profiles/embedded
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pacheck/pacheck/profiles"
)

// The packages embedded by default (file names in the packages folder).
var defaultPackages = []string{
	"hl7.fhir.r4.core-4.0.1.tgz",
	"hl7.fhir.us.core-3.1.1.tgz",
	"hl7.fhir.us.core-6.1.0.tgz",
	"hl7.fhir.us.core-7.0.0.tgz",
	"hl7.fhir.us.core-8.0.0.tgz",
	"hl7.fhir.us.carin-bb-1.1.0.tgz",
	"hl7.fhir.us.carin-bb-2.0.0.tgz",
	"hl7.fhir.us.davinci-pdex-2.0.0.tgz",
	"hl7.fhir.us.davinci-hrex-1.0.0.tgz",
	"hl7.fhir.us.davinci-drug-formulary-2.0.1.tgz",
	"hl7.fhir.us.davinci-pdex-plan-net-1.1.0.tgz",
	"hl7.fhir.uv.smart-app-launch-2.1.0.tgz",
	"hl7.fhir.uv.extensions.r4-5.2.0.tgz",
	"hl7.terminology.r4-7.0.1.tgz",
}

// Packages whose terminology and extensions are kept only where an embedded profile uses them.
var filtered = map[string]bool{"hl7.terminology.r4": true, "hl7.fhir.uv.extensions.r4": true}

var keepTypes = map[string]bool{
	"StructureDefinition": true, "ValueSet": true, "CodeSystem": true,
	"SearchParameter": true, "CapabilityStatement": true,
}

func main() {
	dir := flag.String("packages", "../shared/fhir-packages", "folder of official FHIR package .tgz files")
	out := flag.String("out", "profiles/embedded", "output folder")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	var pkgs []*profiles.Package
	for _, f := range defaultPackages {
		p, err := profiles.Load(filepath.Join(dir, f), profiles.LoadOptions{})
		if err != nil {
			return err
		}
		pkgs = append(pkgs, p)
	}
	used := usedCanonicals(pkgs)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(out, "*.tar.gz"))
	for _, f := range old {
		os.Remove(f)
	}
	for _, p := range pkgs {
		b, n, err := compile(p, used)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Ref(), err)
		}
		name := filepath.Join(out, p.ID+"-"+p.Version+".tar.gz")
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d resources, %d KiB\n", name, n, len(b)/1024)
	}
	return nil
}

// usedCanonicals collects what the non-filtered packages reference: bound value sets, extension
// profiles and type profiles, then the value sets and code systems those value sets pull in.
func usedCanonicals(pkgs []*profiles.Package) map[string]bool {
	used := map[string]bool{}
	var vsQueue []string
	add := func(c string) {
		c, _, _ = strings.Cut(c, "|")
		if c != "" && !used[c] {
			used[c] = true
			vsQueue = append(vsQueue, c)
		}
	}
	index := map[string]*profiles.Resource{}
	for _, p := range pkgs {
		for _, r := range p.Resources {
			if r.URL != "" {
				index[r.URL] = r
			}
		}
	}
	var walkSD func(r *profiles.Resource)
	walkSD = func(r *profiles.Resource) {
		var sd struct {
			Snapshot struct {
				Element []struct {
					Binding *struct {
						ValueSet string `json:"valueSet"`
					} `json:"binding"`
					Type []struct {
						Profile       []string `json:"profile"`
						TargetProfile []string `json:"targetProfile"`
					} `json:"type"`
				} `json:"element"`
			} `json:"snapshot"`
		}
		if json.Unmarshal(r.Raw, &sd) != nil {
			return
		}
		for _, e := range sd.Snapshot.Element {
			if e.Binding != nil {
				add(e.Binding.ValueSet)
			}
			for _, t := range e.Type {
				for _, pr := range t.Profile {
					pr, _, _ = strings.Cut(pr, "|")
					if !used[pr] {
						used[pr] = true
						if x, ok := index[pr]; ok && x.ResourceType == "StructureDefinition" {
							walkSD(x)
						}
					}
				}
			}
		}
	}
	for _, p := range pkgs {
		if filtered[p.ID] {
			continue
		}
		for _, r := range p.Resources {
			if r.ResourceType == "StructureDefinition" {
				walkSD(r)
			}
		}
	}
	// Value sets pull in code systems and other value sets.
	for len(vsQueue) > 0 {
		c := vsQueue[0]
		vsQueue = vsQueue[1:]
		r, ok := index[c]
		if !ok || r.ResourceType != "ValueSet" {
			continue
		}
		var vs struct {
			Compose struct {
				Include []struct {
					System   string   `json:"system"`
					ValueSet []string `json:"valueSet"`
				} `json:"include"`
				Exclude []struct {
					System   string   `json:"system"`
					ValueSet []string `json:"valueSet"`
				} `json:"exclude"`
			} `json:"compose"`
		}
		if json.Unmarshal(r.Raw, &vs) != nil {
			continue
		}
		for _, inc := range append(vs.Compose.Include, vs.Compose.Exclude...) {
			if inc.System != "" {
				used[inc.System] = true
			}
			for _, v := range inc.ValueSet {
				add(v)
			}
		}
	}
	return used
}

func compile(p *profiles.Package, used map[string]bool) ([]byte, int, error) {
	manifest := map[string]any{
		"name": p.ID, "version": p.Version, "canonical": p.Canonical, "fhirVersions": p.FHIRVersions,
		"dependencies": p.Dependencies, "x-pacheck-source-sha256": p.SHA256,
	}
	files := map[string][]byte{}
	mb, err := json.Marshal(manifest)
	if err != nil {
		return nil, 0, err
	}
	files["package/package.json"] = mb
	n := 0
	for _, r := range p.Resources {
		if !keepTypes[r.ResourceType] {
			continue
		}
		if filtered[p.ID] && !used[r.URL] {
			continue
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(r.Raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", r.URL, err)
		}
		strip(m)
		b, err := json.Marshal(m)
		if err != nil {
			return nil, 0, err
		}
		name := fmt.Sprintf("package/%s-%s.json", r.ResourceType, r.ID)
		if _, dup := files[name]; dup {
			name = fmt.Sprintf("package/%s-%s-%d.json", r.ResourceType, r.ID, n)
		}
		files[name] = b
		n++
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		hdr := &tar.Header{Name: k, Mode: 0o644, Size: int64(len(files[k])), ModTime: time.Unix(0, 0).UTC(), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, 0, err
		}
		if _, err := tw.Write(files[k]); err != nil {
			return nil, 0, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, 0, err
	}
	if err := gz.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), n, nil
}

// Fields that only serve human readers; dropping them keeps the binary small.
var dropTop = []string{"text", "contact", "description", "purpose", "copyright", "mapping",
	"jurisdiction", "useContext", "differential", "meta", "identifier", "publisher"}
var dropElement = []string{"definition", "comment", "requirements", "alias", "mapping",
	"meaningWhenMissing", "orderMeaning", "isModifierReason", "example"}

func strip(m map[string]any) {
	for _, k := range dropTop {
		delete(m, k)
	}
	switch m["resourceType"] {
	case "StructureDefinition":
		if snap, ok := m["snapshot"].(map[string]any); ok {
			els, _ := snap["element"].([]any)
			for _, e := range els {
				em, ok := e.(map[string]any)
				if !ok {
					continue
				}
				for _, k := range dropElement {
					delete(em, k)
				}
				if b, ok := em["binding"].(map[string]any); ok {
					delete(b, "description")
				}
				if cs, ok := em["constraint"].([]any); ok {
					for _, c := range cs {
						if cm, ok := c.(map[string]any); ok {
							delete(cm, "xpath")
						}
					}
				}
			}
		}
	case "CodeSystem":
		stripConcepts(m["concept"])
	case "ValueSet":
		if comp, ok := m["compose"].(map[string]any); ok {
			for _, k := range []string{"include", "exclude"} {
				incs, _ := comp[k].([]any)
				for _, inc := range incs {
					if im, ok := inc.(map[string]any); ok {
						stripConcepts(im["concept"])
					}
				}
			}
		}
	case "CapabilityStatement":
		stripKey(m, "documentation")
	}
}

func stripConcepts(v any) {
	cs, _ := v.([]any)
	for _, c := range cs {
		cm, ok := c.(map[string]any)
		if !ok {
			continue
		}
		delete(cm, "definition")
		delete(cm, "designation")
		stripConcepts(cm["concept"])
	}
}

func stripKey(v any, key string) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, key)
		for _, c := range x {
			stripKey(c, key)
		}
	case []any:
		for _, c := range x {
			stripKey(c, key)
		}
	}
}
