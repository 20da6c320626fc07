package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestExampleParses(t *testing.T) {
	vars := map[string]string{"PACHECK_TOKEN": "t0k", "PACHECK_CLIENT_SECRET": "s3cret", "MEMBER_USERNAME": "u",
		"MEMBER_PASSWORD": "pw", "MEMBER2_USERNAME": "u2", "MEMBER2_PASSWORD": "pw2",
		"PACHECK_CLIENT2_SECRET": "s2", "PACHECK_EXPIRED_TOKEN": "expired-tok", "MEMBER_TOTP_SECRET": "JBSWY3DPEHPK3PXP"}
	f, err := Parse("example.yaml", []byte(Example), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if f.Auth.ClientSecret != "s3cret" || f.Auth.Login.Steps[0].Actions[1].Fill.Value != "pw" {
		t.Fatalf("substitution did not happen: %+v", f.Auth)
	}
	if f.Limits.Deadline != Duration(45*time.Minute) || f.Limits.Retries != 3 || f.Limits.RetryMaxWait != Duration(30*time.Second) ||
		f.Limits.MaxLatency != Duration(2*time.Second) || len(f.Auth.AllowedOrigins) != 1 || f.AllowIncomplete {
		t.Fatalf("new keys not decoded: limits %+v, origins %v, allow_incomplete %v", f.Limits, f.Auth.AllowedOrigins, f.AllowIncomplete)
	}
	if f.Attestations != "attestations.yaml" || f.Auth.CodeLifetime != Duration(time.Minute) {
		t.Fatalf("attestations %q, auth.code_lifetime %v: not decoded from the example", f.Attestations, time.Duration(f.Auth.CodeLifetime))
	}
	if f.Limits.MaxPages != 20 || f.Auth.SecondMember == nil {
		t.Fatalf("example not fully decoded: %+v", f)
	}
	secrets := strings.Join(f.Secrets(), ",")
	if len(f.Auth.ExtraClients) != 1 || f.Auth.Consent == nil || f.Auth.Consent.Scope != "offline_access" {
		t.Fatalf("extra_clients/consent not decoded: %+v", f.Auth)
	}
	if f.Auth.Deny == nil || len(f.Auth.Deny.Steps) != 2 || f.Auth.Deny.Steps[1].Actions[0].Click != "#deny" {
		t.Fatalf("deny not decoded: %+v", f.Auth.Deny)
	}
	if f.Auth.Portal == nil || f.Auth.Portal.LaunchURL != "https://app.example.com/launch" || len(f.Auth.Portal.Steps) != 2 ||
		f.Auth.Portal.Steps[0].Actions[1].Fill.Value != "pw" {
		t.Fatalf("portal not decoded: %+v", f.Auth.Portal)
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
		{"deny without steps", "auth:\n  deny: {}\n", `cfg.yaml:1: auth.deny has no steps`},
		{"portal step without action", "auth:\n  portal:\n    steps:\n      - url: x\n        actions: [{}]\n", `auth.portal.steps[0].actions[0]: each login action needs exactly one of`},
		{"deny step without action", "auth:\n  deny:\n    steps:\n      - url: x\n        actions: [{}]\n", `each login action needs exactly one of`},
		{"origin with path", "auth:\n  allowed_origins: [https://idp.example.org/login]\n", `cfg.yaml:2: auth.allowed_origins "https://idp.example.org/login": an origin has no path`},
		{"origin not http", "auth:\n  allowed_origins: [\"file:///etc\"]\n", `not an http(s) origin`},
		{"origin no host", "auth:\n  allowed_origins: [\"https://\"]\n", `no host`},
		{"origin userinfo", "auth:\n  allowed_origins: [\"https://u:p@idp.example.org\"]\n", `user info is not part of an origin`},
		{"origin query", "auth:\n  allowed_origins: [\"https://idp.example.org?x=1\"]\n", `no path, query or fragment`},
		{"origin bad port", "auth:\n  allowed_origins: [\"https://idp.example.org:99999\"]\n", `port "99999" is not 1 to 65535`},
		{"origin list of maps", "auth:\n  allowed_origins: [{a: b}]\n", `cannot unmarshal`},
		{"retries zero", "limits:\n  retries: 0\n", `cfg.yaml:2: limits.retries 0: use 1 to 10`},
		{"retries huge", "limits:\n  retries: 1000\n", `limits.retries 1000: use 1 to 10`},
		{"retries text", "limits:\n  retries: many\n", `cannot unmarshal text`},
		{"deadline bad", "limits:\n  deadline: tomorrow\n", `"tomorrow" is not a duration`},
		{"deadline negative", "limits:\n  deadline: -5m\n", `"-5m" is not a duration`},
		{"deadline huge", "limits:\n  deadline: 100h\n", `cfg.yaml:2: limits.deadline 100h0m0s: use at most 24h0m0s`},
		{"retry wait huge", "limits:\n  retry_max_wait: 1h\n", `limits.retry_max_wait 1h0m0s: use at most 10m0s`},
		{"code lifetime huge", "auth:\n  code_lifetime: 1h\n", `auth.code_lifetime 1h0m0s: use at most 30m0s`},
		{"latency mapping", "limits:\n  max_latency: {a: 1}\n", `is not a duration`},
		{"negative pages", "limits:\n  max_pages: -1\n", `cannot be negative`},
		{"education not a URL", "member:\n  education_url: privacy.html\n", `cfg.yaml:1: member.education_url "privacy.html" is not an absolute http(s) URL`},
		{"education file", "member:\n  education_url: \"file:///etc/passwd\"\n", `is not an absolute http(s) URL`},
		{"reference claim ref", "dataquality:\n  reference_claims:\n    - {ref: claim-123, processed: 2026-12-01}\n", `cfg.yaml:1: dataquality.reference_claims[0].ref "claim-123": give the record as Type/id`},
		{"reference claim date", "dataquality:\n  reference_claims:\n    - {ref: ExplanationOfBenefit/c1, processed: yesterday}\n", `dataquality.reference_claims[0].processed "yesterday": give the date`},
		{"allow_incomplete text", "allow_incomplete: perhaps\n", `cannot unmarshal text`},
		{"two actions", "auth:\n  login:\n    steps:\n      - url: x\n        actions:\n          - {click: a, wait: b}\n", "exactly one of"},
		{"two actions line", "auth:\n  login:\n    steps:\n      - url: x\n        actions:\n          - click: a\n          - {click: a, wait: b}\n", "cfg.yaml:7: auth.login.steps[0].actions[1]: each login action"},
		{"empty when", "auth:\n  login:\n    steps:\n      - when: {}\n        actions: [{click: a}]\n", "cfg.yaml:4: auth.login.steps[0].when: give selector, text or url"},
		{"bad url", "auth:\n  login:\n    steps:\n      - click: a\n", `cfg.yaml:4: unknown key "click" under auth.login.steps`},
		{"bad regexp", "auth:\n  deny:\n    steps:\n      - url: x\n        actions: [{click: a}]\n      - url: \"(\"\n        actions: [{click: a}]\n", "cfg.yaml:6: auth.deny.steps[1].url \"(\""},
		{"when url bad", "auth:\n  login:\n    steps:\n      - when: {url: \"[\"}\n        actions: [{click: a}]\n", "cfg.yaml:4: auth.login.steps[0].when.url"},
		{"no actions", "auth:\n  login:\n    steps:\n      - when: {text: Sign in}\n", "cfg.yaml:4: auth.login.steps[0]: no actions"},
		{"empty click text", "auth:\n  login:\n    steps:\n      - once: true\n        actions:\n          - click: a\n          - click: \"text= \"\n", "cfg.yaml:7: auth.login.steps[0].actions[1] click: text= needs the text"},
		{"fill without selector", "auth:\n  login:\n    steps:\n      - actions:\n          - fill: {value: x}\n", "auth.login.steps[0].actions[0]: fill and select need a selector"},
		{"once text", "auth:\n  login:\n    steps:\n      - once: sometimes\n        actions: [{click: a}]\n", "cfg.yaml: line 4: cannot unmarshal text `sometimes` into bool"},
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

// TestContentMatchedSteps: when:, once:, frame:, totp: and the login's member and totp_secret
// are accepted and reach the browser engine's steps.
func TestContentMatchedSteps(t *testing.T) {
	text := "auth:\n  login:\n    username: m\n    member: Demo Member 2\n    totp_secret: ${SECRET}\n    steps:\n" +
		"      - when: {selector: \"#password\", text: Sign in}\n        once: true\n        frame: iframe\n        actions:\n" +
		"          - fill: {selector: \"#otp\", totp: true}\n          - click: \"text=Sign in\"\n          - wait: 2s\n"
	f, err := Parse("c.yaml", []byte(text), env(map[string]string{"SECRET": "JBSWY3DPEHPK3PXP"}))
	if err != nil {
		t.Fatal(err)
	}
	l := f.Auth.Login
	if l.Member != "Demo Member 2" || l.TOTPSecret != "JBSWY3DPEHPK3PXP" || len(l.Steps) != 1 {
		t.Fatalf("login %+v", l)
	}
	bs := l.Steps[0].Browser()
	if !bs.Once || bs.Frame != "iframe" || bs.When == nil || bs.When.Selector != "#password" || bs.When.Text != "Sign in" || !bs.Actions[0].TOTP || bs.Actions[1].Click != "text=Sign in" {
		t.Fatalf("browser step %+v", bs)
	}
	if !slices.Contains(f.Secrets(), "JBSWY3DPEHPK3PXP") {
		t.Error("the TOTP secret is not among the masked values")
	}
}

func TestNewKeysAccepted(t *testing.T) {
	f, err := Parse("c.yaml", []byte("auth:\n  allowed_origins: [\"https://idp.example.org\", \"http://127.0.0.1:8080\", \"https://x.org/\"]\nlimits:\n  retries: 1\n  deadline: 10m\nallow_incomplete: true\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Auth.AllowedOrigins) != 3 || f.Limits.Retries != 1 || f.Limits.Deadline != Duration(10*time.Minute) || !f.AllowIncomplete {
		t.Fatalf("decoded %+v", f)
	}
	// Unset keys stay zero: the CLI applies its defaults.
	f, err = Parse("c.yaml", []byte("target: https://x.org/fhir\n"), env(nil))
	if err != nil || f.Limits.Retries != 0 || f.Limits.Deadline != 0 || f.AllowIncomplete {
		t.Fatalf("defaults %+v, %v", f, err)
	}
}

// TestLoadRefusesNonRegularAndHuge: a device, a FIFO, a folder or an oversize file fails at once
// with one line naming the file (a FIFO without a writer would block a plain open forever).
func TestLoadRefusesNonRegularAndHuge(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte("target: https://x.org/fhir\n"+strings.Repeat("# padding\n", MaxFileBytes/10+1)), 0o644)
	for _, c := range []struct{ name, path, want string }{
		{"device", "/dev/zero", "config: /dev/zero is a device, not a regular file; give a file"},
		{"fifo", fifo, "fifo.yaml is a FIFO (named pipe), not a regular file"},
		{"folder", dir, "is a folder, not a regular file"},
		{"oversize", big, "big.yaml is 1048607 bytes, over the 1 MiB limit; a configuration is a few KiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.path)
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
	if err == nil || !strings.Contains(err.Error(), "cannot read it (") || !strings.Contains(err.Error(), "missing.yaml: no such file") {
		t.Fatalf("error = %v", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte("target: https://x.org/fhir\n"), 0o644)
	if f, err := Load(p); err != nil || f.Target != "https://x.org/fhir" {
		t.Fatalf("Load = %+v, %v", f, err)
	}
}

// TestDenyStepSecretsMasked: a secret typed by the deny steps is among the values masked in logs
// and reports, like the login's and the consent's.
func TestDenyStepSecretsMasked(t *testing.T) {
	text := "auth:\n  mode: browser\n  deny:\n    steps:\n      - url: /login\n        actions:\n" +
		"          - fill: {selector: \"#password\", value: \"${DENY_PW}\", secret: true}\n          - click: \"#deny\"\n"
	f, err := Parse("cfg.yaml", []byte(text), env(map[string]string{"DENY_PW": "deny-only-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(f.Secrets(), ","), "deny-only-secret") {
		t.Errorf("Secrets() %q misses the deny steps' secret", f.Secrets())
	}
}
