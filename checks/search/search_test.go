package search

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/issue"
)

func res(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	obs = `{"resourceType":"Observation","id":"o1","status":"final",
	  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
	  "code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}],"text":"Glucose"},
	  "subject":{"reference":"Patient/p1"},
	  "effectiveDateTime":"2020-03-15T10:30:00Z",
	  "valueQuantity":{"value":5.5,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"},
	  "identifier":[{"system":"urn:sys","value":"X-1"}]}`
	obsPeriod = `{"resourceType":"Observation","id":"o2","status":"final","effectivePeriod":{"start":"2020-01-10","end":"2020-02-20"},"subject":{"reference":"http://example.org/fhir/Patient/p2"}}`
	obsOpen   = `{"resourceType":"Observation","id":"o3","effectivePeriod":{"start":"2021-06-01T00:00:00Z"}}`
	pat       = `{"resourceType":"Patient","id":"p1","active":true,"gender":"female","birthDate":"1980-07",
	  "name":[{"family":"Chalmérs","given":["Peter","James"]}],"address":[{"line":["1 Main St"],"city":"Boston","state":"MA"}],
	  "extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":"2106-3"}}]}]}`
	qr   = `{"resourceType":"QuestionnaireResponse","id":"qr1","questionnaire":"http://example.org/Questionnaire/q1|2.0"}`
	cond = `{"resourceType":"Condition","id":"c1","onsetPeriod":{"start":"2019-05-01","end":"2019-06-01"},"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}}`
)

