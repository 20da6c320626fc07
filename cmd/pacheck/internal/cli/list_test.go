package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of pacheck list")

// TestListStable pins `pacheck list` for every preset: spec ids, levels, IGs and requirement ids
// are the addresses users put in label filters, known-issue files and report diffs, so a change
// must be deliberate (go test ./cmd/pacheck/internal/cli -run TestListStable -update).
func TestListStable(t *testing.T) {
	for _, preset := range []string{"cms-patient-access", "cms-patient-access-2020", "cms-0057-2027", "public"} {
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
