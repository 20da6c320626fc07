package validate

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// xmlPatient and jsonPatient are the same US Core patient (race ombCategory, a bad gender, an
// unknown element), written for this test in R4 XML and in JSON.
const xmlPatient = `<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <meta><profile value="http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"/></meta>
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">Jo Doe</div></text>
  <extension url="http://hl7.org/fhir/us/core/StructureDefinition/us-core-race">
    <extension url="ombCategory"><valueCoding><system value="urn:oid:2.16.840.1.113883.6.238"/><code value="2108-9"/></valueCoding></extension>
    <extension url="text"><valueString value="x"/></extension>
  </extension>
  <identifier><system value="http://example.org/mrn"/><value value="1"/></identifier>
  <name><family value="Doe"/><given value="Jo"/></name>
  <gender value="robot"/>
  <colour value="blue"/>
  <birthDate value="1980-2-3"/>
</Patient>`

const jsonPatient = `{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Jo Doe</div>"},
"extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":"2108-9"}},{"url":"text","valueString":"x"}]}],
"identifier":[{"system":"http://example.org/mrn","value":"1"}],"name":[{"family":"Doe","given":["Jo"]}],"gender":"robot","colour":"blue","birthDate":"1980-2-3"}`

// TestCLIXMLInput: FHIR XML (*.xml, or XML content in any file) is converted and validated as
// its JSON twin would be: the same issues at the same paths. XML that cannot be converted is
// that input's error, in one line naming the file and saying to convert it to JSON.
func TestCLIXMLInput(t *testing.T) {
	dir := t.TempDir()
	x := write(t, dir, "pat.xml", xmlPatient)
	j := write(t, dir, "pat.json", jsonPatient)
	results := func(p string) []FileResult {
		code, out, errs := runCLI(t, "--format", "json", "--ig", "hl7.fhir.us.core#3.1.1", p)
		var d struct{ Files []FileResult }
		if code != 1 || errs != "" || json.Unmarshal([]byte(out), &d) != nil || len(d.Files) != 1 {
			t.Fatalf("%s: exit %d, stderr %q\n%s", p, code, errs, out)
		}
		return d.Files
	}
	fx, fj := results(x)[0], results(j)[0]
	if len(fj.Issues) < 4 {
		t.Fatalf("the JSON twin should have several issues, got %v", fj.Issues)
	}
	if !reflect.DeepEqual(fx.Issues, fj.Issues) || fx.ResourceType != "Patient" || !reflect.DeepEqual(fx.Profiles, fj.Profiles) {
		t.Errorf("XML and JSON differ:\nxml  %v\njson %v", fx.Issues, fj.Issues)
	}
	for _, rule := range []string{"binding", "unknown-element", "primitive-format"} {
		if !hasIssue(fx.Issues, "error", rule, "") {
			t.Errorf("want a %s error from the XML, got %v", rule, fx.Issues)
		}
	}

	folder := t.TempDir()
	write(t, folder, "a.json", `{"resourceType":"Patient","gender":"female"}`)
	write(t, folder, "b.XML", `<Patient xmlns="http://hl7.org/fhir"><gender value="female"/></Patient>`)
	write(t, folder, "c.json", "\xef\xbb\xbf  "+`<Patient xmlns="http://hl7.org/fhir"><gender value="male"/></Patient>`)
	write(t, folder, "d.xml", `<Patient><gender value="female"/></Patient>`)
	code, out, _ := runCLI(t, folder)
	if code != 1 || !strings.Contains(out, "3 valid") || !strings.Contains(out, "d.xml: FHIR XML that pacheck cannot convert (the root element <Patient> is not in the FHIR namespace http://hl7.org/fhir): convert it to JSON first") {
		t.Errorf("folder with XML: exit %d\n%s", code, out)
	}
}

func TestValidatorDecodeXML(t *testing.T) {
	v := embedded(t)
	root, err := v.DecodeXML([]byte(xmlPatient))
	if err != nil {
		t.Fatal(err)
	}
	rx := v.ValidateValue(context.Background(), root, ValidateOptions{})
	rj := v.Validate(context.Background(), []byte(jsonPatient), ValidateOptions{})
	if !reflect.DeepEqual(rx.Issues, rj.Issues) {
		t.Errorf("XML and JSON differ:\nxml  %v\njson %v", rx.Issues, rj.Issues)
	}
}
