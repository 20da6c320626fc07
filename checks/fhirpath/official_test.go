package fhirpath

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/internal/shared"
)

type xmlTests struct {
	Groups []xmlGroup `xml:"group"`
}

type xmlGroup struct {
	Name  string    `xml:"name,attr"`
	Tests []xmlTest `xml:"test"`
}

type xmlTest struct {
	Name       string `xml:"name,attr"`
	InputFile  string `xml:"inputfile,attr"`
	Predicate  string `xml:"predicate,attr"`
	Mode       string `xml:"mode,attr"`
	Ordered    string `xml:"ordered,attr"`
	CheckOrder string `xml:"checkOrderedFunctions,attr"`
	Expression struct {
		Text    string `xml:",chardata"`
		Invalid string `xml:"invalid,attr"`
		Mode    string `xml:"mode,attr"`
	} `xml:"expression"`
	Outputs []struct {
		Type string `xml:"type,attr"`
		Text string `xml:",chardata"`
	} `xml:"output"`
}

// loadSkips reads testdata/official-skips.txt: "name<TAB or spaces>reason" per line.
func loadSkips(t *testing.T) map[string]string {
	f, err := os.Open(filepath.Join("testdata", "official-skips.txt"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return map[string]string{}
		}
		t.Fatal(err)
	}
	defer f.Close()
	skips := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		skips[name] = strings.TrimSpace(reason)
	}
	return skips
}

type officialResult struct {
	name, group, expr, detail string
}

func TestOfficialSuite(t *testing.T) {
	path := shared.Require(t, "fhirpath-tests/tests-fhir-r4.xml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var suite xmlTests
	if err := xml.Unmarshal(data, &suite); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	jsonDir := filepath.Join(filepath.Dir(path), "json")
	inputs := map[string]any{}
	loadInput := func(name string) (any, error) {
		if name == "" {
			return nil, nil
		}
		if v, ok := inputs[name]; ok {
			return v, nil
		}
		base := strings.TrimSuffix(strings.TrimSuffix(name, ".xml"), ".json") + ".json"
		b, err := os.ReadFile(filepath.Join(jsonDir, base))
		if err != nil {
			return nil, err
		}
		v, err := DecodeJSON(b)
		if err != nil {
			return nil, err
		}
		inputs[name] = v
		return v, nil
	}
	skips := loadSkips(t)
	usedSkips := map[string]bool{}
	var passed, skipped int
	var failures []officialResult
	total := 0
	for _, g := range suite.Groups {
		for i, tc := range g.Tests {
			total++
			name := tc.Name
			if name == "" {
				name = fmt.Sprintf("%s#%d", g.Name, i+1)
			}
			if _, ok := skips[name]; ok {
				usedSkips[name] = true
				skipped++
				continue
			}
			detail := runOfficial(tc, loadInput)
			if detail == "" {
				passed++
			} else {
				failures = append(failures, officialResult{name: name, group: g.Name, expr: tc.Expression.Text, detail: detail})
			}
		}
	}
	for _, f := range failures {
		t.Logf("FAIL %s/%s: %q: %s", f.group, f.name, f.expr, f.detail)
	}
	var unused []string
	for k := range skips {
		if !usedSkips[k] {
			unused = append(unused, k)
		}
	}
	sort.Strings(unused)
	for _, k := range unused {
		t.Errorf("official-skips.txt lists %s, which is not in the suite", k)
	}
	line := fmt.Sprintf("fhirpath official: %d passed, %d failed", passed, len(failures))
	t.Log(line)
	t.Logf("fhirpath official: %d skipped (listed in testdata/official-skips.txt), %d tests in total", skipped, total)
	if testing.Verbose() {
		fmt.Println(line)
		fmt.Printf("fhirpath official: %d skipped\n", skipped)
	}
	if float64(passed) < 0.98*float64(total) {
		t.Errorf("official suite pass rate %d/%d is below 98%%", passed, total)
	}
}

func runOfficial(tc xmlTest, load func(string) (any, error)) string {
	input, err := load(tc.InputFile)
	if err != nil {
		return "input: " + err.Error()
	}
	env := &Env{Trace: io.Discard, Strict: tc.Mode == "strict" || tc.Expression.Mode == "strict",
		CheckOrdered: tc.CheckOrder == "true", MaxSteps: 2000000}
	invalid := tc.Expression.Invalid
	e, err := Compile(tc.Expression.Text)
	if err != nil {
		if invalid != "" {
			return ""
		}
		return "compile: " + err.Error()
	}
	if invalid == "syntax" {
		return "expected a syntax error, compiled fine"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := e.Evaluate(ctx, input, env)
	if err != nil {
		if invalid != "" {
			return ""
		}
		return "evaluate: " + err.Error()
	}
	if invalid != "" {
		return fmt.Sprintf("expected a %s error, got %s", invalid, describeResult(res))
	}
	if tc.Predicate == "true" {
		res = boolColl(len(res) > 0)
		if b, err := toBool3(res, "predicate"); err == nil && b >= 0 {
			res = bool3(b)
		}
	}
	if len(res) != len(tc.Outputs) {
		return fmt.Sprintf("want %d items, got %s", len(tc.Outputs), describeResult(res))
	}
	type pair struct{ t, v string }
	want := make([]pair, len(tc.Outputs))
	got := make([]pair, len(res))
	for i, o := range tc.Outputs {
		want[i] = pair{o.Type, o.Text}
	}
	for i, it := range res {
		v, ok := OutputValue(it)
		if !ok {
			v = it.String()
		}
		got[i] = pair{OutputType(it), v}
	}
	match := func(w, g pair) bool {
		return (w.t == "" || w.t == g.t) && w.v == g.v
	}
	if tc.Ordered == "false" {
		used := make([]bool, len(got))
	outer:
		for _, w := range want {
			for j, g := range got {
				if !used[j] && match(w, g) {
					used[j] = true
					continue outer
				}
			}
			return fmt.Sprintf("want %v (any order), got %v", want, got)
		}
		return ""
	}
	for i := range want {
		if !match(want[i], got[i]) {
			return fmt.Sprintf("want %v, got %v", want, got)
		}
	}
	return ""
}

func describeResult(c Collection) string {
	parts := make([]string, 0, len(c))
	for _, it := range c {
		v, ok := OutputValue(it)
		if !ok {
			v = truncate(it.String(), 60)
		}
		parts = append(parts, OutputType(it)+":"+v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
