package fhirhttp

import (
	"fmt"
	"net/http"
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

// FuzzRedact: Redact never panics, is idempotent (also on arbitrary text), and never lets a value
// after access_token=, "password":, an Authorization scheme or in URL user info survive.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"code=abc&state=s", `{"password":"p\"w"}`, "Bearer abcdefgh1", `{"access_token":"x`, "eyJa.eyJb.c", "", "a=b;token=",
		`"code":`, "code_verifier: 3 error(s)", "Authorization: Basic ", "set-cookie: a=b", "https://u:p@h/x", "token: hunter22", "(password: P@ss!)"} {
		f.Add(s, "S3cretValue9")
	}
	f.Fuzz(func(t *testing.T, prefix, secret string) {
		if out := Redact(prefix); Redact(out) != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", prefix, out, Redact(out))
		}
		if strings.ContainsAny(secret, "&#\"' \t\r\n\\*@/?}<>") || secret == "" {
			return
		}
		printable := !strings.ContainsFunc(secret, func(r rune) bool { return r <= ' ' || r >= 0x7f })
		if out := Redact(prefix + "\nAuthorization: Bearer " + secret); printable && strings.HasSuffix(out, "Bearer "+secret) {
			t.Fatalf("credential survived: %q", out)
		}
		if out := Redact(prefix + " https://" + secret + "@host/"); printable && strings.HasSuffix(out, "//"+secret+"@host/") {
			t.Fatalf("user info survived: %q", out)
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

// BenchmarkEvidenceHeadersHostile measures keeping the evidence of a response whose headers fill
// the whole DefaultMaxResponseHeaderBytes (1 MiB: one huge value and a thousand small ones).
func BenchmarkEvidenceHeadersHostile(b *testing.B) {
	h := http.Header{"X-Huge": {strings.Repeat("a", 512<<10)}, "Content-Type": {"application/fhir+json"}}
	for i := 0; i < 1000; i++ {
		h.Set(fmt.Sprintf("X-H%04d", i), strings.Repeat("b", 500))
	}
	c, err := New(Options{BaseURL: "https://fhir.example.org/r4"})
	if err != nil {
		b.Fatal(err)
	}
	c.secrets.Add("access-token-value-1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, clipped := c.evidenceHeaders(h); !clipped || len(out) == 0 {
			b.Fatal("not clipped")
		}
	}
}
