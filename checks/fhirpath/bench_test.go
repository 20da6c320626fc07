package fhirpath

import (
	"context"
	"os"
	"testing"

	"github.com/pacheck/pacheck/internal/shared"
)

// A typical invariant set: ele-1 and dom-2..dom-6 from R4 core plus US Core style checks.
var benchInvariants = []string{
	"hasValue() or (children().count() > id.count())",
	"contained.contained.empty()",
	"contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
	"contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
	"contained.meta.security.empty()",
	"text.`div`.exists()",
	"name.all(family.exists() or given.exists() or extension.exists())",
	"identifier.all(system.exists() and value.exists())",
	"telecom.where(system = 'phone').value.all(matches('^[0-9()+ -]+$'))",
	"birthDate.empty() or birthDate <= today()",
	"(name.where(use = 'official').exists()) implies name.where(use = 'official').family.exists()",
	"gender.empty() or gender.memberOf('http://hl7.org/fhir/ValueSet/administrative-gender')",
}

func benchPatient(b *testing.B) any {
	p := shared.Require(b, "fhirpath-tests/json/patient-example.json")
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	v, err := DecodeJSON(data)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkInvariantSet reports invariant evaluations per second on the official example Patient.
func BenchmarkInvariantSet(b *testing.B) {
	patient := benchPatient(b)
	exprs := make([]*Expression, len(benchInvariants))
	for i, s := range benchInvariants {
		exprs[i] = MustCompile(s)
	}
	env := &Env{Resource: patient, MemberOf: func(context.Context, any, string) (bool, error) { return true, nil }}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, e := range exprs {
			if _, err := e.Evaluate(ctx, patient, env); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(exprs))/b.Elapsed().Seconds(), "exprs/s")
}

// BenchmarkSimplePath is the hot path of search checks: a short navigation and comparison.
func BenchmarkSimplePath(b *testing.B) {
	patient := benchPatient(b)
	e := MustCompile("Patient.name.where(use = 'official').given.first() = 'Peter'")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Evaluate(ctx, patient, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exprs/s")
}

func BenchmarkCompileCached(b *testing.B) {
	var c Cache
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.Compile(benchInvariants[i%len(benchInvariants)]); err != nil {
			b.Fatal(err)
		}
	}
}
