package fhirpath

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

type kind uint8

const (
	kNone kind = iota
	kBool
	kInt
	kLong
	kDec
	kStr
	kDate
	kDateTime
	kTime
	kQty
	kNode // FHIR complex value (map[string]any)
	kType // result of type(): a TypeInfo
)

var kindNames = [...]string{"", "Boolean", "Integer", "Long", "Decimal", "String", "Date", "DateTime", "Time", "Quantity", "", "TypeInfo"}

// TypeInfo names a type in a namespace ("System" or "FHIR").
type TypeInfo struct {
	Namespace string
	Name      string
}

func (t TypeInfo) String() string { return t.Namespace + "." + t.Name }

// Item is one element of a Collection: a System value (Boolean, Integer, Decimal, String,
// Date, DateTime, Time, Quantity) or a FHIR value that keeps its JSON form and FHIR type.
type Item struct {
	k    kind
	fhir string         // FHIR type name ("" for System values); backbone types are "Patient.contact"
	v    any            // bool, int64, Decimal, string, DateTime, Quantity, TypeInfo; FHIR: raw JSON
	ext  map[string]any // for FHIR primitives: the "_name" sibling (id, extension)
}

// Collection is an ordered FHIRPath collection.
type Collection []Item

// Boolean, Integer, String, Decimal build System items (handy for variables).
func Boolean(b bool) Item        { return Item{k: kBool, v: b} }
func Integer(n int64) Item       { return Item{k: kInt, v: n} }
func String(s string) Item       { return Item{k: kStr, v: s} }
func DecimalItem(d Decimal) Item { return Item{k: kDec, v: d} }

// QuantityItem builds a System.Quantity item.
func QuantityItem(q Quantity) Item { return Item{k: kQty, v: q} }

// Resource wraps a decoded JSON resource (map with resourceType) or any FHIR JSON value as an item.
func Resource(v any) Item { return nodeItem(v, "") }

// Typed wraps a decoded JSON value as an item of the FHIR type fhirType (Period, Quantity,
// string…), so its children are typed from the R4 model as inside a resource: Period.start is a
// dateTime and compares as one, Range.low as a Quantity.
func Typed(v any, fhirType string) Item { return nodeItem(v, fhirType) }

var trueItem, falseItem = Item{k: kBool, v: true}, Item{k: kBool, v: false}

func boolItem(b bool) Item {
	if b {
		return trueItem
	}
	return falseItem
}

// Shared single-boolean results: internal results are never modified in place, and
// Evaluate hands out a copy.
var trueColl, falseColl = Collection{trueItem}, Collection{falseItem}

func boolColl(b bool) Collection {
	if b {
		return trueColl[:1:1]
	}
	return falseColl[:1:1]
}

// nodeItem types a JSON value: maps with resourceType are resources; other values are
// inferred when the FHIR type is unknown.
func nodeItem(v any, fhirType string) Item {
	switch x := v.(type) {
	case map[string]any:
		if fhirType == "" || fhirType == "Resource" || fhirType == "DomainResource" {
			if rt, ok := x["resourceType"].(string); ok {
				fhirType = rt
			}
		}
		return Item{k: kNode, fhir: fhirType, v: x}
	case string:
		if fhirType != "" {
			return Item{k: systemKindOfPrimitive(fhirType), fhir: fhirType, v: x}
		}
		return Item{k: kStr, v: x}
	case bool:
		if fhirType != "" {
			return Item{k: kBool, fhir: fhirType, v: x}
		}
		return Item{k: kBool, v: x}
	case json.Number:
		if fhirType != "" {
			return Item{k: systemKindOfPrimitive(fhirType), fhir: fhirType, v: x}
		}
		if strings.ContainsAny(string(x), ".eE") {
			return Item{k: kDec, fhir: "decimal", v: x}
		}
		return Item{k: kInt, fhir: "integer", v: x}
	case float64:
		if fhirType != "" {
			return Item{k: systemKindOfPrimitive(fhirType), fhir: fhirType, v: x}
		}
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return Item{k: kInt, fhir: "integer", v: x}
		}
		return Item{k: kDec, fhir: "decimal", v: x}
	case Item:
		return x
	}
	return Item{k: kNone, fhir: fhirType, v: v}
}

// Type reports the item's type: FHIR types in the FHIR namespace, others in System.
func (it Item) Type() TypeInfo {
	if it.fhir != "" {
		return TypeInfo{Namespace: "FHIR", Name: r4().publicName(it.fhir)}
	}
	if it.k == kNode {
		return TypeInfo{Namespace: "FHIR", Name: "Element"}
	}
	return TypeInfo{Namespace: "System", Name: kindNames[it.k]}
}

// IsFHIR reports whether the item came from FHIR data (rather than a System literal or result).
func (it Item) IsFHIR() bool { return it.fhir != "" || it.k == kNode }

// JSON returns the raw JSON value of FHIR items (map for complex types), else nil.
func (it Item) JSON() any {
	if it.IsFHIR() {
		return it.v
	}
	return nil
}

// Value returns the item as a Go value: bool, int64, Decimal, string, DateTime, Quantity,
// TypeInfo, or map[string]any for complex FHIR values; nil for a primitive without value.
func (it Item) Value() any {
	switch it.k {
	case kBool:
		b, ok := it.boolVal()
		if !ok {
			return nil
		}
		return b
	case kInt, kLong:
		n, ok := it.intVal()
		if !ok {
			return nil
		}
		return n
	case kDec:
		d, ok := it.decVal()
		if !ok {
			return nil
		}
		return d
	case kStr:
		s, ok := it.strVal()
		if !ok {
			return nil
		}
		return s
	case kDate, kDateTime, kTime:
		d, ok := it.dtVal()
		if !ok {
			return nil
		}
		return d
	case kQty:
		q, _ := it.v.(Quantity)
		return q
	}
	return it.v
}

