package structure

import (
	"bytes"
	"encoding/json"
	"syscall"
	"testing"
	"time"

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

// perSecond reports wall-clock throughput and, since the machine may be shared, throughput per
// CPU-second of this process (user+system, all threads including GC): resources/cpu-s is the
// per-core figure.
func perSecond(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "resources/s")
	if d := cpuTime() - cpu0; d > 0 {
		b.ReportMetric(float64(n*b.N)/d.Seconds(), "resources/cpu-s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkValidate is the whole structural layer: parse + walker + schema.
func BenchmarkValidate(b *testing.B) {
	v := validator(b)
	if err := v.Prepare(); err != nil { // compile the schema outside the timed loop
		b.Fatal(err)
	}
	raws, _ := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, r := range raws {
			v.Validate(r)
		}
	}
	perSecond(b, len(raws), cpu0)
}

// BenchmarkValidateWalkerEngine is the whole layer with EngineWalker (no jsonschema/v5).
func BenchmarkValidateWalkerEngine(b *testing.B) {
	v := walkerOnly(b)
	raws, _ := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, r := range raws {
			v.Validate(r)
		}
	}
	perSecond(b, len(raws), cpu0)
}

// BenchmarkWalkerFull is the walker alone checking every rule (EngineWalker), on decoded resources.
func BenchmarkWalkerFull(b *testing.B) {
	v := validator(b)
	_, vals := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, val := range vals {
			w := &walker{m: v.core.m, limit: DefaultMaxDepth, full: true}
			w.resource(val, "")
		}
	}
	perSecond(b, len(vals), cpu0)
}

// BenchmarkParse is the JSON parser alone (duplicate keys, UTF-8, depth).
func BenchmarkParse(b *testing.B) {
	keys := validator(b).core.m.keys
	raws, _ := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, r := range raws {
			parseJSONKeys(r, DefaultMaxDepth, keys)
		}
	}
	perSecond(b, len(raws), cpu0)
}

// BenchmarkEncodingJSON is encoding/json (UseNumber) on the same corpus, for reference.
func BenchmarkEncodingJSON(b *testing.B) {
	raws, _ := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, r := range raws {
			d := json.NewDecoder(bytes.NewReader(r))
			d.UseNumber()
			var v any
			_ = d.Decode(&v)
		}
	}
	perSecond(b, len(raws), cpu0)
}

// BenchmarkWalker is the Go walker alone, on decoded resources.
func BenchmarkWalker(b *testing.B) {
	v := validator(b)
	_, vals := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, val := range vals {
			w := &walker{m: v.core.m, limit: DefaultMaxDepth}
			w.resource(val, "")
		}
	}
	perSecond(b, len(vals), cpu0)
}

// BenchmarkSchema is jsonschema/v5 alone with the generated schema, on decoded resources.
func BenchmarkSchema(b *testing.B) {
	v := validator(b)
	comp, err := v.core.schema()
	if err != nil {
		b.Fatal(err)
	}
	_, vals := corpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, val := range vals {
			_ = comp.byType[val["resourceType"].(string)].Validate(val)
		}
	}
	perSecond(b, len(vals), cpu0)
}

// BenchmarkStartModel is the start-up cost of New (EngineWalker needs nothing more): build the
// model from the embedded R4 core StructureDefinitions (done once per process; uncached here).
func BenchmarkStartModel(b *testing.B) {
	set, err := profiles.Embedded()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := buildModel(set); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartSchema is the extra start-up cost of EngineSchema: generate and compile the
// JSON schema with jsonschema/v5.
func BenchmarkStartSchema(b *testing.B) {
	m := validator(b).core.m
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.compile(); err != nil {
			b.Fatal(err)
		}
	}
}
