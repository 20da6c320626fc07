package structure

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func decodeJSONTree(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad JSON twin: %v", err)
	}
	return m
}

// TestDecodeXML: each FHIR XML resource (written for this test after the R4 XML rules) converts
// to exactly the tree of its JSON twin.
func TestDecodeXML(t *testing.T) {
	v := validator(t)
	for _, tc := range []struct{ name, xml, json string }{
		{"primitives, arrays, attributes, extensions, narrative, contained",
			`<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<Patient xmlns="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://hl7.org/fhir patient.xsd">
  <id value="p1"/>
  <meta><profile value="http://example.org/a"/><profile value="http://example.org/b"/></meta>
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Jo &amp; <b>Doe</b></p></div></text>
  <contained><Organization><id value="o1"/><name value="Acme"/></Organization></contained>
  <extension url="http://example.org/ext"><extension url="a"><valueCoding><system value="urn:x"/><code value="c"/></valueCoding></extension></extension>
  <active value="true"/>
  <name id="n1"><family value="Doe"/><given value="Jo"/><given><extension url="http://example.org/x"><valueString value="y"/></extension></given></name>
  <gender value="female"/>
  <birthDate id="b1" value="1980-02-03"/>
  <multipleBirthInteger value="2"/>
  <managingOrganization><reference value="#o1"/></managingOrganization>
</Patient>`,
			`{"resourceType":"Patient","id":"p1","meta":{"profile":["http://example.org/a","http://example.org/b"]},
"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Jo &amp; <b>Doe</b></p></div>"},
"contained":[{"resourceType":"Organization","id":"o1","name":"Acme"}],
"extension":[{"url":"http://example.org/ext","extension":[{"url":"a","valueCoding":{"system":"urn:x","code":"c"}}]}],
"active":true,"name":[{"id":"n1","family":"Doe","given":["Jo",null],"_given":[null,{"extension":[{"url":"http://example.org/x","valueString":"y"}]}]}],
"gender":"female","birthDate":"1980-02-03","_birthDate":{"id":"b1"},"multipleBirthInteger":2,"managingOrganization":{"reference":"#o1"}}`},
		{"decimal keeps its digits; a bad boolean stays a string",
			`<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="x"/></code><valueQuantity><value value="1.50"/><unit value="mg"/></valueQuantity><component><code><text value="y"/></code><valueBoolean value="yes"/></component></Observation>`,
			`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mg"},"component":[{"code":{"text":"y"},"valueBoolean":"yes"}]}`},
		{"bundle entries hold resources",
			`<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry><fullUrl value="urn:uuid:2b1c7a3e-0000-4000-8000-000000000001"/><resource><Patient><gender value="male"/></Patient></resource></entry></Bundle>`,
			`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:2b1c7a3e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","gender":"male"}}]}`},
		{"an unknown element is carried over",
			`<Patient xmlns="http://hl7.org/fhir"><foo value="1"/><bar><baz value="2"/></bar></Patient>`,
			`{"resourceType":"Patient","foo":"1","bar":{"baz":"2"}}`},
		{"a primitive with only an extension",
			`<Patient xmlns="http://hl7.org/fhir"><birthDate><extension url="http://hl7.org/fhir/StructureDefinition/data-absent-reason"><valueCode value="unknown"/></extension></birthDate></Patient>`,
			`{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.DecodeXML([]byte(tc.xml))
			if err != nil {
				t.Fatal(err)
			}
			if want := decodeJSONTree(t, tc.json); !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Fatalf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func TestDecodeXMLRefusals(t *testing.T) {
	v := validator(t)
	for _, tc := range []struct{ xml, want string }{
		{`<Patient><gender value="male"/></Patient>`, "not in the FHIR namespace"},
		{`<Spaceship xmlns="http://hl7.org/fhir"/>`, "not an R4 resource type"},
		{`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"/>`, "DTD"},
		{`<Patient xmlns="http://hl7.org/fhir"><gender value="male"></Patient>`, "not well-formed"},
		{`<Patient xmlns="http://hl7.org/fhir"><gender value="male"/>`, "end of file"},
		{`<Patient xmlns="http://hl7.org/fhir">hello</Patient>`, "holds text"},
		{`<Patient xmlns="http://hl7.org/fhir"><gender value="male" color="red"/></Patient>`, "unexpected attribute color"},
		{`<Patient xmlns="http://hl7.org/fhir"><contained><Spaceship/></contained></Patient>`, "not an R4 resource type"},
		{`<Patient xmlns="http://hl7.org/fhir"/><Patient xmlns="http://hl7.org/fhir"/>`, "more than one root"},
		{strings.Repeat(`<extension url="x">`, 300), "nest deeper"},
		{"", "no root element"},
	} {
		_, err := v.DecodeXML([]byte(tc.xml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60s: got %v, want %q", tc.xml, err, tc.want)
		}
	}
}

func FuzzDecodeXML(f *testing.F) {
	f.Add([]byte(`<Patient xmlns="http://hl7.org/fhir"><name><given value="a"/></name></Patient>`))
	f.Add([]byte(`<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient/></resource></entry></Bundle>`))
	v := validator(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := v.DecodeXML(b); err == nil {
			if _, err := json.Marshal(m); err != nil {
				t.Fatalf("converted tree does not marshal: %v", err)
			}
			v.ValidateValue(m, "")
		}
	})
}
