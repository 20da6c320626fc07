package structure

import (
	"testing"
	"time"

	"github.com/pacheck/pacheck/profiles"
)

func TestQuickSmoke(t *testing.T) {
	t0 := time.Now()
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	m, err := buildModel(set)
	if err != nil {
		t.Fatal(err)
	}
	t2 := time.Now()
	doc, _ := m.schemaJSON()
	c, err := m.compile()
	if err != nil {
		t.Fatal(err)
	}
	t3 := time.Now()
	t.Logf("embedded %v model %v compile %v schema %d bytes, %d types %d resources", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), len(doc), len(m.types), len(c.byType))
	v, err := New(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{`{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"id":"x"}]}],"birthDate":"2020-13","foo":1,"gender":1,"valueFoo":2,"contained":[{"resourceType":"Observation","valueString":"x","valueBoolean":true,"status":"","code":{}}]}`} {
		_, is := v.Validate([]byte(in))
		for _, i := range is {
			t.Log(i.String(), "|", i.Diagnostics)
		}
	}
}
