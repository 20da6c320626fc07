package reports

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/profiles/attest"
)

// TestAttestations: a requirement that takes an attestation is "attested" with an entry and no
// spec, untested naming the missing entry without one, judged by its specs when a spec cites it;
// attested is never pass, and neither changes the verdict. HTML and JUnit say which.
func TestAttestations(t *testing.T) {
	cat, err := profiles.LoadRequirements(fstest.MapFS{"t.yaml": {Data: []byte(
		"- id: t.wire\n  statement: On the wire.\n  level: SHALL\n" +
			"- id: t.since\n  statement: Data since 2016.\n  level: SHALL\n  attestation: members' data from 2016 is available\n  cfr: [\"42 CFR 422.119\"]\n" +
			"- id: t.edu\n  statement: Member education.\n  level: SHALL\n  attestation: the education page is published\n" +
			"- id: t.both\n  statement: Both.\n  level: SHALL\n  attestation: something\n")}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	rep := types.Report{SuiteDescription: "t", StartTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	for _, v := range []vspec{{id: "wire", outcome: Pass, reqs: []string{"t.wire"}}, {id: "both", outcome: Pass, reqs: []string{"t.both"}}} {
		rep.SpecReports = append(rep.SpecReports, v.report(t))
	}
	meta := RunMeta{Target: "https://fhir.example", Attestations: []attest.Entry{
		{ID: "t.since", Who: "Jane <b>Roe</b>, CIO", When: "2026-11-30", Evidence: "https://example.com/e.pdf", Statement: "Loaded."},
		{ID: "t.both", Who: "A", When: "2026-11-30", Statement: "s"},
	}}
	r, err := FromGinkgo(rep, meta, cat)
	if err != nil {
		t.Fatal(err)
	}
	st := statuses(r)
	want := map[string]string{"t.wire": "pass", "t.since": StatusAttested, "t.edu": StatusUntested, "t.both": "pass"}
	for id, w := range want {
		if st[id] != w {
			t.Errorf("%s: status %q, want %q", id, st[id], w)
		}
	}
	for _, q := range r.Requirements {
		switch q.ID {
		case "t.since":
			if q.Attested == nil || q.Attested.Who != "Jane <b>Roe</b>, CIO" || q.MissingAttestation != "" {
				t.Errorf("t.since: attested %+v, missing %q", q.Attested, q.MissingAttestation)
			}
		case "t.edu":
			if q.Attested != nil || !strings.Contains(q.MissingAttestation, "t.edu") || !strings.Contains(q.MissingAttestation, "the education page is published") {
				t.Errorf("t.edu: attested %+v, missing %q", q.Attested, q.MissingAttestation)
			}
		}
	}
	if r.Verdict != VerdictPass {
		t.Errorf("verdict %s: attestations (given or missing) must not change the verdict", r.Verdict)
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, r, Options{}); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	for _, s := range []string{"Attested (the payer's claim, not tested) by Jane &lt;b&gt;Roe&lt;/b&gt;, CIO on 2026-11-30", "no attestation: add an entry for t.edu"} {
		if !strings.Contains(h, s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	if strings.Contains(h, "Jane <b>Roe") {
		t.Error("index.html carries the attester's text unescaped")
	}
	var junit bytes.Buffer
	if err := WriteJUnit(&junit, r); err != nil {
		t.Fatal(err)
	}
	j := junit.String()
	for _, s := range []string{`name="pacheck-attestations"`, `type="attested"`, `attested by Jane &lt;b&gt;Roe&lt;/b&gt;, CIO on 2026-11-30 (the payer&#39;s claim, not tested)`, `type="untested"`, `name="t.edu"`} {
		if !strings.Contains(j, s) {
			t.Errorf("junit.xml lacks %q", s)
		}
	}
	if strings.Contains(j, `name="t.both"`) || strings.Contains(j, `name="t.wire"`) {
		t.Error("junit.xml lists a requirement a spec judged as an attestation")
	}
	// Recount (after known issues) keeps the attestations.
	r.Recount(nil)
	if st := statuses(r); st["t.since"] != StatusAttested {
		t.Errorf("after Recount: t.since %q, want attested", st["t.since"])
	}
}
