package profiles

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/internal/shared"
)

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"3.1.1", "6.1.0", -1}, {"10.0.0", "6.1.0", 1}, {"1.0", "1.0.1", -1}, {"1.0.1", "1.0", 1},
		{"1.0-ballot", "1.0", -1}, {"2.0.0", "2.0.0", 0}, {"5.1.0-cibuild", "5.1.0", -1},
	} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestParseRef(t *testing.T) {
	if id, v, ok := ParseRef("hl7.fhir.us.core#6.1.0"); !ok || id != "hl7.fhir.us.core" || v != "6.1.0" {
		t.Fatalf("ParseRef = %q %q %v", id, v, ok)
	}
	for _, bad := range []string{"hl7.fhir.us.core", "#1.0", "a#", "../x#1"} {
		if _, _, ok := ParseRef(bad); ok {
			t.Errorf("ParseRef(%q) accepted", bad)
		}
	}
}

func TestLoadOfficialPackageAndResolveInContext(t *testing.T) {
	dir := shared.Require(t, "fhir-packages")
	set := NewSet()
	for _, f := range []string{"hl7.fhir.r4.core-4.0.1.tgz", "hl7.fhir.us.core-3.1.1.tgz", "hl7.fhir.us.core-6.1.0.tgz", "hl7.fhir.us.carin-bb-2.0.0.tgz"} {
		p, err := Load(filepath.Join(dir, f), LoadOptions{Examples: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.SHA256) != 64 {
			t.Fatalf("%s: SHA256 %q", f, p.SHA256)
		}
		set.Add(p)
	}
	carin, ok := set.Package("hl7.fhir.us.carin-bb#2.0.0")
	if !ok || len(carin.Examples()) == 0 {
		t.Fatalf("carin package or its examples missing")
	}
	ctx, err := set.Context("hl7.fhir.us.carin-bb#2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	// CARIN BB 2.0.0 depends on US Core 3.1.1: an unversioned US Core canonical resolves there.
	r, ok := ctx.ResolveType("StructureDefinition", "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient")
	if !ok || r.Package.Version != "3.1.1" {
		t.Fatalf("us-core-patient resolved to %v in the CARIN context, want US Core 3.1.1", r)
	}
	// Globally the highest version wins; an explicit version is honoured.
	if r, _ := set.Global().Resolve("http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"); r.Package.Version != "6.1.0" {
		t.Fatalf("global resolution chose %s, want 6.1.0", r.Package.Version)
	}
	if r, _ := set.Global().Resolve("http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|3.1.1"); r.Package.Version != "3.1.1" {
		t.Fatalf("versioned resolution chose %s", r.Package.Version)
	}
	if len(ctx.Missing) == 0 {
		t.Fatal("CARIN BB declares dependencies not loaded here (e.g. us.nlm.vsac); Missing should list them")
	}
}

func TestBadPackagesGiveClearErrors(t *testing.T) {
	tmp := t.TempDir()
	trunc := filepath.Join(tmp, "trunc.tgz")
	if src, err := shared.Path("fhir-packages/hl7.fhir.us.core-3.1.1.tgz"); err == nil {
		b, _ := os.ReadFile(src)
		os.WriteFile(trunc, b[:len(b)/2], 0o644)
	} else {
		os.WriteFile(trunc, []byte{0x1f, 0x8b, 8, 0, 0, 0}, 0o644)
	}
	notgz := filepath.Join(tmp, "x.tgz")
	os.WriteFile(notgz, []byte("hello"), 0o644)
	emptyDir := t.TempDir()
	for _, c := range []struct{ ref, want string }{
		{trunc, "corrupt archive"},
		{notgz, "not a gzip'd FHIR package"},
		{emptyDir, "no package.json"},
		{"no.such.package#9.9.9", "not in the package cache"},
		{filepath.Join(tmp, "missing.tgz"), "no such file"},
	} {
		_, err := Load(c.ref, LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Load(%s) error = %v, want one line containing %q", c.ref, err, c.want)
		}
	}
	if _, err := LoadTGZ(bytes.NewReader(nil), "empty", LoadOptions{}); err == nil {
		t.Error("empty input accepted")
	}
}

func TestEmbeddedPackages(t *testing.T) {
	set, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"hl7.fhir.r4.core#4.0.1", "hl7.fhir.us.core#3.1.1", "hl7.fhir.us.core#6.1.0",
		"hl7.fhir.us.carin-bb#1.1.0", "hl7.fhir.us.carin-bb#2.0.0", "hl7.fhir.us.davinci-pdex#2.0.0",
		"hl7.fhir.us.davinci-hrex#1.0.0", "hl7.fhir.us.davinci-drug-formulary#2.0.1", "hl7.fhir.uv.smart-app-launch#2.1.0"} {
		p, ok := set.Package(ref)
		if !ok {
			t.Errorf("%s is not embedded", ref)
			continue
		}
		if p.SHA256 == "" {
			t.Errorf("%s: no source SHA-256", ref)
		}
	}
	// Bindings of US Core resolve to embedded terminology (administrative-gender is in core).
	if _, ok := set.Global().ResolveType("ValueSet", "http://hl7.org/fhir/ValueSet/administrative-gender"); !ok {
		t.Error("administrative-gender value set not embedded")
	}
	r, ok := set.Global().ResolveType("StructureDefinition", "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|6.1.0")
	if !ok || strings.Contains(string(r.Raw), `"differential"`) || strings.Contains(string(r.Raw), `"text"`) {
		t.Error("embedded us-core-patient missing or not stripped")
	}
}

func BenchmarkEmbeddedLoad(b *testing.B) {
	raw, err := embedded.ReadFile("embedded/hl7.fhir.r4.core-4.0.1.tar.gz")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := LoadTGZ(bytes.NewReader(raw), "core", LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
