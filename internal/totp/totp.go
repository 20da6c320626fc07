// Package totp computes RFC 6238 time-based one-time passwords (HMAC-SHA1, 30-second steps, six
// digits: what authenticator apps use by default), for sign-in pages with a two-factor step.
package totp

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Step is the time step of a code.
const Step = 30 * time.Second

// Code returns the six-digit code of the base32 secret (as authenticator apps show it: spaces and
// lower case accepted, padding optional) at time t.
func Code(secret string, t time.Time) (string, error) {
	key, err := decode(secret)
	if err != nil {
		return "", err
	}
	return code(key, uint64(t.Unix())/uint64(Step/time.Second)), nil
}

// Verify reports whether c is the code of secret at t or one step either side (clock drift).
func Verify(secret, c string, t time.Time) bool {
	key, err := decode(secret)
	if err != nil || len(c) != 6 {
		return false
	}
	n := uint64(t.Unix()) / uint64(Step/time.Second)
	for _, k := range []uint64{n - 1, n, n + 1} {
		if hmac.Equal([]byte(code(key, k)), []byte(c)) {
			return true
		}
	}
	return false
}

func decode(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.Join(strings.Fields(secret), ""))
	s = strings.TrimRight(s, "=")
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("totp: the secret is not base32 text (as an authenticator app's setup key): %v", err)
	}
	return key, nil
}

func code(key []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}
