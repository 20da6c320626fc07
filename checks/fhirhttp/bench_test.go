package fhirhttp

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkRedactEvidenceBody measures masking of one evidence body at the default bound.
func BenchmarkRedactEvidenceBody(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"resourceType":"Bundle","entry":[`)
	for i := 0; sb.Len() < DefaultMaxEvidenceBody; i++ {
		fmt.Fprintf(&sb, `{"fullUrl":"https://x/Observation/%d","resource":{"resourceType":"Observation","id":"%d","code":{"coding":[{"system":"http://loinc.org","code":"1234-5"}]},"valueString":"Bearer abcdefghijkl"}},`, i, i)
	}
	body := sb.String()
	var s Secrets
	s.Add("access-token-value-1", "refresh-token-value-2")
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = s.Redact(body)
	}
}
