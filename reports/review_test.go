package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
)

// reviewSpec is a passed spec carrying a pacheck.review entry (framework.Review).
func reviewSpec(t testing.TB, id string, reqs []string, text string, asJSON bool) types.SpecReport {
	sr := vspec{id: id, outcome: Pass, reqs: reqs}.report(t)
	if asJSON {
		sr.ReportEntries = append(sr.ReportEntries, jsonForm(t, evidence.ReviewEntryName, text))
	} else {
		sr.ReportEntries = append(sr.ReportEntries, types.ReportEntry{Name: evidence.ReviewEntryName, Value: wrap(text)})
	}
	return sr
}

// A review spec is its own outcome, counted apart, and never changes the verdict by itself: a
// SHALL requirement shown only by review specs is neither failed nor missing.
func TestReviewOutcome(t *testing.T) {
	cat := verdictCatalogue(t)
	for _, asJSON := range []bool{false, true} {
		rep := types.Report{SuiteDescription: "t"}
		rep.SpecReports = append(rep.SpecReports,
			vspec{id: "pass a", outcome: Pass, reqs: []string{"t.a"}}.report(t),
			reviewSpec(t, "consent wording", []string{"t.b"}, "confirm the consent page names <Patient> in plain words", asJSON),
			reviewSpec(t, "figures", []string{"t.should"}, "12 of 40 Observations older than a year", asJSON),
		)
		r, err := FromGinkgo(rep, RunMeta{Target: "https://fhir.example"}, cat)
		if err != nil {
			t.Fatal(err)
		}
		if c := r.Counts; c.Total != 3 || c.Pass != 1 || c.Review != 2 || c.Fail != 0 {
			t.Errorf("asJSON=%v: counts %+v", asJSON, c)
		}
		s, _ := r.Spec("t/consent wording")
		if s == nil || s.Outcome != Review || !strings.Contains(s.Reason, "<Patient>") {
			t.Fatalf("asJSON=%v: review spec %+v", asJSON, s)
		}
		if st := statuses(r); st["t.b"] != string(Review) || st["t.should"] != string(Review) || st["t.a"] != string(Pass) {
			t.Errorf("asJSON=%v: statuses %v", asJSON, st)
		}
		if r.Verdict != VerdictPass || len(r.Incomplete) != 0 {
			t.Errorf("asJSON=%v: verdict %s incomplete %v; review must not change the verdict", asJSON, r.Verdict, r.Incomplete)
		}
	}
	// A failing spec with a review entry is a failure: review never hides one.
	rep := types.Report{SuiteDescription: "t"}
	f := vspec{id: "f", outcome: Fail, reqs: []string{"t.a"}, broken: []string{"t.a"}, reason: "x"}.report(t)
	f.ReportEntries = append(f.ReportEntries, types.ReportEntry{Name: evidence.ReviewEntryName, Value: wrap("look")})
	rep.SpecReports = append(rep.SpecReports, f)
	r, err := FromGinkgo(rep, RunMeta{}, cat)
	if err != nil {
		t.Fatal(err)
	}
	if r.Specs[0].Outcome != Fail || r.Verdict != VerdictFail {
		t.Errorf("failed spec with a review entry: outcome %s verdict %s", r.Specs[0].Outcome, r.Verdict)
	}
}

// Review in each output: JSON "review", JUnit a passing case with a marker, summary.md and
// index.html a list of its own, server text escaped.
func TestReviewOutputs(t *testing.T) {
	cat := verdictCatalogue(t)
	rep := types.Report{SuiteDescription: "t"}
	rep.SpecReports = append(rep.SpecReports,
		vspec{id: "pass a", outcome: Pass, reqs: []string{"t.a"}}.report(t),
		reviewSpec(t, "consent wording", []string{"t.should"}, `page says <script>alert(1)</script>`, false))
	r, err := FromGinkgo(rep, RunMeta{Target: "https://fhir.example"}, cat)
	if err != nil {
		t.Fatal(err)
	}

	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"outcome":"review"`)) || !bytes.Contains(js, []byte(`"review":1`)) {
		t.Errorf("results.json lacks the review outcome or count: %s", js)
	}

	var ju bytes.Buffer
	if err := WriteJUnit(&ju, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
				Props   []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
				Out string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(ju.Bytes(), &doc); err != nil {
		t.Fatalf("junit: %v", err)
	}
	found := false
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if !strings.Contains(c.Name, "consent wording") {
				continue
			}
			found = true
			if c.Failure != nil || c.Skipped != nil {
				t.Errorf("review case is a failure or skip in JUnit")
			}
			if len(c.Props) != 1 || c.Props[0].Name != "pacheck.outcome" || c.Props[0].Value != "review" || !strings.Contains(c.Out, "pacheck review") {
				t.Errorf("review case props %+v out %q", c.Props, c.Out)
			}
		}
	}
	if !found || doc.Failures != 0 {
		t.Errorf("junit: review case found %v, failures %d", found, doc.Failures)
	}

	var md bytes.Buffer
	if err := WriteSummary(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## For a person to review (1)") || strings.Contains(md.String(), "<script>") {
		t.Errorf("summary.md review section missing or unescaped:\n%s", md.String())
	}

	var h bytes.Buffer
	if err := renderHTML(&h, r, Options{Title: "t"}, nil); err != nil {
		t.Fatal(err)
	}
	page := h.String()
	if !strings.Contains(page, `id="review"`) || !strings.Contains(page, `id="count-review">1<`) {
		t.Errorf("index.html lacks the review list or count")
	}
	if strings.Contains(page, "<script>alert(1)") || !strings.Contains(page, "&lt;script&gt;alert(1)") {
		t.Errorf("index.html: review text not escaped")
	}
}