func TestMatch(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	date := Param{Code: "date", Type: "date", Expression: "Observation.effective"}
	code := Param{Code: "code", Type: "token", Expression: "Observation.code"}
	status := Param{Code: "status", Type: "token", Expression: "Observation.status"}
	ident := Param{Code: "identifier", Type: "token", Expression: "Observation.identifier"}
	patient := Param{Code: "patient", Type: "reference", Expression: "Observation.subject.where(resolve() is Patient)", Targets: []string{"Patient"}}
	name := Param{Code: "name", Type: "string", Expression: "Patient.name"}
	family := Param{Code: "family", Type: "string", Expression: "Patient.name.family"}
	birth := Param{Code: "birthdate", Type: "date", Expression: "Patient.birthDate | Person.birthDate | RelatedPerson.birthDate"}
	active := Param{Code: "active", Type: "token", Expression: "Patient.active"}
	race := Param{Code: "race", Type: "token", Expression: "Patient.extension.where(url = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race').extension.value.code"}
	raceCoding := Param{Code: "race", Type: "token", Expression: "Patient.extension('http://hl7.org/fhir/us/core/StructureDefinition/us-core-race').extension.value"}
	onset := Param{Code: "onset-date", Type: "date", Expression: "Condition.onset.as(dateTime) | Condition.onset.as(Period)"}
	valq := Param{Code: "value-quantity", Type: "quantity", Expression: "(Observation.value as Quantity)"}
	id := Param{Code: "_id", Type: "token"}
	address := Param{Code: "address", Type: "string", Expression: "Patient.address"}
	questionnaire := Param{Code: "questionnaire", Type: "reference", Expression: "QuestionnaireResponse.questionnaire"}

	cases := []struct {
		name, res string
		p         Param
		key, val  string
		want      bool
	}{
		{"date eq day contains dateTime", obs, date, "date", "2020-03-15", true},
		{"date eq other day", obs, date, "date", "2020-03-17", false},
		{"date eq year", obs, date, "date", "2020", true},
		{"date eq month wrong", obs, date, "date", "2020-04", false},
		{"date gt before", obs, date, "date", "gt2020-03-01", true},
		{"date gt after", obs, date, "date", "gt2020-04-01", false},
		{"date lt", obs, date, "date", "lt2020-04-01", true},
		{"date lt fails", obs, date, "date", "lt2020-03-01", false},
		{"date ge same day", obs, date, "date", "ge2020-03-15", true},
		{"date ge later", obs, date, "date", "ge2020-03-20", false},
		{"date le same day", obs, date, "date", "le2020-03-15", true},
		{"date le earlier", obs, date, "date", "le2020-03-10", false},
		{"date ne", obs, date, "date", "ne2020-03", false},
		{"date ne other", obs, date, "date", "ne2021", true},
		{"date sa", obs, date, "date", "sa2020-03-01", true},
		{"date sa fails", obs, date, "date", "sa2020-03-16", false},
		{"date sa same day is ambiguous without zone", obs, date, "date", "sa2020-03-15", true},
		{"date eb", obs, date, "date", "eb2020-04-01", true},
		{"date eb fails", obs, date, "date", "eb2020-03-01", false},
		{"date ap near", obs, date, "date", "ap2020-03-01", true},
		{"date ap far", obs, date, "date", "ap2010-03-01", false},
		{"date instant precision", obs, date, "date", "2020-03-15T10:30:00Z", true},
		{"date instant precision miss", obs, date, "date", "ge2020-03-15T11:30:00Z", false},
		{"date zone offset", obs, date, "date", "ge2020-03-15T11:00:00+01:00", true},
		{"period overlaps", obsPeriod, date, "date", "2020-02", true},
		{"period gt inside", obsPeriod, date, "date", "gt2020-02-01", true},
		{"period lt", obsPeriod, date, "date", "lt2020-01-01", false},
		{"period sa", obsPeriod, date, "date", "sa2019-12-31", true},
		{"open period ge future", obsOpen, date, "date", "ge2030-01-01", true},
		{"open period le before start", obsOpen, date, "date", "le2021-01-01", false},
		{"multiple-or dates", obs, date, "date", "2019,2020", true},
		{"birthdate month vs day", pat, birth, "birthdate", "1980-07-04", true},
		{"birthdate year wrong", pat, birth, "birthdate", "1981", false},
		{"onset period", cond, onset, "onset-date", "ge2019-05-15", true},
		{"onset period lt", cond, onset, "onset-date", "gt2019-07-01", false},

		{"token code only", obs, code, "code", "2339-0", true},
		{"token system|code", obs, code, "code", "http://loinc.org|2339-0", true},
		{"token wrong system", obs, code, "code", "http://snomed.info/sct|2339-0", false},
		{"token |code without system", obs, code, "code", "|2339-0", false},
		{"token system|", obs, code, "code", "http://loinc.org|", true},
		{"token multiple-or", obs, code, "code", "1234-5,http://loinc.org|2339-0", true},
		{"token wrong code", obs, code, "code", "1234-5", false},
		{"token code element", obs, status, "status", "final", true},
		{"token code element wrong", obs, status, "status", "preliminary", false},
		{"token code element multiple-or", obs, status, "status", "preliminary,final", true},
		{"token :not", obs, status, "status:not", "final", false},
		{"token identifier", obs, ident, "identifier", "urn:sys|X-1", true},
		{"token identifier value only", obs, ident, "identifier", "X-1", true},
		{"token identifier wrong", obs, ident, "identifier", "urn:sys|X-2", false},
		{"token boolean", pat, active, "active", "true", true},
		{"token boolean false", pat, active, "active", "false", false},
		{"token extension code", pat, race, "race", "2106-3", true},
		{"token extension code wrong", pat, race, "race", "2054-5", false},
		{"token extension(url) coding", pat, raceCoding, "race", "urn:oid:2.16.840.1.113883.6.238|2106-3", true},
		{"token _id", obs, id, "_id", "o1", true},
		{"token _id wrong", obs, id, "_id", "o9", false},

		{"reference Type/id", obs, patient, "patient", "Patient/p1", true},
		{"reference id", obs, patient, "patient", "p1", true},
		{"reference absolute search", obs, patient, "patient", "http://example.org/fhir/Patient/p1", true},
		{"reference absolute target", obsPeriod, patient, "patient", "Patient/p2", true},
		{"reference wrong", obs, patient, "patient", "Patient/p2", false},
		{"reference wrong type", obs, patient, "patient", "Group/p1", false},
		{"canonical reference", qr, questionnaire, "questionnaire", "http://example.org/Questionnaire/q1", true},
		{"canonical reference versioned", qr, questionnaire, "questionnaire", "http://example.org/Questionnaire/q1|2.0", true},
		{"canonical reference other version", qr, questionnaire, "questionnaire", "http://example.org/Questionnaire/q1|1.0", false},
		{"canonical reference other", qr, questionnaire, "questionnaire", "http://example.org/Questionnaire/q2", false},

		{"string prefix", pat, name, "name", "chal", true},
		{"string accent-insensitive", pat, name, "name", "CHALMERS", true},
		{"string given", pat, name, "name", "jam", true},
		{"string no match", pat, name, "name", "smith", false},
		{"string exact", pat, family, "family:exact", "Chalmérs", true},
		{"string exact case", pat, family, "family:exact", "chalmérs", false},
		{"string contains", pat, family, "family:contains", "alm", true},
		{"string contains miss", pat, family, "family:contains", "xyz", false},
		{"string address city", pat, address, "address", "bos", true},
		{"string address miss", pat, address, "address", "chicago", false},

		{"quantity eq", obs, valq, "value-quantity", "5.5|http://unitsofmeasure.org|mmol/L", true},
		{"quantity gt", obs, valq, "value-quantity", "gt5", true},
		{"quantity lt fails", obs, valq, "value-quantity", "lt5", false},
		{"quantity wrong unit", obs, valq, "value-quantity", "5.5||mg/dL", false},
	}
	for _, ev := range []Evaluator{PathEvaluator{}, FHIRPathEvaluator{}} {
		ch := &Checker{Now: now, Eval: ev}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%T/%s", ev, c.name), func(t *testing.T) {
				cr := NewCriterion(c.p, c.key, c.val)
				r := ch.Match(context.Background(), res(t, c.res), cr)
				if r.NotChecked != "" {
					t.Fatalf("not checked: %s", r.NotChecked)
				}
				if r.Match != c.want {
					t.Errorf("%s on %s: match %v, want %v (had %v)", cr, c.p.Expression, r.Match, c.want, r.Had)
				}
			})
		}
	}
}

