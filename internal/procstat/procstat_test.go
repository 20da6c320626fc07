package procstat

import (
	"os"
	"runtime"
	"strconv"
	"testing"
)

func TestEachFindsThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	var ppid int
	Each(func(pid int, f []string) {
		if pid == os.Getpid() && len(f) > 1 {
			ppid, _ = strconv.Atoi(f[1]) // field 4
		}
	})
	if ppid != os.Getppid() {
		t.Fatalf("parent of this process from /proc: %d, want %d", ppid, os.Getppid())
	}
}
