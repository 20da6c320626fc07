package uscore

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
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// clientFor returns the client for a patient's data (payer tokens are usually scoped to one
// member, so a run over several members holds one client per patient: framework.Run.
// SetPatientClient), or nil when the run has no access.
func clientFor(run *framework.Run, patientID string) *fhirhttp.Client {
	return run.PatientClient(patientID)
}

// typeData is everything fetched for one resource type across the run's patients. It is fetched
// once per run (shared by every profile and version that uses the type).
type typeData struct {
	Type      string
	Resources []map[string]any            // distinct resources, in fetch order
	PatientOf map[string]string           // id -> the patient whose search or reference found it
	ByPatient map[string][]map[string]any // patient id -> its resources (patient-searched types)
	Queries   []string                    // what was asked, for skip messages
	Indirect  bool                        // found only through references or _revinclude
	Err       error                       // tool trouble: an error outcome
	Fail      issue.List                  // server misbehaviour while fetching: a failure
}

type store struct {
	mu    sync.Mutex
	types map[string]*typeData
	reads map[string]*readResult
	memo  map[string]any
}

type readResult struct {
	resp *fhirhttp.Response
	err  error
}

func getStore(run *framework.Run) *store {
	const key = "uscore.store"
	if v, ok := run.Value(key); ok {
		return v.(*store)
	}
	s := &store{types: map[string]*typeData{}, reads: map[string]*readResult{}, memo: map[string]any{}}
	run.SetValue(key, s)
	return s
}

// memoize runs f once per run for key.
func memoize[T any](run *framework.Run, key string, f func() T) T {
	st := getStore(run)
	st.mu.Lock()
	if v, ok := st.memo[key]; ok {
		st.mu.Unlock()
		return v.(T)
	}
	st.mu.Unlock()
	v := f()
	st.mu.Lock()
	st.memo[key] = v
	st.mu.Unlock()
	return v
}

