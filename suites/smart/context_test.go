package smart

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestContextParams(t *testing.T) {
	for _, c := range []struct {
		name    string
		p       contextParam
		json    string
		version string
		paths   []string // paths of the expected errors
	}{
		{"banner true", bannerParam, `true`, "2.0.0", nil},
		{"banner false", bannerParam, `false`, "1.0.0", nil},
		{"banner a string", bannerParam, `"true"`, "2.0.0", []string{"need_patient_banner"}},
		{"banner a number", bannerParam, `1`, "2.2.0", []string{"need_patient_banner"}},
		{"style absolute", styleParam, `"https://ehr.example/style.json"`, "2.0.0", nil},
		{"style relative", styleParam, `"/style.json"`, "2.0.0", []string{"smart_style_url"}},
		{"style empty", styleParam, `""`, "2.0.0", []string{"smart_style_url"}},
		{"style an object", styleParam, `{"url":"https://x"}`, "2.0.0", []string{"smart_style_url"}},
		{"fhirContext 2.0 reference", fhirCtxParam, `[{"reference":"Coverage/1"}]`, "2.0.0", nil},
		{"fhirContext 2.0 versioned reference", fhirCtxParam, `[{"reference":"Coverage/1/_history/2"}]`, "2.0.0", nil},
		{"fhirContext not an array", fhirCtxParam, `"Coverage/1"`, "2.0.0", []string{"fhirContext"}},
		{"fhirContext reference strings", fhirCtxParam, `["Coverage/1"]`, "2.2.0", []string{"fhirContext[0]"}},
		{"fhirContext 2.0 identifier only", fhirCtxParam, `[{"type":"Coverage","identifier":{"value":"x"}}]`, "2.0.0", []string{"fhirContext[0]"}},
		{"fhirContext 2.2 identifier only", fhirCtxParam, `[{"type":"Coverage","identifier":{"value":"x"}}]`, "2.2.0", nil},
		{"fhirContext 2.2 canonical", fhirCtxParam, `[{"type":"Questionnaire","canonical":"https://x/Questionnaire/q|1","role":"https://x/role/q"}]`, "2.2.0", nil},
		{"fhirContext 2.2 none of the three", fhirCtxParam, `[{"type":"Coverage"}]`, "2.2.0", []string{"fhirContext[0]"}},
		{"fhirContext absolute reference", fhirCtxParam, `[{"reference":"https://x/fhir/Coverage/1"}]`, "2.2.0", []string{"fhirContext[0].reference"}},
		{"fhirContext reference a number", fhirCtxParam, `[{"reference":1}]`, "2.0.0", []string{"fhirContext[0].reference"}},
		{"fhirContext identifier a string", fhirCtxParam, `[{"identifier":"x"}]`, "2.2.0", []string{"fhirContext[0].identifier"}},
		{"fhirContext empty role", fhirCtxParam, `[{"reference":"List/1","role":""}]`, "2.2.0", []string{"fhirContext[0].role"}},
		{"fhirContext relative role", fhirCtxParam, `[{"reference":"List/1","role":"med-list"}]`, "2.2.0", []string{"fhirContext[0].role"}},
		{"fhirContext launch role", fhirCtxParam, `[{"reference":"List/1","role":"launch"}]`, "2.2.0", nil},
		{"fhirContext Patient in 2.0", fhirCtxParam, `[{"reference":"Patient/1"}]`, "2.0.0", []string{"fhirContext[0]"}},
		{"fhirContext Patient with launch role", fhirCtxParam, `[{"reference":"Patient/1"}]`, "2.2.0", []string{"fhirContext[0]"}},
		{"fhirContext Patient with another role", fhirCtxParam, `[{"reference":"Patient/1","role":"https://x/role/mother"}]`, "2.2.0", nil},
		{"fhirContext empty array", fhirCtxParam, `[]`, "2.2.0", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(c.json), &v); err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, i := range c.p.check(v, c.version) {
				paths = append(paths, i.Path)
			}
			if !slices.Equal(paths, c.paths) {
				t.Errorf("errors at %q, want %q", paths, c.paths)
			}
		})
	}
}
