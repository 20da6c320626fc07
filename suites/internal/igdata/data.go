// Package igdata is what the data suites generated from an IG's server CapabilityStatement
// (uscore, carinbb, pdex, formulary, all through the generator suites/internal/igspec) share.
// It holds the per-run store of the resources fetched for each type (TypeData, Store), the
// profile pools (PoolRule: meta.profile claims, else the profile's discriminating values, never
// the resource type alone where the profile fixes one), literal references, the must-support tally, the search
// that specs send, and the run's package set and profile validator (built once per package set).
package igdata

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
)

// TypeData is everything fetched for one resource type across the run's patients. It is fetched
// once per run and store (shared by every profile and version that uses the type).
type TypeData struct {
	Type      string
	Resources []map[string]any            // distinct resources, in fetch order
	PatientOf map[string]string           // id -> the patient whose search or reference found it
	ByPatient map[string][]map[string]any // patient id -> its resources (found for a patient)
	Queries   []string                    // what was asked, for skip messages
	Indirect  bool                        // found only through references or _revinclude
	Err       error                       // tool trouble: an error outcome
	Fail      issue.List                  // server misbehaviour while fetching: a failure
	// Refused is the status of a search answered 401 or 403 (0: none was), so a spec whose data
	// should be public can name the spec that judges the refusal as its root cause.
	Refused int
	// PatientValue is, per patient, the value of the patient search parameter that found its
	// data when the bare id found none ("Patient/<id>"); absent: the bare id.
	PatientValue map[string]string
}

// NewTypeData starts the data of a type.
func NewTypeData(typ string) *TypeData {
	return &TypeData{Type: typ, PatientOf: map[string]string{}, ByPatient: map[string][]map[string]any{}}
}

// Add adds a resource found for the patient pid ("" for none): only of the type, with an id, and
// once per id.
func (td *TypeData) Add(pid string, r map[string]any) {
	id := ID(r)
	if rt, _ := r["resourceType"].(string); rt != td.Type || id == "" {
		return
	}
	if _, dup := td.PatientOf[id]; dup {
		return
	}
	td.PatientOf[id] = pid
	td.Resources = append(td.Resources, r)
	if pid != "" {
		td.ByPatient[pid] = append(td.ByPatient[pid], r)
	}
}

// SearchAll searches the type with c and follows the pages, adding the matches as found for pid.
// Tool trouble sets td.Err; the server's error issues join td.Fail, prefixed with the query.
// With requireOK, a first page other than HTTP 200 is one search.status failure instead and
// nothing is added.
func (td *TypeData) SearchAll(ctx context.Context, c *fhirhttp.Client, pid string, q url.Values, requireOK bool) {
	typ := td.Type
	td.Queries = append(td.Queries, typ+"?"+q.Encode())
	pages, err := c.SearchAll(ctx, typ, q)
	if err != nil {
		td.Err = err
		return
	}
	if st := pages.Pages; len(st) > 0 && (st[0].Status == 401 || st[0].Status == 403) {
		td.Refused = st[0].Status
	}
	if requireOK && len(pages.Pages) > 0 && pages.Pages[0].Status != 200 {
		td.Fail = append(td.Fail, searchStatus("GET "+typ+"?"+q.Encode(), typ, pages.Pages[0], "expected HTTP 200"))
		return
	}
	for _, is := range pages.Issues {
		if is.Severity == issue.Error {
			is.Message = typ + "?" + q.Encode() + ": " + is.Message
			td.Fail = append(td.Fail, is)
		}
	}
	for _, r := range pages.Matches() {
		td.Add(pid, r)
	}
}

