package reports

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pacheck/pacheck/internal/safefile"
)

// Bundle file names.
const (
	BundleName   = "pacheck-evidence.tar.gz"
	FileManifest = "manifest.json"
	FileSig      = "manifest.sig" // base64 Ed25519 signature of manifest.json's bytes
)

// BundleLimits bound what reading a bundle may cost (it may come from anyone). Every limit is
// checked while the archive streams, before the bytes it guards are inflated or kept.
type BundleLimits struct {
	Files       int   // entries in the archive
	FileBytes   int64 // one file, inflated
	TotalBytes  int64 // all files, inflated
	Depth       int   // path components of a file name
	Manifest    int64 // manifest.json (held in memory)
	ResultsJSON int64 // results.json (decoded after verification)
}

// DefaultBundleLimits are the limits Verify and Extract use: far above any real run's
// evidence, far below what would exhaust a machine.
var DefaultBundleLimits = BundleLimits{
	Files:       100_000,
	FileBytes:   1 << 30, // 1 GiB
	TotalBytes:  8 << 30, // 8 GiB
	Depth:       16,
	Manifest:    32 << 20,
	ResultsJSON: 256 << 20,
}

const (
	maxTrailing = 64 << 10 // padding after the tar end marker
	maxSigSize  = 4096
	// tarOverhead bounds the inflated bytes that are not file data (headers, PAX records,
	// padding) per entry: Go's tar reader caps PAX records at 1 MiB.
	tarOverhead = 1<<20 + 2048
)

// Manifest lists every file of a bundle with its SHA-256.
type Manifest struct {
	Version string         `json:"version"` // "1"
	Created time.Time      `json:"created"`
	Files   []ManifestFile `json:"files"`
}

