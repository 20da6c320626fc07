package validate

import (
	"context"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

// TestProfileUnknown: a meta.profile that cannot be resolved is a warning and the resource is
// still validated against its base type and the claims that resolve (as the HL7 validator does);
// a profile the caller asks for (--profile, a suite) that cannot be resolved stays an error.
func TestProfileUnknown(t *testing.T) {
	v := embedded(t)
	const nope = "http://example.org/StructureDefinition/nope"
	const usPatient = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
	for _, tc := range []struct {
		name      string
		raw       string
		requested []string
		sev       issue.Severity // of the profile-unknown issue; "" for none
		path      string
		also      string // another rule that must be reported (the validation went on)
		errors    bool
	}{
		{"claim unknown: warning, base type validated",
			`{"resourceType":"Patient","meta":{"profile":["` + nope + `"]},"gender":"robot"}`,
			nil, issue.Warning, "Patient.meta.profile", "binding", true},
		{"claim unknown, valid base: no error",
			`{"resourceType":"Patient","meta":{"profile":["` + nope + `"]},"gender":"female"}`,
			nil, issue.Warning, "Patient.meta.profile", "", false},
		{"claim unknown beside a known one: the known one is used",
			`{"resourceType":"Patient","meta":{"profile":["` + nope + `","` + usPatient + `"]},"gender":"female"}`,
			nil, issue.Warning, "Patient.meta.profile", "cardinality", true},
		{"requested unknown: error",
			`{"resourceType":"Patient","gender":"female"}`,
			[]string{nope}, issue.Error, "Patient", "", true},
		{"bundle entry claim unknown: warning",
			`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:2b1c7a3e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","meta":{"profile":["` + nope + `"]}}}]}`,
			nil, issue.Warning, "Bundle.entry[0].resource.meta.profile", "", false},
		{"valid twin: nothing to report",
			`{"resourceType":"Patient","gender":"female"}`,
			nil, "", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := v.Validate(context.Background(), []byte(tc.raw), ValidateOptions{Profiles: tc.requested})
			var got []issue.Issue
			for _, is := range res.Issues {
				if is.Rule == "profile-unknown" {
					got = append(got, is)
				}
			}
			if tc.sev == "" {
				if len(got) > 0 {
					t.Fatalf("want no profile-unknown, got %v", got)
				}
			} else if len(got) != 1 || got[0].Severity != tc.sev || got[0].Path != tc.path || !strings.Contains(got[0].Message, "nope") {
				t.Fatalf("want one %s profile-unknown at %s naming the profile, got %v", tc.sev, tc.path, res.Issues)
			}
			if tc.also != "" && !hasIssue(res.Issues, issue.Error, tc.also, "") {
				t.Errorf("want the validation to go on and report %s, got %v", tc.also, res.Issues)
			}
			if res.Issues.HasErrors() != tc.errors {
				t.Errorf("errors = %v, want %v: %v", res.Issues.HasErrors(), tc.errors, res.Issues)
			}
		})
	}
}
