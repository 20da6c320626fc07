package claims

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/internal/shared"
)

// pkg holds the StructureDefinitions (by canonical URL) and the examples of one IG package.
type pkg struct {
	sds      map[string]R
	examples map[string]R // "Type/id"
}

func loadPackage(t *testing.T, file string) pkg {
	t.Helper()
	path := shared.Require(t, filepath.Join("fhir-packages", file))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := pkg{sds: map[string]R{}, examples: map[string]R{}}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		name := strings.TrimPrefix(h.Name, "package/")
		example := strings.HasPrefix(name, "example/")
		if !strings.HasSuffix(name, ".json") || !example && !strings.HasPrefix(name, "StructureDefinition-") {
			continue
		}
		dec := json.NewDecoder(io.LimitReader(tr, 8<<20))
		dec.UseNumber()
		var r R
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%s %s: %v", file, name, err)
		}
		if example {
			out.examples[ref(r)] = r
		} else {
			out.sds[str(r["url"])] = r
		}
	}
	return out
}

// profileOf is the example's CARIN BB profile (meta.profile without its version).
func (p pkg) profileOf(r R) R {
	for _, x := range list(obj(r["meta"])["profile"]) {
		u, _, _ := strings.Cut(str(x), "|")
		if sd, ok := p.sds[u]; ok {
			return sd
		}
	}
	return nil
}

// TestAmountRuleOfProfiles: the amount rule is read from each CARIN BB claim profile itself.
func TestAmountRuleOfProfiles(t *testing.T) {
	const base = "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-"
	cases := []struct {
		file, profile string
		perLine, hdr  bool
	}{
		{"hl7.fhir.us.carin-bb-1.1.0.tgz", "Pharmacy", true, false},
		{"hl7.fhir.us.carin-bb-1.1.0.tgz", "Professional-NonClinician", true, false},
		{"hl7.fhir.us.carin-bb-1.1.0.tgz", "Inpatient-Institutional", false, true},
		{"hl7.fhir.us.carin-bb-1.1.0.tgz", "Outpatient-Institutional", false, true},
		{"hl7.fhir.us.carin-bb-2.0.0.tgz", "Pharmacy", true, false},
		{"hl7.fhir.us.carin-bb-2.0.0.tgz", "Professional-NonClinician", true, false},
		{"hl7.fhir.us.carin-bb-2.0.0.tgz", "Oral", true, false},
		{"hl7.fhir.us.carin-bb-2.0.0.tgz", "Inpatient-Institutional", false, true},
		{"hl7.fhir.us.carin-bb-2.0.0.tgz", "Outpatient-Institutional", false, true},
	}
	pkgs := map[string]pkg{}
	for _, tc := range cases {
		p, ok := pkgs[tc.file]
		if !ok {
			p = loadPackage(t, tc.file)
			pkgs[tc.file] = p
		}
		sd := p.sds[base+tc.profile]
		if sd == nil {
			t.Fatalf("%s: no profile %s", tc.file, tc.profile)
		}
		r := AmountRuleOf(sd)
		if r.PerLine != tc.perLine || r.HeaderOrLine != tc.hdr || r.Source == "" {
			t.Errorf("%s %s: %+v, want per-line %v, header-or-line %v with a source", tc.file, tc.profile, r, tc.perLine, tc.hdr)
		}
	}
	if r := AmountRuleOf(nil); r.PerLine || r.HeaderOrLine {
		t.Errorf("no profile: %+v, want no demand", r)
	}
}

