package smart

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/oauth"
)

// Settings is what the SMART suite needs for a browser launch. The CLI converts the run
// configuration into it and sets framework.Run.Auth.Extra to a *Settings (Auth.Mode "browser").
// Secrets (client secret, private key, passwords) stay in memory; they are masked in every piece of
// evidence and never logged.
type Settings struct {
	// The app the launch uses (registered with the target).
	ClientID     string
	ClientSecret string           // client_secret_basic / client_secret_post
	PrivateKey   *jose.JSONWebKey // private_key_jwt: RS384 or ES384 private key, with its kid
	AuthMethod   string           // none (public client, default) | client_secret_basic | client_secret_post | private_key_jwt
	RedirectURI  string           // a registered redirect URI; it is intercepted in the browser and never has to resolve
	// Scopes requested by the launch ("" = DefaultScopes for the SMART version). It should contain
	// launch/patient, openid fhirUser and offline_access (or online_access) so every spec can run.
	Scopes string

	// Login is the member the launch signs in as. Steps are explicit browser steps for the target's
	// login and consent pages; without steps the default strategy fills Username/Password and
	// approves.
	Login Login
	// SecondMember, when set, is another member: the isolation probe logs in as them to learn a
	// patient id the first member must not see. OtherPatient names such a patient id directly (no
	// login needed). Without either, the isolation probe is skipped.
	SecondMember *Login
	OtherPatient string

	// ExtraClients are further registered clients that are launched once each (confidential
	// symmetric with client_secret_basic / client_secret_post, confidential asymmetric with
	// private_key_jwt), and whose negative probes (wrong secret, bad assertion) run.
	ExtraClients []Client

	// Consent, when set, drives one launch that declines Consent.Scope on the consent page.
	Consent *Consent
	// Deny, when set, drives one launch that presses Deny on the consent page: the redirect must
	// carry error=access_denied and no code. Without it the consent-deny probe is skipped.
	Deny *Deny
	// Portal, when set, drives the EHR launch from the payer's member portal (ehrlaunch.go);
	// without it the ehr-launch specs skip.
	Portal *Portal

	// ExpiredToken is an expired access token of the target (the expired-token probe is skipped
	// without it, unless the launch's tokens expire within MaxExpiryWait).
	ExpiredToken  string
	MaxExpiryWait time.Duration // default 0: never wait for a token to expire

	// CodeLifetime is the lifetime the payer states for its authorization codes. When set, the
	// code-expiry probe holds a fresh code that long plus CodeExpiryMargin and then redeems it,
	// so the run takes at least that long; unset, the probe skips, saying so.
	CodeLifetime time.Duration

	Browser BrowserOptions
}

// Login is a member's sign-in: credentials for the default strategy, or explicit steps.
type Login struct {
	Username string
	Password string
	// Member is whom the default strategy chooses on a member chooser; TOTPSecret the
	// authenticator key for a one-time-code page (browser.Credentials).
	Member     string
	TOTPSecret string
	Steps      []browser.Step
}

// Client is a registered SMART client.
type Client struct {
	ClientID     string
	ClientSecret string
	PrivateKey   *jose.JSONWebKey
	AuthMethod   string // none | client_secret_basic | client_secret_post | private_key_jwt
	RedirectURI  string // default Settings.RedirectURI
}

// Consent drives a launch that declines one scope: Steps must sign in and untick Scope on the
// consent page, then approve.
type Consent struct {
	Scope string
	Steps []browser.Step
}

// Deny drives a launch that refuses the authorization: Steps must sign in and press Deny (or
// the page's equivalent) on the consent page.
type Deny struct {
	Steps []browser.Step
}

// BrowserOptions tune headless Chromium.
type BrowserOptions struct {
	ExecPath         string        // default $PACHECK_CHROMIUM, then /usr/bin/chromium
	StepTimeout      time.Duration // per action / page load (default 15s)
	Timeout          time.Duration // per authorization (default 90s)
	LaunchTimeout    time.Duration // browser start (default 30s)
	IgnoreCertErrors bool          // self-signed test servers only
	// Parallel is how many sign-ins may run at once (each in an incognito browser context of its own);
	// with 2 or more, the sign-ins of the selected specs start ahead of them. Default 1: one at a
	// time, when a spec needs it (some servers refuse a member's concurrent sign-ins).
	Parallel int
}

