// Package procstat reads the status line of every process from /proc (Linux; elsewhere there
// are none).
package procstat

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Each calls fn with the pid and the fields of /proc/PID/stat from field 3 (the state) on, so
// that field n (as proc(5) numbers them) is f[n-3]. A process that ends meanwhile is left out.
func Each(fn func(pid int, f []string)) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // ended meanwhile
		}
		// The command name (field 2) is in parentheses and may hold spaces: fields follow the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fn(pid, strings.Fields(s[i+1:]))
	}
}
