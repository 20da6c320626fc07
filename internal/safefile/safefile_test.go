package safefile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFileRefusals(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	os.WriteFile(small, []byte("ok: 1\n"), 0o644)
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, make([]byte, 2048), 0o644)
	fifo := filepath.Join(dir, "pipe.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	os.Symlink(small, link)
	for _, c := range []struct {
		name, path string
		want       string // "" = success
	}{
		{"regular", small, ""},
		{"symlink to regular", link, ""},
		{"device", "/dev/zero", "/dev/zero is a device, not a regular file"},
		{"fifo", fifo, "pipe.json is a FIFO (named pipe), not a regular file"},
		{"folder", dir, "is a folder, not a regular file"},
		{"oversize", big, "big.yaml is 2048 bytes, over the 1 KiB limit"},
		{"missing", filepath.Join(dir, "nope"), "nope: no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := ReadFile(c.path, KiB)
			if c.want == "" {
				if err != nil || string(b) != "ok: 1\n" {
					t.Fatalf("ReadFile = %q, %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
	if _, err := ReadFile("/dev/zero", KiB); !errors.Is(err, ErrNotRegular) {
		t.Errorf("device error does not wrap ErrNotRegular: %v", err)
	}
	var tl *TooLargeError
	if _, err := ReadFile(big, KiB); !errors.As(err, &tl) || tl.Limit != KiB {
		t.Errorf("oversize error is not a *TooLargeError: %v", err)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{1 << 20: "1 MiB", 64 << 20: "64 MiB", 1 << 30: "1 GiB", 1500: "1500 bytes", 2048: "2 KiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// A capped reader gives exactly Max bytes, then ErrCapped (not a quiet EOF); a shorter source
// ends with io.EOF as usual.
func TestCappedReader(t *testing.T) {
	for _, c := range []struct {
		src     string
		max     int64
		want    string
		wantErr error
	}{
		{"abcdef", 4, "abcd", ErrCapped},
		{"abc", 4, "abc", nil},
		{"abcd", 4, "abcd", ErrCapped}, // the cap is reached: one more byte might follow
		{"", 0, "", ErrCapped},
	} {
		r := &CappedReader{R: strings.NewReader(c.src), Max: c.max}
		got, err := io.ReadAll(r)
		if string(got) != c.want || !errors.Is(err, c.wantErr) && !(c.wantErr == nil && err == nil) {
			t.Errorf("%q cap %d: got %q, %v; want %q, %v", c.src, c.max, got, err, c.want, c.wantErr)
		}
	}
}
