package cli

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver/tlsca"
)

func TestLoadCABundle(t *testing.T) {
	ca, err := tlsca.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaf, err := ca.Issue("fhir.example.test")
	if err != nil {
		t.Fatal(err)
	}
	good := write("ca.pem", "# internal CA\n"+string(ca.PEM()))
	pool, err := loadCABundle(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "fhir.example.test"}); err != nil {
		t.Errorf("a certificate of the bundle's CA does not verify with the loaded pool: %v", err)
	}
	for name, tc := range map[string]struct{ path, want string }{
		"missing":  {filepath.Join(dir, "none.pem"), "no such file"},
		"no certs": {write("empty.pem", "not a certificate\n"), "no PEM certificate"},
		"garbage":  {write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "certificate 1"},
	} {
		if _, err := loadCABundle(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming %q", name, err, tc.want)
		}
	}
}
