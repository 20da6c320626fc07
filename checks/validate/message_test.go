package validate

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestMessageOmitsRule: every renderer (issue.Issue.String, the suites' failure text, the text
// formatter, OperationOutcome) prints the rule code next to the message, so a message that starts
// with its rule printed it twice ("cardinality: cardinality: ..."). Each finding here must carry
// its rule once, in Rule only.
func TestMessageOmitsRule(t *testing.T) {
	v := embedded(t)
	cases := []struct {
		name, raw, rule string
	}{
		{"cardinality", `{"resourceType":"Observation","code":{"text":"x"}}`, "cardinality"},
		{"unknown element", `{"resourceType":"Patient","foo":1}`, ruleUnknown},
		{"binding", `{"resourceType":"Patient","gender":"robot"}`, "binding"},
		{"invariant", `{"resourceType":"Patient","contact":[{"gender":"male"}]}`, "invariant:pat-1"},
		{"type", `{"resourceType":"Patient","name":{"family":"x"}}`, "type"},
		{"empty", `{"resourceType":"Patient","name":[]}`, ruleEmpty},
		{"not JSON", `hello`, ruleSyntax},
		{"not a resource", `[1,2]`, ruleNotRes},
		{"resourceType missing", `{"id":"x"}`, ruleNotRes},
		{"unknown resource type", `{"resourceType":"Spaceship"}`, "type"},
		{"unknown profile", `{"resourceType":"Patient","meta":{"profile":["http://example.org/StructureDefinition/nope"]}}`, "profile-unknown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := v.Validate(context.Background(), []byte(tc.raw), ValidateOptions{})
			found := false
			for _, is := range res.Issues {
				if is.Rule == tc.rule {
					found = true
				}
				if strings.HasPrefix(is.Message, is.Rule+":") {
					t.Errorf("message repeats its rule: %s", is)
				}
				if strings.Contains(is.String(), is.Rule+": "+is.Rule+":") {
					t.Errorf("rendered issue repeats rule %s: %s", is.Rule, is)
				}
			}
			if !found {
				t.Fatalf("want a %s issue, got %v", tc.rule, res.Issues)
			}
			// the CLI's text output prints the rule once per issue line
			var b bytes.Buffer
			f := &textFormatter{w: &b}
			if err := f.Result(FileResult{Path: "in.json", Issues: res.Issues}); err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
				for _, is := range res.Issues {
					if strings.Contains(line, ": "+is.Rule+":") {
						t.Errorf("text output repeats rule %s: %s", is.Rule, line)
					}
				}
			}
		})
	}
}
