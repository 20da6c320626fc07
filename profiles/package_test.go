package profiles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// tgz builds a package archive whose entries stream zeros of the given sizes after their data.
func tgz(t *testing.T, entries []tgzEntry, trailing int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		size := int64(len(e.data)) + e.zeros
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
		io.Copy(tw, io.LimitReader(zeroReader{}, e.zeros))
	}
	tw.Close()
	io.Copy(gz, io.LimitReader(zeroReader{}, trailing))
	gz.Close()
	return buf.Bytes()
}

type tgzEntry struct {
	name  string
	data  []byte
	zeros int64
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestPackageInflateLimits: what a .tgz inflates to is capped as a whole (entries that are not
// read and bytes after the archive included), and each file read is capped; a FIFO or a device
// given as a package, or a FIFO inside a package folder, fails at once.
func TestPackageInflateLimits(t *testing.T) {
	maxInflateBytes = 8 << 20
	defer func() { maxInflateBytes = maxInflateBytesDefault }()
	manifest := []byte(`{"name":"x.y","version":"1.0.0"}`)
	for _, c := range []struct {
		name     string
		entries  []tgzEntry
		trailing int64
		want     string
	}{
		{"ok", []tgzEntry{{"package/package.json", manifest, 0}}, 0, ""},
		{"skipped entry bomb", []tgzEntry{{"package/package.json", manifest, 0}, {"package/other/big.bin", nil, 16 << 20}}, 0, "inflates to more than 8388608 bytes"},
		{"trailing bomb", []tgzEntry{{"package/package.json", manifest, 0}}, 16 << 20, "inflates to more than 8388608 bytes"},
		{"file over its limit", []tgzEntry{{"package/package.json", manifest, 0}, {"package/big.json", nil, maxEntryBytes + 1}}, 0, "package/big.json is 67108865 bytes, over the 67108864-byte limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "file over its limit" {
				maxInflateBytes = maxInflateBytesDefault // the header alone refuses it
				defer func() { maxInflateBytes = 8 << 20 }()
			}
			_, err := LoadTGZ(bytes.NewReader(tgz(t, c.entries, c.trailing)), "bomb.tgz", LoadOptions{})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error = %v, want one line containing %q", err, c.want)
			}
		})
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "p.tgz")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	pkgDir := t.TempDir()
	os.WriteFile(filepath.Join(pkgDir, "package.json"), manifest, 0o644)
	if err := syscall.Mkfifo(filepath.Join(pkgDir, "StructureDefinition-x.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		fifo:        "p.tgz is a FIFO (named pipe), not a regular file",
		"/dev/zero": "/dev/zero is a device, not a regular file",
		pkgDir:      "StructureDefinition-x.json is a FIFO (named pipe), not a regular file",
	} {
		if _, err := Load(ref, LoadOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s) = %v, want %q", ref, err, want)
		}
	}
}
