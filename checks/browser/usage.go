package browser

import (
	"strconv"
	"sync"
	"time"

	"github.com/pacheck/pacheck/internal/procstat"
)

// usage sums what the process's browsers did, read as each closes (for --stats).
var usage struct {
	sync.Mutex
	cpu     time.Duration
	signIns int
	tabs    int
}

// Usage returns, over the browsers closed so far, Chromium's CPU time (every process of its
// tree, also the renderers that ended, as far as a process of the tree collected them: the
// rusage of pacheck's children sees only the processes pacheck itself waits for), the sign-ins
// and the tabs (each in its own incognito browser context) they used.
func Usage() (cpu time.Duration, signIns, tabs int) {
	usage.Lock()
	defer usage.Unlock()
	return usage.cpu, usage.signIns, usage.tabs
}

// addUsage adds a closing browser's figures; pid is its Chromium process (0 when unknown).
func addUsage(pid, signIns, tabs int) {
	cpu := treeCPU(pid)
	usage.Lock()
	defer usage.Unlock()
	usage.cpu += cpu
	usage.signIns += signIns
	usage.tabs += tabs
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat (100 on every Linux port).
const clockTicks = 100

// treeCPU returns the CPU time of pid and its living descendants, each with the CPU time of the
// children it collected, from /proc (0 where there is no /proc).
func treeCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	type proc struct{ ppid, ticks int }
	procs := map[int]proc{}
	procstat.Each(func(p int, f []string) {
		if len(f) < 15 {
			return
		}
		pp, _ := strconv.Atoi(f[1])
		t := 0
		for _, k := range f[11:15] { // utime, stime, cutime, cstime (fields 14-17)
			n, _ := strconv.Atoi(k)
			t += n
		}
		procs[p] = proc{ppid: pp, ticks: t}
	})
	in := map[int]bool{pid: true}
	for changed := true; changed; {
		changed = false
		for p, pr := range procs {
			if !in[p] && in[pr.ppid] {
				in[p] = true
				changed = true
			}
		}
	}
	ticks := 0
	for p := range in {
		ticks += procs[p].ticks
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
