package fhirpath_test

import (
	"context"
	"fmt"

	"github.com/pacheck/pacheck/checks/fhirpath"
)

func Example() {
	resource, err := fhirpath.DecodeJSON([]byte(`{"resourceType":"Patient","id":"p1",
		"name":[{"use":"official","family":"Chalmers","given":["Peter","James"]}],
		"birthDate":"1974-12-25"}`))
	if err != nil {
		panic(err)
	}
	var cache fhirpath.Cache
	e, err := cache.Compile("name.where(use = 'official').given.first() & ' ' & name.family")
	if err != nil {
		panic(err)
	}
	res, err := e.Evaluate(context.Background(), resource, &fhirpath.Env{Resource: resource})
	if err != nil {
		panic(err)
	}
	out, _ := fhirpath.FormatJSON(res)
	fmt.Println(string(out))

	inv := fhirpath.MustCompile("birthDate.empty() or birthDate <= today()")
	res, _ = inv.Evaluate(context.Background(), resource, nil)
	ok, known, err := res.Bool()
	fmt.Println(ok, known, err)
	// Output:
	// [{"type":"string","value":"Peter Chalmers"}]
	// true true <nil>
}
