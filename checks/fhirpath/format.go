package fhirpath

import (
	"encoding/json"
)

// OutputType is the type name of an item as the official FHIRPath test files write it:
// boolean, integer, decimal, string, date, dateTime, time, Quantity for System values, the
// FHIR type name (code, id, uri, HumanName, …) for FHIR values.
func OutputType(it Item) string {
	if it.fhir != "" {
		return r4().publicName(it.fhir)
	}
	switch it.k {
	case kBool:
		return "boolean"
	case kInt:
		return "integer"
	case kLong:
		return "integer64"
	case kDec:
		return "decimal"
	case kStr:
		return "string"
	case kDate:
		return "date"
	case kDateTime:
		return "dateTime"
	case kTime:
		return "time"
	case kQty:
		return "Quantity"
	case kType:
		return "TypeInfo"
	case kNode:
		return "Element"
	}
	return ""
}

// OutputValue is the value as the test files write expected outputs: @1974-12-25 for dates,
// @T12:00 for times, 4 'g' for quantities, true, 1.5, plain text for strings; ok is false for
// complex values (use JSON).
func OutputValue(it Item) (string, bool) {
	switch it.k {
	case kDate, kDateTime, kTime:
		d, ok := it.dtVal()
		if !ok {
			return "", false
		}
		if s, isStr := it.v.(string); isStr && it.k != kTime {
			return "@" + s, true
		}
		return d.literal(), true
	case kNode:
		if it.isQuantityLike() {
			q, ok := it.qtyVal()
			if ok {
				return q.String(), true
			}
		}
		return "", false
	}
	return toStringValue(it)
}

type outputEntry struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// FormatJSON renders a result as one JSON array of {"type": T, "value": V} objects (see
// OutputType and OutputValue); complex FHIR values are written as their JSON object.
func FormatJSON(c Collection) ([]byte, error) {
	out := make([]outputEntry, 0, len(c))
	for _, it := range c {
		e := outputEntry{Type: OutputType(it)}
		if s, ok := OutputValue(it); ok {
			e.Value = s
		} else if it.k == kNode {
			e.Value = it.v
		} else {
			e.Value = nil
		}
		out = append(out, e)
	}
	return json.Marshal(out)
}
