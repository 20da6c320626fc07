package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/smart"
)

func init() {
	register(&command{name: "demo", summary: "run the full suite against the built-in reference server", run: runDemo})
}

const demoHelp = `Usage: pacheck demo [--out DIR] [--preset NAME] [--members N] [--fault NAME[,NAME]] [--stats]
                    [--deadline D] [--allow-incomplete] [--login-style NAME] [--record DIR]

Starts the reference Patient Access server in-process (synthetic members, SMART login and
consent pages), runs the preset against it through headless Chromium — unattended — and writes
the compliance report. With --fault the server breaks the named requirements, to see failures.
With --login-style the server shows other sign-in pages (pacheck refserver --list-login-styles),
signed in with the default strategy; the consent-decline and Deny launches, scripted for the
default pages, are then left out.
Exit codes as for 'pacheck run': 0 conformant, 1 non-conformant, 3 error, 4 incomplete.

Examples:
  pacheck demo
  pacheck demo --fault search-date-ignored,pkce-not-verified --out broken-report

Flags:
`

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("demo", demoHelp, stdout)
	var f runFlags
	fs.StringVar(&f.out, "out", "pacheck-report", "report folder")
	fs.StringVar(&f.preset, "preset", "cms-patient-access", "preset (pacheck presets)")
	fs.StringVar(&f.labelFilter, "label-filter", "", "Ginkgo label-filter expression")
	fs.Var(&f.focus, "focus", "regular expression on spec ids (repeatable)")
	fs.BoolVar(&f.stats, "stats", false, "print wall time, spec count and peak memory")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the verdict")
	fs.BoolVar(&f.verbose, "verbose", false, "print every spec")
	fs.DurationVar(&f.deadline, "deadline", 0, "time limit of the whole run (default 2m + 2s per selected spec)")
	fs.BoolVar(&f.allowIncomplete, "allow-incomplete", false, "exit 0 instead of 4 when the run is INCOMPLETE")
	members := fs.Int("members", 3, "synthetic members")
	faults := fs.String("fault", "", "comma-separated reference-server faults (pacheck refserver --list-faults)")
	loginStyle := fs.String("login-style", "", "sign-in pages from the gallery (pacheck refserver --list-login-styles)")
	bindRecordFlags(fs, &f, false)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	set, err := fault.Parse(*faults)
	if err != nil {
		errorf(stderr, "demo", "--fault: %v", err)
		return ExitUsage
	}
	preset, err := profiles.LookupPreset(f.preset)
	if err != nil {
		errorf(stderr, "demo", "%v", err)
		return ExitUsage
	}
	// The server behaves as the SMART version the preset tests.
	smartVersion, scopes := "2.0", []string{"launch/patient", "openid", "fhirUser", "patient/*.rs"}
	if v := preset.IGs["smart"]; len(v) > 0 && strings.HasPrefix(v[0], "1.") {
		smartVersion, scopes = "1.0", []string{"launch/patient", "openid", "fhirUser", "patient/*.read"}
	}
	srv, err := refserver.New(refserver.Config{Members: *members, Seed: 1, Faults: set, SMARTVersion: smartVersion, LoginStyle: *loginStyle,
		CodeLifetime: demoCodeLifetime})
	if err != nil {
		errorf(stderr, "demo", "%v", err)
		if strings.Contains(err.Error(), "login style") {
			return ExitUsage
		}
		return ExitEnvError
	}
	_, err = srv.Start("127.0.0.1:0")
	if err != nil {
		errorf(stderr, "demo", "cannot start the reference server: %v", err)
		return ExitEnvError
	}
	defer srv.Close()
	if !f.quiet {
		fmt.Fprintf(stdout, "reference server: %s (members %d)\n", srv.FHIRBase(), *members)
	}
	f.target = srv.FHIRBase()
	f.auth = "browser"
	// The reference server's synthetic members are generated to hold every must-support element
	// of the tested profiles (fixtures/refserver's data tests), so the demo attests it.
	f.attestMustSupport = true
	p, err := f.resolve(true, os.LookupEnv)
	if err != nil {
		errorf(stderr, "demo", "%v", err)
		return ExitUsage
	}
	origin := strings.TrimSuffix(srv.FHIRBase(), "/fhir")
	settings := demoSettings(origin, *members)
	settings.CodeLifetime = demoCodeLifetime
	if *loginStyle != "" && *loginStyle != auth.DefaultLoginStyle {
		// The scripted consent and Deny launches know only the default pages.
		settings.Consent, settings.Deny = nil, nil
		settings.Login.TOTPSecret = auth.DemoTOTPSecret
		if settings.SecondMember != nil {
			settings.SecondMember.TOTPSecret = auth.DemoTOTPSecret
		}
	}
	u1 := auth.MemberUser(1)
	settings.ExpiredToken = srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: u1.Patient,
		FHIRUser: "Patient/" + u1.Patient, Scopes: scopes, ExpiresAt: time.Now().Add(-time.Hour)})
	p.run.Auth.Extra = settings
	// The payer knows what it processed: the demo names the reference server's reference claim
	// (a prior authorization processed weeks ago), so the one-business-day check runs too.
	if ref, patient, processed := srv.ReferenceClaim(); ref != "" {
		p.run.ReferenceClaims = []framework.ReferenceClaim{{Ref: ref, Patient: patient, Processed: processed}}
	}
	p.recording.addSecrets(settings.ExpiredToken, settings.Login.Password, "pacheck-demo-secret")
	// Member 1's data is reached through the token of the browser launch. The other members' data
	// is reached with tokens the in-process server mints for them, so the data suites see every
	// member without one browser login each.
	for i := 2; i <= *members; i++ {
		u := auth.MemberUser(i)
		tok := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: u.Patient, FHIRUser: "Patient/" + u.Patient,
			Scopes: scopes})
		p.recording.addSecrets(tok, u.Password)
		opts := p.run.ClientOptions()
		opts.TokenSource = fhirhttp.StaticToken(tok)
		c, err := fhirhttp.New(opts)
		if err != nil {
			errorf(stderr, "demo", "%v", err)
			return ExitEnvError
		}
		p.run.SetPatientClient(u.Patient, c)
		p.run.Patients = append(p.run.Patients, u.Patient)
	}
	return execute(ctx, p, &f, stdout, stderr)
}

