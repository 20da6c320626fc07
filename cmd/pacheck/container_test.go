package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// envContainerTest opts in to TestContainerImage: it builds a Debian base with debootstrap (or
// uses PACHECK_CONTAINER_BASE), the image from the Dockerfile with podman, and runs the demo in
// it: minutes, and root with podman, so it is not part of every `make test`.
const envContainerTest = "PACHECK_CONTAINER_TEST"

// TestContainerImage: the image from the Dockerfile runs `pacheck demo` as its non-root user
// with Debian's Chromium and writes the report to the /report volume.
func TestContainerImage(t *testing.T) {
	if os.Getenv(envContainerTest) == "" {
		t.Skipf("set %s=1 to build the container image and run the demo in it (podman and debootstrap, several minutes)", envContainerTest)
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed (Debian: apt-get install -y podman debootstrap)")
	}
	if out, err := exec.Command(podman, "info").CombinedOutput(); err != nil {
		t.Skipf("podman cannot run here: %v: %s", err, lastLine(string(out)))
	}
	root := filepath.Join("..", "..")
	// the build context: the Dockerfile and a static bin/pacheck, as `make image` has it
	ctxDir := t.TempDir()
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), df, 0o644)
	bin := filepath.Join(ctxDir, "bin", "pacheck")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Can podman run a container here at all? An image of just the static binary says so in
	// seconds, before minutes of debootstrap.
	pre := exec.Command("sh", "-c", "tar -C \"$1\" -c pacheck | \"$2\" import - localhost/pacheck-preflight:latest", "sh", filepath.Dir(bin), podman)
	if out, err := pre.CombinedOutput(); err != nil {
		t.Skipf("podman cannot import an image here: %v: %s", err, lastLine(string(out)))
	}
	if out, err := exec.Command(podman, "run", "--rm", "localhost/pacheck-preflight:latest", "/pacheck", "version").CombinedOutput(); err != nil {
		t.Skipf("podman cannot run containers here: %v: %s", err, lastLine(string(out)))
	}
	base := os.Getenv("PACHECK_CONTAINER_BASE")
	if base == "" {
		debootstrap, err := exec.LookPath("debootstrap")
		if err != nil {
			t.Skip("debootstrap is not installed and PACHECK_CONTAINER_BASE names no base image (no registry is reachable here)")
		}
		rootfs := filepath.Join(t.TempDir(), "rootfs")
		if out, err := exec.Command(debootstrap, "--variant=minbase", "bookworm", rootfs, "http://deb.debian.org/debian").CombinedOutput(); err != nil {
			t.Fatalf("debootstrap: %v: %s", err, lastLine(string(out)))
		}
		base = "localhost/pacheck-test-debian:bookworm"
		imp := exec.Command("sh", "-c", "tar -C \"$1\" -c . | \"$2\" import - \"$3\"", "sh", rootfs, podman, base)
		if out, err := imp.CombinedOutput(); err != nil {
			t.Fatalf("podman import: %v: %s", err, lastLine(string(out)))
		}
	}
	image := "localhost/pacheck-test:latest"
	if out, err := exec.Command(podman, "build", "--build-arg", "BASE="+base, "-t", image, ctxDir).CombinedOutput(); err != nil {
		t.Fatalf("podman build: %v\n%s", err, tail(string(out), 15))
	}
	report := t.TempDir()
	os.Chmod(report, 0o777) // written by the image's non-root user
	out, err := exec.Command(podman, "run", "--rm", "-v", report+":/report", image, "demo", "--out", "/report/demo").CombinedOutput()
	t.Logf("pacheck demo in the container:\n%s", tail(string(out), 12))
	if err != nil {
		t.Fatalf("podman run: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(report, "demo", "results.json"))
	if err != nil {
		t.Fatalf("no results.json on the volume: %v", err)
	}
	var res struct {
		Verdict string
		Counts  struct{ Total, Pass, Fail, Error int }
	}
	json.Unmarshal(b, &res)
	if res.Counts.Total < 800 || res.Counts.Fail != 0 || res.Counts.Error != 0 {
		t.Errorf("demo in the container: verdict %s, counts %+v", res.Verdict, res.Counts)
	}
	if user, err := exec.Command(podman, "run", "--rm", "--entrypoint", "id", image, "-u").Output(); err != nil || strings.TrimSpace(string(user)) == "0" {
		t.Errorf("the image runs as uid %q (%v), want a non-root user", strings.TrimSpace(string(user)), err)
	}
}

func lastLine(s string) string { return tail(s, 1) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
