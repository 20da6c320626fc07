package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// --sign-key reads a small regular file: a device, a FIFO or a huge file is refused at once with
// a one-line error naming the flag and the path (a device used to be read until memory ran out).
func TestReadSignKeyRefusals(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "key.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{"/dev/zero", "a device"},
		{fifo, "a FIFO"},
		{big, "over the 1 MiB limit"},
		{garbage, "not a PEM file"},
		{filepath.Join(dir, "missing.pem"), "no such file"},
	} {
		_, err := readSignKey(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--sign-key") ||
			!strings.Contains(err.Error(), c.path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("readSignKey(%s): %v; want one line naming --sign-key, the path and %q", c.path, err, c.want)
		}
	}
}

// auth.private_key is read the same way: never a device or a FIFO, at most 1 MiB.
func TestReadPrivateJWKRefusals(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "jwk.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/dev/zero": "a device", fifo: "a FIFO"} {
		_, err := readPrivateJWK(path)
		if err == nil || !strings.Contains(err.Error(), "auth.private_key") || !strings.Contains(err.Error(), path+" is "+want) {
			t.Errorf("readPrivateJWK(%s): %v", path, err)
		}
	}
}
