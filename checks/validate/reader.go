package validate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Input limits.
const (
	MaxFileBytes = 1 << 30  // one JSON file
	MaxLineBytes = 64 << 20 // one NDJSON line
)

// Input is one resource to validate: a JSON file, or one line of an NDJSON file.
type Input struct {
	Path string // file path, or path:line for NDJSON
	Raw  []byte
	Err  error // the input could not be read (Raw is nil)
}

// ErrNoInput is returned when a path names nothing readable.
var ErrNoInput = errors.New("no such file or folder")

// ReadInputs reads the JSON and NDJSON resources named by paths (files or folders, searched
// recursively for *.json and *.ndjson; dot-files and package.json are skipped) and calls fn for
// each, in order. It returns an error only for a path that does not exist or cannot be listed,
// or when fn returns one; per-file read problems come as Input.Err.
func ReadInputs(paths []string, fn func(Input) error) error {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, ErrNoInput)
		}
		if !st.IsDir() {
			if err := readFile(p, fn); err != nil {
				return err
			}
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
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
			if strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".ndjson") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: cannot list the folder: %w", p, err)
		}
		sort.Strings(files)
		for _, f := range files {
			if err := readFile(f, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func readFile(path string, fn func(Input) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fn(Input{Path: path, Err: fmt.Errorf("cannot open: %w", err)})
	}
	defer f.Close()
	if strings.HasSuffix(path, ".ndjson") {
		return readNDJSON(f, path, fn)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return fn(Input{Path: path, Err: fmt.Errorf("cannot read: %w", err)})
	}
	if len(b) > MaxFileBytes {
		return fn(Input{Path: path, Err: fmt.Errorf("file is over %d bytes; split it (e.g. as NDJSON)", MaxFileBytes)})
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fn(Input{Path: path, Err: errors.New("file is empty")})
	}
	return fn(Input{Path: path, Raw: b})
}

func readNDJSON(r io.Reader, path string, fn func(Input) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	line := 0
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			if len(buf) > MaxLineBytes {
				line++
				if e := fn(Input{Path: fmt.Sprintf("%s:%d", path, line), Err: fmt.Errorf("line is over %d bytes", MaxLineBytes)}); e != nil {
					return e
				}
				// skip the rest of the line
				for err == bufio.ErrBufferFull {
					_, err = br.ReadSlice('\n')
				}
				buf = buf[:0]
				if err == io.EOF {
					return nil
				}
				continue
			}
			continue
		}
		if len(buf) > 0 || err == nil {
			line++
			if t := bytes.TrimSpace(buf); len(t) > 0 {
				raw := bytes.Clone(t)
				if e := fn(Input{Path: fmt.Sprintf("%s:%d", path, line), Raw: raw}); e != nil {
					return e
				}
			}
			buf = buf[:0]
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fn(Input{Path: fmt.Sprintf("%s:%d", path, line+1), Err: fmt.Errorf("cannot read: %w", err)})
		}
	}
}
