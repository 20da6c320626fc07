package validate

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// TestMemoryDoesNotGrow validates the US Core 6.1.0 examples over and over (with unknown profile
// URLs that differ every time) and checks the live heap stays flat.
func TestMemoryDoesNotGrow(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	exs := usCore610Examples(t)
	v := embedded(t)
	ctx := context.Background()
	run := func(n, offset int) {
		for i := 0; i < n; i++ {
			v.Validate(ctx, exs[i%len(exs)], ValidateOptions{IG: uc6,
				Profiles: []string{fmt.Sprintf("http://example.org/StructureDefinition/p%d", offset+i)}})
		}
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	run(2000, 0) // warm caches
	h1 := heap()
	run(10000, 1_000_000)
	h2 := heap()
	t.Logf("live heap after warm-up %d KiB, after 10,000 more validations %d KiB", h1>>10, h2>>10)
	if h2 > h1+h1/10+(1<<20) {
		t.Errorf("live heap grew from %d to %d bytes over 10,000 validations", h1, h2)
	}
}
