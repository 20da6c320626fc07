package uscore_test

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/suites/internal/suitetest"
	"github.com/pacheck/pacheck/suites/uscore"
)

// TestMustSupportNeedsAttestation: a must-support element absent from the data does not show the
// server incapable of populating it (US Core must-support: "SHALL be capable of populating"), so
// without the payer's attestation that the members' records hold every must-support element the
// spec skips, naming the element and how to judge it; with the attestation it fails (the
// must-support-dropped case of TestUSCoreFaults); on complete data it passes either way.
func TestMustSupportNeedsAttestation(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs against the reference server")
	}
	const id = "uscore-6.1.0/us-core-patient/must-support"
	o := suitetest.Options{IGs: map[string][]string{uscore.Area: {"6.1.0"}}, Focus: []string{"^" + id + "$"}, NoAttest: true}
	for _, tc := range []struct {
		fault, want string
		words       []string
	}{
		{"must-support-dropped", "skip", []string{"Patient.address", "capable of populating", "attest.must_support_complete"}},
		{"", "pass", nil},
	} {
		r, ok := suitetest.ChildWithFault(t, tc.fault, o)[id]
		if !ok {
			t.Fatalf("fault %q: %s did not run", tc.fault, id)
		}
		if r.Outcome != tc.want {
			t.Errorf("fault %q, no attestation: %s %s, want %s: %s", tc.fault, id, r.Outcome, tc.want, suitetest.FirstLine(r.Failure, 400))
		}
		for _, w := range tc.words {
			if !strings.Contains(r.Failure, w) {
				t.Errorf("fault %q: the skip reason does not say %q: %s", tc.fault, w, suitetest.FirstLine(r.Failure, 600))
			}
		}
	}
}
