package validate

import (
	"context"
	"testing"
)

// FuzzValidate feeds arbitrary bytes to Validate: it must never panic, and every issue must carry
// a severity and a rule code.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(patientOK))
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e3,"code":"mg"}}}]}`))
	f.Add([]byte(`{"resourceType":"Patient","contained":[{"resourceType":"Patient","contained":[]}],"_birthDate":[null],"extension":[{"url":"","valueString":""}]}`))
	f.Add([]byte(`{"resourceType":"Observation","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-blood-pressure"]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]}}]}`))
	f.Add([]byte(`[{"a":"\ud800"}]`))
	f.Add([]byte(`{"resourceType":"Questionnaire","item":[{"linkId":"1","type":"group","item":[{"linkId":"2","type":"display"}]}]}`))
	v := embedded(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, ig := range []string{"", uc6} {
			res := v.Validate(context.Background(), raw, ValidateOptions{IG: ig})
			for _, i := range res.Issues {
				if i.Severity == "" || i.Rule == "" || i.Message == "" {
					t.Fatalf("incomplete issue %+v", i)
				}
			}
		}
	})
}
