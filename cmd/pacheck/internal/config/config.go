// Package config reads a pacheck run configuration (YAML): strict keys, ${ENV} substitution so
// secrets never live in the file, and one-line errors that name file:line and what to do.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/internal/safefile"
	"github.com/pacheck/pacheck/profiles"
)

// File is the configuration file's shape. Every key is documented in Example.
type File struct {
	Target      string              `yaml:"target"`
	Preset      string              `yaml:"preset"`
	Auth        Auth                `yaml:"auth"`
	Patients    []string            `yaml:"patients"`
	IGs         map[string][]string `yaml:"igs"`
	Suites      []string            `yaml:"suites"`
	LabelFilter string              `yaml:"label_filter"`
	Focus       []string            `yaml:"focus"`
	Strict      bool                `yaml:"strict"`
	Limits      Limits              `yaml:"limits"`
	TLS         TLS                 `yaml:"tls"`
	Out         string              `yaml:"out"`
	KnownIssues string              `yaml:"known_issues"`
	// Attestations is the payer's attestations file (profiles/attest): signed statements for
	// requirements no spec can observe on the wire, shown as attested, never as pass.
	Attestations string      `yaml:"attestations"`
	Packages     []string    `yaml:"packages"`
	Attest       Attest      `yaml:"attest"`
	Member       Member      `yaml:"member"`
	DataQuality  DataQuality `yaml:"dataquality"`
	// AllowIncomplete accepts an incomplete verdict (nothing failed, some selected SHALL
	// requirement did not run) as success for the exit status.
	AllowIncomplete bool `yaml:"allow_incomplete"`
}

// Attest holds what the payer states about its test data; the report records it.
type Attest struct {
	// MustSupportComplete: the tested members' records together hold every must-support element
	// of the tested profiles, so an element no returned resource populates fails its
	// must-support spec instead of skipping it.
	MustSupportComplete bool `yaml:"must_support_complete"`
}

// DataQuality holds what the payer tells the dataquality suite.
type DataQuality struct {
	// ReferenceClaims are records the payer received or processed (a claim, encounter, clinical
	// record or prior authorization) and when; each must be readable through the API one
	// business day later (general.one-business-day). Without them that requirement takes an
	// attestation.
	ReferenceClaims []ReferenceClaim `yaml:"reference_claims"`
}

// ReferenceClaim is one record the payer names, by reference and processing time.
type ReferenceClaim struct {
	Ref       string `yaml:"ref"`       // Type/id, e.g. ExplanationOfBenefit/claim-123
	Patient   string `yaml:"patient"`   // the member it belongs to ("": the run's first patient)
	Processed string `yaml:"processed"` // YYYY-MM-DD or RFC 3339: when the payer received or adjudicated it
}

// ProcessedTime parses Processed (a date is midnight UTC).
func (c ReferenceClaim) ProcessedTime() (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, c.Processed); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", c.Processed)
}

