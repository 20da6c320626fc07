package reports

import (
	"strings"
	"testing"
)

// redactReadable are messages pacheck writes that must come out of Redact unchanged.
var redactReadable = []string{
	"code_verifier: 3 error(s)",
	"no access token: expected HTTP 401, got 200",
	"pdex-priorauthorization: 2 error(s)",
	"prior-authorization: 2 error(s)",
	"token endpoint: expected HTTP 200, got 400",
	"Basic information about the plan",
	"Basic Authentication is not allowed",
	"password policy: at least 8 characters",
	"Bearer tokens must not be sent in the query",
	"access_token: expected a string, got number",
	"token: invalid_grant",
	"id_token: missing",
	"client_secret: 2 error(s) @ token.client_secret",
	"refresh_token: not issued (offline_access not granted)",
	"authorization: 1 error(s)",
	"cookie: 3 error(s)",
	"WWW-Authenticate: Bearer realm=\"fhir\", error=\"invalid_token\"",
	"Observation?code=1234-5&patient=1",
	"token_type: expected Bearer, got bearer",
	"password: expected the login form to have a password field",
	"expires_in: 3600",
	"token: us-core-patient",
	"Authorization: ***",
	"client_secret=***",
}

// redactSecret: each input with the secret part that must vanish.
var redactSecret = []struct{ in, secret string }{
	{"Authorization: Bearer abc.def", "abc.def"},
	{"authorization: opaqueTOKEN123", "opaqueTOKEN123"},
	{`{"Authorization":"Basic dXNlcjpwYXNz","x":1}`, "dXNlcjpwYXNz"},
	{"Proxy-Authorization: Digest username=x, response=6629fae49393a05397450978507c4ef1", "6629fae49393a05397450978507c4ef1"},
	{"Cookie: session=s3ss10n; theme=dark", "s3ss10n"},
	{"Set-Cookie: sid=ABCDEF123; HttpOnly", "ABCDEF123"},
	{"sent Bearer SECRET-BEARER to the server", "SECRET-BEARER"},
	{"sent bearer abcdef123 to the server", "abcdef123"},
	{"Basic Y2xpZW50OnNlY3JldA==", "Y2xpZW50OnNlY3JldA=="},
	{"jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl end", "eyJhbGciOiJSUzI1NiJ9"},
	{"https://x/cb?code=abc&access_token=T1&state=s", "T1"},
	{"grant_type=refresh_token&refresh_token=R1xx&client_secret=S1yy", "R1xx"},
	{"grant_type=refresh_token&refresh_token=R1xx&client_secret=S1yy", "S1yy"},
	{"code_verifier=V3RIFIER&password=P4SS", "V3RIFIER"},
	{"code_verifier=V3RIFIER&password=P4SS", "P4SS"},
	{`{"access_token": "A-token", "id_token":"I\"x", "expires_in": 3600}`, "A-token"},
	{`{"password":"correct horse battery staple"}`, "correct horse"},
	{"client_secret: hunter2", "hunter2"},
	{"password: P@ssword!", "P@ssword!"},
	{"access_token: 8f14e45fceea167a5a36dedd4bea2543", "8f14e45fceea167a5a36dedd4bea2543"},
	{"token: abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"},
	{"refresh_token: QmFzZTY0VG9rZW4", "QmFzZTY0VG9rZW4"},
	{"https://user:pw@host/x", "user:pw"},
	{"https://ghp_0123456789abcdef@host/x", "ghp_0123456789abcdef"},
	{"(refresh_token: QmFzZTY0VG9rZW4)", "QmFzZTY0VG9rZW4"},
}

func TestRedactReadableAndSecret(t *testing.T) {
	for _, in := range redactReadable {
		if got := Redact(in); got != in {
			t.Errorf("readable message changed: %q -> %q", in, got)
		}
	}
	for _, c := range redactSecret {
		got := Redact(c.in)
		if strings.Contains(got, c.secret) {
			t.Errorf("secret %q survived: %q -> %q", c.secret, c.in, got)
		}
		if !strings.Contains(got, Mask) {
			t.Errorf("no mask in %q -> %q", c.in, got)
		}
		if again := Redact(got); again != got {
			t.Errorf("not idempotent: %q -> %q -> %q", c.in, got, again)
		}
	}
}

// TestAuthFieldCandidate: the cheap gate before the Authorization pattern never says no where
// the pattern matches (it would let a header through unmasked), and says no on profile URLs.
func TestAuthFieldCandidate(t *testing.T) {
	for _, s := range []string{
		"Authorization: Bearer abcdefgh12345678",
		`{"authorization" : "Basic dXNlcjpwYXNz"}`,
		"x Proxy-Authorization=Digest a=b",
		"AUTHORIZATION\t\r\n:x",
		`"Authorization"` + ":\f\"tok\"",
		`prefix;authorization= 123`,
	} {
		if !reAuthHeader.MatchString(s) {
			t.Fatalf("test case %q does not match the pattern", s)
		}
		if !authFieldCandidate(s) {
			t.Errorf("authFieldCandidate(%q) = false where the pattern matches", s)
		}
	}
	for _, s := range []string{
		`{"profile":["http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/pdex-priorauthorization"]}`,
		"authorization", "authorization \"", "no auth here", "authorizationX:",
	} {
		if authFieldCandidate(s) {
			t.Errorf("authFieldCandidate(%q) = true", s)
		}
	}
	// Every string the pattern matches passes the gate (a property over generated inputs).
	parts := []string{"", " ", "\"", "\t", "\n", ":", "=", "{", ",", ";", "'", "authorization", "AuThOrIzAtIoN", "proxy-", "x", "Bearer abcdefgh1234"}
	var gen func(prefix string, depth int)
	gen = func(prefix string, depth int) {
		if reAuthHeader.MatchString(prefix) && !authFieldCandidate(prefix) {
			t.Fatalf("pattern matches %q, gate says no", prefix)
		}
		if depth == 0 {
			return
		}
		for _, p := range parts {
			gen(prefix+p, depth-1)
		}
	}
	gen("", 4)
}
