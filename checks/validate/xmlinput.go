package validate

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// pacheck reads FHIR JSON only. FHIR XML input is refused by name (*.xml) or by content (a
// document starting with '<'), in one line that names the file and says what to do, instead of
// a JSON syntax error or a silent skip.

func isXMLName(path string) bool { return strings.EqualFold(filepath.Ext(path), ".xml") }

// looksLikeXML reports whether b starts (after a UTF-8 byte order mark and white space) with '<'.
func looksLikeXML(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

func xmlRefusal(path string) error {
	base := filepath.Base(path)
	return fmt.Errorf("%s is FHIR XML, which pacheck does not read: convert it to JSON first (e.g. java -jar validator_cli.jar %s -version 4.0.1 -convert -output %s.json)",
		base, base, strings.TrimSuffix(base, filepath.Ext(base)))
}
