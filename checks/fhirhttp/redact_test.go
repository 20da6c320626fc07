package fhirhttp

import (
	"strings"
	"testing"
)

// TestRedactByWhatASecretIs: messages pacheck writes stay readable beside secrets that must vanish.
func TestRedactByWhatASecretIs(t *testing.T) {
	readable := []string{
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
		"refresh_token: not issued (offline_access not granted)",
		"client_secret: 2 error(s)",
		"authorization: 1 error(s)",
		"cookie: 3 error(s)",
		`WWW-Authenticate: Bearer realm="fhir", error="invalid_token"`,
		"code: 1234-5",
		"Observation.code: expected a code from the value set",
		"urn:ietf:params:oauth:token-type:access_token",
		"token_type: expected Bearer, got bearer",
		"expires_in: 3600",
		"https://fhir.example/r4/Patient?_id=1",
		"mailto:member@example.org",
		"Authorization: Bearer ***",
		"Cookie: ***",
		"https://***@host/x",
	}
	for _, in := range readable {
		if got := Redact(in); got != in {
			t.Errorf("readable message changed: %q -> %q", in, got)
		}
	}
	secrets := []struct{ in, secret string }{
		{"Authorization: Bearer abc.def", "abc.def"},
		{"authorization: opaqueTOKEN123", "opaqueTOKEN123"},
		{`{"Authorization":"Basic dXNlcjpwYXNz","x":1}`, "dXNlcjpwYXNz"},
		{"Proxy-Authorization: Digest username=x, response=6629fae49393a05397450978507c4ef1", "6629fae49393a05397450978507c4ef1"},
		{"Cookie: session=s3ss10n; theme=dark", "s3ss10n"},
		{"set-cookie: sid=ABCDEF123; HttpOnly", "ABCDEF123"},
		{"sent Bearer SECRET-BEARER to the server", "SECRET-BEARER"},
		{"Basic Y2xpZW50OnNlY3JldA==", "Y2xpZW50OnNlY3JldA=="},
		{"jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl end", "eyJhbGciOiJSUzI1NiJ9"},
		{"https://x/cb?code=abc&access_token=T1&state=s", "T1"},
		{"https://app.example/launch?iss=https%3A%2F%2Ffhir&launch=L4unchV4lue", "L4unchV4lue"},
		{"response_type=code&launch=L4unchV4lue&scope=launch+openid", "L4unchV4lue"},
		{"https://x/cb?code=abc&access_token=T1&state=s", "code=abc"},
		{"grant_type=refresh_token&refresh_token=R1xx&client_secret=S1yy", "R1xx"},
		{"grant_type=refresh_token&refresh_token=R1xx&client_secret=S1yy", "S1yy"},
		{`{"access_token": "A-token", "id_token":"I\"x", "expires_in": 3600}`, "A-token"},
		{`{"password":"correct horse battery staple"}`, "correct horse"},
		{"client_secret: hunter2", "hunter2"},
		{"password: P@ssword!", "P@ssword!"},
		{"access_token: 8f14e45fceea167a5a36dedd4bea2543", "8f14e45fceea167a5a36dedd4bea2543"},
		{"token: abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"},
		{"(refresh_token: QmFzZTY0VG9rZW4)", "QmFzZTY0VG9rZW4"},
		{"https://user:pw@host/x", "user:pw"},
		{"https://ghp_0123456789abcdef@host/x", "ghp_0123456789abcdef"},
	}
	for _, c := range secrets {
		got := Redact(c.in)
		if strings.Contains(got, c.secret) || !strings.Contains(got, Mask) {
			t.Errorf("secret %q survived: %q -> %q", c.secret, c.in, got)
		}
		if again := Redact(got); again != got {
			t.Errorf("not idempotent: %q -> %q -> %q", c.in, got, again)
		}
	}
	// Exact registered secrets vanish wherever they are, even where nothing else says "secret".
	var sec Secrets
	sec.Add("member-password-1", "opaque")
	if got := sec.Redact("typed member-password-1 into the form; opaque is a word too"); got != "typed *** into the form; *** is a word too" {
		t.Errorf("Secrets.Redact: %q", got)
	}
}

func TestLooksSecret(t *testing.T) {
	for v, want := range map[string]bool{
		"3": false, "expected": false, "error(s)": false, "invalid_grant": false, "us-core-patient": false,
		"2026-12-01": false, "1234-5": false, "SMART": false, "Authentication": false, "***": false, "missing.": false,
		"hunter2": true, "P@ss!word": true, "abcdefghijklmnopqrstuvwxyz": true, "dXNlcjpwYXNz": true,
		"12345678901234567890": true, "s3cr3t.": true, "8f14e45fceea167a": true,
	} {
		if got := LooksSecret(v); got != want {
			t.Errorf("LooksSecret(%q) = %v, want %v", v, got, want)
		}
	}
	for v, want := range map[string]bool{"information": false, "Authentication": false, "BEARERTOKEN": false, "short1": false,
		"abcdef123": true, "SECRET-BEARER": true, "dXNlcjpwYXNz": true} {
		if got := CredentialLike(v); got != want {
			t.Errorf("CredentialLike(%q) = %v, want %v", v, got, want)
		}
	}
}
