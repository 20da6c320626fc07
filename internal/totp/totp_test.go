package totp

import (
	"encoding/base32"
	"testing"
	"time"
)

// The RFC 6238 appendix B vectors for SHA-1 (key "12345678901234567890"), last six digits.
func TestCodeRFC6238(t *testing.T) {
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		got, err := Code(secret, time.Unix(tc.unix, 0))
		if err != nil || got != tc.want {
			t.Errorf("Code at %d = %q, %v; want %q", tc.unix, got, err, tc.want)
		}
		if !Verify(secret, tc.want, time.Unix(tc.unix+30, 0)) {
			t.Errorf("Verify at %d+30s refused the previous step's code", tc.unix)
		}
	}
	if _, err := Code("not base32!", time.Now()); err == nil {
		t.Error("a non-base32 secret gave a code")
	}
	if Verify(secret, "12345", time.Now()) {
		t.Error("a five-digit code verified")
	}
}
