package validate

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

func TestBundleRules(t *testing.T) {
	v := embedded(t)
	bundle := func(entries ...string) string {
		return `{"resourceType":"Bundle","type":"collection","entry":[` + strings.Join(entries, ",") + `]}`
	}
	entry := func(fullURL, res string) string { return `{"fullUrl":"` + fullURL + `","resource":` + res + `}` }
	pat := func(id string) string { return `{"resourceType":"Patient","id":"` + id + `"}` }
	org := `{"resourceType":"Organization","id":"o1","name":"A"}`
	obs := func(subject string) string {
		return `{"resourceType":"Observation","id":"x1","status":"final","code":{"text":"x"},"subject":{"reference":"` + subject + `"}}`
	}
	const u1, u2 = "urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c01", "urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c02"
	cases := []struct {
		name string
		raw  string
		sev  issue.Severity // "" = none of rule, and no errors
		rule string
		path string
	}{
		{"fullUrl consistent with the id", bundle(entry("http://x.org/fhir/Patient/p1", pat("p1"))), "", "bundle-fullurl", ""},
		{"fullUrl urn:uuid", bundle(entry(u1, pat("p1"))), "", "bundle-fullurl", ""},
		{"fullUrl absolute, not RESTful", bundle(entry("http://x.org/records/p1.json", pat("p1"))), "", "bundle-fullurl", ""},
		{"fullUrl relative", bundle(entry("Patient/p1", pat("p1"))), issue.Error, "bundle-fullurl", "Bundle.entry[0].fullUrl"},
		{"fullUrl disagrees with the id", bundle(entry("http://x.org/fhir/Patient/p2", pat("p1"))), issue.Error, "bundle-fullurl", "Bundle.entry[0].fullUrl"},
		{"fullUrl disagrees with the type: the structure layer says it", bundle(entry("http://x.org/fhir/Group/p1", pat("p1"))), issue.Error, "resource-type", "Bundle.entry[0].fullUrl"},
		{"version-specific fullUrl is bdl-8 only", bundle(entry("http://x.org/fhir/Patient/p1/_history/2", pat("p1"))), issue.Error, "invariant:bdl-8", "Bundle.entry[0]"},
		{"duplicate fullUrl is bdl-7", bundle(entry(u1, pat("p1")), entry(u1, pat("p2"))), issue.Error, "invariant:bdl-7", "Bundle"},
		{"one self link", `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"http://x.org/fhir/Patient"},{"relation":"next","url":"http://x.org/fhir/Patient?p=2"}]}`, "", "bundle-link", ""},
		{"two self links", `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"http://x.org/fhir/Patient"},{"relation":"self","url":"http://x.org/fhir/Patient?a=b"}]}`, issue.Warning, "bundle-link", "Bundle.link[1]"},
		{"reference to an entry of an allowed type", bundle(entry(u1, pat("p1")), entry(u2, obs(u1))), "", "reference-target", ""},
		{"reference to an entry of another type", bundle(entry(u1, org), entry(u2, obs(u1))), issue.Error, "reference-target", "Bundle.entry[1].resource.ofType(Observation).subject.reference"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := validateStr(t, v, tc.raw, ValidateOptions{})
			if tc.sev == "" {
				for _, is := range res.Issues {
					if is.Rule == tc.rule || is.Severity == issue.Error {
						t.Errorf("want no %s and no error, got %v", tc.rule, is)
					}
				}
				return
			}
			if !hasIssue(res.Issues, tc.sev, tc.rule, tc.path) {
				t.Errorf("want %s %s @ %s; got:\n%v", tc.sev, tc.rule, tc.path, res.Issues)
			}
			n := 0
			for _, is := range res.Issues {
				if is.Severity == issue.Error || is.Rule == tc.rule {
					n++
				}
			}
			if n != 1 {
				t.Errorf("want exactly one finding (no double report), got %v", res.Issues)
			}
		})
	}
}

// A relative reference from an entry with a RESTful fullUrl resolves against that fullUrl's base
// (R4 bundle.html#references), so the target-profile check looks at the right entry.
func TestBundleRelativeReferenceBase(t *testing.T) {
	v := embedded(t)
	good := `{"resourceType":"Patient","id":"p1","identifier":[{"system":"http://example.org/mrn","value":"1"}],"name":[{"family":"Doe"}],"gender":"female"}`
	bad := `{"resourceType":"Patient","id":"p1","gender":"female"}`
	enc := `{"resourceType":"Encounter","id":"e1","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter"]},"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"type":[{"text":"visit"}],"subject":{"reference":"Patient/p1"}}`
	mk := func(aPatient, bPatient string) string {
		return `{"resourceType":"Bundle","type":"collection","entry":[` +
			`{"fullUrl":"http://a.org/fhir/Encounter/e1","resource":` + enc + `},` +
			`{"fullUrl":"http://a.org/fhir/Patient/p1","resource":` + aPatient + `},` +
			`{"fullUrl":"http://b.org/fhir/Patient/p1","resource":` + bPatient + `}]}`
	}
	const path = "Bundle.entry[0].resource.ofType(Encounter).subject.reference"
	res := validateStr(t, v, mk(good, bad), ValidateOptions{IG: uc6})
	if hasIssue(res.Issues, issue.Error, "reference-target", path) {
		t.Errorf("Patient/p1 from http://a.org/fhir is the conforming a.org patient; got %v", res.Issues)
	}
	res = validateStr(t, v, mk(bad, good), ValidateOptions{IG: uc6})
	if !hasIssue(res.Issues, issue.Error, "reference-target", path) {
		t.Errorf("Patient/p1 from http://a.org/fhir is the non-conforming a.org patient; got %v", res.Issues)
	}
}

func TestRestfulURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://x.org/fhir/Patient/1":             "http://x.org/fhir Patient 1",
		"https://x.org/Patient/1/_history/3":      "https://x.org Patient 1",
		"urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d": "",
		"http://x.org/fhir/patient.html":          "",
		"http://x.org/fhir/Patient/a_b":           "",
		"http://":                                 "",
	} {
		b, ty, id, ok := restfulURL(in)
		got := ""
		if ok {
			got = b + " " + ty + " " + id
		}
		if got != want {
			t.Errorf("restfulURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A "#id" that matches no contained resource is ref-1's finding alone (reference-target said it
// too before datatype invariants ran on every Reference); without invariants reference-target says it.
func TestLocalReferenceReportedOnce(t *testing.T) {
	const raw = `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","name":"A"}],"managingOrganization":{"reference":"#o2"},"generalPractitioner":[{"reference":"#o1"}]}`
	res := validateStr(t, embedded(t), raw, ValidateOptions{})
	if errs := res.Issues.Errors(); len(errs) != 1 || errs[0].Rule != "invariant:ref-1" {
		t.Errorf("want only invariant:ref-1, got %v", errs)
	}
	v, err := New(embedded(t).Set(), Options{NoInvariants: true})
	if err != nil {
		t.Fatal(err)
	}
	res = validateStr(t, v, raw, ValidateOptions{})
	if errs := res.Issues.Errors(); len(errs) != 1 || errs[0].Rule != "reference-target" {
		t.Errorf("without invariants want only reference-target, got %v", errs)
	}
}
