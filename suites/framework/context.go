package framework

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/profiles"
)

// Run is what the specs of one run read. The runner fills it in BEFORE the spec tree is built,
// because specs are generated from it (which IG versions, which profiles, which patients).
type Run struct {
	// Target is the FHIR base URL under test.
	Target string
	// Suites selects areas (smart, capability, uscore, carinbb, pdex, formulary, public); empty = all.
	Suites []string
	// IGs maps an IG short name (uscore, carinbb, pdex, formulary, smart) to the versions tested.
	IGs map[string][]string
	// Patients are the patient ids whose data is examined (the launch patient is added to them),
	// up to Limits.MaxPatients of them.
	Patients []string
	// LaunchPatient is the SMART launch's patient, examined first whatever the sample's size.
	LaunchPatient string
	// Profiles holds the loaded IG packages.
	Profiles *profiles.Set
	// Limits bound the run.
	Limits Limits
	// OutDir is where evidence files (screenshots, large bodies) go.
	OutDir string
	// Auth describes how the run obtains access; the SMART suite reads the details.
	Auth Auth
	// MustSupportAttested records the payer's statement (config attest.must_support_complete)
	// that the tested members' records together hold every must-support element of the tested
	// profiles. Must-support is a duty to be capable of populating an element, so an element
	// absent from the data shows nothing by itself (the must-support specs skip); with this
	// attestation an absent element is data the server did not return, and the spec fails.
	MustSupportAttested bool
	// MemberEducationURL is the payer's member-education page (config member.education_url),
	// checked by the member suite ("": the suite looks for one on the consent page).
	MemberEducationURL string
	// ReferenceClaims are records the payer processed and when (config
	// dataquality.reference_claims): the dataquality suite reads each one business day later.
	ReferenceClaims []ReferenceClaim
	// Transport, when set, wraps the transport of every client the run makes: a recording
	// (--record) keeps each exchange, a replay (--replay) answers from one instead of the network.
	Transport func(http.RoundTripper) http.RoundTripper
	// RootCAs, when set, are the certificate authorities every client of the run trusts instead
	// of the system's (config tls.ca_bundle: a payer's internal CA, or a test's throwaway one).
	RootCAs *x509.CertPool
	// Replay is the recording a replayed run answers from ("" for a live run): specs that need
	// what a recording does not hold (a browser sign-in) skip saying so.
	Replay string

	mu      sync.Mutex
	public  *fhirhttp.Client
	client  *fhirhttp.Client
	values  map[string]any
	roots   map[string]evidence.Blocked
	obs     *fhirhttp.Observations
	breaker *fhirhttp.Breaker

	ctxMu  sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
}

// Auth is the access configuration of a run.
type Auth struct {
	Mode string // browser | token | none
	// Token is a given bearer token (Mode token).
	Token string
	// Extra carries mode-specific settings (client ids, login steps...) owned by the SMART suite.
	Extra any
	// AllowedOrigins (config auth.allowed_origins, scheme://host[:port]) say where credentials
	// and the sign-in may go. Discovered endpoints (authorize, token, introspection, revocation):
	// with the list empty, any https origin (http only for an http target); with it not empty,
	// only the target's origin (implicit) or a listed one. The sign-in's browser: the
	// authorization endpoint's origin, the redirect URI (captured, never loaded) and the listed
	// origins, e.g. a separate identity provider the login page moves to; nothing else.
	AllowedOrigins []string
}

// Limits bound every interaction with the target.
type Limits struct {
	RequestTimeout time.Duration
	MaxBodyBytes   int64
	MaxPages       int
	MaxRedirects   int
	// Deadline bounds the whole run (0: sized from the selection by the CLI).
	Deadline time.Duration
	// RetryAttempts and RetryMaxWait bound the retries of 429/503 answers (0: client defaults).
	RetryAttempts int
	RetryMaxWait  time.Duration
	// MaxLatency is the 95th-percentile response time capability.http.available accepts (0: default).
	MaxLatency time.Duration
	// MaxPatients bounds the patients whose data the data suites examine (0: DefaultMaxPatients):
	// the launch patient first, then the configured ones in order. A payer's test tenant may hold
	// thousands of members; the requirements are judged on a sample, stated in every data note.
	MaxPatients int
	// MaxReferenceReads bounds the reads the dataquality suite makes to resolve literal references
	// (0: DefaultMaxReferenceReads); the references read are a sample, stated in its note.
	MaxReferenceReads int
}

