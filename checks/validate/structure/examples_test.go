package structure

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"testing"
)

// knownExample is one reviewed structural error in an official example: "package example rule path".
type knownExample struct{ pkg, name, rule, path string }

func loadKnownExamples(t *testing.T) map[knownExample]string {
	f, err := os.Open("testdata/examples-known.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[knownExample]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		body, reason, _ := strings.Cut(line, " # ")
		fs := strings.Fields(body)
		if len(fs) != 4 || strings.TrimSpace(reason) == "" {
			t.Fatalf("testdata/examples-known.txt:%d: want \"package example rule path # reason\"", n)
		}
		out[knownExample{fs[0], fs[1], fs[2], fs[3]}] = strings.TrimSpace(reason)
	}
	return out
}

// TestOfficialExamples: every example of every package in ../shared/fhir-packages has zero
// structural errors, except the reviewed ones in testdata/examples-known.txt.
func TestOfficialExamples(t *testing.T) {
	pkgs := examplePackages(t)
	v := validator(t)
	known := loadKnownExamples(t)
	used := map[knownExample]bool{}
	total := 0
	var unexpected []string
	for _, p := range pkgs {
		for _, ex := range p.Examples() {
			if strings.HasSuffix(ex.Name, ".index.json") {
				continue // the package index, not a resource
			}
			total++
			_, issues := v.Validate(ex.Raw)
			for _, is := range issues.Errors() {
				k := knownExample{p.Ref(), ex.Name, is.Rule, is.Path}
				if _, ok := known[k]; ok {
					used[k] = true
					continue
				}
				unexpected = append(unexpected, p.Ref()+" "+ex.Name+" "+is.Rule+" "+is.Path+" # "+is.Message+" "+is.Diagnostics)
			}
		}
	}
	sort.Strings(unexpected)
	for _, u := range unexpected {
		t.Errorf("unexpected: %s", u)
	}
	for k := range known {
		if !used[k] {
			t.Errorf("testdata/examples-known.txt lists %v, which no longer occurs: remove it", k)
		}
	}
	t.Logf("%d examples, %d reviewed exceptions", total, len(known))
}
