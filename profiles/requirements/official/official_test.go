package official

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/profiles"
)

// sharedDir returns $PACHECK_SHARED/requirements, or skips.
func sharedDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("PACHECK_SHARED")
	if root == "" {
		t.Skip("PACHECK_SHARED unset: the official requirement lists (../shared/requirements) are needed to regenerate the mapping")
	}
	dir := filepath.Join(root, "requirements")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s absent: the official requirement lists are needed to regenerate the mapping", dir)
	}
	return dir
}

// TestMappingUpToDate regenerates the mapping from the shared CSVs and compares it with the
// committed file: a rule edit or a new CSV row must be followed by go generate.
func TestMappingUpToDate(t *testing.T) {
	dir := sharedDir(t)
	rules, err := EmbeddedRules()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Generate(dir, rules)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, mappingYAML) {
		t.Fatalf("mapping.yaml is stale: run PACHECK_SHARED=%s go generate ./profiles/requirements/official", filepath.Dir(dir))
	}
}

// TestEveryServerRowListed checks that each set holds exactly the server-side, non-deprecated rows
// of its CSV (no row silently dropped, none added); TestInfernoCounts pins the totals against
// the shared README independently of the actor filter.
func TestEveryServerRowListed(t *testing.T) {
	dir := sharedDir(t)
	rules, err := EmbeddedRules()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Sets) != len(rules.Sources) {
		t.Fatalf("mapping has %d sets, rules name %d sources", len(m.Sets), len(rules.Sources))
	}
	for i, src := range rules.Sources {
		rows, err := readCSV(filepath.Join(dir, src.File))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, r := range rows {
			if r["Req Set"] == src.Set && r["Conformance"] != "DEPRECATED" && serverRow(r["Actors"], src.Server) {
				want[r["ID"]] = true
			}
		}
		set := m.Sets[i]
		if set.Set != src.Set {
			t.Fatalf("set %d is %s, want %s", i, set.Set, src.Set)
		}
		for _, r := range set.Rows {
			if !want[r.ID] {
				t.Errorf("%s: row %s is not a server row of the CSV", set.Set, FullID(set.Set, r.ID))
			}
			delete(want, r.ID)
		}
		for id := range want {
			t.Errorf("%s: server row %s missing from the mapping", set.Set, FullID(set.Set, id))
		}
	}
}

// TestInfernoCounts pins the server-row totals and Inferno's linked counts given in the shared
// README, so a changed CSV or a broken actor filter shows.
func TestInfernoCounts(t *testing.T) {
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{
		"hl7.fhir.us.core_6.1.0":             {378, 94},
		"hl7.fhir.us.core_7.0.0":             {476, 115},
		"hl7.fhir.us.core_8.0.0":             {529, 138},
		"hl7.fhir.uv.smart-app-launch_2.0.0": {203, 0},
		"hl7.fhir.uv.smart-app-launch_2.2.0": {263, 53},
		"hl7.fhir.us.carin-bb_2.0.0":         {155, 116},
		"hl7.fhir.us.davinci-pdex_2.0.0":     {71, 47},
		"hl7.fhir.uv.bulkdata_2.0.0":         {234, 0},
	}
	for _, s := range m.Sets {
		w, ok := want[s.Set]
		if !ok {
			t.Errorf("unexpected set %s", s.Set)
			continue
		}
		if c := s.Count(); c.Total != w[0] || s.InfernoLinked != w[1] {
			t.Errorf("%s: %d rows, Inferno links %d; want %d, %d", s.Set, c.Total, s.InfernoLinked, w[0], w[1])
		}
		if c := s.Count(); c.Tested+c.Attested+c.Explained+c.Unmapped != c.Total {
			t.Errorf("%s: statuses do not add up: %+v", s.Set, c)
		}
		delete(want, s.Set)
	}
	for set := range want {
		t.Errorf("set %s missing", set)
	}
}

