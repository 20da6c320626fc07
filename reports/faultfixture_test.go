package reports

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

// faultCatalogue is a small requirements catalogue in three areas with CFR citations, shaped like
// profiles/requirements (our own words, not the real entries).
func faultCatalogue(t testing.TB) *profiles.Catalogue {
	t.Helper()
	fsys := fstest.MapFS{
		"uscore.yaml": {Data: []byte(`
- id: uscore.read.matches-search
  statement: A read returns the same resource the search returned.
  level: SHALL
  cfr: ["42 CFR 422.119(c)(1)", "45 CFR 170.215(b)(1)"]
- id: uscore.search.date
  statement: Date search parameters return only resources in the date range asked for.
  level: SHALL
  cfr: ["42 CFR 422.119(c)(1)"]
- id: uscore.profile.must-support
  statement: Must-support elements are populated when the server has the data.
  level: SHALL
  cfr: ["42 CFR 422.119(c)(1)", "45 CFR 170.215(b)(1)"]
- id: uscore.patient.search
  statement: Patient search by _id returns the member.
  level: SHALL
  cfr: ["42 CFR 422.119(c)(1)"]
- id: uscore.metrics
  statement: The payer reports API usage metrics to CMS every year.
  level: SHALL
  cfr: ["42 CFR 422.119"]
  untested_reason: not observable on the wire
`)},
		"carinbb.yaml": {Data: []byte(`
- id: carinbb.read
  statement: A claim read returns the claim the search returned.
  level: SHALL
  cfr: ["42 CFR 422.119", "42 CFR 431.60"]
- id: carinbb.search.semantics
  statement: Claim searches return only matching claims.
  level: SHALL
  cfr: ["42 CFR 422.119", "42 CFR 431.60"]
- id: carinbb.profile.must-support
  statement: Claim must-support elements are populated.
  level: SHALL
  cfr: ["42 CFR 422.119"]
`)},
		"capability.yaml": {Data: []byte(`
- id: capability.http.content-type
  statement: FHIR responses are served as application/fhir+json.
  level: SHALL
  cfr: ["42 CFR 422.119", "42 CFR 431.60", "42 CFR 457.730", "45 CFR 156.221"]
- id: smart.pkce.s256
  statement: The authorization server supports PKCE with S256.
  level: SHALL
  cfr: ["45 CFR 170.215(c)(2)"]
`)},
	}
	cat, err := profiles.LoadRequirements(fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// faultSpec is a failed spec breaking req, with one HTTP exchange and the given error issues.
func faultSpec(id, group, req, msg string, issues ...issue.Issue) Spec {
	s := Spec{ID: id, Outcome: Fail, State: "failed", Group: group, IG: group, Requirements: []SpecReq{{ID: req}}, Broken: []string{req},
		Failure: &Failure{Message: msg + "\nmore detail", Location: "/src/suites/x.go:10"}, Location: "/src/suites/x.go:5",
		Start: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), DurationMS: 12}
	url := "https://fhir.example/r4/" + id
	for _, is := range issues {
		if rest, ok := strings.CutPrefix(is.Message, "GET "); ok {
			if end := strings.IndexAny(rest, ": "); end > 0 {
				url = "https://fhir.example/r4/" + rest[:end]
			}
			break
		}
	}
	s.Evidence = append(s.Evidence, evidence.Entry{Kind: evidence.KindHTTP, Title: "request", Exchange: &evidence.Exchange{
		Method: "GET", URL: url, Status: 200, ResponseHeaders: map[string][]string{"Content-Type": {"application/fhir+json"}},
		ResponseBody: `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Observation","id":"o-1","note":[{"text":"` + hostileScript + `"}]}}]}`}})
	if len(issues) > 0 {
		s.Evidence = append(s.Evidence, evidence.Entry{Kind: evidence.KindIssues, Title: "issues", Issues: issues})
	}
	return s
}

func errIssue(rule, req, msg string) issue.Issue {
	return issue.Issue{Severity: issue.Error, Rule: rule, Requirement: req, Message: msg, Path: "Bundle.entry[0]"}
}

// faultResults is a run against a server with four faults (read-mismatch, search-date-ignored,
// must-support-dropped, wrong-content-type): 14 failures of 4 causes, spread over several
// requirements and IGs, plus a pass, a skip and an untested requirement.
func faultResults(t testing.TB) *Results {
	t.Helper()
	var specs []Spec
	for i, res := range []string{"Device", "Observation", "Condition"} {
		specs = append(specs, faultSpec(fmt.Sprintf("uscore-6.1.0/%s/read", res), "uscore-6.1.0", "uscore.read.matches-search", "read: 3 error(s)",
			errIssue("read", "uscore.read.matches-search", fmt.Sprintf("GET %s/x-%d differs from the resource the search returned, first at %s.date", res, i, res))))
	}
	for i, res := range []string{"ExplanationOfBenefit", "Coverage"} {
		specs = append(specs, faultSpec(fmt.Sprintf("carinbb-2.0.0/%s/read", res), "carinbb-2.0.0", "carinbb.read", "read: 1 error(s)",
			errIssue("read", "carinbb.read", fmt.Sprintf("GET %s/c-%d differs from the resource the search returned, first at %s.created", res, i, res))))
	}
	for i, res := range []string{"Encounter", "Observation", "Procedure"} {
		specs = append(specs, faultSpec(fmt.Sprintf("uscore-6.1.0/%s/search/patient+date", res), "uscore-6.1.0", "uscore.search.date", fmt.Sprintf("search patient+date: %d error(s)", i+1),
			errIssue("search-semantics:date", "uscore.search.date", fmt.Sprintf("GET %s?patient=m-1&date=ge2024-11-10: %s/r-%d was returned for date=ge2024-11-10 but does not match it: %s.period has 2024-09-25", res, res, i, res))))
	}
	for _, p := range []string{"service-date", "_lastUpdated"} {
		specs = append(specs, faultSpec("carinbb-2.0.0/eob/search/patient+"+p, "carinbb-2.0.0", "carinbb.search.semantics", "search patient+"+p+": 2 error(s)",
			errIssue("search-semantics", "carinbb.search.semantics", "GET ExplanationOfBenefit?patient=m-1&"+p+"=2025-05-19: ExplanationOfBenefit/e-1 was returned for "+p+"=2025-05-19 but does not match it: ExplanationOfBenefit.created has 2025-05-05T13:38:00Z")))
	}
	specs = append(specs,
		faultSpec("uscore-6.1.0/us-core-patient/must-support", "uscore-6.1.0", "uscore.profile.must-support", "must-support: missing Patient.address: 1 error(s)",
			errIssue("must-support", "uscore.profile.must-support", "must-support Patient.address is populated in none of the 3 us-core-patient resource(s)")),
		faultSpec("carinbb-2.0.0/patient/must-support", "carinbb-2.0.0", "carinbb.profile.must-support", "must-support: 1 error(s)",
			errIssue("must-support", "carinbb.profile.must-support", "must-support Patient.address is populated in none of the 3 C4BB-Patient resource(s)")),
		// Failures without issues: grouped by broken requirement and the line's shape.
		faultSpec("capability/format-json", "capability", "capability.http.content-type", `GET Patient/p-1 answered Content-Type "text/plain", want application/fhir+json`),
		faultSpec("capability/format-search", "capability", "capability.http.content-type", `GET Observation/o-22 answered Content-Type "text/plain; charset=utf-8", want application/fhir+json`),
		Spec{ID: "uscore-6.1.0/patient/search/_id", Outcome: Pass, State: "passed", Group: "uscore-6.1.0", Requirements: []SpecReq{{ID: "uscore.patient.search"}}},
		Spec{ID: "smart-2.0.0/pkce/s256", Outcome: Skip, State: "skipped", Group: "smart-2.0.0", Requirements: []SpecReq{{ID: "smart.pkce.s256"}}, Reason: "no browser"},
	)
	r := &Results{SchemaVersion: SchemaVersion, Specs: specs, Run: Run{Target: "https://fhir.example/r4", Suite: "pacheck", PacheckVersion: "v0.0.0-test", Packages: []PackageInfo{}}}
	r.Recount(faultCatalogue(t))
	return r
}
