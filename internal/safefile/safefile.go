// Package safefile opens and reads local input files so that a path naming a device, a FIFO, a
// socket or a folder fails at once instead of blocking or reading forever, and every read stops
// at a byte limit.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// KiB and MiB are byte counts for limits.
const (
	KiB = 1 << 10
	MiB = 1 << 20
)

// SmallLimit bounds configuration-sized inputs: config files, keys, known-issues and target lists.
const SmallLimit = 1 * MiB

// ErrNotRegular is wrapped by errors for paths that are not regular files.
var ErrNotRegular = errors.New("not a regular file")

// TooLargeError reports an input over its limit.
type TooLargeError struct {
	Path  string
	Limit int64
	Size  int64 // -1 when only "more than Limit" is known
}

func (e *TooLargeError) Error() string {
	if e.Size >= 0 {
		return fmt.Sprintf("%s is %d bytes, over the %s limit", e.Path, e.Size, Bytes(e.Limit))
	}
	return fmt.Sprintf("%s is over the %s limit", e.Path, Bytes(e.Limit))
}

// Open opens path for reading only when it is a regular file (symlinks to regular files are
// followed). It opens with O_NONBLOCK so a FIFO without a writer cannot block the open, then
// refuses anything fstat does not report as a regular file. The caller closes the file.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, nil, fmt.Errorf("%s: %w", path, pe.Err)
		}
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %s, %w; give a file", path, kind(st.Mode()), ErrNotRegular)
	}
	return f, st, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// ReadFile reads the regular file at path, refusing it when it holds more than limit bytes.
// Errors name the path and, for size, the limit (*TooLargeError).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, &TooLargeError{Path: path, Limit: limit, Size: st.Size()}
	}
	// The size can change (or lie, as in /proc); the read is bounded regardless.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: path, Limit: limit, Size: -1}
	}
	return b, nil
}

// Bytes formats a byte count for messages: "1 MiB", "64 MiB", "1500 bytes".
func Bytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= MiB && n%MiB == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= KiB && n%KiB == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ErrCapped is the error of a CappedReader read past its cap.
var ErrCapped = errors.New("size cap reached")

// CappedReader reads from R and fails with ErrCapped once Max bytes have been read (unlike
// io.LimitReader, which ends quietly): an inflating or unbounded source is refused, not cut.
type CappedReader struct {
	R   io.Reader
	Max int64
	N   int64 // bytes read so far
}

func (c *CappedReader) Read(p []byte) (int, error) {
	if c.N >= c.Max {
		return 0, ErrCapped
	}
	if int64(len(p)) > c.Max-c.N {
		p = p[:c.Max-c.N]
	}
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
