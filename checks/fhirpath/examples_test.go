package fhirpath

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/internal/shared"
)

type compiledInvariant struct {
	key, path string
	ctxPath   *Expression
	expr      *Expression
}

// coreInvariants returns the invariants of every R4 core resource StructureDefinition, by type.
func coreInvariants(t testing.TB) map[string][]compiledInvariant {
	core := shared.Require(t, "fhir-packages/hl7.fhir.r4.core-4.0.1.tgz")
	out := map[string][]compiledInvariant{}
	readPackage(t, core, false, func(f pkgFile) {
		if !strings.HasPrefix(filepath.Base(f.name), "StructureDefinition-") {
			return
		}
		var sd sdConstraints
		if err := json.Unmarshal(f.data, &sd); err != nil || sd.Kind != "resource" || sd.Derivation != "specialization" {
			return
		}
		for _, e := range sd.Snapshot.Element {
			for _, c := range e.Constraint {
				if c.Expression == "" {
					continue
				}
				expr, err := Compile(c.Expression)
				if err != nil {
					t.Errorf("%s %s: %v", sd.Type, c.Key, err)
					continue
				}
				p := strings.ReplaceAll(e.Path, "[x]", "")
				ctxExpr, err := Compile(p)
				if err != nil {
					t.Errorf("%s: element path %s: %v", sd.Type, e.Path, err)
					continue
				}
				out[sd.Type] = append(out[sd.Type], compiledInvariant{key: c.Key, path: e.Path, ctxPath: ctxExpr, expr: expr})
			}
		}
	})
	return out
}

// TestInvariantsOnExamples evaluates every base-resource invariant on every example resource
// of the packages: a false result is fine, an error is not.
func TestInvariantsOnExamples(t *testing.T) {
	invs := coreInvariants(t)
	if len(invs) == 0 {
		t.Fatal("no invariants found in the R4 core package")
	}
	deadline := time.Now().Add(4 * time.Minute)
	var resources, evaluations, falses int
	errorsByKey := map[string]int{}
	for _, tgz := range packagePaths(t) {
		readPackage(t, tgz, true, func(f pkgFile) {
			if time.Now().After(deadline) {
				return
			}
			v, err := DecodeJSON(f.data)
			if err != nil {
				return
			}
			root, ok := v.(map[string]any)
			if !ok {
				return
			}
			targets := []map[string]any{root}
			if rt, _ := root["resourceType"].(string); rt == "Bundle" {
				entries, _ := root["entry"].([]any)
				for _, e := range entries {
					if em, ok := e.(map[string]any); ok {
						if r, ok := em["resource"].(map[string]any); ok {
							targets = append(targets, r)
						}
					}
				}
			}
			for _, res := range targets {
				rt, _ := res["resourceType"].(string)
				resources++
				env := &Env{Resource: res, RootResource: root, Trace: io.Discard,
					MemberOf: func(context.Context, any, string) (bool, error) { return true, nil }}
				for _, inv := range invs[rt] {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					nodes, err := inv.ctxPath.Evaluate(ctx, res, env)
					if err != nil {
						cancel()
						t.Errorf("%s %s: context path %s: %v", f.pkg, f.name, inv.path, err)
						continue
					}
					for _, n := range nodes {
						evaluations++
						envN := *env
						envN.Context = n
						r, err := inv.expr.Evaluate(ctx, n, &envN)
						if err != nil {
							errorsByKey[inv.key]++
							if errorsByKey[inv.key] <= 3 {
								t.Errorf("%s %s: %s %s at %s: %v", f.pkg, f.name, rt, inv.key, inv.path, err)
							}
							continue
						}
						if b, err := toBool3(r, "invariant"); err == nil && b == 0 {
							falses++
							if testing.Verbose() {
								t.Logf("false: %s %s: %s %s at %s", f.pkg, f.name, rt, inv.key, inv.path)
							}
						}
					}
					cancel()
				}
			}
		})
	}
	if time.Now().After(deadline) {
		// The bound keeps slow machines (or -race) from running for ever; a run that got
		// through too little is a failure, a run that got far is reported.
		if resources < 200 {
			t.Errorf("stopped at the time bound after only %d resources", resources)
		} else {
			t.Logf("stopped at the time bound after %d resources", resources)
		}
	}
	msg := fmt.Sprintf("evaluated %d invariant instances on %d example resources (%d false, %d errors)", evaluations, resources, falses, sum(errorsByKey))
	t.Log(msg)
	if resources == 0 {
		t.Fatal("no example resources found")
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