func TestCheckIssues(t *testing.T) {
	date := Param{Code: "date", Type: "date", Expression: "Observation.effective"}
	code := Param{Code: "code", Type: "token", Expression: "Observation.code"}
	rs := []map[string]any{res(t, obs), res(t, obsPeriod), res(t, `{"resourceType":"Provenance","id":"pv"}`)}
	ch := &Checker{}
	l := ch.Check(context.Background(), "Observation", rs, []Criterion{NewCriterion(date, "date", "ge2020-03-01"), NewCriterion(code, "code", "http://loinc.org|2339-0")})
	errs := l.Errors()
	// o2 fails date (ends 2020-02-20) and code (has none); o1 matches; Provenance ignored.
	if len(errs) != 2 {
		t.Fatalf("want 2 errors, got %v", l)
	}
	for _, e := range errs {
		if e.Rule != Rule || !strings.Contains(e.Message, "Observation/o2") || e.Diagnostics == "" {
			t.Errorf("bad issue %+v", e)
		}
	}
	if !strings.Contains(errs[0].Message, "date=ge2020-03-01") || !strings.Contains(errs[0].Message, "2020-01-10") {
		t.Errorf("message must name parameter, value and what the resource had: %s", errs[0].Message)
	}
	// as data: a code is shown; a date (it may be a birth date) only as the parameter and counts
	if e := errs[1]; e.Expected != "code=http://loinc.org|2339-0" || e.Actual != "no value" {
		t.Errorf("code mismatch data: expected %q actual %q", e.Expected, e.Actual)
	}
	if e := errs[0]; e.Expected != "date matching one of 1 searched value(s)" || e.Actual != "1 value(s) at Observation.effective, none matching" {
		t.Errorf("date mismatch data: expected %q actual %q", e.Expected, e.Actual)
	}
	// unsupported expression: information, never an error
	odd := Param{Code: "x", Type: "token", Expression: "Observation.code.memberOf('x')"}
	l = ch.Check(context.Background(), "Observation", rs[:1], []Criterion{NewCriterion(odd, "x", "a")})
	if l.HasErrors() || len(l) != 1 || l[0].Severity != issue.Information {
		t.Errorf("unsupported expression: %v", l)
	}
}