// TestDecisionsValid checks every decision against our catalogue: tested rows name requirements
// that exist and that specs can test (no untested_reason, no attestation), attested rows name an
// attestation requirement, and explained reasons say which kind of reason they are.
func TestDecisionsValid(t *testing.T) {
	cat, err := profiles.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{"MAY:", "documentation only:", "not observable on the wire:", "not yet tested:", "client requirement"}
	for _, s := range m.Sets {
		seen := map[string]bool{}
		for _, r := range s.Rows {
			full := FullID(s.Set, r.ID)
			if seen[r.ID] {
				t.Errorf("%s listed twice", full)
			}
			seen[r.ID] = true
			for _, q := range r.Requirements {
				req, ok := cat.Lookup(q)
				switch {
				case !ok:
					t.Errorf("%s: requirement %s is not in the catalogue", full, q)
				case req.UntestedReason != "" || req.Attestation != "":
					t.Errorf("%s: requirement %s is not tested by specs; map to attestation or explain", full, q)
				}
			}
			if r.Attestation != "" {
				if req, ok := cat.Lookup(r.Attestation); !ok || req.Attestation == "" {
					t.Errorf("%s: attestation %s is not an attestation requirement", full, r.Attestation)
				}
			}
			if r.Explained != "" && !hasAnyPrefix(r.Explained, kinds) {
				t.Errorf("%s: reason %q does not start with one of %q", full, r.Explained, kinds)
			}
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"two decisions", "rules: [{name: x, requirements: [a.b], explained: y}]", "exactly one"},
		{"no decision", "rules: [{name: x}]", "exactly one"},
		{"bad regexp", "rules: [{name: x, text: '(', explained: y}]", "rule \"x\""},
		{"unknown key", "rules: [{name: x, colour: red, explained: y}]", "colour"},
		{"override twice", "overrides: [{id: a@1, explained: y}, {id: a@1, explained: z}]", "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestGenerateRulesAndOverrides(t *testing.T) {
	dir := t.TempDir()
	csv := "\ufeffReq Set,ID,URL,Requirement,Conformance,Actors\n" +
		"s_1,1,http://x/a.html,The server SHALL frob.,SHALL,Server\n" +
		"s_1,2,http://x/a.html,The client SHALL frob.,SHALL,Client\n" +
		"s_1,3,http://x/b.html,Anything.,MAY,\"Server, Client\"\n" +
		"s_1,4,http://x/b.html,Old.,DEPRECATED,Server\n" +
		"s_1,5,http://x/c.html,Something else.,SHOULD,Server/Client\n" +
		"s_1,6,http://x/c.html,Override me.,SHALL,Server\n" +
		"other_1,1,http://x/a.html,The server SHALL frob.,SHALL,Server\n"
	if err := os.WriteFile(filepath.Join(dir, "r.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules([]byte(`
sources: [{set: s_1, title: S 1, file: r.csv, server: Server}]
overrides: [{id: s_1@6, explained: "not yet tested: x"}]
rules:
  - {name: frob, text: 'FROB', requirements: [a.frob]}
  - {name: may, levels: [MAY], explained: "MAY: y"}
`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Generate(dir, rules)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range m.Sets[0].Rows {
		got = append(got, r.ID+"="+r.Status()+"/"+r.Rule)
	}
	want := "1=tested/frob 3=explained/may 5=unmapped/ 6=explained/override:s_1@6"
	if strings.Join(got, " ") != want {
		t.Fatalf("rows = %q, want %q", strings.Join(got, " "), want)
	}
	if c := m.Sets[0].Count(); c != (Counts{Total: 4, Tested: 1, Explained: 2, Unmapped: 1}) {
		t.Fatalf("counts = %+v", c)
	}
	if by := m.ByRequirement(); len(by["a.frob"]) != 1 || by["a.frob"][0] != "s_1@1" {
		t.Fatalf("ByRequirement = %v", by)
	}
	// The file keeps each reason once; parsing it back restores every row's reason.
	data, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if r := back.Sets[0].Rows[1]; r.Explained != "MAY: y" {
		t.Fatalf("row 3 after a round trip: %+v", r)
	}
	if _, err := Parse([]byte("reasons: {}\nsets: [{set: s, title: t, inferno_linked: 0, rows: [{id: '1', level: MAY, rule: gone}]}]")); err == nil {
		t.Fatal("a row whose rule has no reason parsed without error")
	}

	// An override that matches no server row is an error, not silently ignored.
	rules.Overrides = append(rules.Overrides, Override{ID: "s_1@2", Explained: "client requirement"})
	if _, err := Generate(dir, rules); err == nil || !strings.Contains(err.Error(), "s_1@2") {
		t.Fatalf("override of a client row: err = %v", err)
	}
	if _, err := Generate(filepath.Join(dir, "nope"), rules); !errors.Is(err, ErrNoShared) {
		t.Fatalf("absent folder: err = %v, want ErrNoShared", err)
	}
}
