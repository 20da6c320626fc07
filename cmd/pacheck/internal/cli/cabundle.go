package cli

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// maxCABundle bounds the CA bundle file (a system bundle is about 200 KiB).
const maxCABundle = 4 << 20

// loadCABundle returns the system's certificate authorities plus those of the PEM file path
// (config tls.ca_bundle). A file without one certificate is an error: a bundle that adds
// nothing would leave the run failing on "unknown authority" for a reason the user cannot see.
func loadCABundle(path string) (*x509.CertPool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tls.ca_bundle: %w", err)
	}
	if st.Size() > maxCABundle {
		return nil, fmt.Errorf("tls.ca_bundle %s: %d bytes is more than a CA bundle holds (at most %d)", path, st.Size(), maxCABundle)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls.ca_bundle: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_bundle %s: certificate %d: %w", path, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("tls.ca_bundle %s: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file", path)
	}
	return pool, nil
}
