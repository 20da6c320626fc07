package validate

import (
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/validate/structure"
	"github.com/pacheck/pacheck/profiles"
)

// structural is the seam to the structural JSON layer: it decodes raw bytes into the JSON tree
// (map[string]any with json.Number) and reports JSON-level problems. owns reports whether it
// checks the FHIR JSON rules (unknown elements, JSON types, primitive formats, empty values)
// itself; when it does not, the profile walker checks them in its first pass.
type structural interface {
	decode(raw []byte) (any, issue.List)
	check(root any) issue.List // structural checks of an already decoded value
	owns() bool
}

// Rule codes shared with checks/validate/structure, so findings are named the same whichever
// layer reports them.
const (
	ruleSyntax  = "json-syntax"
	ruleUnknown = "unknown-element"
	ruleFormat  = "primitive-format"
	ruleEmpty   = "empty"
	ruleChoice  = "choice-type"
	ruleNotRes  = "not-a-resource"
)

// structureLayer wraps checks/validate/structure.
type structureLayer struct{ v *structure.Validator }

func (s structureLayer) decode(raw []byte) (any, issue.List) { return s.v.Validate(raw) }
func (s structureLayer) owns() bool                          { return true }
func (s structureLayer) check(root any) issue.List           { return s.v.ValidateValue(root, "") }

// stdDecoder is the fallback: pacheck's own single-pass decoder; the walker checks structure.
type stdDecoder struct{}

func (stdDecoder) decode(raw []byte) (any, issue.List) { return decodeJSON(raw) }
func (stdDecoder) owns() bool                          { return false }
func (stdDecoder) check(any) issue.List                { return nil }

// maxInputBytes is the largest single resource the structural layer decodes.
const maxInputBytes = 512 << 20

func newStructural(set *profiles.Set, own, jsonSchema bool) (structural, error) {
	if own {
		return stdDecoder{}, nil
	}
	sv, err := structure.New(set)
	if err != nil {
		return nil, err
	}
	sv.Engine = structure.EngineWalker
	if jsonSchema {
		sv.Engine = structure.EngineSchema
	}
	sv.MaxBytes = maxInputBytes
	return structureLayer{v: sv}, nil
}

func decodeJSON(raw []byte) (any, issue.List) {
	v, err := parseJSONValue(raw)
	if err != nil {
		if v != nil {
			return v, issue.List{{Severity: issue.Error, Rule: "json-duplicate-key", Message: err.Error()}}
		}
		return nil, issue.List{{Severity: issue.Error, Rule: ruleSyntax, Message: "not valid JSON: " + err.Error()}}
	}
	return v, nil
}
