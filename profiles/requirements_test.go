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
