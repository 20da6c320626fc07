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

// FuzzRedact: Redact never panics, is idempotent, and never lets a value after access_token= or
// "password": survive.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"code=abc&state=s", `{"password":"p\"w"}`, "Bearer abcdefgh1", `{"access_token":"x`, "eyJa.eyJb.c", "", "a=b;token=", `"code":`} {
		f.Add(s, "S3cretValue9")
	}
	f.Fuzz(func(t *testing.T, prefix, secret string) {
		if strings.ContainsAny(secret, "&#\"' \t\r\n\\*") || secret == "" {
			return
		}
		for _, in := range []string{prefix + "?access_token=" + secret, prefix + ` {"password": "` + secret + `"}`} {
			out := Redact(in)
			if Redact(out) != out {
				t.Fatalf("not idempotent: %q -> %q -> %q", in, out, Redact(out))
			}
			if strings.Contains(out, "access_token="+secret) || strings.Contains(out, `"password": "`+secret+`"`) {
				t.Fatalf("secret survived: %q -> %q", in, out)
			}
		}
	})
}
