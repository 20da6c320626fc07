package attest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pacheck/pacheck/profiles"
)

func testCatalogue(t *testing.T) *profiles.Catalogue {
	t.Helper()
	cat, err := profiles.LoadRequirements(fstest.MapFS{
		"general.yaml": {Data: []byte("- id: general.data-since-2016\n  statement: s\n  level: SHALL\n  attestation: data from 2016 is available\n" +
			"- id: general.fhir-api\n  statement: t\n  level: SHALL\n")},
	}, "req")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestParse(t *testing.T) {
	cat := testCatalogue(t)
	const good = "- id: general.data-since-2016\n  who: Jane Roe, CIO\n  when: 2026-11-30\n  evidence: https://example.com/e.pdf\n  statement: Data since 2016 is loaded.\n"
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"good", good, ""},
		{"empty", "", ""},
		{"unknown id", "- id: general.nope\n  who: a\n  when: 2026-01-01\n  statement: s\n", `att.yaml:1: id "general.nope": no such requirement`},
		{"not attestable", "- id: general.fhir-api\n  who: a\n  when: 2026-01-01\n  statement: s\n", `att.yaml:1: id "general.fhir-api": this requirement is tested on the wire`},
		{"no who", "- id: general.data-since-2016\n  when: 2026-01-01\n  statement: s\n", "att.yaml:1: general.data-since-2016: who is missing"},
		{"no when", "- id: general.data-since-2016\n  who: a\n  statement: s\n", "att.yaml:1: general.data-since-2016: when is missing"},
		{"bad when", "- id: general.data-since-2016\n  who: a\n  when: last week\n  statement: s\n", `when "last week" is not a date`},
		{"no statement", "- id: general.data-since-2016\n  who: a\n  when: 2026-01-01\n", "statement is missing"},
		{"no id", "- who: a\n  when: 2026-01-01\n  statement: s\n", "att.yaml:1: id is missing"},
		{"unknown field", "- id: general.data-since-2016\n  signer: a\n", `att.yaml:2: unknown field "signer"`},
		{"twice", good + good, "att.yaml:6: general.data-since-2016 is attested twice (first at line 1)"},
		{"not a list", "id: x\n", "att.yaml:1: want a list"},
		{"nested value", "- id: general.data-since-2016\n  who: [a, b]\n", `att.yaml:2: field "who" must be text`},
		{"not yaml", "- id: [\n", "att.yaml: not YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("att.yaml", []byte(tc.yaml), cat)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want it to contain %q (entries %v)", err, tc.wantErr, got)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	es, err := Parse("att.yaml", []byte(good), cat)
	if err != nil || len(es) != 1 || es[0].Who != "Jane Roe, CIO" || es[0].When != "2026-11-30" || es[0].Evidence != "https://example.com/e.pdf" {
		t.Fatalf("Parse(good) = %+v, %v", es, err)
	}
}

func TestLoad(t *testing.T) {
	cat := testCatalogue(t)
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), cat); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v, want an error naming it", err)
	}
	p := filepath.Join(t.TempDir(), "a.yaml")
	if err := os.WriteFile(p, []byte("- id: general.data-since-2016\n  when: 2026-01-01\n  statement: s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, cat); err == nil || !strings.Contains(err.Error(), p+":1: general.data-since-2016: who is missing") {
		t.Fatalf("Load: %v, want the file, line and field", err)
	}
}

func TestMissingNamesTheEntry(t *testing.T) {
	r, _ := testCatalogue(t).Lookup("general.data-since-2016")
	if m := Missing(r); !strings.Contains(m, "general.data-since-2016") || !strings.Contains(m, "data from 2016 is available") || !strings.Contains(m, "who, when") {
		t.Fatalf("Missing = %q", m)
	}
}
