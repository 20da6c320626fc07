package browser

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestTreeCPU: the CPU time of a process tree counts a descendant that ended and was collected
// (as a renderer collected by Chromium's zygote), which the rusage of pacheck's children misses.
func TestTreeCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	// The busy loop runs in a grandchild (a subshell of a subshell), which has ended and been
	// collected by its parent when the file shows up.
	done := filepath.Join(t.TempDir(), "done")
	cmd := exec.Command("sh", "-c", `( ( i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done ); touch "$1"; sleep 30 )`, "sh", done)
	if err := cmd.Start(); err != nil {
		t.Skipf("no sh: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for end := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(done); err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the busy loop did not end within 2 minutes")
		}
	}
	if got := treeCPU(cmd.Process.Pid); got < 200*time.Millisecond {
		t.Fatalf("treeCPU = %v after the busy grandchild ended, want at least 0.2 s", got)
	}
	if own := treeCPU(0); own != 0 {
		t.Errorf("treeCPU(0) = %v", own)
	}
}
