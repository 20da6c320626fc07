package reports

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
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

// gzTar writes a .tar.gz whose entries stream from readers (so a test bundle can inflate to far
// more than it occupies) and returns its path.
func gzTar(t *testing.T, entries ...tarEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "b.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if e.data != nil {
			if _, err := io.Copy(tw, e.data); err != nil {
				t.Fatal(err)
			}
			if e.short {
				break
			}
		}
	}
	// An entry written short (its header claims more) leaves tw unclosable: the archive then
	// ends there, as a cut-off bomb would.
	if err := tw.Close(); err != nil && !strings.Contains(err.Error(), "missed writing") {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

type tarEntry struct {
	hdr   tar.Header
	data  io.Reader
	short bool // data is shorter than hdr.Size: the archive stops after it
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func reg(name string, size int64) tarEntry {
	return tarEntry{tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}, io.LimitReader(zeros{}, size), false}
}

// TestVerifyArchiveLimits: each limit refuses the archive with a message naming the file and
// the limit, before the guarded bytes are inflated.
func TestVerifyArchiveLimits(t *testing.T) {
	small := BundleLimits{Files: 3, FileBytes: 1 << 20, TotalBytes: 2 << 20, Depth: 3, Manifest: 1 << 10, ResultsJSON: 1 << 10}
	for _, c := range []struct {
		name    string
		entries []tarEntry
		want    string
	}{
		{"file over its limit", []tarEntry{reg("evidence/big.bin", 2<<20)}, `"evidence/big.bin" is 2097152 bytes, more than the 1 MiB allowed`},
		{"total over its limit", []tarEntry{reg("a", 1<<20), reg("b", 1<<20), reg("c", 1<<20)}, "more than 2 MiB uncompressed"},
		{"too many files", []tarEntry{reg("a", 1), reg("b", 1), reg("c", 1), reg("d", 1)}, "more than 3 files"},
		{"too deep", []tarEntry{reg("a/b/c/d", 1)}, `"a/b/c/d" is 4 folders deep, more than the 3 allowed`},
		{"results.json bomb", []tarEntry{reg(FileResults, 4<<10)}, `"results.json" is 4096 bytes, more than the 1 KiB allowed`},
		{"manifest bomb", []tarEntry{reg(FileManifest, 4<<10)}, `"manifest.json" is 4096 bytes, more than the 1 KiB allowed`},
		{"zip-slip", []tarEntry{reg("../../etc/cron.d/x", 1)}, `unsafe file name "../../etc/cron.d/x"`},
		{"absolute", []tarEntry{reg("/etc/passwd", 1)}, `unsafe file name "/etc/passwd"`},
		{"unclean", []tarEntry{reg("a/./b", 1)}, `unsafe file name "a/./b"`},
		{"symlink", []tarEntry{{tar.Header{Name: "l", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}, nil, false}}, `"l" is not a regular file`},
		{"hard link", []tarEntry{{tar.Header{Name: "l", Linkname: "x", Typeflag: tar.TypeLink}, nil, false}}, `"l" is not a regular file`},
		{"device", []tarEntry{{tar.Header{Name: "d", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 5}, nil, false}}, `"d" is not a regular file`},
		{"folder", []tarEntry{{tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755}, nil, false}}, `"d/" is not a regular file`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := gzTar(t, c.entries...)
			out := filepath.Join(t.TempDir(), "out")
			_, err := VerifyLimits(p, nil, out, small)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			assertNothingExtracted(t, out)
		})
	}
}

func assertNothingExtracted(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s exists after a failed verification", out)
	}
	left, _ := os.ReadDir(filepath.Dir(out))
	for _, e := range left {
		if e.Name() != filepath.Base(out) {
			t.Errorf("left behind beside --out: %s", e.Name())
		}
	}
}

// TestVerifyInflateBombMemory: a 64 MiB file of zeros (about 64 KiB compressed) and a 1 GiB
// results.json header are refused, and reading costs a few MiB of heap, not the inflated size.
func TestVerifyInflateBombMemory(t *testing.T) {
	bomb := gzTar(t, reg("evidence/zeros.bin", 64<<20))
	resultsBomb := gzTar(t, tarEntry{tar.Header{Name: FileResults, Mode: 0o644, Size: 1 << 30, Typeflag: tar.TypeReg}, io.LimitReader(zeros{}, 1<<20), true})
	if st, _ := os.Stat(bomb); st.Size() > 1<<20 {
		t.Fatalf("bomb is %d bytes compressed; the test wants a small file", st.Size())
	}
	for name, c := range map[string]struct{ path, want string }{
		"unlisted zeros":     {bomb, "no manifest.json"},
		"1 GiB results.json": {resultsBomb, `"results.json" is 1073741824 bytes, more than the 256 MiB allowed`},
	} {
		t.Run(name, func(t *testing.T) {
			peak := heapPeak(t, func() {
				_, err := Verify(c.path, nil)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("error = %v, want it to contain %q", err, c.want)
				}
			})
			t.Logf("heap growth while verifying: %d KiB", peak>>10)
			if peak > 8<<20 {
				t.Errorf("verifying used %d MiB of heap; want a few MiB", peak>>20)
			}
		})
	}
}

