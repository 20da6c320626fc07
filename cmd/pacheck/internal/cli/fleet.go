package cli

// The fleet side of --targets: several children at once, each bounded in memory, and one target of
// the list run alone (--target-index) as a Kubernetes Indexed Job pod does.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacheck/pacheck/internal/procstat"
	"github.com/pacheck/pacheck/internal/safefile"
)

const (
	// maxParallel bounds --parallel: each child runs a browser (a few hundred MB and a core).
	maxParallel = 16
	// defaultTargetMemory is a target run's resident memory bound, its browser included: a full
	// demo peaks near 600 MB.
	defaultTargetMemory = byteSize(2 << 30)
	// memoryPoll is how often the watchdog reads the children's memory.
	memoryPoll = 500 * time.Millisecond
)

// childLimits bound one target's child process.
type childLimits struct {
	timeout time.Duration
	memory  int64 // bytes of resident memory of its process group; 0: unbounded
	fleet   *fleetMemory
}

// byteSize is a flag value such as 512MiB, 2GiB or 1500000000.
type byteSize int64

func (b *byteSize) String() string {
	if b == nil {
		return ""
	}
	v := int64(*b)
	switch {
	case v >= 1<<30 && v%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", v>>30)
	case v >= 1<<20:
		return fmt.Sprintf("%dMiB", v>>20)
	}
	return strconv.FormatInt(v, 10)
}

func (b *byteSize) Set(s string) error {
	v, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(v)
	return nil
}

// parseByteSize reads a byte count with an optional KiB, MiB, GiB, KB, MB or GB suffix.
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("%q is not a size: give e.g. 512MiB or 2GiB", s)
	}
	if n*mult < 64<<20 {
		return 0, fmt.Errorf("%q is too small for a run (at least 64MiB)", s)
	}
	return n * mult, nil
}

// watchMemory polls the resident memory of the process group pgid until stop is closed, records
// its peak in peak (bytes), and calls over once with the figure when it passes limit (0: no
// limit). Where /proc is absent (not Linux) it does nothing: the child's GOMEMLIMIT still holds its
// Go heap.
func watchMemory(pgid int, limit int64, peak *atomic.Int64, stop <-chan struct{}, over func(rss int64)) {
	pollMemory(stop, func() bool {
		rss := groupRSS(pgid)
		if rss > peak.Load() {
			peak.Store(rss)
		}
		if limit > 0 && rss > limit {
			over(rss)
			return false
		}
		return true
	})
}

// pollMemory calls sample every memoryPoll until stop is closed or sample returns false; without
// /proc (not Linux) it returns at once.
func pollMemory(stop <-chan struct{}, sample func() bool) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return
	}
	t := time.NewTicker(memoryPoll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if !sample() {
				return
			}
		}
	}
}

// fleetMemory samples the summed resident memory of the running children's process groups and
// keeps its peak: the figure a fleet's machine must hold.
type fleetMemory struct {
	mu     sync.Mutex
	groups map[int]bool
	peak   int64
}

func (f *fleetMemory) add(pgid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.groups == nil {
		f.groups = map[int]bool{}
	}
	f.groups[pgid] = true
}

func (f *fleetMemory) remove(pgid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.groups, pgid)
}

// sample runs until stop is closed.
func (f *fleetMemory) sample(stop <-chan struct{}) {
	pollMemory(stop, func() bool {
		f.mu.Lock()
		gs := make([]int, 0, len(f.groups))
		for g := range f.groups {
			gs = append(gs, g)
		}
		f.mu.Unlock()
		var sum int64
		for _, g := range gs {
			sum += groupRSS(g)
		}
		f.mu.Lock()
		f.peak = max(f.peak, sum)
		f.mu.Unlock()
		return true
	})
}

func (f *fleetMemory) peakMiB() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak >> 20
}

