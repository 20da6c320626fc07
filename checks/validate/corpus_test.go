package validate

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// knownBad reads testdata/known-bad-examples.txt: "package-ref<TAB>file<TAB>rule<TAB>reason".
func knownBad(t *testing.T) map[string]map[string]bool {
	f, err := os.Open("testdata/known-bad-examples.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) < 4 || parts[3] == "" {
			t.Fatalf("known-bad-examples.txt: %q needs package, file, rule and reason", line)
		}
		k := parts[0] + " " + parts[1]
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		out[k][parts[2]] = true
	}
	return out
}

func TestExampleCorpus(t *testing.T) {
	v, pkgs := corpus(t)
	bad := knownBad(t)
	seenBad := map[string]bool{}
	total, clean := 0, 0
	rules := map[string]int{}
	var failures []string
	for _, p := range pkgs {
		for _, ex := range p.Examples() {
			if strings.HasSuffix(ex.Name, ".index.json") || strings.HasSuffix(ex.Name, "package.json") {
				continue
			}
			total++
			res := v.Validate(context.Background(), ex.Raw, ValidateOptions{IG: p.Ref()})
			key := p.Ref() + " " + ex.Name
			errs := res.Issues.Errors()
			if len(errs) == 0 {
				clean++
				if bad[key] != nil {
					t.Errorf("%s is listed in known-bad-examples.txt but validates without errors", key)
				}
				continue
			}
			allowed := bad[key]
			for _, e := range errs {
				rules[e.Rule]++
				if allowed[e.Rule] {
					seenBad[key] = true
					continue
				}
				failures = append(failures, fmt.Sprintf("%s\t%s\t%s\t%s", key, e.Rule, e.Path, e.Message))
			}
		}
	}
	t.Logf("examples: %d, without errors: %d; error rules: %v", total, clean, rules)
	sort.Strings(failures)
	for i, f := range failures {
		if i > 400 {
			t.Errorf("... and %d more", len(failures)-i)
			break
		}
		t.Error(f)
	}
	if total < 1000 {
		t.Errorf("only %d examples found; expected the whole shared corpus", total)
	}
}