// TestIGExamplesPassRules: what the IGs' own examples do is legal, so no SHALL rule fails them
// (outcome partial, claims whose only amount is "submitted"). The SHOULD rules may flag them;
// where they do, the expected findings are listed, so a change in either direction is seen.
func TestIGExamplesPassRules(t *testing.T) {
	// 2.0.0 examples whose insurer (Payer1) is not the payor of their focal Coverage1 (Payer2):
	// the insurer rule rests on comments, so its requirement is SHOULD.
	insurerMismatch := []string{
		"2.0.0 ExplanationOfBenefit/EOBInpatient1", "2.0.0 ExplanationOfBenefit/EOBOutpatient1",
		"2.0.0 ExplanationOfBenefit/EOBPharmacy1", "2.0.0 ExplanationOfBenefit/EOBProfessional1",
	}
	var gotMismatch []string
	claims, partial := 0, 0
	for _, v := range []string{"1.1.0", "2.0.0"} {
		p := loadPackage(t, "hl7.fhir.us.carin-bb-"+v+".tgz")
		for key, r := range p.examples {
			if str(r["resourceType"]) != "ExplanationOfBenefit" || IsPriorAuth(r) {
				continue
			}
			claims++
			if str(r["outcome"]) == "partial" {
				partial++
			}
			sd := p.profileOf(r)
			if sd == nil {
				t.Errorf("%s %s: meta.profile names no profile of the package", v, key)
				continue
			}
			rule := AmountRuleOf(sd)
			if !rule.PerLine && !rule.HeaderOrLine {
				t.Errorf("%s %s: profile %s gives no amount rule", v, key, str(sd["id"]))
			}
			var errs issue.List
			errs = append(errs, OutcomeComplete(r).Errors()...)
			errs = append(errs, Adjudication(r, rule).Errors()...)
			errs = append(errs, TypeCoded(r).Errors()...)
			errs = append(errs, Lookback(r).Errors()...)
			for _, e := range errs {
				t.Errorf("%s %s: the IG's own example fails %s: %s", v, key, e.Rule, e.Message)
			}
			if InsurerMatchesCoverage(r, p.examples[FocalCoverage(r)]).HasErrors() {
				gotMismatch = append(gotMismatch, v+" "+key)
			}
		}
	}
	if claims < 15 || partial < 5 {
		t.Fatalf("read %d example claims (%d partial): the packages changed?", claims, partial)
	}
	slices.Sort(gotMismatch)
	if !slices.Equal(gotMismatch, insurerMismatch) {
		t.Errorf("examples failing the insurer rule: %v, want %v", gotMismatch, insurerMismatch)
	}
}

// TestPDexExamplePassesRules: the PDex prior-authorization example (certified in total, its
// quantity used on a utilization total, no requested or approved quantity) breaks no error rule;
// the quantities it leaves out are warnings.
func TestPDexExamplePassesRules(t *testing.T) {
	p := loadPackage(t, "hl7.fhir.us.davinci-pdex-2.0.0.tgz")
	r := p.examples["ExplanationOfBenefit/PDexPriorAuth1"]
	if r == nil || !IsPriorAuth(r) {
		t.Fatal("the PDex 2.0.0 package has no prior-authorization example PDexPriorAuth1")
	}
	if d := Decision(r); d != "approved" {
		t.Errorf("decision %q, want approved", d)
	}
	var all issue.List
	all = append(all, ReviewStatus(r)...)
	all = append(all, DenialReason(r)...)
	all = append(all, DecisionDetails(r)...)
	for _, e := range all.Errors() {
		t.Errorf("the IG's own example fails %s: %s", e.Rule, e.Message)
	}
	if n := len(all.Warnings()); n != 2 {
		t.Errorf("%d warnings, want 2 (no requested quantity, no allowed units): %v", n, all)
	}
}

// TestFormularyExamplesPassLinks: the US Drug Formulary examples link resolvable resources; the
// one item whose tier its plan gives no cost-sharing (D1002-1000091, generic in a brand-only
// plan) is a warning, not an error.
func TestFormularyExamplesPassLinks(t *testing.T) {
	p := loadPackage(t, "hl7.fhir.us.davinci-drug-formulary-2.0.1.tgz")
	resolve := func(r string) R { return p.examples[r] }
	tiers := map[string]map[string]bool{}
	plans := 0
	for _, r := range p.examples {
		if str(r["resourceType"]) != "InsurancePlan" || len(PlanFormularies(r)) == 0 {
			continue
		}
		plans++
		for _, e := range PlanLinks(r, resolve).Errors() {
			t.Errorf("the IG's own plan %s fails: %s", ref(r), e.Message)
		}
		for _, f := range PlanFormularies(r) {
			if tiers[f] == nil {
				tiers[f] = map[string]bool{}
			}
			for tier := range PlanTiers(r) {
				tiers[f][tier] = true
			}
		}
	}
	var items, warned []string
	for _, r := range p.examples {
		if str(r["resourceType"]) != "Basic" {
			continue
		}
		items = append(items, ID(r))
		l := FormularyItem(r, resolve, tiers)
		for _, e := range l.Errors() {
			t.Errorf("the IG's own item %s fails: %s", ref(r), e.Message)
		}
		if len(l.Warnings()) > 0 {
			warned = append(warned, ID(r))
		}
	}
	if plans == 0 || len(items) < 5 {
		t.Fatalf("read %d payer plans and %d items: the package changed?", plans, len(items))
	}
	if !slices.Equal(warned, []string{"FormularyItem-D1002-1000091"}) {
		t.Errorf("items warned about their tier: %v, want [FormularyItem-D1002-1000091]", warned)
	}
}
