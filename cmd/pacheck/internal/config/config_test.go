package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestExampleParses(t *testing.T) {
	vars := map[string]string{"PACHECK_TOKEN": "t0k", "PACHECK_CLIENT_SECRET": "s3cret", "MEMBER_USERNAME": "u",
		"MEMBER_PASSWORD": "pw", "MEMBER2_USERNAME": "u2", "MEMBER2_PASSWORD": "pw2",
		"PACHECK_CLIENT2_SECRET": "s2", "PACHECK_EXPIRED_TOKEN": "expired-tok"}
	f, err := Parse("example.yaml", []byte(Example), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if f.Auth.ClientSecret != "s3cret" || f.Auth.Login.Steps[0].Actions[1].Fill.Value != "pw" {
		t.Fatalf("substitution did not happen: %+v", f.Auth)
	}
	if f.Limits.MaxPages != 20 || f.Auth.SecondMember == nil {
		t.Fatalf("example not fully decoded: %+v", f)
	}
	secrets := strings.Join(f.Secrets(), ",")
	if len(f.Auth.ExtraClients) != 1 || f.Auth.Consent == nil || f.Auth.Consent.Scope != "offline_access" {
		t.Fatalf("extra_clients/consent not decoded: %+v", f.Auth)
	}
	for _, s := range []string{"t0k", "s3cret", "pw", "pw2", "s2", "expired-tok"} {
		if !strings.Contains(secrets, s) {
			t.Errorf("Secrets() misses %q", s)
		}
	}
}

func TestErrorClasses(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"unknown key", "target: https://x.org/fhir\ntargte: y\n", `cfg.yaml:2: unknown key "targte"`},
		{"nested unknown key", "auth:\n  mode: none\n  clientid: x\n", `cfg.yaml:3: unknown key "clientid" under auth`},
		{"wrong type", "limits:\n  max_pages: many\n", `cfg.yaml: line 2: cannot unmarshal text ` + "`many`" + ` into int`},
		{"missing env var", "auth:\n  mode: token\n  token: ${NOPE_TOKEN}\n", "cfg.yaml:3: environment variable NOPE_TOKEN is not set"},
		{"bad URL", "target: ftp://x\n", `cfg.yaml:1: target "ftp://x" is not an http(s) URL`},
		{"bad duration", "limits:\n  request_timeout: soon\n", `line 2: "soon" is not a duration`},
		{"bad mode", "auth:\n  mode: magic\n", `cfg.yaml:1: auth.mode "magic"`},
		{"too many sign-ins", "auth:\n  parallel_sign_ins: 50\n", `cfg.yaml:1: auth.parallel_sign_ins 50: use 1 to 8`},
		{"unknown preset", "preset: nope\n", `cfg.yaml:1: unknown preset "nope"`},
		{"unknown suite", "suites: [smart, nope]\n", `unknown suite "nope"`},
		{"empty", "", "the file is empty"},
		{"syntax", "target: [\n", "cfg.yaml: "},
		{"two actions", "auth:\n  login:\n    steps:\n      - url: x\n        actions:\n          - {click: a, wait: b}\n", "exactly one of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(c.text), env(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestUnreadableFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml: cannot read it") {
		t.Fatalf("error = %v", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte("target: https://x.org/fhir\n"), 0o644)
	if f, err := Load(p); err != nil || f.Target != "https://x.org/fhir" {
		t.Fatalf("Load = %+v, %v", f, err)
	}
}
