package fhirpath

import "fmt"

// Bool converts a result for invariant checking: ok is false for the empty collection; a
// single Boolean gives its value; a single non-Boolean item counts as true (FHIRPath
// singleton evaluation); more than one item is an error.
func (c Collection) Bool() (value, ok bool, err error) {
	switch len(c) {
	case 0:
		return false, false, nil
	case 1:
		if c[0].k == kBool {
			b, ok := c[0].boolVal()
			return b, ok, nil
		}
		return true, true, nil
	}
	return false, false, fmt.Errorf("fhirpath: expected a single boolean, got %d items", len(c))
}

// IsTrue reports whether the collection is exactly one true Boolean (an invariant holds
// when its expression is true; false or empty both mean "not satisfied").
func (c Collection) IsTrue() bool {
	return len(c) == 1 && c[0].k == kBool && c[0].v == true
}
