package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
)

// TestLoginCommand: pacheck login signs in on a two-factor style with the configured TOTP
// secret, prints each page with its controls and action and the token response with every token
// masked; on the CAPTCHA style it stops with exit 3 and the diagnosis.
func TestLoginCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a browser sign-in")
	}
	if _, err := browser.FindChromium(""); err != nil {
		t.Skipf("no Chromium (%v)", err)
	}
	const scopes = "  scopes: [launch/patient, openid, fhirUser, offline_access, patient/*.rs]\n"
	for _, tc := range []struct {
		style  string
		scopes string // the config's auth.scopes line
		code   int
		out    []string // in stdout
		err    []string // in stderr
	}{
		{"totp", scopes, ExitOK, []string{"page 1: http://", "found: title \"Sign in\"", "did:   login page", "authenticator code (masked)", "page 3:", "screenshot: ",
			"token response: HTTP 200", "access_token: *** (", "refresh_token: *** (", "patient: member-1", "scope: launch/patient"}, nil},
		{"captcha", scopes, ExitEnvError, []string{"page 1: http://", "stopped: "}, []string{"CAPTCHA", "#captcha-answer", "suggested steps", "- when:"}},
		// No auth.scopes: the sign-in asks for what pacheck run asks for, not for no scope.
		{auth.DefaultLoginStyle, "", ExitOK, []string{`scope "launch/patient openid fhirUser offline_access patient/*.rs"`,
			"token response: HTTP 200", "scope: launch/patient openid fhirUser offline_access patient/*.rs"}, nil},
	} {
		t.Run(tc.style, func(t *testing.T) {
			srv, err := refserver.New(refserver.Config{Members: 2, Seed: 1, LoginStyle: tc.style})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := srv.Start("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			dir := t.TempDir()
			conf := filepath.Join(dir, "pacheck.yaml")
			y := fmt.Sprintf("target: %s\nauth:\n  client_id: pacheck-public\n  redirect_uri: http://localhost/callback\n"+
				"%s  login:\n    username: member1\n    password: demo-pass-1\n    totp_secret: %s\n",
				srv.FHIRBase(), tc.scopes, auth.DemoTOTPSecret)
			if err := os.WriteFile(conf, []byte(y), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := Main(context.Background(), []string{"login", "--config", conf, "--out", filepath.Join(dir, "out")}, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, out.String(), errb.String())
			}
			for _, w := range tc.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
			all := out.String() + errb.String()
			for _, secret := range []string{"demo-pass-1", auth.DemoTOTPSecret, "code=", "eyJ"} {
				if strings.Contains(all, secret) {
					t.Errorf("output shows %q", secret)
				}
			}
			shots, _ := filepath.Glob(filepath.Join(dir, "out", "browser", "*.png"))
			if len(shots) == 0 {
				t.Error("no screenshot saved")
			}
			t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
		})
	}
}

// Issue #16: a sign-in page the default strategy must not pass (a CAPTCHA) ends the run with one
// root cause whose reason is the diagnosis, and exit 3 — not one error per blocked spec.
func TestCaptchaOneDiagnosis(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a browser run of the SMART specs")
	}
	if _, err := browser.FindChromium(""); err != nil {
		t.Skipf("no Chromium (%v)", err)
	}
	code, console, res, _ := runOneMemberStyle(t, auth.MemberUser(1).Password, "captcha")
	if code != ExitEnvError {
		t.Errorf("exit %d, want %d", code, ExitEnvError)
	}
	if len(res.RootCauses) != 1 {
		t.Fatalf("%d root causes, want 1: %+v\n%s", len(res.RootCauses), res.RootCauses, tail(console, 30))
	}
	rc := res.RootCauses[0]
	for _, w := range []string{"CAPTCHA", "#captcha-answer", "title \"Sign in\"", "[screenshot "} {
		if !strings.Contains(rc.Reason, w) {
			t.Errorf("root cause reason lacks %q: %s", w, rc.Reason)
		}
	}
	if n := strings.Count(console, "ERROR "); n > 1 {
		t.Errorf("%d ERROR lines; the blocked specs are counted, not listed", n)
	}
	t.Logf("exit %d; console:\n%s", code, tail(console, 25))
}
