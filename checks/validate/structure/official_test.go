package structure

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/internal/shared"
)

// TestOfficialSchemaProperties compares, for every resource and complex type (and backbone
// element) of the official R4 JSON schema, the property names it allows with ours. Justified
// differences are listed in testdata/official-schema-diff.txt.
func TestOfficialSchemaProperties(t *testing.T) {
	file := shared.Require(t, "fhir-json-schema/fhir.schema.json")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Definitions map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	m := validator(t).core.m
	// Official names: Observation_Component for Observation.component (backbones, by path with
	// each segment capitalised after the type).
	// The official schema names a backbone Type_LastSegment, numbered on clashes
	// (TestReport_Action1): match those by owner type and last segment, best property overlap.
	ours := map[string]*typeDef{}
	byLast := map[string][]*typeDef{}
	for name, td := range m.types {
		switch td.kind {
		case kindPrimitive:
		case kindBackbone:
			parts := strings.Split(name, ".")
			k := parts[0] + "_" + upperFirst(parts[len(parts)-1])
			byLast[k] = append(byLast[k], td)
		default:
			ours[name] = td
		}
	}
	allowed := loadDiffs(t)
	usedDiff := map[string]bool{}
	compared := 0
	var names []string
	for n := range doc.Definitions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		def := doc.Definitions[name]
		if def.Properties == nil || name == "ResourceList" {
			continue
		}
		td := ours[name]
		if td == nil {
			td = bestBackbone(byLast[strings.TrimRight(name, "0123456789")], def.Properties)
		}
		if td == nil {
			if _, ok := allowed[name+" missing"]; ok {
				usedDiff[name+" missing"] = true
				continue
			}
			t.Errorf("official definition %s has no counterpart in ours", name)
			continue
		}
		compared++
		want := map[string]bool{}
		for p := range def.Properties {
			want[p] = true
		}
		got := propertyNames(td)
		for p := range want {
			if !got[p] {
				key := name + " -" + p
				if _, ok := allowed[key]; ok {
					usedDiff[key] = true
					continue
				}
				t.Errorf("%s: official schema allows %q, ours does not", name, p)
			}
		}
		for p := range got {
			if !want[p] {
				key := name + " +" + p
				if _, ok := allowed[key]; ok {
					usedDiff[key] = true
					continue
				}
				t.Errorf("%s: ours allows %q, the official schema does not (type %s)", name, p, td.elems[strings.TrimPrefix(p, "_")].typeName)
			}
		}
	}
	for k := range allowed {
		if !usedDiff[k] {
			t.Errorf("testdata/official-schema-diff.txt lists %q, which no longer differs: remove it", k)
		}
	}
	if compared < 600 {
		t.Errorf("compared only %d definitions; expected the ~660 with properties", compared)
	}
	t.Logf("compared %d definitions", compared)
}

func bestBackbone(cands []*typeDef, props map[string]json.RawMessage) *typeDef {
	var best *typeDef
	bestScore := -1
	for _, td := range cands {
		got := propertyNames(td)
		score := 0
		for p := range props {
			if got[p] {
				score++
			} else {
				score--
			}
		}
		for p := range got {
			if _, ok := props[p]; !ok {
				score--
			}
		}
		if best == nil || score > bestScore {
			best, bestScore = td, score
		}
	}
	return best
}

func propertyNames(td *typeDef) map[string]bool {
	got := map[string]bool{}
	if td.kind == kindResource {
		got["resourceType"] = true
	}
	for _, e := range td.order {
		got[e.name] = true
		if e.sibling {
			got["_"+e.name] = true
		}
	}
	return got
}

func loadDiffs(t *testing.T) map[string]string {
	f, err := os.Open("testdata/official-schema-diff.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		body, reason, _ := strings.Cut(line, " # ")
		if strings.TrimSpace(reason) == "" || len(strings.Fields(body)) != 2 {
			t.Fatalf("testdata/official-schema-diff.txt:%d: want \"Definition +prop|-prop|missing # reason\"", n)
		}
		out[strings.Join(strings.Fields(body), " ")] = strings.TrimSpace(reason)
	}
	return out
}
