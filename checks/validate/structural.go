package validate

import (
	"github.com/pacheck/pacheck/checks/validate/structure"
	"github.com/pacheck/pacheck/profiles"
)

// Rule codes shared with checks/validate/structure, so findings are named the same whichever
// layer reports them.
const (
	ruleSyntax  = structure.RuleSyntax
	ruleUnknown = structure.RuleUnknown
	ruleFormat  = structure.RuleFormat
	ruleEmpty   = structure.RuleEmpty
	ruleChoice  = structure.RuleChoice
	ruleNotRes  = structure.RuleNotResource
)

// maxInputBytes is the largest single resource the structural layer decodes.
const maxInputBytes = 512 << 20

// newStructure makes the structural JSON layer (checks/validate/structure): it decodes raw bytes
// into the JSON tree (map[string]any with json.Number) and reports every FHIR JSON rule (unknown
// elements, JSON types, primitive formats, empty values), so the profile walker never checks
// them. Its walker engine is the default; jsonSchema selects the jsonschema/v5 engine, which
// reports the same findings more slowly.
func newStructure(set *profiles.Set, jsonSchema bool) (*structure.Validator, error) {
	sv, err := structure.New(set)
	if err != nil {
		return nil, err
	}
	sv.Engine = structure.EngineWalker
	if jsonSchema {
		sv.Engine = structure.EngineSchema
	}
	sv.MaxBytes = maxInputBytes
	return sv, nil
}