func patients(run *framework.Run) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range run.Patients {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// fetchType fetches the resources of one type: by patient for types searched by patient, else
// by reading every reference to the type found in the patient-searched types of srv.
func fetchType(run *framework.Run, srv *ig.Server, typ string) *typeData {
	st := getStore(run)
	st.mu.Lock()
	if td, ok := st.types[typ]; ok {
		st.mu.Unlock()
		return td
	}
	st.mu.Unlock()
	td := &typeData{Type: typ, PatientOf: map[string]string{}, ByPatient: map[string][]map[string]any{}}
	res := srv.Resource(typ)
	ctx, cancel := context.WithTimeout(context.Background(), runBudget(run))
	defer cancel()
	add := func(pid string, r map[string]any) {
		rt, _ := r["resourceType"].(string)
		id, _ := r["id"].(string)
		if rt != typ || id == "" {
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
	pp := ""
	if res != nil {
		pp = srv.PatientParam(res)
	}
	if pp != "" {
		for _, pid := range patients(run) {
			c := clientFor(run, pid)
			if c == nil {
				td.Err = fmt.Errorf("no authorized client for patient %s: the run has no token (configure auth, or install one per patient)", pid)
				break
			}
			q := url.Values{pp: {pid}}
			td.Queries = append(td.Queries, typ+"?"+q.Encode())
			pages, err := c.SearchAll(ctx, typ, q)
			if err != nil {
				td.Err = err
				break
			}
			for _, is := range pages.Issues {
				if is.Severity == issue.Error {
					is.Message = typ + "?" + q.Encode() + ": " + is.Message
					td.Fail = append(td.Fail, is)
				}
			}
			for _, r := range pages.Matches() {
				add(pid, r)
			}
		}
	} else {
		// Referenced types (Organization, Practitioner, Location, Medication...).
		type ref struct{ pid, id string }
		var refs []ref
		seen := map[string]bool{}
		for _, r := range srv.Resources {
			if srv.PatientParam(r) == "" || r.Type == typ {
				continue
			}
			other := fetchType(run, srv, r.Type)
			for _, res := range other.Resources {
				id, _ := res["id"].(string)
				for _, rs := range referencesIn(res) {
					t, rid := splitRef(rs)
					if t == typ && rid != "" && !seen[rid] {
						seen[rid] = true
						refs = append(refs, ref{pid: other.PatientOf[id], id: rid})
					}
				}
			}
		}
		sort.SliceStable(refs, func(i, j int) bool { return refs[i].id < refs[j].id })
		if len(refs) > maxReads {
			refs = refs[:maxReads]
		}
		for _, rf := range refs {
			td.Queries = append(td.Queries, typ+"/"+rf.id)
			rr := readOnce(run, rf.pid, typ, rf.id)
			if rr.err != nil {
				td.Err = rr.err
				break
			}
			if rr.resp.Status == 200 && rr.resp.Resource != nil {
				add(rf.pid, rr.resp.Resource)
			}
		}
	}
	if pp == "" && len(td.Resources) == 0 && td.Err == nil && res != nil {
		searchByReference(run, srv, res, td, add)
	}
	if len(td.Resources) == 0 && td.Err == nil {
		collectByRevinclude(run, srv, typ, td, add)
		td.Indirect = len(td.Resources) > 0
	}
	st.mu.Lock()
	st.types[typ] = td
	st.mu.Unlock()
	return td
}

// searchByReference finds resources of a type no patient record references (PractitionerRole)
// through its SHALL reference search parameters: T?param=Target/id for the known targets.
func searchByReference(run *framework.Run, srv *ig.Server, res *ig.Resource, td *typeData, add func(string, map[string]any)) {
	ctx, cancel := context.WithTimeout(context.Background(), runBudget(run))
	defer cancel()
	for _, sp := range res.SearchParams {
		if sp.Expectation != "SHALL" || sp.Param.Type != "reference" {
			continue
		}
		for _, target := range sp.Param.Targets {
			if target == res.Type || srv.Resource(target) == nil {
				continue
			}
			known := fetchType(run, srv, target)
			for i, r := range known.Resources {
				if i >= 5 {
					break
				}
				pid := known.PatientOf[rid(r)]
				c := clientFor(run, pid)
				if c == nil {
					return
				}
				q := url.Values{sp.Name: {target + "/" + rid(r)}}
				td.Queries = append(td.Queries, res.Type+"?"+q.Encode())
				pages, err := c.SearchAll(ctx, res.Type, q)
				if err != nil {
					td.Err = err
					return
				}
				for _, m := range pages.Matches() {
					add(pid, m)
				}
			}
		}
	}
}

const (
	maxReads      = 40 // resources read per type or per spec
	maxPoolSize   = 200
	defaultBudget = 5 * time.Minute
)

func runBudget(run *framework.Run) (d time.Duration) {
	d = run.Limits.RequestTimeout * 20
	if d <= 0 {
		d = defaultBudget
	}
	return d
}

// readOnce reads Type/id once per run with the patient's client.
func readOnce(run *framework.Run, pid, typ, id string) *readResult {
	st := getStore(run)
	key := typ + "/" + id
	st.mu.Lock()
	if r, ok := st.reads[key]; ok {
		st.mu.Unlock()
		return r
	}
	st.mu.Unlock()
	c := clientFor(run, pid)
	rr := &readResult{}
	if c == nil {
		rr.err = fmt.Errorf("no authorized client for patient %s", pid)
	} else {
		ctx, cancel := run.Ctx()
		rr.resp, rr.err = c.Read(ctx, typ, id)
		cancel()
	}
	st.mu.Lock()
	st.reads[key] = rr
	st.mu.Unlock()
	return rr
}

// referencesIn lists every Reference.reference string in a resource (not contained ones).
func referencesIn(v any) []string {
	var out []string
	var walk func(x any, key string)
	walk = func(x any, key string) {
		switch t := x.(type) {
		case map[string]any:
			for k, y := range t {
				if k == "contained" {
					continue
				}
				if k == "reference" {
					if s, ok := y.(string); ok && !strings.HasPrefix(s, "#") {
						out = append(out, s)
					}
					continue
				}
				walk(y, k)
			}
		case []any:
			for _, y := range t {
				walk(y, key)
			}
		}
	}
	walk(v, "")
	return out
}

// splitRef returns type and id of "Type/id", "Type/id/_history/v" or an absolute URL.
func splitRef(ref string) (string, string) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(strings.TrimRight(ref, "/"), "/")
	if len(parts) < 2 {
		return "", ""
	}
	t, id := parts[len(parts)-2], parts[len(parts)-1]
	if t == "" || t[0] < 'A' || t[0] > 'Z' {
		return "", ""
	}
	return t, id
}

// claims reports whether a resource claims the profile in meta.profile (any version).
func claims(r map[string]any, profileURL string) bool {
	base, _, _ := strings.Cut(profileURL, "|")
	meta, _ := r["meta"].(map[string]any)
	ps, _ := meta["profile"].([]any)
	for _, p := range ps {
		if s, ok := p.(string); ok {
			if u, _, _ := strings.Cut(s, "|"); u == base {
				return true
			}
		}
	}
	return false
}

// pool returns the resources of the profile: those claiming it in meta.profile; when no resource
// of the type claims any of the type's profiles and the type has a single profile, all of them.
func pool(res *ig.Resource, p *ig.Profile, td *typeData) []map[string]any {
	var out []map[string]any
	for _, r := range td.Resources {
		if claims(r, p.URL) {
			out = append(out, r)
		}
	}
	if len(out) == 0 && len(res.Profiles) == 1 {
		anyClaim := false
		for _, r := range td.Resources {
			for _, q := range res.Profiles {
				anyClaim = anyClaim || claims(r, q.URL)
			}
		}
		if !anyClaim {
			out = td.Resources
		}
	}
	if len(out) > maxPoolSize {
		out = out[:maxPoolSize]
	}
	return out
}

// collectByRevinclude finds resources that only point at others (Provenance) through the
// _revinclude=<typ>:<param> searches the CapabilityStatement lists: one search per resource type,
// for the first patient holding data of that type.
func collectByRevinclude(run *framework.Run, srv *ig.Server, typ string, td *typeData, add func(string, map[string]any)) {
	ctx, cancel := context.WithTimeout(context.Background(), runBudget(run))
	defer cancel()
	for _, r := range srv.Resources {
		pp := srv.PatientParam(r)
		if r.Type == typ || pp == "" {
			continue
		}
		for _, ri := range r.RevIncludes {
			if !strings.HasPrefix(ri.Value, typ+":") {
				continue
			}
			other := fetchType(run, srv, r.Type)
			for _, pid := range patients(run) {
				if len(other.ByPatient[pid]) == 0 {
					continue
				}
				c := clientFor(run, pid)
				if c == nil {
					return
				}
				q := url.Values{pp: {pid}, "_revinclude": {ri.Value}}
				td.Queries = append(td.Queries, r.Type+"?"+q.Encode())
				pages, err := c.SearchAll(ctx, r.Type, q)
				if err != nil {
					td.Err = err
					return
				}
				for _, e := range pages.Entries {
					add(pid, e)
				}
				break
			}
		}
	}
}
