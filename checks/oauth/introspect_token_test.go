package oauth

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/issue"
)

func TestCheckIntrospectionToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tok := &TokenResponse{Received: now.Add(-time.Minute), ExpiresIn: 3600}
	exp := now.Add(-time.Minute + time.Hour).Unix()
	idt := &IDToken{Issuer: "https://as.example/auth", Subject: "member-1", FHIRUser: "https://fhir.example/r4/Patient/1"}
	num := func(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }
	good := func() map[string]any {
		return map[string]any{"active": true, "scope": "patient/*.rs", "client_id": "c", "exp": num(exp), "iat": num(now.Add(-time.Minute).Unix()),
			"iss": "https://as.example/auth", "sub": "member-1", "fhirUser": "Patient/1"}
	}
	cases := []struct {
		name  string
		edit  func(m map[string]any)
		idt   *IDToken
		rules []string // expected rules, in order
	}{
		{"conformant (relative fhirUser)", func(map[string]any) {}, idt, nil},
		{"exp a year late", func(m map[string]any) { m["exp"] = num(exp + 365*24*3600) }, idt, []string{RuleIntrospectExp}},
		{"exp already past", func(m map[string]any) {
			m["exp"], m["iat"] = num(now.Add(-time.Hour).Unix()), num(now.Add(-2*time.Hour).Unix())
		}, idt, []string{RuleIntrospectExp}},
		{"iat in the future", func(m map[string]any) { m["iat"] = num(now.Add(time.Hour).Unix()) }, idt, []string{RuleIntrospectExp}},
		{"iss and sub absent", func(m map[string]any) { delete(m, "iss"); delete(m, "sub") }, idt, []string{RuleIntrospectIDClaims, RuleIntrospectIDClaims}},
		{"sub of another user", func(m map[string]any) { m["sub"] = "member-2" }, idt, []string{RuleIntrospectIDClaims}},
		{"fhirUser absent", func(m map[string]any) { delete(m, "fhirUser") }, idt, []string{RuleIntrospectFHIRUser}},
		{"fhirUser of another patient", func(m map[string]any) { m["fhirUser"] = "Patient/2" }, idt, []string{RuleIntrospectFHIRUser}},
		{"no id_token: iss and sub not required", func(m map[string]any) { delete(m, "iss"); delete(m, "sub"); delete(m, "fhirUser") }, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := good()
			c.edit(m)
			got := CheckIntrospectionToken(&Introspection{Status: 200, Raw: m, Active: true, ActiveOK: true}, IntrospectToken{Token: tok, IDToken: c.idt, Now: now})
			var rules []string
			for _, i := range got {
				rules = append(rules, i.Rule)
			}
			if strings.Join(rules, ",") != strings.Join(c.rules, ",") {
				t.Errorf("rules %v, want %v (%v)", rules, c.rules, got)
			}
			for _, i := range got {
				if i.Rule == RuleIntrospectFHIRUser && i.Severity != issue.Warning {
					t.Errorf("fhirUser is a SHOULD: want a warning, got %v", i.Severity)
				}
			}
		})
	}
	// An inactive or refused answer is CheckIntrospection's to judge.
	if got := CheckIntrospectionToken(&Introspection{Status: 401}, IntrospectToken{Token: tok, IDToken: idt, Now: now}); len(got) != 0 {
		t.Errorf("HTTP 401: got %v, want no issue here", got)
	}
}
