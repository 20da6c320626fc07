package jsondiff

import (
	"encoding/json"
	"testing"
)

func decode(s string) any {
	var v any
	json.Unmarshal([]byte(s), &v)
	return v
}

func TestFirstDiff(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{`{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, ""},
		{`{"a":1,"b":[1,2]}`, `{"a":1,"b":[1,3]}`, "X.b[1]"},
		{`{"a":1}`, `{"a":1,"c":true}`, "X.c"},
		{`{"a":[1]}`, `{"a":[1,1]}`, "X.a"},
		{`{"a":"1"}`, `{"a":1}`, "X.a"},
		{`{"a":{"b":"x"}}`, `{"a":"x"}`, "X.a"},
	} {
		if got := FirstDiff(decode(c.a), decode(c.b), "X"); got != c.want {
			t.Errorf("FirstDiff(%s, %s) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

func TestWithoutMeta(t *testing.T) {
	r := map[string]any{"resourceType": "Patient", "meta": map[string]any{"versionId": "2"}}
	out := WithoutMeta(r)
	if _, ok := out["meta"]; ok || out["resourceType"] != "Patient" || r["meta"] == nil {
		t.Fatalf("WithoutMeta = %v (input %v)", out, r)
	}
}