// DefaultMaxReferenceReads is the reference reads made when the run sets no limit.
const DefaultMaxReferenceReads = 50

// DefaultMaxPatients is the patients examined when the run sets no limits.max_patients.
const DefaultMaxPatients = 10

// DefaultLimits are used where a run sets none.
var DefaultLimits = Limits{RequestTimeout: 30 * time.Second, MaxBodyBytes: 20 << 20, MaxPages: 20, MaxRedirects: 5}

var (
	curMu sync.RWMutex
	cur   *Run
)

// Set installs the run context; call it before the spec tree is built.
func Set(r *Run) {
	curMu.Lock()
	defer curMu.Unlock()
	if r.Limits == (Limits{}) {
		r.Limits = DefaultLimits
	}
	cur = r
}

// Current returns the run context (nil when none was set: tree listing with defaults).
func Current() *Run {
	curMu.RLock()
	defer curMu.RUnlock()
	return cur
}

// Wants reports whether the run includes suite area.
func (r *Run) Wants(area string) bool {
	if r == nil || len(r.Suites) == 0 {
		return true
	}
	for _, s := range r.Suites {
		if s == area {
			return true
		}
	}
	return false
}

// Versions returns the IG versions to test for an IG short name, or def when the run names none.
func (r *Run) Versions(ig string, def ...string) []string {
	if r != nil && len(r.IGs[ig]) > 0 {
		return r.IGs[ig]
	}
	return def
}

// recordToSpec attaches each HTTP exchange to the running spec as evidence.
func recordToSpec(ex evidence.Exchange) {
	defer func() { _ = recover() }() // outside a running spec there is nowhere to attach it
	Evidence(&evidence.Entry{Kind: evidence.KindHTTP, Title: ex.Method + " " + ex.URL, Exchange: &ex})
}

// PublicClient is a client with no token, recording into the running spec.
func (r *Run) PublicClient() (*fhirhttp.Client, error) {
	opts := r.clientOptions()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.public == nil {
		c, err := fhirhttp.New(opts)
		if err != nil {
			return nil, err
		}
		r.public = c.WithRecorder(recordToSpec)
	}
	return r.public, nil
}

// SetClient installs the authorized client (the SMART suite or the runner does, once it has a
// token); Client returns it.
func (r *Run) SetClient(c *fhirhttp.Client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.client = c.WithRecorder(recordToSpec)
}

// Client is the authorized client, or nil when the run has no access.
func (r *Run) Client() *fhirhttp.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.client
}

// clientOptions are the options of every client the run makes (public, authorized, per-patient,
// SMART/OAuth): the same bounds, retries, observations and breaker, so one run judges one target.
func (r *Run) clientOptions() fhirhttp.Options {
	r.mu.Lock()
	obs := r.observationsLocked()
	if r.breaker == nil {
		r.breaker = &fhirhttp.Breaker{}
	}
	br := r.breaker
	r.mu.Unlock()
	return fhirhttp.Options{BaseURL: r.Target, Timeout: r.Limits.RequestTimeout, MaxBodyBytes: r.Limits.MaxBodyBytes,
		MaxRedirects: r.Limits.MaxRedirects, MaxPages: r.Limits.MaxPages,
		Retry:    fhirhttp.RetryPolicy{MaxAttempts: r.Limits.RetryAttempts, MaxWait: r.Limits.RetryMaxWait},
		Observer: obs, Breaker: br, WrapTransport: r.Transport, RootCAs: r.RootCAs}
}

// ClientOptions are the bounded client options of this run. Clients built from them share the
// run's Observations and Breaker.
func (r *Run) ClientOptions() fhirhttp.Options { return r.clientOptions() }

// TargetDown returns the breaker's root cause (wrapping fhirhttp.ErrTargetDown) once the target
// answered none of the run's first requests, or nil.
func (r *Run) TargetDown() error {
	r.mu.Lock()
	br := r.breaker
	r.mu.Unlock()
	if br == nil || r.Target == "" {
		return nil
	}
	u, err := url.Parse(r.Target)
	if err != nil {
		return nil
	}
	return br.Down(fhirhttp.Origin(u))
}

