package profiles

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestRequirementsEmbedded(t *testing.T) {
	cat, err := Requirements()
	if err != nil {
		t.Fatalf("embedded catalogue: %v", err)
	}
	for _, id := range []string{"general.fhir-api", "general.uscdi-data", "general.claims",
		"general.prior-auth-data", "general.formulary", "general.testing-monitoring", "general.standards"} {
		r, ok := cat.Lookup(id)
		if !ok {
			t.Errorf("Lookup(%q): missing", id)
			continue
		}
		if r.Area != "general" || !strings.HasPrefix(r.Source, "profiles/requirements/general.yaml:") {
			t.Errorf("%s: area %q source %q", id, r.Area, r.Source)
		}
		if len(r.CFR) == 0 {
			t.Errorf("%s: no cfr", id)
		}
	}
	if len(cat.Area("general")) < 10 {
		t.Errorf("Area(general) has %d entries, want >= 10", len(cat.Area("general")))
	}
	if _, ok := cat.Lookup("general.nope"); ok {
		t.Error("Lookup of unknown id succeeded")
	}
}

// Only 42 CFR 422.119(b)(1)(iv), (c)(1) and (c)(2) are confirmed paragraph letters (REGULATIONS.md);
// the managed-care cross references 438.242(b)(5) and 457.1233(d) name the provisions themselves.
// Every other general citation must stop at the section, and an entry that omits a letter says so.
func TestGeneralCitationsOnlyConfirmedLetters(t *testing.T) {
	cat, err := Requirements()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"42 CFR 422.119(b)(1)(iv)": true, "42 CFR 422.119(c)(1)": true, "42 CFR 422.119(c)(2)": true,
		"42 CFR 438.242(b)(5)": true, "42 CFR 457.1233(d)": true,
	}
	parallels := []string{"42 CFR 422.119", "42 CFR 431.60", "42 CFR 438.242(b)(5)", "42 CFR 457.730", "42 CFR 457.1233(d)", "45 CFR 156.221"}
	for _, r := range cat.Area("general") {
		for _, c := range r.CFR {
			if strings.Contains(c, "(") && !allowed[c] {
				t.Errorf("%s cites unconfirmed paragraph %q", r.ID, c)
			}
		}
		if r.Note == "" {
			t.Errorf("%s: no note explaining the citation", r.ID)
		}
		if r.ID == "general.provider-directory" {
			continue
		}
		// Each Patient Access requirement maps to every parallel paragraph (by section).
		for _, p := range parallels {
			sec := regexp.MustCompile(`\(.*$`).ReplaceAllString(p, "")
			found := false
			for _, c := range r.CFR {
				if strings.HasPrefix(c, sec) {
					found = true
				}
			}
			if !found && !(r.ID == "general.formulary" && p == "45 CFR 156.221") && !(r.ID == "general.version-flexibility") {
				t.Errorf("%s: no citation of %s", r.ID, p)
			}
		}
	}
}

