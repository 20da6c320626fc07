package validate

import (
	"context"
	"slices"
	"testing"

	"github.com/pacheck/pacheck/profiles"
)

// The jsonschema/v5 engine and the default walker must report the same structural findings.
func TestJSONSchemaOptionAgrees(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(`{"resourceType":"Patient","id":"x","birthDate":"1990-13-45","foo":1,"active":"yes","name":[{"family":""}]}`)
	rules := func(o Options) []string {
		v, err := New(set, o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, i := range v.Validate(context.Background(), raw, ValidateOptions{}).Issues.Errors() {
			out = append(out, i.Rule+"@"+i.Path)
		}
		slices.Sort(out)
		return out
	}
	walker, schema := rules(Options{}), rules(Options{JSONSchema: true})
	if !slices.Equal(walker, schema) || len(walker) < 4 {
		t.Fatalf("walker %v\nschema %v: want the same four or more findings", walker, schema)
	}
}
