package validate

import (
	"strings"
	"testing"
)

// pacheck validate rejects extensions without a loaded definition unless --allowed-extension-domain
// allows their domain; the option reaches the entries of a streamed NDJSON file too.
func TestCLIAllowedExtensionDomain(t *testing.T) {
	dir := t.TempDir()
	res := strings.Replace(patientOK, `"gender"`, `"extension":[{"url":"http://fhir.acme-payer.com/ext/x","valueString":"y"}],"gender"`, 1)
	f := write(t, dir, "p.json", res)
	nd := write(t, dir, "p.ndjson", strings.ReplaceAll(res, "\n", "")+"\n")
	for _, in := range []string{f, nd} {
		code, out, _ := runCLI(t, "--ig", uc6, in)
		if code != 1 || !strings.Contains(out, "extension-unknown") {
			t.Errorf("%s: unknown extension: exit %d\n%s", in, code, out)
		}
		for _, d := range []string{"acme-payer.com", "http://fhir.acme-payer.com/", "any"} {
			if code, out, _ := runCLI(t, "--ig", uc6, "--allowed-extension-domain", d, in); code != 0 {
				t.Errorf("%s: --allowed-extension-domain %s: exit %d\n%s", in, d, code, out)
			}
		}
	}
}
