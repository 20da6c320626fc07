package config

import (
	"strings"
	"testing"
)

// FuzzConfigLoad: any bytes give a config or a one-line error, never a panic.
func FuzzConfigLoad(f *testing.F) {
	// More seeds are in testdata/fuzz/FuzzConfigLoad; Example itself is left out because
	// minimising inputs derived from its 5 KiB stalls the fuzzer for long stretches.
	f.Add([]byte("target: https://x.org/fhir\nlimits:\n  retries: 3\n  deadline: 5m\n"))
	f.Add([]byte("auth:\n  allowed_origins: [https://idp.example.org:8443]\n  mode: token\n  token: ${T}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("- 1\n- 2\n"))
	f.Add([]byte("~\n"))
	lookup := func(k string) (string, bool) {
		if k == "T" {
			return "tok", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > MaxFileBytes {
			return
		}
		cfg, err := Parse("fuzz.yaml", data, lookup)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			if cfg != nil {
				t.Fatal("both a config and an error")
			}
			return
		}
		if cfg == nil {
			t.Fatal("neither a config nor an error")
		}
		_ = cfg.Secrets()
	})
}
