package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzVerifyBundle: any bytes as a bundle give an error or results, never a panic, with memory
// bounded by the (here small) limits and nothing written outside the folder given.
func FuzzVerifyBundle(f *testing.F) {
	// More seeds (minimal bundles, links, zip-slip, cut-off and padded archives) are in
	// testdata/fuzz/FuzzVerifyBundle.
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, FileResults), []byte(`{"schemaVersion":"1"}`), 0o644)
	p := filepath.Join(f.TempDir(), BundleName)
	if err := Bundle(dir, p, nil); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	f.Add(b)
	lim := BundleLimits{Files: 64, FileBytes: 1 << 20, TotalBytes: 4 << 20, Depth: 8, Manifest: 64 << 10, ResultsJSON: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		out := t.TempDir()
		r, err := verifyStream(bytes.NewReader(data), "fuzz.tar.gz", nil, out, false, lim)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			if r != nil {
				t.Fatal("both results and an error")
			}
			return
		}
		if r == nil {
			t.Fatal("neither results nor an error")
		}
	})
}
