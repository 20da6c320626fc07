package structure

import (
	"testing"

	"github.com/pacheck/pacheck/internal/shared"
	"github.com/pacheck/pacheck/profiles"
)

// corpus returns the US Core 6.1.0 example resources (raw and decoded).
func corpus(b *testing.B) ([][]byte, []map[string]any) {
	b.Helper()
	file := shared.Require(b, "fhir-packages/hl7.fhir.us.core-6.1.0.tgz")
	p, err := profiles.Load(file, profiles.LoadOptions{Examples: true})
	if err != nil {
		b.Fatal(err)
	}
	var raws [][]byte
	var vals []map[string]any
	for _, ex := range p.Examples() {
		v, _, serr := parseJSON(ex.Raw, DefaultMaxDepth)
		obj, ok := v.(map[string]any)
		if serr != nil || !ok || obj["resourceType"] == nil {
			continue
		}
		raws = append(raws, ex.Raw)
		vals = append(vals, obj)
	}
	if len(raws) == 0 {
		b.Skip("no examples")
	}
	return raws, vals
}

func perSecond(b *testing.B, n int) {
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "resources/s")
}

// BenchmarkValidate is the whole structural layer: parse + walker + schema.
func BenchmarkValidate(b *testing.B) {
	v := validator(b)
	raws, _ := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range raws {
			v.Validate(r)
		}
	}
	perSecond(b, len(raws))
}

// BenchmarkParse is the JSON parser alone (duplicate keys, UTF-8, depth).
func BenchmarkParse(b *testing.B) {
	raws, _ := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range raws {
			parseJSON(r, DefaultMaxDepth)
		}
	}
	perSecond(b, len(raws))
}

// BenchmarkWalker is the Go walker alone, on decoded resources.
func BenchmarkWalker(b *testing.B) {
	v := validator(b)
	_, vals := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, val := range vals {
			w := &walker{m: v.core.m, limit: DefaultMaxDepth}
			w.resource(val, "")
		}
	}
	perSecond(b, len(vals))
}

// BenchmarkSchema is jsonschema/v5 alone with the generated schema, on decoded resources.
func BenchmarkSchema(b *testing.B) {
	v := validator(b)
	_, vals := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, val := range vals {
			_ = v.core.c.byType[val["resourceType"].(string)].Validate(val)
		}
	}
	perSecond(b, len(vals))
}

// BenchmarkNew is the start-up cost: build the model from the embedded R4 core SDs and compile
// the schema (done once per process; measured here without the cache).
func BenchmarkNew(b *testing.B) {
	set, err := profiles.Embedded()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := buildModel(set)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.compile(); err != nil {
			b.Fatal(err)
		}
	}
}
