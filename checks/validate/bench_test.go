package validate

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pacheck/pacheck/internal/shared"
	"github.com/pacheck/pacheck/profiles"
)

// usCore610Examples returns the example resources of US Core 6.1.0.
func usCore610Examples(b testing.TB) [][]byte {
	dir := shared.Require(b, "fhir-packages/hl7.fhir.us.core-6.1.0.tgz")
	p, err := profiles.Load(filepath.Clean(dir), profiles.LoadOptions{Examples: true})
	if err != nil {
		b.Fatal(err)
	}
	var out [][]byte
	for _, ex := range p.Examples() {
		out = append(out, ex.Raw)
	}
	if len(out) < 100 {
		b.Fatalf("only %d examples", len(out))
	}
	return out
}

func benchLayer(b *testing.B, opts Options, decodeOnly bool) {
	exs := usCore610Examples(b)
	set, err := profiles.Embedded()
	if err != nil {
		b.Fatal(err)
	}
	v, err := New(set, opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	vo := ValidateOptions{IG: "hl7.fhir.us.core#6.1.0"}
	// warm the profile and expansion caches
	for _, raw := range exs {
		v.Validate(ctx, raw, vo)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	n := 0
	for i := 0; i < b.N; i++ {
		raw := exs[i%len(exs)]
		if decodeOnly {
			v.structv.Validate(raw)
		} else {
			v.Validate(ctx, raw, vo)
		}
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "resources/s")
	// On a shared machine wall time includes waiting for a core; CPU time is the per-core cost.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "resources/cpu-s")
	}
}

// BenchmarkValidateUSCore610 is full validation (structure, profiles, terminology, invariants) of
// the US Core 6.1.0 examples against the profiles they claim; ns/op and allocs/op are per resource.
func BenchmarkValidateUSCore610(b *testing.B) { benchLayer(b, Options{}, false) }

// The layers: decoding/structure only, + profile rules, + terminology, (+ invariants = full).
func BenchmarkLayerStructure(b *testing.B) { benchLayer(b, Options{}, true) }
func BenchmarkLayerProfile(b *testing.B) {
	benchLayer(b, Options{NoTerminology: true, NoInvariants: true, NoMustSupport: true}, false)
}
func BenchmarkLayerTerminology(b *testing.B) {
	benchLayer(b, Options{NoInvariants: true, NoMustSupport: true}, false)
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
