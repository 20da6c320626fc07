package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

// structural is the seam to the structural JSON layer: it decodes raw bytes into the JSON tree
// (map[string]any with json.Number) and reports JSON-level problems.
type structural interface {
	decode(raw []byte) (any, issue.List)
}

type stdDecoder struct{}

func newStructural(*profiles.Set) (structural, error) { return stdDecoder{}, nil }

func (stdDecoder) decode(raw []byte) (any, issue.List) {
	return decodeJSON(raw)
}

func decodeJSON(raw []byte) (any, issue.List) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		msg := err.Error()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			msg = "unexpected end of input (truncated?)"
		}
		if se, ok := err.(*json.SyntaxError); ok {
			msg = fmt.Sprintf("%v at byte %d", se, se.Offset)
		}
		return nil, issue.List{{Severity: issue.Error, Rule: "json", Message: "json: not valid JSON: " + msg}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, issue.List{{Severity: issue.Error, Rule: "json", Message: "json: extra data after the JSON value"}}
	}
	return v, nil
}