// DefaultScopes are requested when Settings.Scopes is empty.
func DefaultScopes(version string) string {
	if version == "1.0.0" {
		return "launch/patient openid fhirUser offline_access patient/*.read"
	}
	return "launch/patient openid fhirUser offline_access patient/*.rs"
}

// MainClient returns the launch's own client.
func (s *Settings) MainClient() Client {
	return Client{ClientID: s.ClientID, ClientSecret: s.ClientSecret, PrivateKey: s.PrivateKey,
		AuthMethod: s.AuthMethod, RedirectURI: s.RedirectURI}
}

// Validate reports the first missing or malformed setting, naming the field.
// MaxCodeLifetime bounds Settings.CodeLifetime: the code-expiry probe waits that long.
const MaxCodeLifetime = 30 * time.Minute

// CodeExpiryMargin is how long past the stated lifetime the code-expiry probe waits: the code was
// issued before the redirect was captured, so the server's clock has passed its expiry by then.
const CodeExpiryMargin = 2 * time.Second

func (s *Settings) Validate() error {
	if s == nil {
		return errors.New("smart: browser mode needs the SMART client settings (client_id, redirect_uri, login); none were given")
	}
	if err := s.MainClient().validate("client"); err != nil {
		return err
	}
	for i, c := range s.ExtraClients {
		if c.RedirectURI == "" {
			c.RedirectURI = s.RedirectURI
		}
		if err := c.validate(fmt.Sprintf("extra_clients[%d]", i)); err != nil {
			return err
		}
	}
	if len(s.Login.Steps) == 0 && s.Login.Username == "" {
		return errors.New("smart: login: give the member's username and password, or explicit login steps")
	}
	for _, l := range []*Login{&s.Login, s.SecondMember} {
		if l != nil {
			if err := browser.Validate(l.Steps); err != nil {
				return fmt.Errorf("smart: login steps: %w", err)
			}
		}
	}
	if s.Consent != nil {
		if s.Consent.Scope == "" || len(s.Consent.Steps) == 0 {
			return errors.New("smart: consent: give the scope to decline and the steps that untick it")
		}
		if err := browser.Validate(s.Consent.Steps); err != nil {
			return fmt.Errorf("smart: consent steps: %w", err)
		}
	}
	if s.CodeLifetime < 0 || s.CodeLifetime > MaxCodeLifetime {
		return fmt.Errorf("smart: code_lifetime %v: give the lifetime of the server's authorization codes, at most %v (RFC 6749 recommends at most 10 minutes)", s.CodeLifetime, MaxCodeLifetime)
	}
	if s.Deny != nil {
		if len(s.Deny.Steps) == 0 {
			return errors.New("smart: deny: give the steps that sign in and press Deny on the consent page")
		}
		if err := browser.Validate(s.Deny.Steps); err != nil {
			return fmt.Errorf("smart: deny steps: %w", err)
		}
	}
	return s.Portal.validate()
}

func (c Client) validate(where string) error {
	if c.ClientID == "" {
		return fmt.Errorf("smart: %s: client_id is empty", where)
	}
	u, err := url.Parse(c.RedirectURI)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("smart: %s: redirect_uri %q is not an absolute URL", where, c.RedirectURI)
	}
	switch c.method() {
	case oauth.AuthNone:
	case oauth.AuthSecretBasic, oauth.AuthSecretPost:
		if c.ClientSecret == "" {
			return fmt.Errorf("smart: %s: token_endpoint_auth %s needs client_secret", where, c.AuthMethod)
		}
	case oauth.AuthPrivateKey:
		if c.PrivateKey == nil || c.PrivateKey.Key == nil {
			return fmt.Errorf("smart: %s: token_endpoint_auth private_key_jwt needs private_key", where)
		}
	default:
		return fmt.Errorf("smart: %s: token_endpoint_auth %q: use none, client_secret_basic, client_secret_post or private_key_jwt", where, c.AuthMethod)
	}
	return nil
}

func (c Client) method() string {
	if c.AuthMethod == "" {
		return oauth.AuthNone
	}
	return c.AuthMethod
}
