package browser

import (
	"os/exec"
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
	// The busy loop runs in a grandchild (a subshell of a subshell), which its parent collects.
	cmd := exec.Command("sh", "-c", `( ( i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done ); sleep 30 )`)
	if err := cmd.Start(); err != nil {
		t.Skipf("no sh: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var got time.Duration
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if got = treeCPU(cmd.Process.Pid); got >= 200*time.Millisecond {
			break
		}
	}
	if got < 200*time.Millisecond {
		t.Fatalf("treeCPU = %v after the busy grandchild, want at least 0.2 s", got)
	}
	if own := treeCPU(0); own != 0 {
		t.Errorf("treeCPU(0) = %v", own)
	}
}
