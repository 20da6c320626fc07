package structure

import (
	"strings"
	"testing"
)

func walkerOnly(t testing.TB) *Validator {
	v := *validator(t)
	v.Engine = EngineWalker
	return &v
}

func diffEngines(t *testing.T, a, b *Validator, name string, raw []byte) {
	t.Helper()
	_, ia := a.Validate(raw)
	_, ib := b.Validate(raw)
	var wa, wb []want
	for _, i := range ia {
		wa = append(wa, want{i.Rule, i.Path})
	}
	for _, i := range ib {
		wb = append(wb, want{i.Rule, i.Path})
	}
	if !sameWants(wa, wb) {
		t.Errorf("%s: engines disagree\n schema %v\n walker %v", name, sortedWants(wa), sortedWants(wb))
	}
}

// TestEnginesAgree: the walker-only engine reports exactly what walker+jsonschema report, on the
// rule table, on broken variants, and on every official example.
func TestEnginesAgree(t *testing.T) {
	sv, wv := validator(t), walkerOnly(t)
	extra := []string{
		`{"resourceType":"Patient","gender":true,"active":1,"birthDate":19700101,"multipleBirthInteger":"x","name":"n"}`,
		`{"resourceType":"Patient","contained":[1,null,[],{"resourceType":"Patient","name":[1,"a",null]}]}`,
		`{"resourceType":"Patient","name":[{"given":[1,true,{}],"_given":"x","_family":[],"family":["a"]}]}`,
		`{"resourceType":"Observation","status":"final","code":{"text":"a"},"valueInteger":-2147483649,"component":[{"code":{"text":"b"},"valuePositiveInt":0}]}`,
		`{"resourceType":"Bundle","entry":[{"resource":[]},{"resource":"x"},{"resource":{"resourceType":"Patient","_gender":null}}]}`,
		`{"resourceType":"Patient","extension":[{"url":"u","valueDecimal":"1","valueBoolean":"true","valueInstant":"2020"}],"_id":{}}`,
		`{"resourceType":"Patient","meta":{"lastUpdated":"2020-01-01T00:00:00Z","profile":["a b",null],"_profile":[null,{"extension":[{"url":"x","valueString":""}]}]}}`,
	}
	for i, s := range extra {
		diffEngines(t, sv, wv, "extra "+string(rune('0'+i)), []byte(s))
	}
	for _, p := range examplePackages(t) {
		for _, ex := range p.Examples() {
			if !strings.HasSuffix(ex.Name, ".index.json") {
				diffEngines(t, sv, wv, p.Ref()+" "+ex.Name, ex.Raw)
			}
		}
	}
}

// TestRulesWalkerEngine runs the rule table with the walker-only engine.
func TestRulesWalkerEngine(t *testing.T) {
	testRules(t, walkerOnly(t))
}
