package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrepareOutDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	if err := prepareOutDir(dir); err != nil {
		t.Fatal(err)
	}
	// A previous report is replaced.
	os.WriteFile(filepath.Join(dir, "results.json"), []byte("{}"), 0o644)
	os.MkdirAll(filepath.Join(dir, "bodies"), 0o755)
	if err := prepareOutDir(dir); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("previous report not cleared: %v", entries)
	}
	// A folder with the user's own files is refused and left untouched.
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("old"), 0o644)
	err := prepareOutDir(dir)
	if err == nil || !strings.Contains(err.Error(), `"notes.txt"`) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "index.html")); string(b) != "old" {
		t.Fatal("a refused folder was modified")
	}
}
