package structure

import "fmt"

// The rules the two engines share (unknown-element, primitive-format) are decided and worded here
// once: the walker engine calls these directly, the schema engine through the format checkers it
// registers with jsonschema/v5 (formatChecker) and when it maps v5's errors to findings (leaf). The
// integer range is data (typeDef.min/max) that the walker compares and the schema states as
// minimum/maximum.

// formatOK reports whether s has the lexical form of string primitive t: the Go scanner of
// format.go where there is one, else the StructureDefinition regex; true for a type without one.
func (t *typeDef) formatOK(s string) bool {
	if t.format != nil {
		return t.format(s)
	}
	return t.re == nil || t.re.MatchString(s)
}

// inRange reports whether integer n is within t's range (positiveInt ≥ 1, unsignedInt ≥ 0, 32-bit).
func (t *typeDef) inRange(n int64) bool { return n >= t.min && n <= t.max }

func formatMessage(typ string) string {
	return fmt.Sprintf("value does not match the FHIR %s format", typ)
}

func rangeMessage(typ string) string {
	return fmt.Sprintf("value is out of range for %s (%s)", typ, rangeText(typ))
}

// unknownMessage words an unknown-element finding; where is the type ("this element" when the
// schema cannot name it).
func unknownMessage(where string) string {
	return fmt.Sprintf("unknown property: %s defines no such element", where)
}