var referenceRE = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}$`)

// Member holds what the member suite needs beyond the sign-in.
type Member struct {
	// EducationURL is the payer's page of member education on app privacy and security
	// (42 CFR 422.119(g)); without it the suite looks for a link on the consent page.
	EducationURL string `yaml:"education_url"`
}

// Auth is how the run obtains access to the target.
type Auth struct {
	Mode              string   `yaml:"mode"` // browser | token | none
	Token             string   `yaml:"token"`
	ClientID          string   `yaml:"client_id"`
	ClientSecret      string   `yaml:"client_secret"`
	PrivateKey        string   `yaml:"private_key"` // file: PEM or JWK for private_key_jwt
	TokenEndpointAuth string   `yaml:"token_endpoint_auth"`
	RedirectURI       string   `yaml:"redirect_uri"`
	Scopes            []string `yaml:"scopes"`
	Login             Login    `yaml:"login"`
	// SecondMember is another member's login; OtherPatient a patient id the first member must
	// not see. Without either the cross-member probes are skipped, saying so.
	SecondMember *Login `yaml:"second_member"`
	OtherPatient string `yaml:"other_patient"`
	// ExtraClients are further registered clients, launched once each with their negative probes.
	ExtraClients []Client `yaml:"extra_clients"`
	// Consent drives one launch that declines Scope on the consent page (Steps must untick it).
	Consent *Consent `yaml:"consent"`
	// Deny drives one launch that presses Deny on the consent page (Steps must sign in and press
	// it): the redirect must carry error=access_denied and no code.
	Deny *Deny `yaml:"deny"`
	// Portal is the payer's member portal: the EHR launch specs sign in there, press the app's
	// launch control and catch the app's launch URL. Unset, they skip.
	Portal *Portal `yaml:"portal"`
	// ExpiredToken is an expired access token of the target, for the expired-token probe.
	ExpiredToken string `yaml:"expired_token"`
	// CodeLifetime is the lifetime of the server's authorization codes: the code-expiry probe
	// holds a code that long (plus 2 s) and must see it refused. Unset, the probe skips.
	CodeLifetime Duration `yaml:"code_lifetime"`
	// ParallelSignIns is how many browser sign-ins may run at once (default 1: some servers refuse
	// a member's concurrent sign-ins).
	ParallelSignIns int `yaml:"parallel_sign_ins"`
	// AllowedOrigins are further origins (scheme://host[:port]) credentials may go to; when set,
	// every discovered endpoint must be on the target's origin or a listed one, and the browser
	// visits only the authorization endpoint's origin and these (framework.Auth.AllowedOrigins).
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// Client is a registered SMART client.
type Client struct {
	ClientID          string `yaml:"client_id"`
	ClientSecret      string `yaml:"client_secret"`
	PrivateKey        string `yaml:"private_key"`
	TokenEndpointAuth string `yaml:"token_endpoint_auth"`
	RedirectURI       string `yaml:"redirect_uri"`
}

// Consent is a launch that declines one scope.
type Consent struct {
	Scope string `yaml:"scope"`
	Steps []Step `yaml:"steps"`
}

// Deny is a launch that refuses the authorization on the consent page.
type Deny struct {
	Steps []Step `yaml:"steps"`
}

// Portal is the member portal an EHR launch starts from: URL is its page, LaunchURL the app's
// registered launch URL (intercepted in the browser like the redirect URI), Steps sign in and
// press the app's launch control (none: the default strategy).
type Portal struct {
	URL       string `yaml:"url"`
	LaunchURL string `yaml:"launch_url"`
	Steps     []Step `yaml:"steps"`
}

// Login is a member's credentials and, optionally, explicit browser steps.
type Login struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Member is whom the default strategy chooses on a member/patient chooser (a name, member id
	// or username as the page shows it); default the username's entry, else the first.
	Member string `yaml:"member"`
	// TOTPSecret is the member's authenticator key (base32), for a two-factor page asking for a
	// one-time code; typically ${MEMBER_TOTP_SECRET}.
	TOTPSecret string `yaml:"totp_secret"`
	Steps      []Step `yaml:"steps"`
}

// Step applies its actions on pages where it matches: the URL pattern (a regular expression, or
// glob:<pattern>) and the when: condition on the page's content, both optional.
type Step struct {
	URL   string `yaml:"url"`
	When  *When  `yaml:"when"`
	Frame string `yaml:"frame"` // CSS selector of a same-origin iframe the actions work in
	// Once: the step serves one page only, so that a later page with the same URL (a sign-in and
	// then a consent page both at /interaction/<id>) takes the next step.
	Once    bool     `yaml:"once"`
	Actions []Action `yaml:"actions"`
}

// When is a condition on a page's content: every field given must hold.
type When struct {
	Selector string `yaml:"selector"` // a visible element matches this CSS selector
	Text     string `yaml:"text"`     // the page shows this text (any letter case)
	URL      string `yaml:"url"`      // the page URL matches (as Step.URL)
}

// Action is one browser action; exactly one field is set.
type Action struct {
	Fill       *Fill  `yaml:"fill"`
	Click      string `yaml:"click"`  // a CSS selector, or text=<the button's text>
	Select     *Fill  `yaml:"select"` // value: the option's value or its visible text
	Check      string `yaml:"check"`
	Uncheck    string `yaml:"uncheck"`
	Wait       string `yaml:"wait"` // a CSS selector, text=<text>, a duration (2s), or url:<regexp>
	Screenshot string `yaml:"screenshot"`
}

// Fill types (or selects) Value into the element at Selector.
type Fill struct {
	Selector string `yaml:"selector"`
	Value    string `yaml:"value"`
	Secret   bool   `yaml:"secret"` // masked in evidence (passwords are always masked)
	TOTP     bool   `yaml:"totp"`   // type the current one-time code of login.totp_secret instead of value
}

// Browser converts the step for the browser engine.
func (st Step) Browser() browser.Step {
	bs := browser.Step{URL: st.URL, Frame: st.Frame, Once: st.Once}
	if st.When != nil {
		bs.When = &browser.When{Selector: st.When.Selector, Text: st.When.Text, URL: st.When.URL}
	}
	for _, a := range st.Actions {
		var ba browser.Action
		switch {
		case a.Fill != nil:
			ba = browser.Action{Fill: a.Fill.Selector, Value: a.Fill.Value, Secret: a.Fill.Secret, TOTP: a.Fill.TOTP}
		case a.Select != nil:
			ba = browser.Action{Select: a.Select.Selector, Value: a.Select.Value}
		case a.Click != "":
			ba = browser.Action{Click: a.Click}
		case a.Check != "":
			ba = browser.Action{Check: a.Check}
		case a.Uncheck != "":
			ba = browser.Action{Uncheck: a.Uncheck}
		case a.Wait != "":
			ba = browser.Action{Wait: a.Wait}
		case a.Screenshot != "":
			ba = browser.Action{Screenshot: a.Screenshot}
		}
		bs.Actions = append(bs.Actions, ba)
	}
	return bs
}

// TLS is how the run trusts the target's certificates.
type TLS struct {
	// CABundle is a PEM file of certificate authorities trusted besides the system's (a payer's
	// internal CA). Certificates are always verified; there is no switch to turn that off.
	CABundle string `yaml:"ca_bundle"`
}

// Limits bound every interaction with the target.
type Limits struct {
	RequestTimeout Duration `yaml:"request_timeout"`
	MaxPages       int      `yaml:"max_pages"`
	MaxBodyBytes   int64    `yaml:"max_body_bytes"`
	MaxRedirects   int      `yaml:"max_redirects"`
	// Deadline bounds the whole run (0: sized from the selection).
	Deadline Duration `yaml:"deadline"`
	// Retries is how many attempts a 429/503 answer gets (0: the client's default).
	Retries int `yaml:"retries"`
	// RetryMaxWait caps the wait before a retry (Retry-After included).
	RetryMaxWait Duration `yaml:"retry_max_wait"`
	// MaxLatency is the 95th-percentile response time capability.http.available accepts.
	MaxLatency Duration `yaml:"max_latency"`
	// MaxPatients bounds the patients whose data is examined (0: 10).
	MaxPatients int `yaml:"max_patients"`
	// MaxReferenceReads bounds the reads the dataquality suite makes to resolve references (0: 50).
	MaxReferenceReads int `yaml:"max_reference_reads"`
}

// Duration reads "30s", "2m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration like 30s or 2m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Secrets returns every secret value of the config, for masking in logs and reports.
func (f *File) Secrets() []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	add(f.Auth.Token)
	add(f.Auth.ClientSecret)
	add(f.Auth.ExpiredToken)
	for _, c := range f.Auth.ExtraClients {
		add(c.ClientSecret)
	}
	add(f.Auth.Login.Password)
	add(f.Auth.Login.TOTPSecret)
	if f.Auth.SecondMember != nil {
		add(f.Auth.SecondMember.Password)
		add(f.Auth.SecondMember.TOTPSecret)
	}
	for _, s := range append(f.Auth.Login.Steps, secondSteps(f)...) {
		for _, a := range s.Actions {
			if a.Fill != nil && a.Fill.Secret {
				add(a.Fill.Value)
			}
		}
	}
	return out
}

func secondSteps(f *File) []Step {
	var out []Step
	if f.Auth.SecondMember != nil {
		out = append(out, f.Auth.SecondMember.Steps...)
	}
	if f.Auth.Consent != nil {
		out = append(out, f.Auth.Consent.Steps...)
	}
	if f.Auth.Deny != nil {
		out = append(out, f.Auth.Deny.Steps...)
	}
	if f.Auth.Portal != nil {
		out = append(out, f.Auth.Portal.Steps...)
	}
	return out
}

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// MaxFileBytes bounds a config file: a path such as /dev/zero or a huge file fails at once.
const MaxFileBytes = safefile.SmallLimit

// Load reads and checks a config file. Only a regular file of at most MaxFileBytes is read.
func Load(path string) (*File, error) {
	b, err := safefile.ReadFile(path, MaxFileBytes)
	if err != nil {
		var tl *safefile.TooLargeError
		if errors.As(err, &tl) {
			return nil, fmt.Errorf("config %v; a configuration is a few KiB: check the path", err)
		}
		if errors.Is(err, safefile.ErrNotRegular) {
			return nil, fmt.Errorf("config: %v", err)
		}
		return nil, fmt.Errorf("config: cannot read it (%v)", err)
	}
	return Parse(path, b, os.LookupEnv)
}

// Parse reads config text; name is used in messages; lookup resolves ${ENV} references.
func Parse(name string, data []byte, lookup func(string) (string, bool)) (*File, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", name, cleanYAMLError(err))
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty; start from `pacheck config example`", name)
	}
	if err := expandEnv(&root, name, lookup); err != nil {
		return nil, err
	}
	var f File
	// Unknown keys are checked on the node tree so each error keeps its original line.
	if err := checkKeys(root.Content[0], reflect.TypeOf(f), name, ""); err != nil {
		return nil, err
	}
	if err := root.Content[0].Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %s", name, cleanYAMLError(err))
	}
	if err := f.check(name, &root); err != nil {
		return nil, err
	}
	return &f, nil
}

func expandEnv(n *yaml.Node, name string, lookup func(string) (string, bool)) error {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		var missing string
		n.Value = envRE.ReplaceAllStringFunc(n.Value, func(m string) string {
			v, ok := lookup(m[2 : len(m)-1])
			if !ok && missing == "" {
				missing = m[2 : len(m)-1]
			}
			return v
		})
		if missing != "" {
			return fmt.Errorf("%s:%d: environment variable %s is not set (the file refers to ${%s}); export it or remove the reference", name, n.Line, missing, missing)
		}
	}
	for _, c := range n.Content {
		if err := expandEnv(c, name, lookup); err != nil {
			return err
		}
	}
	return nil
}

var lineRE = regexp.MustCompile(`line (\d+): `)

// cleanYAMLError folds yaml.v3's multi-line errors into one line: "line 3: cannot unmarshal ...".
func cleanYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
		lines[i] = strings.ReplaceAll(lines[i], "!!str", "text")
		lines[i] = strings.ReplaceAll(lines[i], "!!int", "number")
		lines[i] = strings.ReplaceAll(lines[i], "!!seq", "list")
		lines[i] = strings.ReplaceAll(lines[i], "!!map", "mapping")
		lines[i] = strings.ReplaceAll(lines[i], "!!bool", "true/false")
	}
	return strings.Join(lines, "; ")
}

func (f *File) check(name string, root *yaml.Node) error {
	// at names the line of a key, dotted for nested keys ("limits.retries"); the nearest
	// enclosing key that exists when the key itself is absent.
	at := func(key string) string {
		line := 0
		m := root.Content[0]
		for _, k := range strings.Split(key, ".") {
			n := find(m, k)
			if n == nil {
				break
			}
			line = n.Line
			m = valueOf(m, k)
		}
		if line > 0 {
			return fmt.Sprintf("%s:%d", name, line)
		}
		return name
	}
	if f.Target != "" {
		u, err := url.Parse(f.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: target %q is not an http(s) URL of a FHIR base (e.g. https://fhir.example.org/r4)", at("target"), f.Target)
		}
	}
	if f.Preset != "" {
		if _, err := profiles.LookupPreset(f.Preset); err != nil {
			return fmt.Errorf("%s: %v", at("preset"), err)
		}
	}
	switch f.Auth.Mode {
	case "", "browser", "token", "none":
	default:
		return fmt.Errorf("%s: auth.mode %q: use browser, token or none", at("auth"), f.Auth.Mode)
	}
	if f.Auth.Mode == "token" && f.Auth.Token == "" {
		return fmt.Errorf("%s: auth.mode is token but auth.token is empty (set it to ${YOUR_TOKEN_VARIABLE})", at("auth"))
	}
	if f.Auth.ParallelSignIns < 0 || f.Auth.ParallelSignIns > maxParallelSignIns {
		return fmt.Errorf("%s: auth.parallel_sign_ins %d: use 1 to %d", at("auth"), f.Auth.ParallelSignIns, maxParallelSignIns)
	}
	if f.Auth.RedirectURI != "" {
		if u, err := url.Parse(f.Auth.RedirectURI); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("%s: auth.redirect_uri %q is not an absolute URL", at("auth"), f.Auth.RedirectURI)
		}
	}
	for _, o := range f.Auth.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			return fmt.Errorf("%s: auth.allowed_origins %q: %v", at("auth.allowed_origins"), o, err)
		}
	}
	if valueOf(valueOf(root.Content[0], "limits"), "retries") != nil && (f.Limits.Retries < 1 || f.Limits.Retries > maxRetries) {
		return fmt.Errorf("%s: limits.retries %d: use 1 to %d attempts (1: no retry)", at("limits.retries"), f.Limits.Retries, maxRetries)
	}
	for _, d := range []struct {
		key string
		v   Duration
		max time.Duration
	}{
		{"deadline", f.Limits.Deadline, 24 * time.Hour},
		{"retry_max_wait", f.Limits.RetryMaxWait, 10 * time.Minute},
		{"max_latency", f.Limits.MaxLatency, 10 * time.Minute},
		{"request_timeout", f.Limits.RequestTimeout, time.Hour},
	} {
		if time.Duration(d.v) > d.max {
			return fmt.Errorf("%s: limits.%s %v: use at most %v", at("limits."+d.key), d.key, time.Duration(d.v), d.max)
		}
	}
	if f.Limits.MaxPages < 0 || f.Limits.MaxBodyBytes < 0 || f.Limits.MaxRedirects < 0 || f.Limits.MaxPatients < 0 || f.Limits.MaxReferenceReads < 0 {
		return fmt.Errorf("%s: limits: max_pages, max_body_bytes, max_redirects, max_patients and max_reference_reads cannot be negative", at("limits"))
	}
	if time.Duration(f.Auth.CodeLifetime) > smartMaxCodeLifetime {
		return fmt.Errorf("%s: auth.code_lifetime %v: use at most %v (the code-expiry probe waits that long; RFC 6749 recommends at most 10m)", at("auth.code_lifetime"), time.Duration(f.Auth.CodeLifetime), smartMaxCodeLifetime)
	}
	for i, c := range f.DataQuality.ReferenceClaims {
		key := fmt.Sprintf("dataquality.reference_claims[%d]", i)
		if !referenceRE.MatchString(c.Ref) {
			return fmt.Errorf("%s: %s.ref %q: give the record as Type/id, e.g. ExplanationOfBenefit/claim-123", at("dataquality"), key, c.Ref)
		}
		if _, err := c.ProcessedTime(); err != nil {
			return fmt.Errorf("%s: %s.processed %q: give the date the payer received or processed it as YYYY-MM-DD or RFC 3339", at("dataquality"), key, c.Processed)
		}
	}
	if u := f.Member.EducationURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			return fmt.Errorf("%s: member.education_url %q is not an absolute http(s) URL", at("member"), u)
		}
	}
	if f.Auth.Deny != nil && len(f.Auth.Deny.Steps) == 0 {
		return fmt.Errorf("%s: auth.deny has no steps: give the browser steps that sign in and press Deny on the consent page, or remove auth.deny", at("auth"))
	}
	if err := checkSteps(name, root.Content[0]); err != nil {
		return err
	}
	known := map[string]bool{"smart": true, "capability": true, "uscore": true, "carinbb": true, "pdex": true, "formulary": true, "public": true}
	for _, s := range f.Suites {
		if !known[s] {
			return fmt.Errorf("%s: unknown suite %q (known: %s)", at("suites"), s, strings.Join(sortedKeys(known), ", "))
		}
	}
	for ig := range f.IGs {
		if !known[ig] {
			return fmt.Errorf("%s: unknown IG %q under igs (known: smart, uscore, carinbb, pdex, formulary)", at("igs"), ig)
		}
	}
	return nil
}

// smartMaxCodeLifetime mirrors smart.MaxCodeLifetime (config does not import the suites).
const smartMaxCodeLifetime = 30 * time.Minute

// maxRetries bounds limits.retries: a hostile server answering 429 forever must not stall a run.
const maxRetries = 10

// checkOrigin accepts scheme://host[:port] with scheme http or https and nothing else: no path,
// query, fragment or userinfo, so the value compares exactly with a request's origin.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL (%v); write scheme://host[:port], e.g. https://login.example.org", errors.Unwrap(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("not an http(s) origin; write scheme://host[:port], e.g. https://login.example.org")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("no host; write scheme://host[:port], e.g. https://login.example.org")
	case u.User != nil:
		return errors.New("user info is not part of an origin; write scheme://host[:port]")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#"):
		return errors.New("an origin has no path, query or fragment; write scheme://host[:port]")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not 1 to 65535", p)
		}
	}
	return nil
}

// maxParallelSignIns bounds the browser contexts a run opens at once.
const maxParallelSignIns = 8

func (a Action) count() int {
	n := 0
	for _, set := range []bool{a.Fill != nil, a.Click != "", a.Select != nil, a.Check != "", a.Uncheck != "", a.Wait != "", a.Screenshot != ""} {
		if set {
			n++
		}
	}
	return n
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// valueOf returns the value node of key in mapping m, or nil.
func valueOf(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func find(m *yaml.Node, key string) *yaml.Node {
	if m == nil {
		return nil
	}
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// checkKeys rejects mapping keys that the Go type t has no yaml field for.
func checkKeys(n *yaml.Node, t reflect.Type, name, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if tag != "" && tag != "-" {
				fields[tag] = t.Field(i).Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("%s:%d: unknown key %q%s (known: %s)", name, k.Line, k.Value, where(at), strings.Join(sortedTypeKeys(fields), ", "))
			}
			if err := checkKeys(n.Content[i+1], ft, name, join(at, k.Value)); err != nil {
				return err
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkKeys(n.Content[i+1], t.Elem(), name, join(at, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for _, c := range n.Content {
			if err := checkKeys(c, t.Elem(), name, at); err != nil {
				return err
			}
		}
	}
	return nil
}

func where(at string) string {
	if at == "" {
		return ""
	}
	return " under " + at
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func sortedTypeKeys(m map[string]reflect.Type) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkSteps validates every list of browser steps (auth.login, auth.second_member, auth.consent,
// auth.deny, auth.portal) on the node tree, so each error names the file:line of the step or action at fault.
func checkSteps(name string, root *yaml.Node) error {
	auth := valueOf(root, "auth")
	for _, sec := range []string{"login", "second_member", "consent", "deny", "portal"} {
		list := valueOf(valueOf(auth, sec), "steps")
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for i, item := range list.Content {
			var st Step
			if err := item.Decode(&st); err != nil {
				return fmt.Errorf("%s:%d: auth.%s.steps[%d]: %s", name, item.Line, sec, i, cleanYAMLError(err))
			}
			where := fmt.Sprintf("%s:%d: auth.%s.steps[%d]", name, item.Line, sec, i)
			acts := valueOf(item, "actions")
			for j, a := range st.Actions {
				if n := a.count(); n != 1 {
					line := item.Line
					if acts != nil && j < len(acts.Content) {
						line = acts.Content[j].Line
					}
					return fmt.Errorf("%s:%d: auth.%s.steps[%d].actions[%d]: each login action needs exactly one of fill, click, select, check, uncheck, wait, screenshot (found %d)", name, line, sec, i, j, n)
				}
				if (a.Fill != nil && a.Fill.Selector == "") || (a.Select != nil && a.Select.Selector == "") {
					return fmt.Errorf("%s.actions[%d]: fill and select need a selector", where, j)
				}
			}
			if err := browser.ValidateStep(st.Browser()); err != nil {
				msg := err.Error()
				// Point at the action's own line when the engine names one.
				var j int
				if _, e := fmt.Sscanf(msg, ".actions[%d]", &j); e == nil && acts != nil && j < len(acts.Content) {
					where = fmt.Sprintf("%s:%d: auth.%s.steps[%d]", name, acts.Content[j].Line, sec, i)
				}
				return fmt.Errorf("%s%s", where, msg)
			}
		}
	}
	return nil
}
