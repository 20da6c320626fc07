package snapshot_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/validate"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/profiles/snapshot"
)

// regenerateAll strips the snapshot of every profile (derivation constraint) in the packages and
// regenerates it, bases included (a profile on a profile is generated from the regenerated base).
func regenerateAll(t *testing.T, pkgs []*profiles.Package) (n int) {
	set := profiles.NewSet(pkgs...)
	var profs []*profiles.Resource
	orig := map[*profiles.Resource][]byte{}
	for _, p := range pkgs {
		for _, r := range p.Resources {
			if r.ResourceType == "StructureDefinition" && r.Derivation == "constraint" {
				orig[r] = r.Raw
				r.Raw = stripSnapshot(t, r.Raw)
				profs = append(profs, r)
			}
		}
	}
	out := map[*profiles.Resource][]byte{}
	gens := map[*profiles.Package]*snapshot.Generator{}
	for _, r := range profs {
		gen := gens[r.Package]
		if gen == nil {
			ctx, err := set.Context(r.Package.Ref())
			if err != nil {
				t.Fatal(err)
			}
			gen = snapshot.New(contextResolver(ctx))
			gens[r.Package] = gen
		}
		b, err := gen.Generate(r.Raw)
		if err != nil {
			// a base outside the shared packages (SDC, ATR): the published snapshot stays
			t.Logf("kept the published snapshot of %s: %v", r.URL, err)
			out[r] = orig[r]
			continue
		}
		out[r] = b
		n++
	}
	for r, b := range out {
		r.Raw = b
	}
	return n
}

// errorKeys are a result's error issues as "rule path", sorted.
func errorKeys(res validate.Result) []string {
	var out []string
	for _, e := range res.Issues.Errors() {
		out = append(out, e.Rule+" "+e.Path)
	}
	sort.Strings(out)
	return out
}

// TestExampleVerdictsWithRegeneratedSnapshots validates every official example of every shared
// package against the published snapshots and against regenerated ones: the error issues (rule
// and path) must be the same for every example of every package (1,213 when written).
func TestExampleVerdictsWithRegeneratedSnapshots(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every shared package twice")
	}
	published := sharedPackages(t, profiles.LoadOptions{Examples: true})
	regenerated := sharedPackages(t, profiles.LoadOptions{Examples: true})
	n := regenerateAll(t, regenerated)
	vp, err := validate.New(profiles.NewSet(published...), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vr, err := validate.New(profiles.NewSet(regenerated...), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	table := []string{fmt.Sprintf("%-45s %9s %9s", "package", "examples", "same")}
	for i, p := range published {
		q := regenerated[i]
		same, total := 0, 0
		rexs := map[string][]byte{}
		for _, ex := range q.Examples() {
			rexs[ex.Name] = ex.Raw
		}
		for _, ex := range p.Examples() {
			if strings.HasSuffix(ex.Name, ".index.json") || strings.HasSuffix(ex.Name, "package.json") {
				continue
			}
			total++
			opts := validate.ValidateOptions{IG: p.Ref()}
			a := errorKeys(vp.Validate(context.Background(), ex.Raw, opts))
			b := errorKeys(vr.Validate(context.Background(), rexs[ex.Name], opts))
			if strings.Join(a, "\n") == strings.Join(b, "\n") {
				same++
				continue
			}
			t.Errorf("%s %s: published snapshots give errors %v, regenerated ones %v", p.Ref(), ex.Name, a, b)
		}
		if total > 0 {
			table = append(table, fmt.Sprintf("%-45s %9d %9d", p.Ref(), total, same))
		}
	}
	t.Logf("%d profiles regenerated; example verdicts, published vs regenerated snapshots:\n%s", n, strings.Join(table, "\n"))
}
