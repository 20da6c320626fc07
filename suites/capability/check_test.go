package capability

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

func rules(l issue.List) string {
	var rs []string
	for _, i := range l.Errors() {
		rs = append(rs, i.Rule)
	}
	return strings.Join(rs, ",")
}

func TestChecks(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ig.Load(set, "6.1.0")
	if err != nil {
		t.Fatal(err)
	}
	// The IG's own CapabilityStatement, made a server statement, declares everything it requires.
	good := clone(srv.CS)
	good["kind"] = "instance"
	good["instantiates"] = []any{ig.ServerCS + "|6.1.0"}
	good["rest"].([]any)[0].(map[string]any)["security"] = map[string]any{
		"extension": []any{map[string]any{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
			"extension": []any{map[string]any{"url": "authorize", "valueUri": "https://a/authorize"}, map[string]any{"url": "token", "valueUri": "https://a/token"}}}},
		"service": []any{map[string]any{"coding": []any{map[string]any{"code": "SMART-on-FHIR"}}}}}

	noPatientProfile := clone(good)
	noSearch := clone(good)
	noRead := clone(good)
	for _, r := range noPatientProfile["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		rm := r.(map[string]any)
		switch rm["type"] {
		case "Patient":
			rm["supportedProfile"] = []any{}
		}
	}
	for _, r := range noSearch["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		rm := r.(map[string]any)
		if rm["type"] == "Patient" {
			rm["searchParam"] = []any{}
		}
	}
	for _, r := range noRead["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		rm := r.(map[string]any)
		if rm["type"] == "Condition" {
			rm["interaction"] = []any{}
		}
	}
	wrongVersion := clone(good)
	wrongVersion["fhirVersion"] = "3.0.2"
	wrongVersion["format"] = []any{"xml"}
	noSec := clone(good)
	delete(noSec["rest"].([]any)[0].(map[string]any), "security")
	client := clone(good)
	client["rest"].([]any)[0].(map[string]any)["mode"] = "client"

	cases := []struct {
		name string
		got  issue.List
		want string
	}{
		{"good basics", CheckBasics(good, "application/fhir+json"), ""},
		{"good rest", CheckRestServer(good), ""},
		{"good security", CheckSecurity(good), ""},
		{"good instantiates", CheckInstantiates(good, ig.ServerCS, "6.1.0", ig.PackageID), ""},
		{"good profiles", CheckDeclared(good, srv, "profiles"), ""},
		{"good search", CheckDeclared(good, srv, "search"), ""},
		{"good interactions", CheckDeclared(good, srv, "interactions"), ""},
		{"wrong version and format", CheckBasics(wrongVersion, "text/plain"), "capability.fhir-version,capability.format-json,capability.http.content-type"},
		{"instantiates other version", CheckInstantiates(good, ig.ServerCS, "3.1.1", ig.PackageID), "capability.instantiates"},
		{"missing patient profile", CheckDeclared(noPatientProfile, srv, "profiles"), "capability.supported-profiles"},
		{"missing patient search params", CheckDeclared(noSearch, srv, "search"), "capability.search-params,capability.search-params,capability.search-params"},
		{"missing read", CheckDeclared(noRead, srv, "interactions"), "capability.interactions,capability.interactions"},
		{"no security", CheckSecurity(noSec), "capability.smart-security"},
		{"client mode", CheckRestServer(client), "capability.rest-server"},
	}
	for _, c := range cases {
		if got := rules(c.got); got != c.want {
			t.Errorf("%s: rules %q, want %q (%v)", c.name, got, c.want, c.got)
		}
	}
}

func TestAvailabilityVerdicts(t *testing.T) {
	ms := func(ds ...int) []time.Duration {
		var out []time.Duration
		for _, d := range ds {
			out = append(out, time.Duration(d)*time.Millisecond)
		}
		return out
	}
	cases := []struct {
		name      string
		o         fhirhttp.ObservationSummary
		available bool
	}{
		{"healthy", fhirhttp.ObservationSummary{Requests: 400, Attempts: 400}, true},
		{"one retry in 400", fhirhttp.ObservationSummary{Requests: 400, Attempts: 401, Retried: 1}, true},
		{"every 4th answered 503", fhirhttp.ObservationSummary{Requests: 400, Attempts: 500, Retried: 100}, false},
		{"failures after retries", fhirhttp.ObservationSummary{Requests: 100, Attempts: 100, Failed: 5}, false},
		{"nothing observed", fhirhttp.ObservationSummary{}, true},
	}
	for _, c := range cases {
		if got := AvailabilityVerdict(c.o) == ""; got != c.available {
			t.Errorf("%s: available = %v, want %v (%q)", c.name, got, c.available, AvailabilityVerdict(c.o))
		}
	}
	lat := []struct {
		name string
		l    []time.Duration
		ok   bool
	}{
		{"fast", ms(10, 20, 30, 40, 50), true},
		{"one slow outlier in 40", append(ms(make([]int, 39)...), 9*time.Second), true},
		{"all slow", ms(2100, 2200, 2050, 2300), false},
	}
	for _, c := range lat {
		if got := LatencyVerdict(fhirhttp.ObservationSummary{Latencies: c.l}, DefaultMaxLatency) == ""; got != c.ok {
			t.Errorf("%s: within bound = %v, want %v", c.name, got, c.ok)
		}
	}
}
