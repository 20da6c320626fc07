package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pacheck/pacheck/reports"
)

// pacheckOutputs are the files and folders a run writes into its report folder.
var pacheckOutputs = map[string]bool{
	"index.html": true, "results.json": true, "junit.xml": true, "summary.md": true, reports.FileCSV: true, FilePDF: true,
	reports.BundleName: true, reports.DirBodies: true, "browser": true, "evidence": true,
}

// prepareOutDir makes the report folder ready: a new or empty folder is used as it is; a previous
// pacheck report in it is replaced (only pacheck's own files are removed, so a stale file can
// never end up in the new evidence bundle); a folder holding anything else is refused, so no file
// of the user's is lost or bundled by mistake.
func prepareOutDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return fmt.Errorf("report folder %s: %v", dir, err)
	}
	for _, e := range entries {
		if !pacheckOutputs[e.Name()] {
			return fmt.Errorf("report folder %s holds %q, which pacheck did not write: choose an empty or new folder with --out", dir, e.Name())
		}
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("report folder %s: cannot replace the previous report (%v)", dir, err)
		}
	}
	return nil
}
