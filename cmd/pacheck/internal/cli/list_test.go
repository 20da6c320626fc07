package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/suites/runner"
)

var update = flag.Bool("update", false, "rewrite the golden files of pacheck list")

// TestListStable pins `pacheck list` for every preset: spec ids, levels, IGs and requirement ids
// are the addresses users put in label filters, known-issue files and report diffs, so a change
// must be deliberate (go test ./cmd/pacheck/internal/cli -run TestListStable -update).
func TestListStable(t *testing.T) {
	for _, preset := range []string{"cms-patient-access", "cms-patient-access-2020", "cms-0057-2027", "public", "provider-directory", "smart-2.2", "uscdi-v4", "uscdi-v5"} {
		code, out, errOut := run("list", "--preset", preset)
		if code != 0 {
			t.Fatalf("list --preset %s: exit %d: %s", preset, code, errOut)
		}
		golden := filepath.Join("testdata", "list-"+preset+".txt")
		if *update {
			os.WriteFile(golden, []byte(out), 0o644)
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if out != string(want) {
			t.Errorf("pacheck list --preset %s changed:\n%s", preset, lineDiff(string(want), out))
		}
	}
}

func lineDiff(want, got string) string {
	w := map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	g := map[string]bool{}
	var b strings.Builder
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	s := b.String()
	if len(s) > 4000 {
		s = s[:4000] + "..."
	}
	return s
}

// TestSpecTreeGolden pins, for every preset, each spec's id with all its labels (requirement
// ids, level, IG version, profile, resource...) and the requirement coverage `pacheck list
// --requirements` derives from them. Refactors of the suites (the IG-spec generator, the area
// registration) must leave it unchanged unless a change is deliberate
// (go test ./cmd/pacheck/internal/cli -run TestSpecTreeGolden -update). "package-version" is a
// configuration naming versions no area lists (generated as --package versions, or not at all
// for SMART).
func TestSpecTreeGolden(t *testing.T) {
	for _, preset := range []string{"cms-patient-access", "cms-patient-access-2020", "cms-0057-2027", "public", "provider-directory", "smart-2.2", "uscdi-v4", "uscdi-v5", "package-version"} {
		f := runFlags{preset: preset}
		if preset == "package-version" {
			f = runFlags{config: filepath.Join("testdata", "tree-package-version.yaml")}
		}
		p, err := f.resolve(false, func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatalf("preset %s: %v", preset, err)
		}
		rep, err := runner.List(runner.Options{Run: p.run, LabelFilter: p.file.LabelFilter, Focus: p.file.Focus})
		if err != nil {
			t.Fatalf("preset %s: %v", preset, err)
		}
		var b strings.Builder
		n := 0
		for _, s := range rep.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped {
				continue
			}
			n++
			fmt.Fprintf(&b, "%s\t%s\n", runner.SpecID(s), strings.Join(s.Labels(), " "))
		}
		fmt.Fprintf(&b, "%d specs\n\n", n)
		var cov bytes.Buffer
		if code := printCoverage(&cov, io.Discard, rep, "text", nil); code != 0 {
			t.Fatalf("preset %s: coverage exit %d", preset, code)
		}
		b.Write(cov.Bytes())
		out := b.String()
		if n == 0 {
			t.Fatalf("preset %s: no specs", preset)
		}
		golden := filepath.Join("testdata", "tree-"+preset+".txt")
		if *update {
			os.WriteFile(golden, []byte(out), 0o644)
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if out != string(want) {
			t.Errorf("spec tree of preset %s changed:\n%s", preset, lineDiff(string(want), out))
		}
	}
}

// TestListAttestations: --attestations shows an attested requirement as attested (not tested),
// one without an entry names the missing entry, and a bad file is a one-line usage error naming
// the file and the field.
func TestListAttestations(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "att.yaml")
	if err := os.WriteFile(good, []byte("- id: general.data-since-2016\n  who: Jane Roe, CIO\n  when: 2026-11-30\n  evidence: https://example.com/e.pdf\n  statement: Data since 2016.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("list", "--preset", "public", "--requirements", "--attestations", good)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"general.data-since-2016", "ATTESTED (not tested) by Jane Roe, CIO on 2026-11-30", "UNTESTED: no attestation: add an entry for general.member-education", " 1 attested, "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("- id: general.data-since-2016\n  when: 2026-11-30\n  statement: s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run("list", "--preset", "public", "--requirements", "--attestations", bad)
	if code != ExitUsage || !strings.Contains(errOut, bad+":1: general.data-since-2016: who is missing") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("bad file: exit %d, %q; want exit %d and one line naming the file and field", code, errOut, ExitUsage)
	}
}
