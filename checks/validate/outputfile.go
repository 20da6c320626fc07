package validate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// atomicFile is an output file (--output, --html-output) written under a temporary dot-name in
// its folder and renamed into place only when complete: a reader never sees half a file, and a
// run that fails leaves the previous file as it was. The dot-name also keeps the file out of a
// folder being validated.
type atomicFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	done bool
}

func createAtomic(path string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", path, err)
	}
	return &atomicFile{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (a *atomicFile) Write(p []byte) (int, error) { return a.w.Write(p) }

// commit flushes, syncs and renames the file into place.
func (a *atomicFile) commit() error {
	if a.done {
		return nil
	}
	a.done = true
	err := a.w.Flush()
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(a.f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	return nil
}

// abort removes the temporary file; the destination is left untouched.
func (a *atomicFile) abort() {
	if a == nil || a.done {
		return
	}
	a.done = true
	a.f.Close()
	os.Remove(a.f.Name())
}

// checkOutputPath refuses an output path that is a folder, or the same file as an input (a file
// argument or a file a folder argument would read): the results must never replace what they
// describe.
func checkOutputPath(out string, inputs []string) error {
	st, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(filepath.Dir(out)); err != nil {
			return fmt.Errorf("%s: the folder does not exist", out)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a folder; give a file name", out)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", out)
	}
	for _, in := range inputs {
		ist, err := os.Stat(in)
		if err != nil {
			continue // reported by the reader
		}
		if !ist.IsDir() {
			if os.SameFile(st, ist) {
				return fmt.Errorf("%s is an input of this run; write the results elsewhere", out)
			}
			continue
		}
		files, err := folderInputs(in)
		if err != nil {
			continue
		}
		for _, f := range files {
			if fst, err := os.Stat(f); err == nil && os.SameFile(st, fst) {
				return fmt.Errorf("%s is an input of this run (in %s); write the results elsewhere", out, in)
			}
		}
	}
	return nil
}

// formatForPath picks an output format from a file name when --format is not given:
// *.oo.json / *.operationoutcome.json: a Bundle of OperationOutcomes; *.json: pacheck's JSON;
// anything else: text.
func formatForPath(path string) string {
	name := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(name, ".oo.json"), strings.HasSuffix(name, ".operationoutcome.json"):
		return "operationoutcome"
	case strings.HasSuffix(name, ".json"):
		return "json"
	}
	return "text"
}

// multiFormatter writes each result to several formatters.
type multiFormatter []Formatter

func (m multiFormatter) Result(r FileResult) error {
	var errs []error
	for _, f := range m {
		errs = append(errs, f.Result(r))
	}
	return errors.Join(errs...)
}

func (m multiFormatter) Close(s Summary) error {
	var errs []error
	for _, f := range m {
		errs = append(errs, f.Close(s))
	}
	return errors.Join(errs...)
}

// summaryFormatter prints only the summary line and where the results went (stdout with
// --output / --html-output).
type summaryFormatter struct {
	w     io.Writer
	files []string
}

func (f *summaryFormatter) Result(FileResult) error { return nil }

func (f *summaryFormatter) Close(s Summary) error {
	_, err := fmt.Fprintf(f.w, "%d files, %d valid, %d errors, %d warnings; results in %s\n", s.Files, s.Valid, s.Errors, s.Warnings, strings.Join(f.files, ", "))
	return err
}
