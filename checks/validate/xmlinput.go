package validate

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/validate/structure"
)

// FHIR XML input (*.xml, or a file whose content starts with '<') is converted to the FHIR JSON
// tree by checks/validate/structure (DecodeXML) and validated as that JSON would be, so the
// issues and their paths are the same. XML that cannot be converted is refused in one line that
// names the file and says to convert it to JSON.

func isXMLName(path string) bool { return strings.EqualFold(filepath.Ext(path), ".xml") }

// looksLikeXML reports whether b starts (after a UTF-8 byte order mark and white space) with '<'.
func looksLikeXML(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

func xmlRefusal(path string, why error) error {
	base := filepath.Base(path)
	out := strings.TrimSuffix(base, filepath.Ext(base)) + ".json"
	if out == base {
		out = strings.TrimSuffix(base, filepath.Ext(base)) + ".converted.json"
	}
	return fmt.Errorf("%s: FHIR XML that pacheck cannot convert (%v): convert it to JSON first (e.g. java -jar validator_cli.jar %s -version 4.0.1 -convert -output %s)",
		base, why, base, out)
}

// DecodeXML converts one FHIR R4 XML resource to the JSON tree ValidateValue takes.
func (v *Validator) DecodeXML(raw []byte) (map[string]any, error) {
	sv, err := structure.New(v.set) // the model is built once per core package and shared
	if err != nil {
		return nil, err
	}
	sv.MaxBytes = maxInputBytes
	return sv.DecodeXML(raw)
}

func validateXML(ctx context.Context, v *Validator, in Input, vo ValidateOptions) FileResult {
	root, err := v.DecodeXML(in.Raw)
	if err != nil {
		return FileResult{Path: in.Path, Issues: issue.List{{Severity: issue.Error, Rule: "input", Message: xmlRefusal(in.Path, err).Error()}}}
	}
	r := v.ValidateValue(ctx, root, vo)
	return FileResult{Path: in.Path, ResourceType: r.ResourceType, Profiles: r.Profiles, Issues: r.Issues}
}
