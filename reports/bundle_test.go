package reports

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func signedBundle(t *testing.T) (dir, bundle string, pub ed25519.PublicKey, priv ed25519.PrivateKey) {
	t.Helper()
	dir = t.TempDir()
	r := fixtureResults(t, dir)
	if err := WriteAll(dir, r, Options{InlineBodyLimit: 100}); err != nil { // also writes bodies/
		t.Fatal(err)
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	bundle = filepath.Join(t.TempDir(), BundleName)
	if err := Bundle(dir, bundle, priv); err != nil {
		t.Fatal(err)
	}
	return dir, bundle, pub, priv
}

type tarFile struct {
	hdr  *tar.Header
	data []byte
}

func readTar(t *testing.T, p string) []tarFile {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []tarFile
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, tarFile{h, b})
	}
}

func writeTar(t *testing.T, p string, files []tarFile) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := *f.hdr
		h.Size = int64(len(f.data))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	tw.Close()
	gz.Close()
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBundleVerify(t *testing.T) {
	dir, bundle, pub, _ := signedBundle(t)
	r, err := Verify(bundle, pub)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if r.Counts.Total != 7 {
		t.Errorf("verified results have %d specs", r.Counts.Total)
	}
	files := readTar(t, bundle)
	names := map[string]bool{}
	for _, f := range files {
		names[f.hdr.Name] = true
	}
	for _, want := range []string{FileManifest, FileSig, FileResults, FileJUnit, FileSummary, FileHTML, "evidence/shot-1.png"} {
		if !names[want] {
			t.Errorf("bundle lacks %s (has %v)", want, names)
		}
	}
	hasBody := false
	for n := range names {
		hasBody = hasBody || strings.HasPrefix(n, DirBodies+"/")
	}
	if !hasBody {
		t.Error("bundle lacks the raw bodies/ files")
	}
	// Unsigned check also passes; a wrong key does not.
	if _, err := Verify(bundle, nil); err != nil {
		t.Errorf("Verify without key: %v", err)
	}
	otherPub, _, _ := ed25519.GenerateKey(nil)
	if _, err := Verify(bundle, otherPub); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("wrong key: %v", err)
	}
	// An unsigned bundle fails when a key is required.
	unsigned := filepath.Join(t.TempDir(), "u.tar.gz")
	if err := Bundle(dir, unsigned, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(unsigned, pub); err == nil || !strings.Contains(err.Error(), "unsigned") {
		t.Errorf("unsigned bundle with key: %v", err)
	}
	if _, err := Verify(unsigned, nil); err != nil {
		t.Errorf("unsigned bundle without key: %v", err)
	}

	// Extract + Rerender rebuilds index.html offline, screenshot inlined from the bundle.
	out := t.TempDir()
	r2, err := Extract(bundle, pub, out)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(out, FileHTML))
	if err := Rerender(r2, out); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(out, FileHTML))
	if err != nil || !bytes.Contains(html, []byte(`data:image/png;base64,`)) {
		t.Errorf("re-rendered index.html lacks the inlined screenshot (%v)", err)
	}
}

// A single changed byte in any bundled file, the manifest or the signature is detected.
func TestVerifyDetectsOneChangedByte(t *testing.T) {
	_, bundle, pub, _ := signedBundle(t)
	files := readTar(t, bundle)
	tmp := t.TempDir()
	for i := range files {
		for _, pos := range []int{0, len(files[i].data) / 2, len(files[i].data) - 1} {
			if len(files[i].data) == 0 {
				continue
			}
			changed := make([]tarFile, len(files))
			copy(changed, files)
			d := append([]byte(nil), files[i].data...)
			d[pos] ^= 0x01
			changed[i] = tarFile{files[i].hdr, d}
			p := filepath.Join(tmp, "changed.tar.gz")
			writeTar(t, p, changed)
			if _, err := Verify(p, pub); err == nil {
				t.Errorf("byte %d of %s changed: Verify passed", pos, files[i].hdr.Name)
			}
		}
	}
	// The compressed file itself.
	raw, _ := os.ReadFile(bundle)
	for _, pos := range []int{10, len(raw) / 2, len(raw) - 5} {
		b := append([]byte(nil), raw...)
		b[pos] ^= 0x01
		p := filepath.Join(tmp, "raw.tar.gz")
		os.WriteFile(p, b, 0o644)
		if _, err := Verify(p, pub); err == nil {
			t.Errorf("byte %d of the archive changed: Verify passed", pos)
		}
	}
}

func TestVerifyRejectsHostileArchives(t *testing.T) {
	_, bundle, pub, _ := signedBundle(t)
	files := readTar(t, bundle)
	tmp := t.TempDir()
	mk := func(mut func([]tarFile) []tarFile) string {
		c := make([]tarFile, len(files))
		for i, f := range files {
			h := *f.hdr
			c[i] = tarFile{&h, f.data}
		}
		p := filepath.Join(tmp, "h.tar.gz")
		writeTar(t, p, mut(c))
		return p
	}
	cases := map[string]func([]tarFile) []tarFile{
		"path traversal": func(c []tarFile) []tarFile {
			return append(c, tarFile{&tar.Header{Name: "../evil", Mode: 0o644, Typeflag: tar.TypeReg}, []byte("x")})
		},
		"absolute path": func(c []tarFile) []tarFile {
			return append(c, tarFile{&tar.Header{Name: "/etc/evil", Mode: 0o644, Typeflag: tar.TypeReg}, []byte("x")})
		},
		"symlink": func(c []tarFile) []tarFile {
			return append(c, tarFile{&tar.Header{Name: "link", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}, nil})
		},
		"extra file": func(c []tarFile) []tarFile {
			return append(c, tarFile{&tar.Header{Name: "extra.txt", Mode: 0o644, Typeflag: tar.TypeReg}, []byte("x")})
		},
		"duplicate": func(c []tarFile) []tarFile { return append(c, c[len(c)-1]) },
		"missing file": func(c []tarFile) []tarFile {
			return c[:len(c)-1]
		},
		"no manifest": func(c []tarFile) []tarFile { return c[1:] },
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Verify(mk(mut), pub); err == nil {
				t.Error("Verify passed")
			}
		})
	}
	// Extract refuses to write outside its folder even before the manifest check.
	out := t.TempDir()
	p := mk(cases["path traversal"])
	if _, err := Extract(p, nil, filepath.Join(out, "x")); err == nil {
		t.Error("Extract passed")
	}
	if _, err := os.Stat(filepath.Join(out, "evil")); err == nil {
		t.Error("Extract wrote outside its folder")
	}
}

func TestBundleRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileResults), []byte("{}"), 0o644)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")); err != nil {
		t.Skip("no symlinks here")
	}
	if err := Bundle(dir, filepath.Join(t.TempDir(), "b.tar.gz"), nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Bundle with a symlink: %v", err)
	}
}