// SearchPatient searches the type by the patient parameter param for patient pid: first with the
// bare id, then, when that found nothing for pid and the server answered without trouble, with
// Patient/id. Both forms are the same search (FHIR R4 search.html#reference; US Core writes
// patient={Type/}[id]), so a server that answers only one of them still shows its data: the
// search specs then judge the form it ignores (uscore.search.reference), instead of every spec
// of the type skipping for want of data the server holds.
func (td *TypeData) SearchPatient(ctx context.Context, c *fhirhttp.Client, pid, param string, requireOK bool) {
	before, fails := len(td.ByPatient[pid]), len(td.Fail)
	td.SearchAll(ctx, c, pid, url.Values{param: {pid}}, requireOK)
	if td.Err != nil || len(td.Fail) > fails || len(td.ByPatient[pid]) > before || pid == "" || strings.Contains(pid, "/") {
		return
	}
	td.SearchAll(ctx, c, pid, url.Values{param: {"Patient/" + pid}}, requireOK)
	if len(td.ByPatient[pid]) > before {
		if td.PatientValue == nil {
			td.PatientValue = map[string]string{}
		}
		td.PatientValue[pid] = "Patient/" + pid
	}
}

// PatientParamValue is the value of the patient search parameter that finds pid's data: the
// bare id, or "Patient/<id>" when only that form found it. Specs that judge something other than
// the bare-id form (paging, say) search with it, so a server that takes only the typed form fails
// the bare-id requirement once, in the searches that judge it, and not every spec beside it.
func (td *TypeData) PatientParamValue(pid string) string {
	if v := td.PatientValue[pid]; v != "" {
		return v
	}
	return pid
}

// Ref is a reference found in a patient's data.
type Ref struct{ Patient, ID string }

// Referenced lists the distinct ids of type typ the resources of others reference, with the
// patient each was first found for, sorted by id, at most max.
func Referenced(typ string, others []*TypeData, max int) []Ref {
	var refs []Ref
	seen := map[string]bool{}
	for _, other := range others {
		for _, o := range other.Resources {
			for _, s := range ReferencesIn(o) {
				t, id := SplitRef(s)
				if t == typ && id != "" && !seen[id] {
					seen[id] = true
					refs = append(refs, Ref{Patient: other.PatientOf[ID(o)], ID: id})
				}
			}
		}
	}
	sortRefs(refs)
	if len(refs) > max {
		refs = refs[:max]
	}
	return refs
}

// ReadAll reads the referenced resources of the type with read, adding those that answer 200.
// Tool trouble sets td.Err and ends the reading.
func (td *TypeData) ReadAll(refs []Ref, read func(pid, typ, id string) (*fhirhttp.Response, error)) {
	for _, rf := range refs {
		td.Queries = append(td.Queries, td.Type+"/"+rf.ID)
		resp, err := read(rf.Patient, td.Type, rf.ID)
		if err != nil {
			td.Err = err
			break
		}
		if resp.Status == 200 && resp.Resource != nil {
			td.Add(rf.Patient, resp.Resource)
		}
	}
}

// Store holds what one suite fetched during a run: the data per type, the reads per Type/id and
// memoized results.
type Store struct {
	mu    sync.Mutex
	types map[string]*TypeData
	reads map[string]*readResult
	memo  map[string]any
}

type readResult struct {
	resp *fhirhttp.Response
	err  error
}

// StoreOf returns the run's store under key, made on first use.
func StoreOf(run *framework.Run, key string) *Store {
	if v, ok := run.Value(key); ok {
		return v.(*Store)
	}
	s := &Store{types: map[string]*TypeData{}, reads: map[string]*readResult{}, memo: map[string]any{}}
	run.SetValue(key, s)
	return s
}

// TypeOnce returns the data of a type, fetched once per store. The store is not locked while
// fetch runs, so fetch may ask for other types.
func (s *Store) TypeOnce(typ string, fetch func() *TypeData) *TypeData {
	return once(&s.mu, s.types, typ, fetch)
}

// Fetched returns the data of a type if the store already fetched it, without fetching: a suite
// that reads what the IG suites found (dataquality) uses it so the world is not fetched twice.
func (s *Store) Fetched(typ string) (*TypeData, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	td, ok := s.types[typ]
	return td, ok && td != nil
}

