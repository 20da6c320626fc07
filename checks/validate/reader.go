package validate

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// Input is one resource to validate: a JSON file, or one line of an NDJSON file.
type Input struct {
	Path string // file path, or path:line for NDJSON
	Raw  []byte
	Err  error // the input could not be read (Raw is nil)
}

// ErrNoInput is returned when a path names nothing readable.
var ErrNoInput = errors.New("no such file or folder")

// folderInputs lists the *.json, *.ndjson and *.xml files below folder p, sorted; dot-files, dot-folders
// and package.json are left out.
func folderInputs(p string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != p && strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || name == "package.json" {
			return nil
		}
		// *.xml: FHIR XML, converted to the JSON tree before validation (validateXML)
		if strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".ndjson") || isXMLName(name) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: cannot list the folder: %w", p, err)
	}
	sort.Strings(files)
	return files, nil
}