// Value and SetValue share data between specs of one run (e.g. the launch result).
func (r *Run) Value(key string) (any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.values[key]
	return v, ok
}

// SetValue stores a shared value.
func (r *Run) SetValue(key string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.values == nil {
		r.values = map[string]any{}
	}
	r.values[key] = v
}

// ErrDeadline is the cause of the run context when Limits.Deadline passed.
var ErrDeadline = errors.New("the run's deadline passed")

// SetContext makes ctx the parent of every network call of the run, bounded by Limits.Deadline
// counted from now: cancelling ctx (an interrupt) or passing the deadline ends what is in flight,
// and the specs still to run end as errors naming the deadline (see DeadlineErr). Call it once,
// before Prepare; without it the run context starts at the first use, from Background.
func (r *Run) SetContext(ctx context.Context) {
	r.ctxMu.Lock()
	defer r.ctxMu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
	r.ctx, r.cancel = r.bound(ctx)
}

func (r *Run) bound(parent context.Context) (context.Context, context.CancelFunc) {
	if d := r.Limits.Deadline; d > 0 {
		return context.WithDeadlineCause(parent, time.Now().Add(d),
			fmt.Errorf("%w (%s; raise limits.deadline or --deadline)", ErrDeadline, d))
	}
	return context.WithCancel(parent)
}

// Context is the run context (see SetContext).
func (r *Run) Context() context.Context {
	r.ctxMu.Lock()
	defer r.ctxMu.Unlock()
	if r.ctx == nil {
		r.ctx, r.cancel = r.bound(context.Background())
	}
	return r.ctx
}

// Stop cancels the run context (the CLI calls it when the run is over or interrupted).
func (r *Run) Stop() {
	r.ctxMu.Lock()
	defer r.ctxMu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
}

// DeadlineErr returns a one-line error when the run context is over (deadline passed or run
// interrupted), nil while it is live. The runner ends every spec that starts afterwards with it.
func (r *Run) DeadlineErr() error {
	ctx := r.Context()
	if ctx.Err() == nil {
		return nil
	}
	if c := context.Cause(ctx); c != nil && errors.Is(c, ErrDeadline) {
		return fmt.Errorf("not run: %w", c)
	}
	return fmt.Errorf("not run: the run was interrupted (%w)", context.Cause(ctx))
}

// Ctx is the context specs use for network calls: the run context bounded by the request
// timeout times a margin.
func (r *Run) Ctx() (context.Context, context.CancelFunc) {
	d := r.Limits.RequestTimeout * 4
	if d <= 0 {
		d = 2 * time.Minute
	}
	return context.WithTimeout(r.Context(), d)
}

// Observations is what every client of the run observed of the target's availability (shared
// by the public, authorized, per-patient and SMART/OAuth clients through ClientOptions).
func (r *Run) Observations() *fhirhttp.Observations {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.observationsLocked()
}

func (r *Run) observationsLocked() *fhirhttp.Observations {
	if r.obs == nil {
		r.obs = &fhirhttp.Observations{}
	}
	return r.obs
}

// SetPatientClient installs the authorized client for one patient's data. A patient-scoped SMART
// token reaches one member only, so a run over several members holds one client per patient;
// PatientClient falls back to the run's main client (which serves the launch patient).
func (r *Run) SetPatientClient(patientID string, c *fhirhttp.Client) {
	r.SetValue("patient-client:"+patientID, c.WithRecorder(recordToSpec))
}

// PatientClient returns the client for a patient's data, or nil when the run has no access.
func (r *Run) PatientClient(patientID string) *fhirhttp.Client {
	if v, ok := r.Value("patient-client:" + patientID); ok {
		if c, ok := v.(*fhirhttp.Client); ok && c != nil {
			return c
		}
	}
	return r.Client()
}

// ReferenceClaim is a record the payer names (Type/id), its member, and when it was processed.
type ReferenceClaim struct {
	Ref, Patient string
	Processed    time.Time
}
