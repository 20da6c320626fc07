package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTable(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "expected.yaml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTableExpect(t *testing.T) {
	tab, err := LoadTable(writeTable(t, `
entries:
  - outcome: fail
    specs: ["uscore-6.1.0/*/paging"]
    spec_text: "x"
    observed: "y"
  - outcome: skip
    specs: ["uscore-6.1.0/us-core-patient/paging", "carinbb-2.0.0/*"]
    spec_text: "x"
    observed: "y"
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, want, by string }{
		{"uscore-6.1.0/us-core-patient/paging", "skip", "uscore-6.1.0/us-core-patient/paging"}, // exact id beats an earlier pattern
		{"uscore-6.1.0/us-core-condition/paging", "fail", "uscore-6.1.0/*/paging"},
		{"uscore-6.1.0/us-core-condition/read", "pass", ""},
		{"carinbb-2.0.0/eob/read", "pass", ""}, // * does not cross /
		{"carinbb-2.0.0/x", "skip", "carinbb-2.0.0/*"},
	} {
		got, by := tab.Expect(tc.id)
		if got != tc.want || by != tc.by {
			t.Errorf("%s: got %s by %q, want %s by %q", tc.id, got, by, tc.want, tc.by)
		}
	}
}

func TestTableRejects(t *testing.T) {
	for name, text := range map[string]string{
		"unjustified fail": "entries:\n  - outcome: fail\n    specs: [a]\n",
		"unknown outcome":  "entries:\n  - outcome: flaky\n    specs: [a]\n    spec_text: x\n    observed: y\n",
		"unknown key":      "entries:\n  - outcome: pass\n    specs: [a]\n    because: x\n",
		"no specs":         "entries:\n  - outcome: pass\n",
		"bad pattern":      "entries:\n  - outcome: pass\n    specs: ['a[']\n",
	} {
		if _, err := LoadTable(writeTable(t, text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCompare(t *testing.T) {
	tab := &Table{Default: "pass", Entries: []Entry{{Outcome: "fail", Specs: []string{"a/*"}}, {Outcome: "skip", Specs: []string{"gone"}}}}
	res, err := LoadResults(writeTable(t, `{"specs":[{"id":"a/1","outcome":"fail"},{"id":"a/2","outcome":"pass"},
		{"id":"b","outcome":"error","reason":"error: blocked\nmore"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	diffs, counts, unused := Compare(tab, res)
	if len(diffs) != 2 || diffs[0].ID != "a/2" || diffs[1].ID != "b" || diffs[1].Detail != "error: blocked" {
		t.Errorf("diffs %v", diffs)
	}
	if counts["fail"] != 1 || counts["pass"] != 1 || counts["error"] != 1 {
		t.Errorf("counts %v", counts)
	}
	if len(unused) != 1 || unused[0] != "gone" {
		t.Errorf("unused %v", unused)
	}
	if !strings.Contains(diffs[0].String(), "table says fail (a/*)") {
		t.Errorf("diff text %q", diffs[0])
	}
}
