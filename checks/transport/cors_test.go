package transport

import (
	"net/http"
	"strings"
	"testing"
)

func TestCheckCORS(t *testing.T) {
	const o = "https://app.example"
	for _, c := range []struct {
		name   string
		values []string
		ok     bool
		msg    string
	}{
		{"wildcard", []string{"*"}, true, ""},
		{"exact origin", []string{o}, true, ""},
		{"no header", nil, false, "no Access-Control-Allow-Origin"},
		{"other origin", []string{"https://other.example"}, false, "another value"},
		{"origin with a path is not the origin", []string{o + "/"}, false, "another value"},
		{"two values", []string{"*", o}, false, "one Access-Control-Allow-Origin value"},
		{"null", []string{"null"}, false, "another value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range c.values {
				h.Add("Access-Control-Allow-Origin", v)
			}
			got := CheckCORS("smart-configuration", o, 200, h)
			if c.ok != (len(got) == 0) {
				t.Fatalf("ok=%v, got %v", c.ok, got)
			}
			if !c.ok && (got[0].Rule != RuleCORS || !strings.Contains(got[0].Message, c.msg)) {
				t.Errorf("got %+v, want rule %s and %q in the message", got[0], RuleCORS, c.msg)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://App.Example:8443/cb?x=1": "https://app.example:8443",
		"http://localhost/callback":       "http://localhost",
		"app://callback":                  "",
		"not a url":                       "",
		"":                                "",
	} {
		if got := Origin(in); got != want {
			t.Errorf("Origin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckPreflight(t *testing.T) {
	const o = "https://app.example"
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	for _, c := range []struct {
		name   string
		status int
		h      http.Header
		want   int // issues
	}{
		{"allowed", 204, hdr("Access-Control-Allow-Origin", o, "Access-Control-Allow-Headers", "Content-Type, Authorization"), 0},
		{"wildcard headers do not cover Authorization", 204, hdr("Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "*"), 1},
		{"no allow-headers", 200, hdr("Access-Control-Allow-Origin", o), 1},
		{"refused preflight", 405, hdr(), 1},
		{"no allow-origin", 204, hdr("Access-Control-Allow-Headers", "authorization"), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := CheckPreflight("FHIR API", o, "GET", []string{"Authorization"}, c.status, c.h)
			if len(got) != c.want {
				t.Errorf("%d issues, want %d: %v", len(got), c.want, got)
			}
		})
	}
}