// groupRSS sums the resident memory of the processes whose process group is pgid, from
// /proc/PID/stat (field 5 the group, field 24 the resident pages).
func groupRSS(pgid int) int64 {
	page := int64(os.Getpagesize())
	var sum int64
	procstat.Each(func(_ int, f []string) {
		if len(f) < 22 {
			return
		}
		if g, _ := strconv.Atoi(f[2]); g != pgid {
			return
		}
		if pages, err := strconv.ParseInt(f[21], 10, 64); err == nil {
			sum += pages * page
		}
	})
	return sum
}

// list is the targets of --targets or of several --target, with their folder names.
func (m *multiFlags) list() ([]target, error) {
	var ts []target
	if m.file != "" {
		if len(m.targets.all) > 0 {
			return nil, fmt.Errorf("--targets and --target together: give every URL in one place")
		}
		fh, _, err := safefile.Open(m.file) // a regular file: a FIFO must not block the run
		if err != nil {
			return nil, fmt.Errorf("--targets: %v", err) // names the file
		}
		defer fh.Close()
		if ts, err = parseTargets(m.file, fh); err != nil {
			return nil, err
		}
	} else {
		seen := map[string]bool{}
		for _, s := range m.targets.all {
			u, err := checkTargetURL(s)
			if err != nil {
				return nil, fmt.Errorf("--target %v", err)
			}
			if seen[u] {
				return nil, fmt.Errorf("--target %q is given twice", u)
			}
			seen[u] = true
			ts = append(ts, target{URL: u, Source: "--target"})
		}
	}
	assignSlugs(ts)
	return ts, nil
}

// targetIndex reads --target-index: a 0-based index, or env:VAR naming the variable that holds it.
func targetIndex(v string, n int, lookup func(string) (string, bool)) (int, error) {
	raw, what := v, "--target-index"
	if name, ok := strings.CutPrefix(v, "env:"); ok {
		val, set := lookup(name)
		if name == "" || !set || strings.TrimSpace(val) == "" {
			return 0, fmt.Errorf("--target-index %s: the environment variable %s is not set (a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX)", v, name)
		}
		raw, what = strings.TrimSpace(val), "--target-index "+v+" ("+name+"="+strconv.Quote(val)+")"
	}
	i, err := strconv.Atoi(raw)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("%s: give a 0-based index into the targets list", what)
	}
	if i >= n {
		return 0, fmt.Errorf("%s: the list has %d target(s), indexes 0 to %d (are the Job's completions more than the targets?)", what, n, n-1)
	}
	return i, nil
}

// runIndexed runs one target of the list in this process, its report in OUT/SLUG: what one pod of
// deploy/k8s's Indexed Job does. Every pod parses the same list, so the folder names agree and
// `pacheck report merge` finds each target's report where the list says.
func runIndexed(ctx context.Context, fs *flag.FlagSet, f *runFlags, m *multiFlags, set map[string]bool, stdout, stderr io.Writer) int {
	if m.file == "" {
		errorf(stderr, "run", "--target-index needs --targets FILE (the list every pod of the Job reads)")
		return ExitUsage
	}
	for _, n := range []string{"parallel", "target-memory", "target-timeout"} {
		if set[n] {
			errorf(stderr, "run", "--%s does not apply to --target-index (one target runs, in this process; bound it with the pod's limits and activeDeadlineSeconds)", n)
			return ExitUsage
		}
	}
	ts, err := m.list()
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
	i, err := targetIndex(m.index, len(ts), os.LookupEnv)
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
	f.target = ts[i].URL
	p, err := f.resolve(true, os.LookupEnv)
	if err != nil {
		errorf(stderr, "run", "%v", err)
		return ExitUsage
	}
	p.file.Out = filepath.Join(p.file.Out, ts[i].Slug)
	p.run.OutDir = p.file.Out
	if !f.quiet {
		fmt.Fprintf(stdout, "target %d of %d (%s): %s\n", i, len(ts), ts[i].Source, ts[i].URL)
	}
	code := execute(ctx, p, f, stdout, stderr)
	if m.zeroOnVerdict && (code == ExitOK || code == ExitNonConf || code == ExitIncomplete) {
		// The verdict is in the report; the Job must not retry a run that judged its target.
		return ExitOK
	}
	return code
}
