package cli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/cmd/pacheck/internal/config"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/profiles/attest"
	"github.com/pacheck/pacheck/suites/framework"
)

// runFlags are the flags run and list share.
type runFlags struct {
	config, target, preset, auth, tokenEnv, out, labelFilter, knownIssues, attestations, signKey string
	focus, packages, patients                                                                    multi
	strict, quiet, verbose, stats, allowIncomplete, pdf, attestMustSupport                       bool
	deadline                                                                                     time.Duration
	// record and replay are the recording folders of --record and --replay (record.go).
	record, replay string
}

// plan is a resolved run: the config with flags and preset applied.
type plan struct {
	file   *config.File
	preset profiles.Preset
	run    *framework.Run
	// allowIncomplete maps an INCOMPLETE run to exit 0 (--allow-incomplete).
	allowIncomplete bool
	// recording is the run's --record or --replay (nil for neither).
	recording *runRecording
}

// resolve merges config file, flags and preset into a run context. err is a usage error.
func (f *runFlags) resolve(needTarget bool, lookupEnv func(string) (string, bool)) (*plan, error) {
	cfg := &config.File{}
	if f.config != "" {
		c, err := config.Load(f.config)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	var rp *fhirhttp.Replay
	if f.replay != "" {
		r, err := openReplay(f, cfg)
		if err != nil {
			return nil, err
		}
		rp = r
	}
	if f.target != "" {
		cfg.Target = f.target
	}
	if f.preset != "" {
		cfg.Preset = f.preset
	}
	if cfg.Preset == "" {
		cfg.Preset = "cms-patient-access"
	}
	preset, err := profiles.LookupPreset(cfg.Preset)
	if err != nil {
		return nil, err
	}
	if f.auth != "" {
		cfg.Auth.Mode = f.auth
	}
	if preset.Auth != "" && cfg.Auth.Mode == "" {
		cfg.Auth.Mode = preset.Auth
	}
	if cfg.Auth.Mode == "" {
		cfg.Auth.Mode = "browser"
	}
	switch cfg.Auth.Mode {
	case "browser", "token", "none":
	default:
		return nil, fmt.Errorf("--auth %q: use browser, token or none", cfg.Auth.Mode)
	}
	if f.tokenEnv != "" {
		v, ok := lookupEnv(f.tokenEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("--token-env %s: the environment variable is not set", f.tokenEnv)
		}
		cfg.Auth.Token = v
		if f.auth == "" {
			cfg.Auth.Mode = "token"
		}
	}
	if cfg.Auth.Mode == "token" && cfg.Auth.Token == "" {
		return nil, fmt.Errorf("--auth token needs a token: --token-env VAR or auth.token in the config")
	}
	if needTarget {
		if cfg.Target == "" {
			return nil, fmt.Errorf("no target: give --target URL or target: in the config")
		}
		if u, err := url.Parse(cfg.Target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("target %q is not an http(s) URL of a FHIR base", cfg.Target)
		}
	}
	if f.out != "" {
		cfg.Out = f.out
	}
	if cfg.Out == "" {
		cfg.Out = "pacheck-report"
	}
	if f.labelFilter != "" {
		cfg.LabelFilter = f.labelFilter
	}
	if cfg.LabelFilter == "" {
		cfg.LabelFilter = preset.LabelFilter
	}
	cfg.Focus = append(cfg.Focus, f.focus...)
	cfg.Packages = append(cfg.Packages, f.packages...)
	cfg.Patients = append(cfg.Patients, f.patients...)
	if f.knownIssues != "" {
		cfg.KnownIssues = f.knownIssues
	}
	if f.attestations != "" {
		cfg.Attestations = f.attestations
	}
	cfg.Strict = cfg.Strict || f.strict
	cfg.Attest.MustSupportComplete = cfg.Attest.MustSupportComplete || f.attestMustSupport
	suites := cfg.Suites
	if len(suites) == 0 {
		suites = preset.Suites
	}
	igs := map[string][]string{}
	for k, v := range preset.IGs {
		igs[k] = v
	}
	for k, v := range cfg.IGs {
		igs[k] = v
	}
	set, err := profiles.Embedded()
	if err != nil {
		return nil, err
	}
	for _, p := range cfg.Packages {
		pkg, err := profiles.Load(p, profiles.LoadOptions{})
		if err != nil {
			return nil, err
		}
		set.Add(pkg)
	}
	limits := framework.DefaultLimits
	if cfg.Limits.RequestTimeout > 0 {
		limits.RequestTimeout = time.Duration(cfg.Limits.RequestTimeout)
	}
	if cfg.Limits.MaxPages > 0 {
		limits.MaxPages = cfg.Limits.MaxPages
	}
	if cfg.Limits.MaxBodyBytes > 0 {
		limits.MaxBodyBytes = cfg.Limits.MaxBodyBytes
	}
	if cfg.Limits.MaxRedirects > 0 {
		limits.MaxRedirects = cfg.Limits.MaxRedirects
	}
	if cfg.Limits.Deadline > 0 {
		limits.Deadline = time.Duration(cfg.Limits.Deadline)
	}
	if f.deadline < 0 {
		return nil, fmt.Errorf("--deadline %v: give a positive duration, e.g. 20m", f.deadline)
	}
	if f.deadline > 0 {
		limits.Deadline = f.deadline
	}
	limits.RetryAttempts = cfg.Limits.Retries // 0: the client's default
	limits.RetryMaxWait = time.Duration(cfg.Limits.RetryMaxWait)
	limits.MaxLatency = time.Duration(cfg.Limits.MaxLatency)
	limits.MaxPatients = cfg.Limits.MaxPatients
	limits.MaxReferenceReads = cfg.Limits.MaxReferenceReads
	run := &framework.Run{
		Target:   strings.TrimRight(cfg.Target, "/"),
		Suites:   suites,
		IGs:      igs,
		Patients: cfg.Patients,
		Profiles: set,
		Limits:   limits,
		OutDir:   cfg.Out,
		Auth:     framework.Auth{Mode: cfg.Auth.Mode, Token: cfg.Auth.Token, AllowedOrigins: cfg.Auth.AllowedOrigins},

		MustSupportAttested: cfg.Attest.MustSupportComplete,
		MemberEducationURL:  cfg.Member.EducationURL,
		ReferenceClaims:     referenceClaims(cfg.DataQuality.ReferenceClaims),
	}
	if cfg.TLS.CABundle != "" {
		if run.RootCAs, err = loadCABundle(cfg.TLS.CABundle); err != nil {
			return nil, err
		}
	}
	if cfg.Auth.Mode == "browser" && cfg.Auth.ClientID != "" {
		s, err := smartSettings(cfg.Auth)
		if err != nil {
			return nil, err
		}
		run.Auth.Extra = s
	}
	p := &plan{file: cfg, preset: preset, run: run, allowIncomplete: f.allowIncomplete || cfg.AllowIncomplete}
	if err := wireRecording(f, p, rp); err != nil {
		return nil, err
	}
	return p, nil
}

// loadAttestations reads the run's attestations file ("" is none), checked against the catalogue.
func loadAttestations(path string) ([]attest.Entry, error) {
	if path == "" {
		return nil, nil
	}
	cat, err := profiles.Requirements()
	if err != nil {
		return nil, err
	}
	return attest.Load(path, cat)
}

// referenceClaims converts the configured reference claims (checked when the file was loaded).
func referenceClaims(cs []config.ReferenceClaim) []framework.ReferenceClaim {
	var out []framework.ReferenceClaim
	for _, c := range cs {
		t, _ := c.ProcessedTime()
		out = append(out, framework.ReferenceClaim{Ref: c.Ref, Patient: c.Patient, Processed: t})
	}
	return out
}
