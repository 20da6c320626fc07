package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// decode reads JSON keeping numbers as json.Number, so decimals (fixedDecimal 1.50) survive.
func decode(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func list(m map[string]any, k string) []any {
	l, _ := m[k].([]any)
	return l
}

// Error is a generation failure: the profile and, when one is to blame, the differential element.
type Error struct {
	Profile string // url of the profile being generated
	Element string // differential element id, if any
	Msg     string
}

func (e *Error) Error() string {
	switch {
	case e.Profile != "" && e.Element != "":
		return fmt.Sprintf("snapshot of %s: element %s: %s", e.Profile, e.Element, e.Msg)
	case e.Profile != "":
		return fmt.Sprintf("snapshot of %s: %s", e.Profile, e.Msg)
	case e.Element != "":
		return fmt.Sprintf("element %s: %s", e.Element, e.Msg)
	}
	return e.Msg
}

func errorf(element, format string, args ...any) *Error {
	return &Error{Element: element, Msg: fmt.Sprintf(format, args...)}
}
