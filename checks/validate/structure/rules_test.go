package structure

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

type want struct{ rule, path string }

func (w want) String() string { return w.rule + " @ " + w.path }

func got(t *testing.T, v *Validator, in string) []want {
	t.Helper()
	_, issues := v.Validate([]byte(in))
	var out []want
	for _, is := range issues {
		if is.Message == "" {
			t.Errorf("issue without message: %v", is)
		}
		out = append(out, want{is.Rule, is.Path})
	}
	return out
}

func sameWants(a, b []want) bool {
	if len(a) != len(b) {
		return false
	}
	as := fmt.Sprint(sortedWants(a))
	return as == fmt.Sprint(sortedWants(b))
}

func sortedWants(ws []want) []string {
	var s []string
	for _, w := range ws {
		s = append(s, w.String())
	}
	sort.Strings(s)
	return s
}

// TestRules: each bad input gives exactly the expected findings (rule and path), once each.
func TestRules(t *testing.T) { testRules(t, validator(t)) }

func testRules(t *testing.T, v *Validator) {
	pat := func(body string) string { return `{"resourceType":"Patient",` + body + `}` }
	obs := func(body string) string {
		return `{"resourceType":"Observation","status":"final","code":{"text":"x"},` + body + `}`
	}
	cases := []struct {
		name string
		in   string
		want []want
	}{
		{"valid patient", pat(`"id":"p1","active":true,"name":[{"family":"F","given":["A","B"]}],"birthDate":"1970-01-02","multipleBirthInteger":2`), nil},
		{"valid primitive arrays with nulls", pat(`"name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"http://x","valueString":"y"}]}]}]`), nil},
		{"valid extension only primitive", pat(`"_birthDate":{"extension":[{"url":"http://x","valueDateTime":"2020-01-01T10:00:00Z"}]}`), nil},
		{"valid contained and choice", obs(`"contained":[{"resourceType":"Patient","id":"p"}],"valueQuantity":{"value":1.5,"unit":"mg"},"subject":{"reference":"#p"}`), nil},

		// parser
		{"syntax: truncated", `{"resourceType":"Patient","name":[`, []want{{RuleSyntax, ""}}},
		{"syntax: trailing comma", `{"resourceType":"Patient",}`, []want{{RuleSyntax, ""}}},
		{"syntax: not JSON", `hello`, []want{{RuleSyntax, ""}}},
		{"syntax: empty input", ``, []want{{RuleSyntax, ""}}},
		{"syntax: trailing garbage", pat(`"id":"a"`) + ` x`, []want{{RuleSyntax, ""}}},
		{"duplicate key", pat(`"active":true,"active":false`), []want{{RuleDuplicateKey, "Patient.active"}}},
		{"duplicate key nested", pat(`"name":[{"family":"a"},{"family":"a","family":"b"}]`), []want{{RuleDuplicateKey, "Patient.name[1].family"}}},
		{"invalid utf-8", "{\"resourceType\":\"Patient\",\"id\":\"a\",\"gender\":\"m\xffle\"}", []want{{RuleEncoding, "Patient.gender"}}},
		{"top level array", `[{"resourceType":"Patient"}]`, []want{{RuleNotResource, ""}}},
		{"top level string", `"Patient"`, []want{{RuleNotResource, ""}}},
		{"too deep", strings.Repeat("[", 300) + strings.Repeat("]", 300), []want{{RuleDepth, ""}}},

		// resourceType
		{"resourceType missing", `{"id":"a"}`, []want{{RuleResourceType, ""}}},
		{"resourceType unknown", `{"resourceType":"Patientt","id":"a"}`, []want{{RuleResourceType, "Patientt.resourceType"}}},
		{"resourceType abstract", `{"resourceType":"DomainResource"}`, []want{{RuleResourceType, "DomainResource.resourceType"}}},
		{"resourceType not a string", `{"resourceType":1}`, []want{{RuleResourceType, "resourceType"}}},
		{"contained resourceType not a string", pat(`"contained":[{"resourceType":[]}]`), []want{{RuleResourceType, "Patient.contained[0].resourceType"}}},
		{"contained unknown type", pat(`"contained":[{"resourceType":"Foo","id":"x"}]`), []want{{RuleResourceType, "Patient.contained[0].resourceType"}}},
		{"contained missing type", pat(`"contained":[{"id":"x"}]`), []want{{RuleResourceType, "Patient.contained[0]"}}},
		{"contained not an object", pat(`"contained":["x"]`), []want{{RuleType, "Patient.contained[0]"}}},
		{"bundle entry unknown type", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Nope"}}]}`, []want{{RuleResourceType, "Bundle.entry[0].resource.resourceType"}}},
		{"bundle entry bad content", `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","gender":1}}]}`, []want{{RuleType, "Bundle.entry[0].resource.gender"}}},
		{"bundle fullUrl type mismatch", `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x/fhir/Observation/1","resource":{"resourceType":"Patient"}}]}`, []want{{RuleResourceType, "Bundle.entry[0].fullUrl"}}},

		// unknown properties
		{"unknown property", pat(`"foo":1`), []want{{RuleUnknown, "Patient.foo"}}},
		{"unknown nested", pat(`"name":[{"family":"a","middle":"b"}]`), []want{{RuleUnknown, "Patient.name[0].middle"}}},
		{"unknown in backbone", pat(`"contact":[{"name":{"family":"a"},"email":"x"}]`), []want{{RuleUnknown, "Patient.contact[0].email"}}},
		{"unknown in extension", pat(`"extension":[{"url":"http://x","valueString":"a","foo":true}]`), []want{{RuleUnknown, "Patient.extension[0].foo"}}},
		{"unknown inside _x", pat(`"_birthDate":{"extension":[{"url":"http://x","valueCode":"a"}],"foo":1}`), []want{{RuleUnknown, "Patient.birthDate.foo"}}},
		{"unknown _ property", pat(`"_foo":{"id":"a"}`), []want{{RuleUnknown, "Patient._foo"}}},
		{"unknown in contained", pat(`"contained":[{"resourceType":"Observation","status":"final","code":{"text":"a"},"bogus":1}]`), []want{{RuleUnknown, "Patient.contained[0].bogus"}}},
		{"case matters", pat(`"BirthDate":"1970"`), []want{{RuleUnknown, "Patient.BirthDate"}}},

		// JSON types
		{"string where boolean", pat(`"active":"true"`), []want{{RuleType, "Patient.active"}}},
		{"number where string", pat(`"gender":1`), []want{{RuleType, "Patient.gender"}}},
		{"decimal as string", obs(`"valueQuantity":{"value":"1.5"}`), []want{{RuleType, "Observation.valueQuantity.value"}}},
		{"integer non-whole", pat(`"multipleBirthInteger":1.5`), []want{{RuleType, "Patient.multipleBirthInteger"}}},
		{"integer with fraction", pat(`"multipleBirthInteger":2.0`), []want{{RuleType, "Patient.multipleBirthInteger"}}},
		{"integer with exponent", pat(`"multipleBirthInteger":1e2`), []want{{RuleType, "Patient.multipleBirthInteger"}}},
		{"integer as string", pat(`"multipleBirthInteger":"2"`), []want{{RuleType, "Patient.multipleBirthInteger"}}},
		{"array where single", pat(`"gender":["male"]`), []want{{RuleType, "Patient.gender"}}},
		{"single where array", pat(`"name":{"family":"a"}`), []want{{RuleType, "Patient.name"}}},
		{"single where array primitive", pat(`"name":[{"given":"A"}]`), []want{{RuleType, "Patient.name[0].given"}}},
		{"object where primitive", pat(`"birthDate":{"value":"1970"}`), []want{{RuleType, "Patient.birthDate"}}},
		{"string where object", pat(`"maritalStatus":"M"`), []want{{RuleType, "Patient.maritalStatus"}}},
		{"null single", pat(`"birthDate":null`), []want{{RuleType, "Patient.birthDate"}}},
		{"null in complex array", pat(`"name":[null]`), []want{{RuleType, "Patient.name[0]"}}},
		{"_x not an object", pat(`"birthDate":"1970","_birthDate":"x"`), []want{{RuleType, "Patient._birthDate"}}},

		// primitive formats
		{"date bad month", pat(`"birthDate":"1970-13-01"`), []want{{RuleFormat, "Patient.birthDate"}}},
		{"date with time", pat(`"birthDate":"1970-01-01T10:00:00Z"`), []want{{RuleFormat, "Patient.birthDate"}}},
		{"dateTime without timezone", pat(`"deceasedDateTime":"2020-01-01T10:00:00"`), []want{{RuleFormat, "Patient.deceasedDateTime"}}},
		{"dateTime ok partial", pat(`"deceasedDateTime":"2020-01"`), nil},
		{"instant without seconds", obs(`"issued":"2020-01-01T10:00Z"`), []want{{RuleFormat, "Observation.issued"}}},
		{"instant date only", obs(`"issued":"2020-01-01"`), []want{{RuleFormat, "Observation.issued"}}},
		{"time bad", obs(`"valueTime":"25:00:00"`), []want{{RuleFormat, "Observation.valueTime"}}},
		{"resource id with space", `{"resourceType":"Patient","id":"a b"}`, []want{{RuleFormat, "Patient.id"}}},
		{"resource id too long", `{"resourceType":"Patient","id":"` + strings.Repeat("a", 65) + `"}`, []want{{RuleFormat, "Patient.id"}}},
		{"contained id bad", pat(`"contained":[{"resourceType":"Patient","id":"#p"}]`), []want{{RuleFormat, "Patient.contained[0].id"}}},
		{"element id is a plain string", pat(`"name":[{"id":"a b","family":"x"}]`), nil},
		{"id type bad", pat(`"extension":[{"url":"http://x","valueId":"a b"}]`), []want{{RuleFormat, "Patient.extension[0].valueId"}}},
		{"code with double space", pat(`"gender":"ma  le"`), []want{{RuleFormat, "Patient.gender"}}},
		{"uri with space", pat(`"implicitRules":"http://a b"`), []want{{RuleFormat, "Patient.implicitRules"}}},
		{"oid bad", pat(`"extension":[{"url":"http://x","valueOid":"1.2.3"}]`), []want{{RuleFormat, "Patient.extension[0].valueOid"}}},
		{"uuid bad", pat(`"extension":[{"url":"http://x","valueUuid":"urn:uuid:XYZ"}]`), []want{{RuleFormat, "Patient.extension[0].valueUuid"}}},
		{"base64 bad", pat(`"photo":[{"data":"abc$"}]`), []want{{RuleFormat, "Patient.photo[0].data"}}},
		{"positiveInt zero", pat(`"extension":[{"url":"http://x","valuePositiveInt":0}]`), []want{{RuleFormat, "Patient.extension[0].valuePositiveInt"}}},
		{"unsignedInt negative", pat(`"extension":[{"url":"http://x","valueUnsignedInt":-1}]`), []want{{RuleFormat, "Patient.extension[0].valueUnsignedInt"}}},
		{"integer out of range", pat(`"multipleBirthInteger":2147483648`), []want{{RuleFormat, "Patient.multipleBirthInteger"}}},
		{"format in array", pat(`"name":[{"given":["A","B"],"period":{"start":"2020-1-1"}}]`), []want{{RuleFormat, "Patient.name[0].period.start"}}},

		{"control character in string", pat(`"name":[{"text":"a\u0001b"}]`), []want{{RuleFormat, "Patient.name[0].text"}}},
		{"tab and newline fine", pat(`"name":[{"text":"a\tb\nc\r"}]`), nil},
		{"control character late in a long string", pat(`"name":[{"text":"abcdefghijklmnopqrstuvwxyz\u001f"}]`), []want{{RuleFormat, "Patient.name[0].text"}}},

		// empty
		{"empty string", pat(`"gender":""`), []want{{RuleEmpty, "Patient.gender"}}},
		{"empty string in array", pat(`"name":[{"given":["A",""]}]`), []want{{RuleEmpty, "Patient.name[0].given[1]"}}},
		{"empty array", pat(`"name":[]`), []want{{RuleEmpty, "Patient.name"}}},
		{"empty object", pat(`"maritalStatus":{}`), []want{{RuleEmpty, "Patient.maritalStatus"}}},
		{"empty object in array", pat(`"name":[{}]`), []want{{RuleEmpty, "Patient.name[0]"}}},
		{"empty _x", pat(`"birthDate":"1970","_birthDate":{}`), []want{{RuleEmpty, "Patient._birthDate"}}},
		{"ele-1 id only", pat(`"maritalStatus":{"id":"a"}`), []want{{RuleEmpty, "Patient.maritalStatus"}}},
		{"ele-1 _x id only without value", pat(`"_birthDate":{"id":"a"}`), []want{{RuleEmpty, "Patient._birthDate"}}},
		{"_x id only with value is fine", pat(`"birthDate":"1970","_birthDate":{"id":"a"}`), nil},

		// choice types
		{"choice type not permitted", obs(`"valueFoo":"x"`), []want{{RuleChoice, "Observation.valueFoo"}}},
		{"choice type not allowed here", pat(`"deceasedString":"yes"`), []want{{RuleChoice, "Patient.deceasedString"}}},
		{"choice _ not permitted", obs(`"_valueFoo":{"extension":[{"url":"http://x","valueBoolean":true}]}`), []want{{RuleChoice, "Observation._valueFoo"}}},
		{"two choice variants", obs(`"valueString":"a","valueBoolean":true`), []want{{RuleChoice, "Observation.valueString"}}},
		{"choice variant and sibling ok", obs(`"valueString":"a","_valueString":{"id":"x"}`), nil},
		{"choice in extension ok", pat(`"extension":[{"url":"http://x","valueCodeableConcept":{"text":"a"}}]`), nil},

		// _element companions
		{"_x on complex element", pat(`"_maritalStatus":{"id":"a"}`), []want{{RuleSibling, "Patient._maritalStatus"}}},
		{"arrays of unequal length", pat(`"name":[{"given":["A","B"],"_given":[{"id":"a"}]}]`), []want{{RuleSibling, "Patient.name[0]._given"}}},
		{"null without companion", pat(`"name":[{"given":["A",null]}]`), []want{{RuleSibling, "Patient.name[0].given[1]"}}},
		{"null in both", pat(`"name":[{"given":["A",null],"_given":[null,null]}]`), []want{{RuleSibling, "Patient.name[0].given[1]"}}},
		{"null _ without values", pat(`"name":[{"_given":[null]}]`), []want{{RuleSibling, "Patient.name[0]._given[0]"}}},
		{"_x array content checked", pat(`"name":[{"given":["A"],"_given":[{"extension":[{"url":"http://x","valueDate":"2020-99"}]}]}]`), []want{{RuleFormat, "Patient.name[0].given[0].extension[0].valueDate"}}},
		{"_x single where array", pat(`"name":[{"given":["A"],"_given":{"id":"a"}}]`), []want{{RuleType, "Patient.name[0]._given"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := got(t, v, c.in)
			if !sameWants(g, c.want) {
				t.Errorf("input %s\n got  %v\n want %v", c.in, sortedWants(g), sortedWants(c.want))
			}
		})
	}
}

func TestIssueElementIDs(t *testing.T) {
	v := validator(t)
	cases := []struct{ in, path, profile, id string }{
		{`{"resourceType":"Patient","name":[{"given":["a",""]}]}`, "Patient.name[0].given[1]", "http://hl7.org/fhir/StructureDefinition/HumanName", "HumanName.given"},
		{`{"resourceType":"Patient","contact":[{"gender":"x  y"}]}`, "Patient.contact[0].gender", "http://hl7.org/fhir/StructureDefinition/Patient", "Patient.contact.gender"},
		{`{"resourceType":"Patient","foo":1}`, "Patient.foo", "http://hl7.org/fhir/StructureDefinition/Patient", "Patient"},
		{`{"resourceType":"Patient","contained":[{"resourceType":"Observation","valueFoo":1}]}`, "Patient.contained[0].valueFoo", "http://hl7.org/fhir/StructureDefinition/Observation", "Observation.value[x]"},
		{`{"resourceType":"Patient","name":[{"given":["a"],"_given":[{"extension":[{"url":"u","valueCode":" x"}]}]}]}`, "Patient.name[0].given[0].extension[0].valueCode", "http://hl7.org/fhir/StructureDefinition/Extension", "Extension.value[x]"},
		{`{"resourceType":"Patient","contained":[{"resourceType":"Observation","valueTime":"x"}]}`, "Patient.contained[0].valueTime", "http://hl7.org/fhir/StructureDefinition/Observation", "Observation.value[x]"},
		{`{"resourceType":"Patient","birthDate":"1970","_birthDate":{"extension":[{"url":"u","valueDate":"x"}]}}`, "Patient.birthDate.extension[0].valueDate", "http://hl7.org/fhir/StructureDefinition/Extension", "Extension.value[x]"},
	}
	for _, c := range cases {
		for _, eng := range []*Validator{v, walkerOnly(t)} {
			_, is := eng.Validate([]byte(c.in))
			if len(is) != 1 || is[0].Path != c.path || is[0].Profile != c.profile || is[0].ElementID != c.id {
				t.Errorf("%s: got %+v, want path %s profile %s element %s", c.in, is, c.path, c.profile, c.id)
			}
		}
	}
}
