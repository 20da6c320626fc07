package dataquality

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func res(t *testing.T, s string) Resource {
	t.Helper()
	var r Resource
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDuplicates(t *testing.T) {
	cases := []struct {
		name string
		rs   []string
		want []string // "kind Type ids"
	}{
		{"same identifier", []string{
			`{"resourceType":"Encounter","id":"a","identifier":[{"system":"s","value":"1"}],"status":"finished"}`,
			`{"resourceType":"Encounter","id":"b","identifier":[{"system":"s","value":"1"}],"status":"planned"}`,
		}, []string{"identifier Encounter [Encounter/a Encounter/b]"}},
		{"same content, no identifier", []string{
			`{"resourceType":"Goal","id":"a","meta":{"lastUpdated":"2025-01-01T00:00:00Z"},"lifecycleStatus":"active"}`,
			`{"resourceType":"Goal","id":"b","meta":{"lastUpdated":"2025-02-01T00:00:00Z"},"lifecycleStatus":"active"}`,
		}, []string{"content Goal [Goal/a Goal/b]"}},
		{"distinct identifiers, same rest: two records", []string{
			`{"resourceType":"Goal","id":"a","identifier":[{"system":"s","value":"1"}],"lifecycleStatus":"active"}`,
			`{"resourceType":"Goal","id":"b","identifier":[{"system":"s","value":"2"}],"lifecycleStatus":"active"}`,
		}, nil},
		{"identifier without system is not compared", []string{
			`{"resourceType":"Goal","id":"a","identifier":[{"value":"1"}],"lifecycleStatus":"active"}`,
			`{"resourceType":"Goal","id":"b","identifier":[{"value":"1"}],"lifecycleStatus":"proposed"}`,
		}, nil},
		{"coverage shares the member id across plan years", []string{
			`{"resourceType":"Coverage","id":"a","identifier":[{"system":"s","value":"M1"}],"status":"active"}`,
			`{"resourceType":"Coverage","id":"b","identifier":[{"system":"s","value":"M1"}],"status":"cancelled"}`,
		}, nil},
		{"organizations may share a TIN", []string{
			`{"resourceType":"Organization","id":"a","identifier":[{"system":"urn:oid:2.16.840.1.113883.4.4","value":"1"}],"name":"Hospital"}`,
			`{"resourceType":"Organization","id":"b","identifier":[{"system":"urn:oid:2.16.840.1.113883.4.4","value":"1"}],"name":"Clinic"}`,
		}, nil},
		{"same resource listed twice, other types", []string{
			`{"resourceType":"Goal","id":"a","identifier":[{"system":"s","value":"1"}]}`,
			`{"resourceType":"Goal","id":"a","identifier":[{"system":"s","value":"1"}]}`,
			`{"resourceType":"CarePlan","id":"a","identifier":[{"system":"s","value":"1"}]}`,
			`{"resourceType":"Goal"}`,
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rs []Resource
			for _, s := range c.rs {
				rs = append(rs, res(t, s))
			}
			var got []string
			for _, g := range Duplicates(rs) {
				got = append(got, fmt.Sprintf("%s %s %v", g.Kind, g.Type, g.IDs))
			}
			if strings.Join(got, ";") != strings.Join(c.want, ";") {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestLiteralTargets(t *testing.T) {
	rs := []Resource{
		res(t, `{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p"},"partOf":{"reference":"Encounter/gone"},
			"serviceProvider":{"reference":"https://other.example/Organization/1"},"contained":[{"resourceType":"Organization","id":"c","partOf":{"reference":"Organization/x"}}],
			"location":[{"location":{"reference":"#c"}}]}`),
		res(t, `{"resourceType":"Patient","id":"p","managingOrganization":{"reference":"Organization/o/_history/2"}}`),
	}
	got, abs := LiteralTargets(rs)
	want := []RefTarget{{Ref: "Encounter/gone", From: "Encounter/e1"}, {Ref: "Organization/o", From: "Patient/p"}}
	if fmt.Sprint(got) != fmt.Sprint(want) || abs != 1 {
		t.Errorf("got %v (absolute %d), want %v (absolute 1)", got, abs, want)
	}
	if s := Sample(append(want, RefTarget{Ref: "X/1"}, RefTarget{Ref: "Y/1"}), 2); len(s) != 2 || s[0].Ref != "Encounter/gone" || s[1].Ref != "X/1" {
		t.Errorf("sample %v", s)
	}
}

func TestStaleRecords(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, r string
		stale   bool
	}{
		{"claim served before it was processed", `{"resourceType":"ExplanationOfBenefit","id":"a","use":"claim","created":"2026-11-20T10:00:00Z","meta":{"lastUpdated":"2026-11-01T00:00:00Z"}}`, true},
		// Friday's copy of a claim processed on Monday: one business day
		{"within one business day", `{"resourceType":"ExplanationOfBenefit","id":"a","use":"claim","created":"2026-11-23T10:00:00Z","meta":{"lastUpdated":"2026-11-20T09:00:00Z"}}`, false},
		{"updated after processing", `{"resourceType":"ExplanationOfBenefit","id":"a","use":"claim","created":"2026-11-20T10:00:00Z","meta":{"lastUpdated":"2026-11-21T00:00:00Z"}}`, false},
		{"prior authorization is not a processed claim", `{"resourceType":"ExplanationOfBenefit","id":"a","use":"preauthorization","created":"2026-11-20T10:00:00Z","meta":{"lastUpdated":"2026-01-01T00:00:00Z"}}`, false},
		{"updated in the future", `{"resourceType":"Observation","id":"o","meta":{"lastUpdated":"2027-01-01T00:00:00Z"}}`, true},
		{"no lastUpdated", `{"resourceType":"ExplanationOfBenefit","id":"a","use":"claim","created":"2026-11-20T10:00:00Z"}`, false},
		{"bad date", `{"resourceType":"Observation","id":"o","meta":{"lastUpdated":"yesterday"}}`, false},
	}
	for _, c := range cases {
		if got := len(StaleRecords([]Resource{res(t, c.r)}, now)) > 0; got != c.stale {
			t.Errorf("%s: stale %v, want %v", c.name, got, c.stale)
		}
	}
}

func TestSpans(t *testing.T) {
	rs := []Resource{
		res(t, `{"resourceType":"Observation","id":"1","effectiveDateTime":"2015-03-01","meta":{"lastUpdated":"2025-01-01T00:00:00Z"}}`),
		res(t, `{"resourceType":"Observation","id":"2","effectivePeriod":{"start":"2020-05"}}`),
		res(t, `{"resourceType":"Observation","id":"3"}`),
		res(t, `{"resourceType":"ExplanationOfBenefit","id":"e","billablePeriod":{"start":"2019-01-02"}}`),
	}
	got := Spans(rs)
	if len(got) != 2 || got[0].Type != "ExplanationOfBenefit" || got[1].Count != 3 || got[1].Dated != 2 ||
		got[1].First.Format("2006-01-02") != "2015-03-01" || got[1].Last.Format("2006-01") != "2020-05" || got[1].LastUpdated.Year() != 2025 {
		t.Errorf("spans %+v", got)
	}
}