func TestSearchValuesRoundTrip(t *testing.T) {
	ps := []Param{
		{Code: "date", Type: "date", Expression: "Observation.effective"},
		{Code: "code", Type: "token", Expression: "Observation.code"},
		{Code: "patient", Type: "reference", Expression: "Observation.subject", Targets: []string{"Patient"}},
		{Code: "identifier", Type: "token", Expression: "Observation.identifier"},
		{Code: "value-quantity", Type: "quantity", Expression: "Observation.value.as(Quantity)"},
	}
	ch := &Checker{}
	ps = append(ps, Param{Code: "questionnaire", Type: "reference", Expression: "QuestionnaireResponse.questionnaire"})
	for _, r := range []map[string]any{res(t, obs), res(t, obsPeriod), res(t, qr)} {
		for _, p := range ps {
			for _, v := range SearchValues(context.Background(), nil, r, p) {
				if m := ch.Match(context.Background(), r, NewCriterion(p, p.Code, v)); !m.Match || m.NotChecked != "" {
					t.Errorf("%s: value %q taken from %s does not match it back (%+v)", p.Code, v, r["id"], m)
				}
			}
		}
	}
	if v := SearchValues(context.Background(), nil, res(t, pat), Param{Code: "name", Type: "string", Expression: "Patient.name"}); len(v) != 1 || v[0] != "Chalmérs" {
		t.Errorf("name values %v", v)
	}
}

func TestQueryEscapes(t *testing.T) {
	p := Param{Code: "code", Type: "token", Expression: "Observation.code"}
	c := NewCriterion(p, "code", `a\,b,c`)
	if len(c.Values) != 2 || c.Values[0] != `a\,b` {
		t.Fatalf("values %q", c.Values)
	}
	if q := Query(c).Get("code"); q != `a\,b,c` {
		t.Errorf("query %q", q)
	}
}

// TestExtensionValue: an expression that stops at an extension searches the extension's value
// (Plan-Net's practitionerrole-network), both for the values a search is built from and for
// matching the results.
func TestExtensionValue(t *testing.T) {
	const u = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/network-reference"
	p := Param{Code: "network", Type: "reference", Expression: "PractitionerRole.extension.where(url='" + u + "')"}
	role := func(net string) map[string]any {
		return map[string]any{"resourceType": "PractitionerRole", "id": "r",
			"extension": []any{map[string]any{"url": u, "valueReference": map[string]any{"reference": net}}}}
	}
	if got := SearchValues(context.Background(), nil, role("Organization/n1"), p); len(got) != 1 || got[0] != "Organization/n1" {
		t.Errorf("SearchValues = %v, want [Organization/n1]", got)
	}
	ch := &Checker{}
	for _, tc := range []struct {
		net  string
		want bool
	}{{"Organization/n1", true}, {"Organization/n2", false}} {
		if r := ch.Match(context.Background(), role(tc.net), NewCriterion(p, "network", "Organization/n1")); r.Match != tc.want {
			t.Errorf("network=Organization/n1 against %s: match %v, want %v", tc.net, r.Match, tc.want)
		}
	}
}
