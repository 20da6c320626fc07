package structure

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/profiles"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

func TestValidateReturnsDecodedValue(t *testing.T) {
	v := validator(t)
	root, issues := v.Validate([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"a"},"valueQuantity":{"value":1.50}}`))
	if len(issues) != 0 {
		t.Fatalf("issues: %v", issues)
	}
	obj := root.(map[string]any)
	if got := obj["valueQuantity"].(map[string]any)["value"]; got != json.Number("1.50") {
		t.Fatalf("value = %#v, want json.Number(\"1.50\") (precision kept)", got)
	}
}

func TestSyntaxErrorLocation(t *testing.T) {
	v := validator(t)
	root, issues := v.Validate([]byte("{\n  \"resourceType\": \"Patient\",\n  \"active\": tru\n}"))
	if root != nil || len(issues) != 1 || issues[0].Rule != RuleSyntax {
		t.Fatalf("got %v, %v", root, issues)
	}
	if want := "byte offset 43 (line 3, column 13)"; !strings.Contains(issues[0].Message, want) {
		t.Fatalf("message %q does not contain %q", issues[0].Message, want)
	}
}

func TestSizeLimit(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(set)
	if err != nil {
		t.Fatal(err)
	}
	v.MaxBytes = 1 << 20
	big := `{"resourceType":"Binary","contentType":"text/plain","data":"` + strings.Repeat("QUJD", 300_000) + `"}`
	root, issues := v.Validate([]byte(big))
	if root != nil || len(issues) != 1 || issues[0].Rule != RuleSize {
		t.Fatalf("got %v", issues)
	}
	v.MaxBytes = 0 // default
	if _, issues := v.Validate([]byte(big)); len(issues) != 0 {
		t.Fatalf("1.2 MB Binary under the default limit: %v", issues)
	}
}

// endless is an input that never ends: ValidateReader must stop at the limit.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestValidateReader(t *testing.T) {
	v := *validator(t)
	v.MaxBytes = 50 << 20 // a 50 MB limit, and a stream that goes beyond it
	root, issues, err := v.ValidateReader(endless{})
	if err != nil || root != nil || len(issues) != 1 || issues[0].Rule != RuleSize {
		t.Fatalf("endless input: %v %v %v", root, issues, err)
	}
	root, issues, err = v.ValidateReader(strings.NewReader(`{"resourceType":"Patient","active":true}`))
	if err != nil || root == nil || len(issues) != 0 {
		t.Fatalf("small input: %v %v %v", root, issues, err)
	}
}

func TestNewNeedsCore(t *testing.T) {
	if _, err := New(profiles.NewSet()); err == nil || !strings.Contains(err.Error(), "hl7.fhir.r4.core") {
		t.Fatalf("New(empty set) error = %v, want one naming hl7.fhir.r4.core", err)
	}
	if _, err := New(nil); err == nil {
		t.Fatal("New(nil) gave no error")
	}
}

func TestValidateValue(t *testing.T) {
	v := validator(t)
	dec := func(s string) any {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var x any
		if err := d.Decode(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	if is := v.ValidateValue(dec(`{"resourceType":"Patient","gender":"male"}`), "Patient"); len(is) != 0 {
		t.Errorf("valid patient: %v", is)
	}
	is := v.ValidateValue(dec(`{"resourceType":"Patient"}`), "Observation")
	if len(is) != 1 || is[0].Rule != RuleResourceType || is[0].Path != "Patient.resourceType" {
		t.Errorf("wrong type: %v", is)
	}
	is = v.ValidateValue(dec(`{"gender":"male"}`), "Patient")
	if len(is) != 1 || is[0].Rule != RuleResourceType || is[0].Path != "Patient" {
		t.Errorf("missing resourceType: %v", is)
	}
	is = v.ValidateValue(dec(`{"resourceType":"Patient","gender":"x y  z","foo":1}`), "")
	if len(is) != 2 {
		t.Errorf("decoded bad patient: %v", is)
	}
	// float64 (plain encoding/json) and odd Go values do not panic.
	if is := v.ValidateValue(map[string]any{"resourceType": "Patient", "multipleBirthInteger": 2.0}, ""); len(is) != 0 {
		t.Errorf("float64 integer: %v", is)
	}
	v.ValidateValue(map[string]any{"resourceType": "Patient", "gender": struct{}{}}, "")
	for _, odd := range []any{
		map[string]any{"resourceType": "Patient", "multipleBirthInteger": json.Number("abc")},
		map[string]any{"resourceType": "Observation", "valueQuantity": map[string]any{"value": json.Number("")}},
		map[string]any{"resourceType": "Patient", "name": []map[string]any{{"family": "x"}}},
		map[string]any{"resourceType": "Patient", "name": []any{map[string]string{"family": "x"}}},
		map[string]any{"resourceType": "Patient", "active": 1},
	} {
		for _, eng := range []*Validator{v, walkerOnly(t)} {
			if is := eng.ValidateValue(odd, ""); len(is) == 0 {
				t.Errorf("odd value %v: no issue", odd)
			}
		}
	}
	v.ValidateValue(nil, "")
	cyc := map[string]any{"resourceType": "Patient"}
	cyc["foo"] = cyc
	if is := v.ValidateValue(cyc, ""); len(is) != 1 || is[0].Rule != RuleDepth {
		t.Errorf("cyclic value: %v", is)
	}
}

func TestSchemaExport(t *testing.T) {
	b, err := validator(t).Schema()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Definitions["date"]["pattern"] == nil || doc.Definitions["Patient"]["additionalProperties"] != false {
		t.Fatalf("exported schema lacks patterns or closed objects")
	}
}

func TestConcurrentUse(t *testing.T) {
	v := validator(t)
	in := []byte(`{"resourceType":"Patient","name":[{"given":["A",""]}],"foo":1}`)
	done := make(chan int)
	for i := 0; i < 8; i++ {
		go func() {
			n := 0
			for j := 0; j < 50; j++ {
				_, is := v.Validate(in)
				n += len(is)
			}
			done <- n
		}()
	}
	for i := 0; i < 8; i++ {
		if n := <-done; n != 100 {
			t.Fatalf("goroutine saw %d issues, want 100", n)
		}
	}
}

// FuzzValidate: no input panics; a decoded root comes with no json-syntax issue.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{}]}]}`,
		`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","contained":[{"resourceType":"X"}]}}]}`,
		`{"resourceType":"Observation","valueFoo":1,"valueString":"","_valueString":[1]}`, `"\ud800"`, `{"a":1,"a":2}`,
		`{"resourceType":"Patient","multipleBirthInteger":1e999}`, "\xef\xbb\xbf{}", `[[[[[[`, `-0.0e+1`} {
		f.Add([]byte(s))
	}
	v := validator(f)
	wv := walkerOnly(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		diffEngines(t, v, wv, "fuzz input", b)
		root, issues := v.Validate(b)
		for _, is := range issues {
			if is.Rule == RuleSyntax && root != nil {
				t.Fatalf("root decoded despite a syntax error: %v", is)
			}
			if is.Message == "" || is.Rule == "" {
				t.Fatalf("issue without rule or message: %+v", is)
			}
		}
	})
}

// TestExportedSchemaStandalone: the exported schema works in a plain draft-07 validator (no
// pacheck extension or formats): official examples pass, broken ones fail.
func TestExportedSchemaStandalone(t *testing.T) {
	b, err := validator(t).Schema()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource("schema.json", bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := func(s string) any {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var x any
		if err := d.Decode(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, ok := range []string{
		`{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"id":"x"}]}],"birthDate":"1970"}`,
		`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"a"},"valueQuantity":{"value":1}}}]}`,
	} {
		if err := sch.Validate(dec(ok)); err != nil {
			t.Errorf("valid input rejected: %s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		`{"resourceType":"Patient","birthDate":"1970-13"}`,
		`{"resourceType":"Patient","foo":1}`,
		`{"resourceType":"Nope"}`,
		`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","gender":1}}]}`,
	} {
		if err := sch.Validate(dec(bad)); err == nil {
			t.Errorf("invalid input accepted: %s", bad)
		}
	}
}
