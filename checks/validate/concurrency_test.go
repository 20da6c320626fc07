package validate

import (
	"context"
	"sync"
	"testing"

	"github.com/pacheck/pacheck/profiles"
)

// TestConcurrentValidation validates the US Core 6.1.0 examples from several goroutines on a fresh
// validator (so compilation and expansion caches fill concurrently); run with -race.
func TestConcurrentValidation(t *testing.T) {
	exs := usCore610Examples(t)
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, len(exs))
	for i, raw := range exs {
		want[i] = len(embedded(t).Validate(context.Background(), raw, ValidateOptions{IG: uc6}).Issues)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := range exs {
				i := (k + g*37) % len(exs)
				if n := len(v.Validate(context.Background(), exs[i], ValidateOptions{IG: uc6}).Issues); n != want[i] {
					t.Errorf("example %d: %d issues concurrently, %d alone", i, n, want[i])
				}
			}
		}(g)
	}
	wg.Wait()
}
