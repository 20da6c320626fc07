package dataquality

import (
	"fmt"
	"strings"
	"testing"
)

func TestCompareClaimEncounters(t *testing.T) {
	enc := `{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p"},"period":{"start":"2026-05-01T10:00:00-05:00","end":"2026-05-01T10:30:00-05:00"}}`
	eob := func(use, item string) string {
		return `{"resourceType":"ExplanationOfBenefit","id":"x","use":"` + use + `","patient":{"reference":"Patient/p"},"billablePeriod":{"start":"2026-05-01"},"item":[` + item + `]}`
	}
	cases := []struct {
		name                 string
		rs                   []string
		compared, unresolved int
		mismatch             string // first mismatch reason ("" none)
	}{
		{"same day", []string{enc, eob("claim", `{"sequence":1,"servicedDate":"2026-05-01","encounter":[{"reference":"Encounter/e1"}]}`)}, 1, 0, ""},
		{"a month later", []string{enc, eob("claim", `{"sequence":1,"servicedDate":"2026-05-31","encounter":[{"reference":"Encounter/e1"}]}`)}, 1, 0, "2026-05-31 is outside"},
		{"period overlapping the end", []string{enc, eob("claim", `{"sequence":2,"servicedPeriod":{"start":"2026-05-01","end":"2026-05-02"},"encounter":[{"reference":"Encounter/e1"}]}`)}, 1, 0, "2026-05-01 to 2026-05-02 is outside"},
		{"no line date: billable period", []string{enc, eob("claim", `{"sequence":1,"encounter":[{"reference":"Encounter/e1"}]}`)}, 1, 0, ""},
		{"another patient's encounter", []string{strings.Replace(enc, "Patient/p", "Patient/q", 1), eob("claim", `{"sequence":1,"servicedDate":"2026-05-01","encounter":[{"reference":"Encounter/e1"}]}`)}, 1, 0, "subject Patient/q"},
		{"encounter not reached", []string{eob("claim", `{"sequence":1,"servicedDate":"2026-05-01","encounter":[{"reference":"Encounter/e9"}]}`)}, 0, 1, ""},
		{"no link: not paired", []string{enc, eob("claim", `{"sequence":1,"servicedDate":"2026-07-01"}`)}, 0, 0, ""},
		{"prior authorization is not a claim", []string{enc, eob("preauthorization", `{"sequence":1,"servicedDate":"2026-07-01","encounter":[{"reference":"Encounter/e1"}]}`)}, 0, 0, ""},
		{"encounter without a period", []string{`{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p"}}`, eob("claim", `{"sequence":1,"servicedDate":"2026-07-01","encounter":[{"reference":"Encounter/e1"}]}`)}, 1, 0, ""},
		{"bad item", []string{enc, eob("claim", `"not an item"`)}, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rs []Resource
			for _, s := range c.rs {
				rs = append(rs, res(t, s))
			}
			got := CompareClaimEncounters(rs)
			first := ""
			if len(got.Mismatches) > 0 {
				first = fmt.Sprint(got.Mismatches[0])
			}
			if got.Compared != c.compared || got.Unresolved != c.unresolved || (c.mismatch == "") != (first == "") || !strings.Contains(first, c.mismatch) {
				t.Errorf("got %+v, want compared %d, unresolved %d, mismatch %q", got, c.compared, c.unresolved, c.mismatch)
			}
		})
	}
}
