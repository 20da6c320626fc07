package validate

import (
	"strings"
	"testing"
)

func TestIsCanonical(t *testing.T) {
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient", true},
		{"http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|6.1.0", true},
		{"https://example.org/fhir/StructureDefinition/x", true},
		{"urn:oid:2.16.840.1.113883.4.642.5.1", true},
		{"urn:oid:2.16.840.1.113883.4.642.5.1|1.0", true},
		{"urn:uuid:6f1c2a9e-3b7d-4c1e-9a2f-0d4b5e6c7a8b", true},
		{"urn:ietf:rfc:3986", true},
		{"nope", false},
		{"", false},
		{"|1.0", false},
		{"StructureDefinition/us-core-patient", false},
		{"http://", false},
		{"http://example.org", false},
		{"urn:oid:", false},
		{"urn:oid:2.16.x", false},
		{"urn:oid:3.1", false},
		{"urn:uuid:not-a-uuid", false},
		{"http://example.org/a b", false},
	} {
		if got := isCanonical(tc.s); got != tc.ok {
			t.Errorf("isCanonical(%q) = %v, want %v", tc.s, got, tc.ok)
		}
	}
}

// TestCLIProfileURN: --profile takes urn:oid: and urn:uuid: canonicals; one the packages do not
// hold is then an unresolved requested profile (an error naming it), not a refused flag.
func TestCLIProfileURN(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "p.json", `{"resourceType":"Patient","gender":"female"}`)
	for _, c := range []string{"urn:oid:2.16.840.1.113883.19.5.1", "urn:uuid:6f1c2a9e-3b7d-4c1e-9a2f-0d4b5e6c7a8b"} {
		code, out, errs := runCLI(t, "--profile", c, p)
		if code != 1 || errs != "" || !strings.Contains(out, "profile-unknown") || !strings.Contains(out, c) {
			t.Errorf("--profile %s: exit %d, stderr %q\n%s", c, code, errs, out)
		}
	}
	if code, _, errs := runCLI(t, "--profile", "urn:oid:2.x", p); code != 2 || !strings.Contains(errs, "canonical URI") {
		t.Errorf("--profile urn:oid:2.x: exit %d, stderr %q; want 2", code, errs)
	}
}