// heapPeak runs fn while sampling HeapAlloc and returns the largest growth over the start.
func heapPeak(t *testing.T, fn func()) uint64 {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak {
				peak = m.HeapAlloc - base
			}
			select {
			case <-stop:
				done <- peak
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	fn()
	close(stop)
	return <-done
}

// TestExtractTamperedLeavesNothing: a bundle with one changed byte is refused and --out is not
// created (nor is anything left beside it); an intact one is extracted whole.
func TestExtractTamperedLeavesNothing(t *testing.T) {
	_, bundle, pub, _ := signedBundle(t)
	files := readTar(t, bundle)
	for i := range files {
		if files[i].hdr.Name == FileHTML {
			d := bytes.Replace(files[i].data, []byte("<html"), []byte("<HTML"), 1)
			files[i] = tarFile{files[i].hdr, d}
		}
	}
	tampered := filepath.Join(t.TempDir(), "t.tar.gz")
	writeTar(t, tampered, files)
	for _, existing := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "out")
		if existing {
			os.Mkdir(out, 0o755)
		}
		_, err := Extract(tampered, pub, out)
		if err == nil || !strings.Contains(err.Error(), "the file was changed") {
			t.Fatalf("tampered bundle: %v", err)
		}
		if existing {
			if e, err := os.ReadDir(out); err != nil || len(e) != 0 {
				t.Errorf("--out after a failed verification: %v, %v", e, err)
			}
			os.Remove(out)
		}
		assertNothingExtracted(t, out)
	}
	// Folders made for --out are removed again too.
	base := t.TempDir()
	if _, err := Extract(tampered, pub, filepath.Join(base, "a", "b", "out")); err == nil {
		t.Fatal("tampered bundle extracted")
	}
	if e, _ := os.ReadDir(base); len(e) != 0 {
		t.Errorf("left behind: %v", e)
	}
	out := filepath.Join(t.TempDir(), "fresh", "out")
	if _, err := Extract(bundle, pub, out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, FileResults)); err != nil {
		t.Errorf("intact bundle not extracted: %v", err)
	}
	if st, _ := os.Stat(out); st == nil || st.Mode().Perm() != 0o755 {
		t.Errorf("extracted folder mode: %v", st)
	}
	nonEmpty := t.TempDir()
	os.WriteFile(filepath.Join(nonEmpty, "keep.txt"), []byte("mine"), 0o644)
	if _, err := Extract(bundle, pub, nonEmpty); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("non-empty --out: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(nonEmpty, "keep.txt")); string(b) != "mine" {
		t.Error("a file the user had was touched")
	}
}

// TestVerifyRefusesNonRegularBundle: a FIFO or a device as the bundle fails at once.
func TestVerifyRefusesNonRegularBundle(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero"} {
		if _, err := Verify(p, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Verify(%s) = %v", p, err)
		}
	}
}

// TestLoadKnownIssuesRefusals: the known-issues file is read only as a regular file of at most
// 1 MiB (it lives here because known_diff_test.go has another owner).
func TestLoadKnownIssuesRefusals(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "known.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, bytes.Repeat([]byte("# x\n"), 300_000), 0o644)
	for _, c := range []struct{ name, path, want string }{
		{"fifo", fifo, "known.yaml is a FIFO (named pipe), not a regular file"},
		{"device", "/dev/zero", "/dev/zero is a device, not a regular file"},
		{"oversize", big, "big.yaml is 1200000 bytes, over the 1 MiB limit; a known-issues list is a few KiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadKnownIssues(c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error = %v, want one line containing %q", err, c.want)
			}
		})
	}
}

// Verify says whether the bundle was signed and whether the signature was checked, so the CLI
// never calls an unsigned bundle "verified" without saying so.
func TestVerifySeal(t *testing.T) {
	dir, signed, pub, _ := signedBundle(t)
	unsigned := filepath.Join(t.TempDir(), BundleName)
	if err := Bundle(dir, unsigned, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		bundle string
		pub    ed25519.PublicKey
		want   Seal
	}{
		{"signed, key given", signed, pub, Seal{Signed: true, SignatureChecked: true}},
		{"signed, no key", signed, nil, Seal{Signed: true}},
		{"unsigned", unsigned, nil, Seal{}},
	} {
		r, err := Verify(tc.bundle, tc.pub)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Seal == nil || *r.Seal != tc.want {
			t.Errorf("%s: seal %+v, want %+v", tc.name, r.Seal, tc.want)
		}
	}
	if _, err := Verify(unsigned, pub); err == nil || !strings.Contains(err.Error(), "unsigned") {
		t.Errorf("unsigned bundle with a key: %v, want an error saying it is unsigned", err)
	}
}
