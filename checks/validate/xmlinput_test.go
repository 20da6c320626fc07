package validate

import (
	"strings"
	"testing"
)

// TestCLIXMLInput: FHIR XML is refused in one line naming the file and saying to convert it to
// JSON: a *.xml argument before anything runs (exit 2); an *.xml file in a folder, or a *.json
// file holding XML, as that input's error (never a silent skip or a raw JSON syntax error).
func TestCLIXMLInput(t *testing.T) {
	const xml = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Patient xmlns="http://hl7.org/fhir"><gender value="female"/></Patient>`
	dir := t.TempDir()
	x := write(t, dir, "pat.xml", xml)
	code, out, errs := runCLI(t, x)
	if code != 2 || out != "" || strings.Count(strings.TrimSpace(errs), "\n") != 0 ||
		!strings.Contains(errs, "pat.xml is FHIR XML") || !strings.Contains(errs, "convert it to JSON") {
		t.Errorf("xml argument: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	folder := t.TempDir()
	write(t, folder, "a.json", `{"resourceType":"Patient","gender":"female"}`)
	write(t, folder, "b.XML", xml)
	write(t, folder, "c.json", "\xef\xbb\xbf  "+xml)
	code, out, _ = runCLI(t, folder)
	if code != 1 || !strings.Contains(out, "b.XML is FHIR XML") || !strings.Contains(out, "c.json is FHIR XML") || !strings.Contains(out, "3 files, 1 valid") {
		t.Errorf("folder with XML: exit %d\n%s", code, out)
	}
}