// Types lists the types the store fetched, sorted.
func (s *Store) Types() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.types))
	for t, td := range s.types {
		if td != nil {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// ExistingStore returns the run's store under key if a suite made it, else nil.
func ExistingStore(run *framework.Run, key string) *Store {
	if v, ok := run.Value(key); ok {
		s, _ := v.(*Store)
		return s
	}
	return nil
}

// ReadOnce returns the read of Type/id, made once per store. With keepErr a failed read is kept
// too; without, it is made again when asked again.
func (s *Store) ReadOnce(typ, id string, keepErr bool, read func() (*fhirhttp.Response, error)) (*fhirhttp.Response, error) {
	key := typ + "/" + id
	s.mu.Lock()
	if r, ok := s.reads[key]; ok {
		s.mu.Unlock()
		return r.resp, r.err
	}
	s.mu.Unlock()
	resp, err := read()
	if err == nil || keepErr {
		s.mu.Lock()
		s.reads[key] = &readResult{resp: resp, err: err}
		s.mu.Unlock()
	}
	return resp, err
}

// Memo runs f once per store and key.
func Memo[T any](s *Store, key string, f func() T) T {
	return once(&s.mu, s.memo, key, func() any { return f() }).(T)
}

// once returns m[key], made by f when missing; mu guards m but is not held while f runs.
func once[T any](mu *sync.Mutex, m map[string]T, key string, f func() T) T {
	mu.Lock()
	if v, ok := m[key]; ok {
		mu.Unlock()
		return v
	}
	mu.Unlock()
	v := f()
	mu.Lock()
	m[key] = v
	mu.Unlock()
	return v
}

// Patients are the patients whose data the data suites examine: the launch patient, then the
// run's other patient ids in order, deduplicated, at most Limits.MaxPatients of them.
func Patients(run *framework.Run) []string {
	ps, _ := samplePatients(run)
	return ps
}

// samplePatients returns the examined patients and how many distinct ones the run named.
func samplePatients(run *framework.Run) ([]string, int) {
	var all []string
	seen := map[string]bool{}
	for _, p := range append([]string{run.LaunchPatient}, run.Patients...) {
		if p != "" && !seen[p] {
			seen[p] = true
			all = append(all, p)
		}
	}
	limit := run.Limits.MaxPatients
	if limit <= 0 {
		limit = framework.DefaultMaxPatients
	}
	if len(all) > limit {
		return all[:limit], len(all)
	}
	return all, len(all)
}

// DescribePatients names the searched patients for messages, and the sampling rule when the run
// named more patients than it examines.
func DescribePatients(run *framework.Run) string {
	ps, total := samplePatients(run)
	if len(ps) == 0 {
		return "no patient"
	}
	s := "patients " + strings.Join(ps, ", ")
	if total > len(ps) {
		s += fmt.Sprintf(" (a sample: %d of the %d patients the run names, the launch patient first, then in the order given; limits.max_patients)", len(ps), total)
	}
	return s
}

// Budget is the time a fetch or a search with all its pages may take: 20 request timeouts, or
// 5 minutes.
func Budget(run *framework.Run) time.Duration {
	if d := run.Limits.RequestTimeout * 20; d > 0 {
		return d
	}
	return 5 * time.Minute
}

// OutcomeText summarizes an OperationOutcome body for a failure message.
func OutcomeText(r *fhirhttp.Response) string {
	if r == nil || r.ResourceType() != "OperationOutcome" {
		return ""
	}
	is, _ := r.Resource["issue"].([]any)
	for _, x := range is {
		m, _ := x.(map[string]any)
		if d, _ := m["diagnostics"].(string); d != "" {
			if len(d) > 160 {
				d = d[:160] + "..."
			}
			return " (OperationOutcome: " + d + ")"
		}
	}
	return " (OperationOutcome)"
}
