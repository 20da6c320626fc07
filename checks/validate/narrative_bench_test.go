package validate

import (
	"encoding/json"
	"testing"
)

// BenchmarkScanXHTML measures the narrative check alone over the US Core 6.1.0 examples' divs.
func BenchmarkScanXHTML(b *testing.B) {
	var divs []string
	for _, raw := range usCore610Examples(b) {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		if t, ok := m["text"].(map[string]any); ok {
			if d, ok := t["div"].(string); ok {
				divs = append(divs, d)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		scanXHTML(divs[i%len(divs)])
	}
}
