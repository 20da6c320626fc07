package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/pacheck/pacheck/fixtures/hostile"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
	"github.com/pacheck/pacheck/fixtures/refserver/tlsca"
)

func init() {
	register(&command{name: "refserver", summary: "run the reference Patient Access server (SMART + FHIR, fault modes)", run: runRefserver})
}

const refserverHelp = `Usage: pacheck refserver [--addr HOST:PORT] [--members N] [--seed S] [--fault NAME[,NAME]] [--hostile NAME[,NAME]] [--login-style NAME] [--https-ca FILE]

Serves a conformant Patient Access API with synthetic members: SMART App Launch authorization
(login and consent pages) and a FHIR R4 API (US Core, CARIN BB, PDex, US Drug Formulary).
--fault switches on named faults, each breaking exactly one requirement; --list-faults prints
them (name, requirement ids, description, tab-separated). --hostile makes the server behave as an
attacker's would (file: endpoints, redirects that carry credentials to a second loopback origin,
escapes, bombs, stalls); the attacker origin's URL is printed and it records every request.
--list-hostile prints the modes (name, protection attacked, description, tab-separated).
--login-style serves other sign-in pages (a gallery of patterns payers use: two-page login,
member choosers, cookie walls, iframes, two-factor codes, a CAPTCHA…); --list-login-styles prints
them (name, description, tab-separated). --https-ca serves https with a throwaway certificate
authority made at start, whose certificate it writes to FILE (pacheck's tls.ca_bundle); the
tls-* faults act on that listener. Serves until interrupted.

Examples:
  pacheck refserver --addr 127.0.0.1:0 --members 3
  pacheck refserver --fault pkce-not-verified,search-date-ignored
  pacheck refserver --list-faults
  pacheck refserver --login-style two-page
  pacheck refserver --hostile token-endpoint-307,next-link-elsewhere
  pacheck refserver --https-ca ca.pem --fault tls-legacy-accepted

Flags:
`

func runRefserver(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("refserver", refserverHelp, stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free one)")
	members := fs.Int("members", 3, "synthetic members to generate")
	seed := fs.Int64("seed", 1, "generator seed (same seed, same data)")
	faults := fs.String("fault", "", "comma-separated fault names")
	list := fs.Bool("list-faults", false, "print the fault catalogue and exit")
	hostileModes := fs.String("hostile", "", "comma-separated hostile modes (--list-hostile)")
	listHostile := fs.Bool("list-hostile", false, "print the hostile modes and exit")
	authFile := fs.String("auth-file", "", "YAML file of SMART clients and member logins")
	smartVersion := fs.String("smart-version", "2.0", "SMART App Launch behaviour: 2.0 or 1.0")
	verbose := fs.Bool("verbose", false, "log one line per request (never tokens or bodies)")
	loginStyle := fs.String("login-style", "", "sign-in pages from the gallery (--list-login-styles)")
	listStyles := fs.Bool("list-login-styles", false, "print the login styles and exit")
	httpsCA := fs.String("https-ca", "", "serve https with a throwaway CA; write its certificate (PEM) to this file")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if *list {
		for _, f := range refserver.Faults() {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", f.Name, strings.Join(f.Requirements, ","), f.Description)
		}
		return ExitOK
	}
	if *listStyles {
		for _, st := range auth.LoginStyles() {
			fmt.Fprintf(stdout, "%s\t%s\n", st.Name, st.Description)
		}
		return ExitOK
	}
	if *listHostile {
		for _, m := range hostile.Modes() {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", m.Name, m.Attacks, m.Description)
		}
		return ExitOK
	}
	if *members < 1 || *members > 100000 {
		errorf(stderr, "refserver", "--members %d: use 1 to 100000", *members)
		return ExitUsage
	}
	set, err := fault.Parse(*faults)
	if err != nil {
		errorf(stderr, "refserver", "--fault: %v", err)
		return ExitUsage
	}
	modes, err := hostile.Parse(*hostileModes)
	if err != nil {
		errorf(stderr, "refserver", "--hostile: %v", err)
		return ExitUsage
	}
	cfg := refserver.Config{Members: *members, Seed: *seed, Faults: set, AuthFile: *authFile, SMARTVersion: *smartVersion, LoginStyle: *loginStyle}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if *httpsCA != "" {
		if len(modes) > 0 {
			errorf(stderr, "refserver", "--https-ca and --hostile: the hostile server speaks plain http only")
			return ExitUsage
		}
		ca, err := tlsca.New()
		if err != nil {
			errorf(stderr, "refserver", "%v", err)
			return ExitEnvError
		}
		if err := os.WriteFile(*httpsCA, ca.PEM(), 0o644); err != nil {
			errorf(stderr, "refserver", "--https-ca: %v", err)
			return ExitEnvError
		}
		cfg.CA = ca
	}
	if len(modes) > 0 {
		return serveHostile(ctx, hostile.Config{Ref: cfg, Modes: modes}, *addr, stdout, stderr)
	}
	srv, err := refserver.New(cfg)
	if err != nil {
		errorf(stderr, "refserver", "%v", err)
		return ExitUsage
	}
	_, err = srv.Start(*addr)
	if err != nil {
		errorf(stderr, "refserver", "cannot listen on %s: %v", *addr, err)
		return ExitEnvError
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "pacheck reference server\nFHIR base: %s\n", srv.FHIRBase())
	srv.Auth().WriteSummary(stdout)
	if len(set) > 0 {
		var names []string
		for n := range set {
			names = append(names, n)
		}
		fmt.Fprintf(stdout, "  faults on: %s\n", strings.Join(names, ", "))
	}
	if *loginStyle != "" {
		fmt.Fprintf(stdout, "  login style: %s (TOTP secret of every member: %s)\n", *loginStyle, auth.DemoTOTPSecret)
	}
	fmt.Fprintln(stdout, "serving until interrupted (Ctrl-C)")
	<-ctx.Done()
	return ExitOK
}

// serveHostile serves the reference server with hostile modes until ctx ends.
func serveHostile(ctx context.Context, cfg hostile.Config, addr string, stdout, stderr io.Writer) int {
	srv, err := hostile.New(cfg)
	if err != nil {
		errorf(stderr, "refserver", "%v", err)
		return ExitUsage
	}
	if _, err := srv.Start(addr); err != nil {
		errorf(stderr, "refserver", "cannot start the hostile server on %s: %v", addr, err)
		return ExitEnvError
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "pacheck reference server, HOSTILE (for testing clients only)\nFHIR base: %s\n", srv.FHIRBase())
	srv.WriteSummary(stdout)
	fmt.Fprintln(stdout, "serving until interrupted (Ctrl-C)")
	<-ctx.Done()
	return ExitOK
}