// demoCodeLifetime is the demo server's authorization-code lifetime, stated to the SMART suite:
// short, so the code-expiry probe (which runs ahead, beside the other sign-ins) adds seconds,
// not the minute of the server's default; long enough for the tool's own prompt exchanges.
const demoCodeLifetime = 10 * time.Second

// demoSettings registers the reference server's demo clients and members with the SMART suite:
// a public client with PKCE for the launch, the confidential clients for their own launches and
// probes (one also redeems the public client's code), the consent page's decline and Deny steps,
// and a second member for the isolation probe.
func demoSettings(origin string, members int) *smart.Settings {
	redirect := auth.DefaultRedirectURIs(origin)[0]
	u1 := auth.MemberUser(1)
	key := auth.DemoJWTClientKey()
	s := &smart.Settings{
		ClientID: "pacheck-public", AuthMethod: "none", RedirectURI: redirect,
		Login: smart.Login{Username: u1.Username, Password: u1.Password},
		// The reference server takes a member's sign-ins concurrently: the suite's sign-ins run
		// ahead of its specs, several at once.
		Browser: smart.BrowserOptions{Parallel: 4},
		ExtraClients: []smart.Client{
			{ClientID: "pacheck-confidential", ClientSecret: "pacheck-demo-secret", AuthMethod: "client_secret_basic"},
			{ClientID: "pacheck-confidential", ClientSecret: "pacheck-demo-secret", AuthMethod: "client_secret_post"},
			{ClientID: "pacheck-jwt", PrivateKey: &jose.JSONWebKey{Key: key.Key, KeyID: key.KeyID, Algorithm: key.Algorithm}, AuthMethod: "private_key_jwt"},
		},
	}
	// The consent launch signs in and unticks offline_access on the server's consent page.
	s.Consent = &smart.Consent{Scope: "offline_access", Steps: []browser.Step{
		{URL: `/auth/authorize\?`, Once: true, Actions: []browser.Action{
			{Fill: "#username", Value: u1.Username}, {Fill: "#password", Value: u1.Password, Secret: true}, {Click: "#sign-in"}}},
		{URL: `/auth/authorize$`, Actions: []browser.Action{
			{Uncheck: `input[name=grant][value="offline_access"]`}, {Screenshot: "consent"}, {Click: "#approve"}}},
	}}
	// The deny launch signs in and presses Deny on the consent page.
	s.Deny = &smart.Deny{Steps: []browser.Step{
		{URL: `/auth/authorize\?`, Once: true, Actions: []browser.Action{
			{Fill: "#username", Value: u1.Username}, {Fill: "#password", Value: u1.Password, Secret: true}, {Click: "#sign-in"}}},
		{URL: `/auth/authorize$`, Actions: []browser.Action{{Screenshot: "consent-deny"}, {Click: "#deny"}}},
	}}
	// The EHR launch: the member portal's sign-in and "Connect app" control, default strategy.
	s.Portal = &smart.Portal{URL: origin + "/auth/portal", LaunchURL: auth.DefaultLaunchURI}
	if members >= 2 {
		u2 := auth.MemberUser(2)
		s.SecondMember = &smart.Login{Username: u2.Username, Password: u2.Password}
	}
	return s
}
