package fhirhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeObject feeds arbitrary bytes to the decoder every server response goes through: it
// never panics, and it accepts exactly the single JSON objects encoding/json accepts.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Patient","id":"1"}`,
		`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","valueQuantity":{"value":1.50}}}]}`,
		`{"a":1e400}`,
		`{"a":"\ud800"}`,
		`{} {}`,
		`{"a":[[[[[[[[[[]]]]]]]]]]}`,
		`[1,2]`,
		`{"a":`,
		"{\"a\":\"\x1b]0;title\x07\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeObject(data)
		var ref map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		refErr := dec.Decode(&ref)
		// JSON whitespace is space, tab, CR and LF only (RFC 8259 §2): "{}\v" is not JSON.
		if refErr == nil && len(bytes.Trim(data[dec.InputOffset():], " \t\r\n")) > 0 {
			refErr = errTrailing
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("DecodeObject error %v, encoding/json error %v, input %q", err, refErr, data)
		}
		if err == nil && m == nil && !bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
			t.Fatalf("nil object without error for %q", data)
		}
	})
}

var errTrailing = errors.New("data after the top-level value")
