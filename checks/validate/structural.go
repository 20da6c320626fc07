package validate

import (
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
	v, err := parseJSONValue(raw)
	if err != nil {
		if v != nil {
			return v, issue.List{{Severity: issue.Error, Rule: "json", Message: "json: " + err.Error()}}
		}
		return nil, issue.List{{Severity: issue.Error, Rule: "json", Message: "json: not valid JSON: " + err.Error()}}
	}
	return v, nil
}
