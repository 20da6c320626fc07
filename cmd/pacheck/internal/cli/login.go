package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/cmd/pacheck/internal/config"
	"github.com/pacheck/pacheck/suites/smart"
)

func init() {
	register(&command{name: "login", summary: "sign in only (and consent): show each page, its controls and what was done", run: runLogin})
}

const loginHelp = `Usage: pacheck login --config FILE [--out DIR] [--timeout D]

Performs only the SMART sign-in of the configuration's auth section (login and consent, through
headless Chromium), then redeems the code. It prints each page it saw with the controls found
on it (inputs with their labels, buttons with their text) and the action taken, saves a
screenshot of each page in DIR/browser, and prints the token response's fields — tokens and
secrets masked. Use it to write and fix login.steps. When the sign-in stops, the error names the
page, its controls and suggests steps for it. Exit 0 signed in, 1 refused (the redirect or the
token endpoint answered an error), 2 usage, 3 could not sign in.

Examples:
  pacheck login --config pacheck.yaml
  pacheck login --config pacheck.yaml --out /tmp/login

Flags:
`

func runLogin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("login", loginHelp, stdout)
	conf := fs.String("config", "", "run configuration (YAML; pacheck config example)")
	out := fs.String("out", "pacheck-login", "folder for the screenshots")
	timeout := fs.Duration("timeout", 2*time.Minute, "time limit of the sign-in")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if *conf == "" {
		errorf(stderr, "login", "--config FILE is required (see 'pacheck help login')")
		return ExitUsage
	}
	f, err := config.Load(*conf)
	if err != nil {
		errorf(stderr, "login", "%v", err)
		return ExitUsage
	}
	if f.Target == "" {
		errorf(stderr, "login", "%s: target is not set", *conf)
		return ExitUsage
	}
	if m := f.Auth.Mode; m != "" && m != "browser" {
		errorf(stderr, "login", "%s: auth.mode is %s; pacheck login drives the browser sign-in (auth.mode: browser)", *conf, m)
		return ExitUsage
	}
	set, err := smartSettings(f.Auth)
	if err != nil {
		errorf(stderr, "login", "%v", err)
		return ExitUsage
	}
	secrets := f.Secrets()
	say := func(format string, a ...any) {
		s := fmt.Sprintf(format, a...)
		for _, v := range secrets {
			if len(v) >= 3 {
				s = strings.ReplaceAll(s, v, fhirhttp.Mask)
			}
		}
		fmt.Fprintln(stdout, termSafe(fhirhttp.Redact(s), true))
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	defer browser.CloseAll()

	hc, err := fhirhttp.New(fhirhttp.Options{BaseURL: f.Target})
	if err != nil {
		errorf(stderr, "login", "%v", err)
		return ExitUsage
	}
	cfg, err := oauth.FetchSMARTConfig(ctx, hc, f.Target)
	if err != nil {
		errorf(stderr, "login", "discovery: %v", err)
		return ExitEnvError
	}
	c := oauth.Client{HTTP: hc, TokenEndpoint: cfg.TokenEndpoint, ClientID: set.ClientID, ClientSecret: set.ClientSecret,
		AuthMethod: set.AuthMethod, RedirectURI: set.RedirectURI, PrivateKey: set.PrivateKey, Target: f.Target, AllowedOrigins: f.Auth.AllowedOrigins}
	if c.RedirectURI == "" {
		errorf(stderr, "login", "%s: auth.redirect_uri is not set (any URI registered for the client: it never has to resolve)", *conf)
		return ExitUsage
	}
	if set.Scopes == "" {
		// What pacheck run requests when auth.scopes is unset: without it the sign-in asks for no
		// scope at all, which a server may refuse (oidc-provider answers access_denied).
		set.Scopes = smart.DefaultScopes(smartVersion(cfg))
	}
	req, err := c.AuthRequest(cfg, set.Scopes, f.Target)
	if err != nil {
		errorf(stderr, "login", "%v", err)
		return ExitEnvError
	}
	authURL, err := req.URL()
	if err != nil {
		errorf(stderr, "login", "%v", err)
		return ExitEnvError
	}
	shots := filepath.Join(*out, "browser")
	b, err := browser.Launch(ctx, browser.Options{EvidenceDir: shots, WorkDir: *out, Trace: true,
		AllowedOrigins: f.Auth.AllowedOrigins, Target: f.Target})
	if err != nil {
		errorf(stderr, "login", "%v", err)
		return ExitEnvError
	}
	defer b.Close()
	say("authorization endpoint %s, client %s (%s), scope %q", cfg.AuthorizationEndpoint, c.ClientID, c.AuthMethod, set.Scopes)
	if len(set.Login.Steps) > 0 {
		say("login: %d explicit step(s)", len(set.Login.Steps))
	} else {
		say("login: the default strategy")
	}
	creds := browser.Credentials{Username: set.Login.Username, Password: set.Login.Password, Member: set.Login.Member, TOTPSecret: set.Login.TOTPSecret}
	res, aerr := b.AuthorizeAs(ctx, authURL, c.RedirectURI, creds, set.Login.Steps)
	if res != nil {
		for i, p := range res.Trace {
			say("page %d: %s", i+1, p.URL)
			if p.Controls != "" {
				say("  found: %s", p.Controls)
			}
			say("  did:   %s", p.Action)
			if p.Screenshot != nil {
				say("  screenshot: %s", filepath.Join(*out, filepath.FromSlash(p.Screenshot.Path)))
			}
		}
	}
	if aerr != nil {
		// The diagnosis spans lines (controls, suggested steps): keep them.
		fmt.Fprintf(stderr, "pacheck login: the sign-in stopped: %s\n", termSafe(maskAll(aerr.Error(), secrets), true))
		return ExitEnvError
	}
	redir, err := oauth.ParseRedirect(res.RedirectURL)
	if err != nil {
		errorf(stderr, "login", "%v", err)
		return ExitEnvError
	}
	if redir.Error != "" {
		say("redirect: error=%s error_description=%q", redir.Error, redir.ErrorDescription)
		return ExitNonConf
	}
	say("redirect captured: code %s, state %s", fhirhttp.Mask, map[bool]string{true: "matches", false: "DOES NOT match"}[redir.State == req.State])
	tr, err := c.Exchange(ctx, redir.Code, req.Verifier)
	if err != nil {
		errorf(stderr, "login", "token exchange: %v", err)
		return ExitEnvError
	}
	secrets = append(secrets, tr.AccessToken, tr.RefreshToken, tr.IDToken)
	say("token response: HTTP %d", tr.Status)
	for _, line := range tokenFields(tr) {
		say("  %s", line)
	}
	if !tr.OK() {
		return ExitNonConf
	}
	return ExitOK
}