// hasPrimitiveValue reports whether a primitive carries a value (not only extensions).
func (it Item) hasPrimitiveValue() bool {
	switch it.k {
	case kNode, kNone, kType:
		return false
	}
	return it.v != nil
}

func (it Item) boolVal() (bool, bool) {
	b, ok := it.v.(bool)
	return b, ok
}

func (it Item) intVal() (int64, bool) {
	switch x := it.v.(type) {
	case int64:
		return x, true
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			d, ok := ParseDecimal(string(x))
			if ok && d.IsInteger() {
				return d.Int64()
			}
			return 0, false
		}
		return n, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), true
		}
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func (it Item) decVal() (Decimal, bool) {
	switch x := it.v.(type) {
	case Decimal:
		return x, true
	case int64:
		return DecimalFromInt(x), true
	case json.Number:
		return ParseDecimal(string(x))
	case float64:
		return ParseDecimal(strconv.FormatFloat(x, 'f', -1, 64))
	case string:
		if it.k == kDec || it.k == kInt {
			return ParseDecimal(x)
		}
	}
	return Decimal{}, false
}

func (it Item) strVal() (string, bool) {
	s, ok := it.v.(string)
	return s, ok
}

func (it Item) dtVal() (DateTime, bool) {
	switch x := it.v.(type) {
	case DateTime:
		return x, true
	case string:
		switch it.k {
		case kDate:
			if d, ok := ParseDate(x); ok {
				return d, true
			}
			return ParseDateTime(x, false)
		case kDateTime:
			return ParseDateTime(x, false)
		case kTime:
			return ParseTime(x)
		}
	}
	return DateTime{}, false
}

var quantityTypes = map[string]bool{"Quantity": true, "Age": true, "Duration": true, "Distance": true, "Count": true, "SimpleQuantity": true, "MoneyQuantity": true}

// qtyVal converts System.Quantity and FHIR Quantity (and its specialisations) values.
func (it Item) qtyVal() (Quantity, bool) {
	if q, ok := it.v.(Quantity); ok {
		return q, true
	}
	if it.k != kNode || !quantityTypes[it.fhir] {
		return Quantity{}, false
	}
	m, _ := it.v.(map[string]any)
	var d Decimal
	switch x := m["value"].(type) {
	case json.Number:
		var ok bool
		if d, ok = ParseDecimal(string(x)); !ok {
			return Quantity{}, false
		}
	case float64:
		var ok bool
		if d, ok = decimalFromFloat(x); !ok {
			return Quantity{}, false
		}
	default:
		return Quantity{}, false
	}
	unit := "1"
	code, _ := m["code"].(string)
	system, _ := m["system"].(string)
	u, _ := m["unit"].(string)
	switch {
	case code != "" && system == "http://unitsofmeasure.org":
		unit = code
		switch code { // UCUM durations behave as calendar durations when compared with them
		}
	case code != "":
		unit = code
	case u != "":
		unit = u
	}
	return Quantity{Value: d, Unit: unit}, true
}

// isQuantityLike is true for System.Quantity and FHIR Quantity values.
func (it Item) isQuantityLike() bool {
	return it.k == kQty || it.k == kNode && quantityTypes[it.fhir]
}

// normKind is the kind used for comparisons (FHIR Quantity behaves as System.Quantity).
func (it Item) normKind() kind {
	if it.k == kNode && quantityTypes[it.fhir] {
		return kQty
	}
	return it.k
}

// String renders the item as FHIRPath toString() would, or as JSON for complex values.
func (it Item) String() string {
	if s, ok := toStringValue(it); ok {
		return s
	}
	if it.v == nil {
		return ""
	}
	b, err := json.Marshal(it.v)
	if err != nil {
		return fmt.Sprint(it.v)
	}
	return string(b)
}

func toStringValue(it Item) (string, bool) {
	switch it.k {
	case kBool:
		b, ok := it.boolVal()
		if !ok {
			return "", false
		}
		if b {
			return "true", true
		}
		return "false", true
	case kInt, kLong:
		switch x := it.v.(type) {
		case json.Number:
			return string(x), true
		}
		n, ok := it.intVal()
		return strconv.FormatInt(n, 10), ok
	case kDec:
		switch x := it.v.(type) {
		case json.Number:
			return string(x), true
		}
		d, ok := it.decVal()
		return d.String(), ok
	case kStr:
		return it.strVal()
	case kDate, kDateTime, kTime:
		if s, ok := it.v.(string); ok {
			return s, true
		}
		d, ok := it.dtVal()
		return d.String(), ok
	case kQty:
		q, ok := it.v.(Quantity)
		return q.String(), ok
	case kType:
		t, ok := it.v.(TypeInfo)
		return t.String(), ok
	case kNode:
		if q, ok := it.qtyVal(); ok {
			return q.String(), true
		}
	}
	return "", false
}

// DecodeJSON decodes a FHIR JSON document as map[string]any / []any with json.Number numbers.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("fhirpath: decode JSON resource: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("fhirpath: decode JSON resource: trailing data after the first value")
	}
	return v, nil
}