// ManifestFile is one bundled file.
type ManifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Bundle writes out (a .tar.gz) holding every regular file under dir (outputs and raw evidence
// files), manifest.json with the SHA-256 of each, and manifest.sig when signKey is given.
// Symlinks and other special files are refused. out may be inside dir; it is not bundled.
func Bundle(dir, out string, signKey ed25519.PrivateKey) error {
	if signKey != nil && len(signKey) != ed25519.PrivateKeySize {
		return fmt.Errorf("bundle: signing key has %d bytes, want an Ed25519 private key of %d", len(signKey), ed25519.PrivateKeySize)
	}
	absOut, _ := filepath.Abs(out)
	var files []ManifestFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if abs, _ := filepath.Abs(p); abs == absOut {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file (symlinks and devices are not bundled)", rel)
		}
		if rel == FileManifest || rel == FileSig {
			return fmt.Errorf("%s: the report folder already holds a %s; remove it", p, rel)
		}
		if !safeRel(rel) {
			return fmt.Errorf("%s: unsupported file name", rel)
		}
		sum, size, err := hashFile(p)
		if err != nil {
			return err
		}
		files = append(files, ManifestFile{Path: rel, Size: size, SHA256: sum})
		return nil
	})
	if err != nil {
		return fmt.Errorf("bundle %s: %w", dir, err)
	}
	if len(files) > DefaultBundleLimits.Files {
		return fmt.Errorf("bundle %s: %d files, more than %d", dir, len(files), DefaultBundleLimits.Files)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	m := Manifest{Version: "1", Created: time.Now().UTC().Truncate(time.Second), Files: files}
	mb, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	mb = append(mb, '\n')

	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer os.Remove(tmp)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: m.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	werr := put(FileManifest, mb)
	if werr == nil && signKey != nil {
		werr = put(FileSig, []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(signKey, mb))+"\n"))
	}
	for _, mf := range files {
		if werr != nil {
			break
		}
		werr = addFile(tw, filepath.Join(dir, filepath.FromSlash(mf.Path)), mf, m.Created)
	}
	if werr == nil {
		werr = tw.Close()
	}
	if werr == nil {
		werr = gz.Close()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("bundle %s: %w", out, werr)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

func addFile(tw *tar.Writer, p string, mf ManifestFile, mod time.Time) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(&tar.Header{Name: mf.Path, Mode: 0o644, Size: mf.Size, ModTime: mod, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(f, mf.Size))
	if err != nil {
		return err
	}
	if n != mf.Size || hex.EncodeToString(h.Sum(nil)) != mf.SHA256 {
		return fmt.Errorf("%s changed while bundling", mf.Path)
	}
	return nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Verify checks a bundle: every file listed in manifest.json is present once with its size and
// SHA-256, no unlisted file is present, and, when pub is given, manifest.sig is a valid Ed25519
// signature of manifest.json by pub. It returns the bundled results.json. Reading is bounded by
// DefaultBundleLimits (entries, inflated bytes, sizes, path depth; no absolute paths, "..", links
// or special files) while streaming, and only manifest.json is held in memory.
func Verify(bundlePath string, pub ed25519.PublicKey) (*Results, error) {
	return VerifyLimits(bundlePath, pub, "", DefaultBundleLimits)
}

// Extract verifies the bundle like Verify and writes its files into dir (absent, or an empty
// folder), so Rerender(results, dir) can rebuild index.html with the bundled screenshots. Files
// are written to a temporary folder beside dir and renamed to dir only once every check passed:
// when verification fails, nothing is left.
func Extract(bundlePath string, pub ed25519.PublicKey, dir string) (*Results, error) {
	return VerifyLimits(bundlePath, pub, dir, DefaultBundleLimits)
}

// VerifyLimits is Verify (extractDir "") or Extract with explicit limits.
func VerifyLimits(bundlePath string, pub ed25519.PublicKey, extractDir string, lim BundleLimits) (*Results, error) {
	if extractDir == "" {
		tmp, err := os.MkdirTemp("", "pacheck-verify-*")
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", bundlePath, err)
		}
		defer os.RemoveAll(tmp)
		// Only results.json is written there, to decode it after the hashes are checked.
		return verifyBundle(bundlePath, pub, tmp, true, lim)
	}
	abs, err := filepath.Abs(extractDir)
	if err != nil {
		return nil, fmt.Errorf("extract %s: %w", bundlePath, err)
	}
	if entries, err := os.ReadDir(abs); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("extract %s: %s is not empty: give a new or empty folder", bundlePath, extractDir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("extract %s: %s: %w", bundlePath, extractDir, err)
	}
	parent := filepath.Dir(abs)
	// Folders made for dir are removed again (when still empty) if verification fails.
	var made []string
	for d := parent; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		made = append(made, d)
	}
	undo := func() {
		for _, d := range made {
			os.Remove(d)
		}
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		undo()
		return nil, fmt.Errorf("extract %s: %w", bundlePath, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".verifying-*")
	if err != nil {
		undo()
		return nil, fmt.Errorf("extract %s: %w", bundlePath, err)
	}
	r, err := verifyBundle(bundlePath, pub, tmp, false, lim)
	if err == nil {
		err = publish(tmp, abs)
	}
	if err != nil {
		os.RemoveAll(tmp)
		undo()
		return nil, err
	}
	return r, nil
}

// publish moves the verified folder tmp to dir (absent or empty).
func publish(tmp, dir string) error {
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("extract: %s: %w (give a new or empty folder)", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	return nil
}

type seenFile struct {
	size int64
	sum  string
}

// verifyBundle streams the archive once. Every file is hashed; manifest.json and manifest.sig are
// kept in memory (bounded); results.json (resultsOnly) or every file is written under dir, which
// the caller removes unless the whole check passed.
func verifyBundle(bundlePath string, pub ed25519.PublicKey, dir string, resultsOnly bool, lim BundleLimits) (*Results, error) {
	fail := func(format string, a ...any) (*Results, error) {
		return nil, fmt.Errorf("verify %s: %s", bundlePath, fmt.Sprintf(format, a...))
	}
	if pub != nil && len(pub) != ed25519.PublicKeySize {
		return fail("public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	f, _, err := safefile.Open(bundlePath)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	return verifyStream(f, bundlePath, pub, dir, resultsOnly, lim)
}

// verifyStream is verifyBundle on the bundle's bytes; bundlePath names it in errors.
func verifyStream(f io.Reader, bundlePath string, pub ed25519.PublicKey, dir string, resultsOnly bool, lim BundleLimits) (*Results, error) {
	fail := func(format string, a ...any) (*Results, error) {
		return nil, fmt.Errorf("verify %s: %s", bundlePath, fmt.Sprintf(format, a...))
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fail("not a gzip file: %v", err)
	}
	defer gz.Close()
	// The inflated stream as a whole is capped too: file data plus bounded tar overhead per entry.
	inflated := &safefile.CappedReader{R: gz, Max: lim.TotalBytes + int64(lim.Files+1)*tarOverhead + maxTrailing}
	tr := tar.NewReader(inflated)
	seen := map[string]seenFile{}
	var manifestBytes, sigBytes []byte
	resultsPath := ""
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Read the compressed stream to its end so gzip checks its CRC and length: bytes
			// after the tar end marker, or a damaged trailer, are not silently ignored.
			n, err := io.Copy(io.Discard, io.LimitReader(inflated, maxTrailing+1))
			if err != nil {
				return fail("damaged archive: %v", err)
			}
			if n > maxTrailing {
				return fail("more than %d bytes after the end of the tar archive", maxTrailing)
			}
			break
		}
		if errors.Is(err, safefile.ErrCapped) {
			return fail("inflates to more than %s: refused (a bundle this large is not pacheck's)", safefile.Bytes(inflated.Max))
		}
		if err != nil {
			return fail("damaged archive: %v", err)
		}
		if len(seen) >= lim.Files {
			return fail("more than %d files: refused", lim.Files)
		}
		name := hdr.Name
		if hdr.Typeflag != tar.TypeReg {
			return fail("%q is not a regular file (type %q); bundles hold regular files only", name, hdr.Typeflag)
		}
		if !safeRel(name) {
			return fail("unsafe file name %q (absolute, \"..\" or not clean)", name)
		}
		if d := strings.Count(name, "/") + 1; d > lim.Depth {
			return fail("%q is %d folders deep, more than the %d allowed", name, d, lim.Depth)
		}
		if _, dup := seen[name]; dup {
			return fail("%q appears twice", name)
		}
		if hdr.Size < 0 || hdr.Size > lim.FileBytes {
			return fail("%q is %d bytes, more than the %s allowed", name, hdr.Size, safefile.Bytes(lim.FileBytes))
		}
		total += hdr.Size
		if total > lim.TotalBytes {
			return fail("more than %s uncompressed: refused", safefile.Bytes(lim.TotalBytes))
		}
		var keep *[]byte
		limit := lim.FileBytes
		switch name {
		case FileManifest:
			keep, limit = &manifestBytes, lim.Manifest
		case FileSig:
			keep, limit = &sigBytes, maxSigSize
		case FileResults:
			limit = lim.ResultsJSON
		}
		if hdr.Size > limit {
			return fail("%q is %d bytes, more than the %s allowed", name, hdr.Size, safefile.Bytes(limit))
		}
		h := sha256.New()
		sinks := []io.Writer{h}
		var buf bytes.Buffer
		if keep != nil {
			sinks = append(sinks, &buf)
		}
		var out *os.File
		write := name != FileManifest && name != FileSig && (!resultsOnly || name == FileResults)
		if write {
			dst := filepath.Join(dir, filepath.FromSlash(name))
			if resultsOnly {
				dst = filepath.Join(dir, FileResults)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return nil, fmt.Errorf("extract: %w", err)
			}
			out, err = os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return nil, fmt.Errorf("extract: %w", err)
			}
			sinks = append(sinks, out)
			if name == FileResults {
				resultsPath = dst
			}
		}
		n, err := io.Copy(io.MultiWriter(sinks...), io.LimitReader(tr, hdr.Size))
		if out != nil {
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		if errors.Is(err, safefile.ErrCapped) {
			return fail("inflates to more than %s: refused", safefile.Bytes(inflated.Max))
		}
		if err != nil {
			return fail("reading %q: %v", name, err)
		}
		if n != hdr.Size {
			return fail("%q is cut short", name)
		}
		if keep != nil {
			*keep = buf.Bytes()
		}
		seen[name] = seenFile{size: n, sum: hex.EncodeToString(h.Sum(nil))}
	}
	if manifestBytes == nil {
		return fail("no %s", FileManifest)
	}
	if pub != nil {
		if sigBytes == nil {
			return fail("no %s, but a public key was given: the bundle is unsigned", FileSig)
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSuffix(string(sigBytes), "\n"))
		if err != nil || len(sig) != ed25519.SignatureSize {
			return fail("%s is not a base64 Ed25519 signature", FileSig)
		}
		if !ed25519.Verify(pub, manifestBytes, sig) {
			return fail("signature does not match %s for this public key", FileManifest)
		}
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(manifestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fail("%s: %v", FileManifest, err)
	}
	if m.Version != "1" {
		return fail("%s version %q, want \"1\"", FileManifest, m.Version)
	}
	listed := map[string]bool{}
	for _, mf := range m.Files {
		if listed[mf.Path] {
			return fail("%s lists %q twice", FileManifest, mf.Path)
		}
		listed[mf.Path] = true
		got, ok := seen[mf.Path]
		switch {
		case !ok:
			return fail("%q is listed in %s but missing", mf.Path, FileManifest)
		case got.size != mf.Size:
			return fail("%q is %d bytes, manifest says %d", mf.Path, got.size, mf.Size)
		case !strings.EqualFold(got.sum, mf.SHA256):
			return fail("%q SHA-256 %s does not match the manifest's %s: the file was changed", mf.Path, got.sum, mf.SHA256)
		}
	}
	for name := range seen {
		if name != FileManifest && name != FileSig && !listed[name] {
			return fail("%q is not listed in %s", name, FileManifest)
		}
	}
	if resultsPath == "" {
		return fail("no %s", FileResults)
	}
	rf, err := os.Open(resultsPath)
	if err != nil {
		return fail("%v", err)
	}
	defer rf.Close()
	r, err := ReadJSON(rf)
	if err != nil {
		return fail("%v", err)
	}
	r.Seal = &Seal{Signed: sigBytes != nil, SignatureChecked: pub != nil}
	return r, nil
}