// tokenFields lists a token response's members, secrets as "*** (N characters)".
func tokenFields(tr *oauth.TokenResponse) []string {
	var keys []string
	for k := range tr.Raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		v := fmt.Sprint(tr.Raw[k])
		secret := strings.Contains(k, "token") && k != "token_type" || k == "code"
		for _, sk := range fhirhttp.SecretKeys {
			secret = secret || k == sk
		}
		if secret || (!plainTokenField[k] && fhirhttp.LooksSecret(v)) {
			out = append(out, fmt.Sprintf("%s: %s (%d characters)", k, fhirhttp.Mask, len(v)))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s", k, clipText(v, 200)))
	}
	if len(out) == 0 {
		out = append(out, "(the body is not a JSON object)")
	}
	return out
}

// plainTokenField are token response members that are never secret (SMART App Launch 2.0).
var plainTokenField = map[string]bool{"patient": true, "encounter": true, "scope": true, "token_type": true, "expires_in": true,
	"need_patient_banner": true, "smart_style_url": true, "fhirContext": true, "intent": true, "tenant": true}

func maskAll(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 3 {
			s = strings.ReplaceAll(s, v, fhirhttp.Mask)
		}
	}
	return fhirhttp.Redact(s)
}

func clipText(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// smartVersion is the SMART version whose default scopes a sign-in requests: 1.0.0 when the
// server advertises only v1 permissions, 2.0.0 otherwise.
func smartVersion(cfg *oauth.SMARTConfig) string {
	if cfg.Has("permission-v1") && !cfg.Has("permission-v2") {
		return "1.0.0"
	}
	return "2.0.0"
}