func TestLoadRequirementsErrors(t *testing.T) {
	good := "- id: a.b\n  statement: s\n  level: SHALL\n"
	cases := []struct {
		name  string
		files map[string]string
		want  string // substring of the error
	}{
		{"unknown key", map[string]string{"x.yaml": "- id: a.b\n  statement: s\n  level: SHALL\n  colour: red\n"}, `x.yaml:4: unknown key "colour"`},
		{"bad level", map[string]string{"x.yaml": "- id: a.b\n  statement: s\n  level: MUST\n"}, `x.yaml:1: requirement "a.b": level "MUST"`},
		{"missing level", map[string]string{"x.yaml": "- id: a.b\n  statement: s\n"}, "missing level"},
		{"bad id slash", map[string]string{"x.yaml": "- id: a/b\n  statement: s\n  level: MAY\n"}, `x.yaml:1: requirement "a/b": id must match`},
		{"bad id one word", map[string]string{"x.yaml": "- id: ab\n  statement: s\n  level: MAY\n"}, "id must match"},
		{"bad id upper", map[string]string{"x.yaml": "- id: A.b\n  statement: s\n  level: MAY\n"}, "id must match"},
		{"duplicate across files", map[string]string{"a.yaml": good, "b.yaml": "# c\n" + good}, `b.yaml:2: duplicate requirement id "a.b" (first at req/a.yaml:1)`},
		{"duplicate key", map[string]string{"x.yaml": "- id: a.b\n  id: a.c\n  statement: s\n  level: MAY\n"}, `x.yaml:2:`},
		{"not a list", map[string]string{"x.yaml": "id: a.b\n"}, "x.yaml:1: expected a list"},
		{"bad cfr", map[string]string{"x.yaml": good + "  cfr: [\"422.119(a)\"]\n"}, `cfr "422.119(a)"`},
		{"wrong type", map[string]string{"x.yaml": good + "  versions: {a: b}\n"}, "x.yaml:1:"},
		{"missing statement", map[string]string{"x.yaml": "- id: a.b\n  level: MAY\n"}, "missing statement"},
		{"no files", map[string]string{"x.txt": "hi"}, "no *.yaml"},
		{"syntax", map[string]string{"x.yaml": "- id: [\n"}, "req/x.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, s := range tc.files {
				fsys[n] = &fstest.MapFile{Data: []byte(s)}
			}
			_, err := LoadRequirements(fsys, "req")
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadRequirementsAreas(t *testing.T) {
	fsys := fstest.MapFS{
		"smart.yaml":   {Data: []byte("- id: smart.pkce.s256\n  statement: s\n  level: SHALL\n  ig: hl7.fhir.uv.smart-app-launch\n  versions: [\"2.0.0\"]\n  cfr: [\"45 CFR 170.215\"]\n- id: smart.b\n  statement: t\n  level: SHOULD\n  untested_reason: why\n")},
		"general.yaml": {Data: []byte("- id: general.x\n  statement: s\n  level: MAY\n  note: n\n")},
		"empty.yaml":   {Data: []byte("")},
	}
	cat, err := LoadRequirements(fsys, "req")
	if err != nil {
		t.Fatal(err)
	}
	if cat.Len() != 3 || len(cat.Area("smart")) != 2 || len(cat.Area("general")) != 1 {
		t.Fatalf("len %d, smart %d, general %d", cat.Len(), len(cat.Area("smart")), len(cat.Area("general")))
	}
	if got := strings.Join(cat.Areas(), ","); got != "general,smart" {
		t.Errorf("Areas = %s", got)
	}
	r, _ := cat.Lookup("smart.b")
	if r.UntestedReason != "why" || r.Source != "req/smart.yaml:7" || r.Level != LevelShould {
		t.Errorf("smart.b = %+v", r)
	}
	r, _ = cat.Lookup("smart.pkce.s256")
	if r.Versions[0] != "2.0.0" || r.CFR[0] != "45 CFR 170.215" {
		t.Errorf("smart.pkce.s256 = %+v", r)
	}
	// Lookup returns a copy.
	r.Statement = "changed"
	if r2, _ := cat.Lookup("smart.pkce.s256"); r2.Statement == "changed" {
		t.Error("Lookup exposes internal state")
	}
}

func TestRulesEmbedded(t *testing.T) {
	m, err := Rules()
	if err != nil {
		t.Fatalf("embedded rule map: %v", err)
	}
	if len(m.All()) < 20 {
		t.Fatalf("rule map has %d entries, want at least 20", len(m.All()))
	}
	for _, r := range m.All() {
		if !strings.HasPrefix(r.Source, "profiles/requirements/rules/") {
			t.Errorf("%s: source %q", r.Rule, r.Source)
		}
	}
}

// The specs that cite several requirements, with the rules their checks emit: each rule must
// name one requirement the spec cites, so no failure of theirs is unmapped.
func TestRulesAttributeMultiRequirementSpecs(t *testing.T) {
	m, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	uscoreValidation := []string{"uscore.profile.conformance", "uscore.profile.cardinality", "uscore.profile.binding", "uscore.profile.slicing", "uscore.profile.invariant"}
	uscoreSearch := []string{"uscore.search.shall-combination", "uscore.search.semantics", "uscore.search.date", "uscore.search.token", "uscore.search.token-system", "uscore.search.reference", "uscore.search.string"}
	uscoreSearchDate := []string{"uscore.search.shall-combination", "uscore.search.semantics", "uscore.search.date", "uscore.search.reference"}
	paging := []string{"uscore.search.paging", "uscore.search.paging-terminates"}
	for _, tc := range []struct {
		name  string
		cited []string
		rule  string
		want  string
	}{
		{"us core cardinality", uscoreValidation, "cardinality", "uscore.profile.cardinality"},
		{"us core binding", uscoreValidation, "binding", "uscore.profile.binding"},
		{"us core unknown code", uscoreValidation, "code-unknown", "uscore.profile.binding"},
		{"us core slicing", uscoreValidation, "slicing", "uscore.profile.slicing"},
		{"us core invariant", uscoreValidation, "invariant:us-core-8", "uscore.profile.invariant"},
		{"us core base invariant", uscoreValidation, "invariant:ait-1", "uscore.profile.invariant"},
		{"us core type", uscoreValidation, "type", "uscore.profile.conformance"},
		{"us core fixed", uscoreValidation, "fixed", "uscore.profile.conformance"},
		{"us core pattern", uscoreValidation, "pattern", "uscore.profile.conformance"},
		{"us core reference target", uscoreValidation, "reference-target", "uscore.profile.conformance"},
		{"us core unknown element", uscoreValidation, "unknown-element", "uscore.profile.conformance"},
		{"us core unknown profile", uscoreValidation, "profile-unknown", "uscore.profile.conformance"},
		{"carin bb binding", []string{"carinbb.profile.conformance"}, "binding", "carinbb.profile.conformance"},
		{"search status", uscoreSearch, "search.status", "uscore.search.shall-combination"},
		{"search bundle type", uscoreSearch, "search.bundle-type", "uscore.search.shall-combination"},
		{"search date", uscoreSearchDate, "search-semantics:date", "uscore.search.date"},
		{"search token", uscoreSearch, "search-semantics:token", "uscore.search.token"},
		{"search token system", uscoreSearch, "search-semantics:token-system", "uscore.search.token-system"},
		{"search reference", uscoreSearch, "search-semantics:reference", "uscore.search.reference"},
		{"search string", uscoreSearch, "search-semantics:string", "uscore.search.string"},
		{"search other type", uscoreSearch, "search-semantics:quantity", "uscore.search.semantics"},
		{"search generic", uscoreSearch, "search-semantics", "uscore.search.semantics"},
		{"search missing match", uscoreSearch, "search.missing-match", "uscore.search.semantics"},
		{"search reference forms", uscoreSearchDate, "search.reference-forms", "uscore.search.reference"},
		{"paging lost", paging, "search.paging.lost", "uscore.search.paging"},
		{"paging total", paging, "search.paging.total", "uscore.search.paging"},
		{"paging status", paging, "search.status", "uscore.search.paging"},
		{"paging page status", paging, "search.paging.status", "uscore.search.paging"},
		{"paging loop", paging, "search.paging.loop", "uscore.search.paging-terminates"},
		{"paging duplicate", paging, "search.paging.duplicate", "uscore.search.paging-terminates"},
		{"paging max pages", paging, "search.paging.max-pages", "uscore.search.paging-terminates"},
		{"format", []string{"capability.format-json", "capability.http.content-type"}, "capability.format-json", "capability.format-json"},
		{"content type", []string{"capability.format-json", "capability.http.content-type"}, "capability.http.content-type", "capability.http.content-type"},
		{"declared profiles", []string{"capability.supported-profiles", "capability.search-params"}, "capability.supported-profiles", "capability.supported-profiles"},
		{"declared search", []string{"capability.supported-profiles", "capability.search-params"}, "capability.search-params", "capability.search-params"},
		{"isolation", []string{"smart.token.patient-context", "uscore.access.patient-compartment"}, "isolation.other-member-data", "uscore.access.patient-compartment"},
		{"single citation", []string{"smart.pkce.verifier"}, "probe.accepted", "smart.pkce.verifier"},
	} {
		got, ok := m.Attribute(tc.rule, tc.cited)
		if !ok || got != tc.want {
			t.Errorf("%s: Attribute(%q) = %q, %v; want %q", tc.name, tc.rule, got, ok, tc.want)
		}
	}
	// A rule that names no requirement the spec cites is reported, not guessed.
	for _, tc := range []struct {
		rule  string
		cited []string
	}{
		{"search.paging.loop", []string{"uscore.search.shall-combination", "uscore.search.semantics"}},
		{"no-such-rule.anywhere", []string{"smart.token.patient-context", "uscore.access.patient-compartment"}},
		{"search.status", uscoreValidation},
	} {
		if got, ok := m.Attribute(tc.rule, tc.cited); ok {
			t.Errorf("Attribute(%q, %v) = %q; want unmapped", tc.rule, tc.cited, got)
		}
	}
}

func TestLoadRulesErrors(t *testing.T) {
	cat, err := Requirements()
	if err != nil {
		t.Fatal(err)
	}
	good := "- rule: cardinality\n  requirements: [uscore.profile.cardinality]\n  why: required elements present\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown id", "- rule: binding\n  requirements: [uscore.profile.nope]\n  why: x\n", `rules.yaml:1: rule "binding": requirement "uscore.profile.nope" is not in the catalogue`},
		{"unknown key", "- rule: binding\n  requirement: [uscore.profile.binding]\n", `rules.yaml:2: unknown key "requirement"`},
		{"no requirements", "- rule: binding\n  why: x\n", `rule "binding": no requirements`},
		{"no why", "- rule: binding\n  requirements: [uscore.profile.binding]\n", `rule "binding": missing why`},
		{"duplicate rule", good + good, `rules.yaml:4: rule "cardinality" given twice (first at x/rules.yaml:1)`},
		{"bad rule", "- rule: Bad Rule\n  requirements: [uscore.profile.binding]\n  why: x\n", `rule "Bad Rule" must be a lowercase rule code`},
		{"id twice", "- rule: binding\n  requirements: [uscore.profile.binding, uscore.profile.binding]\n  why: x\n", `requirement "uscore.profile.binding" listed twice`},
		{"not a list", "rule: binding\n", "expected a list of rule mappings"},
	} {
		_, err := LoadRules(fstest.MapFS{"rules.yaml": {Data: []byte(tc.yaml)}}, "x", cat)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	m, err := LoadRules(fstest.MapFS{"rules.yaml": {Data: []byte(good + "- rule: \"card*\"\n  requirements: [uscore.profile.conformance]\n  why: y\n")}}, "x", cat)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := m.Lookup("cardinality"); r.Rule != "cardinality" {
		t.Errorf("exact rule does not win over a prefix: %+v", r)
	}
	if r, _ := m.Lookup("cardx"); r.Rule != "card*" {
		t.Errorf("prefix not matched: %+v", r)
	}
	if _, ok := m.Lookup("binding"); ok {
		t.Error("Lookup of an unmapped rule succeeded")
	}
}
