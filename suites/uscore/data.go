package uscore

import (
	"context"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
	"github.com/pacheck/pacheck/suites/internal/igspec"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// clientFor returns the client for a patient's data (payer tokens are usually scoped to one
// member, so a run over several members holds one client per patient: framework.Run.
// SetPatientClient), or nil when the run has no access.
func clientFor(run *framework.Run, patientID string) *fhirhttp.Client {
	return run.PatientClient(patientID)
}

// data is US Core's igspec.Data: the data of a type is fetched once per run for every profile
// and version (fetchType), a profile's pool placed from it (needPool), reads kept once per run.
type data struct{}

func (data) NeedPool(pc *igspec.ProfileCtx) (*igdata.TypeData, []map[string]any) {
	GinkgoHelper()
	return needPool(pc)
}

func (data) ReadOnce(pc *igspec.ProfileCtx, pid, typ, id string) (*fhirhttp.Response, error) {
	return readOnce(pc.Run, pid, typ, id)
}

// store is the run's US Core store: the data per type (igdata.TypeData) is fetched once per run,
// shared by every profile and version that uses the type.
func store(run *framework.Run) *igdata.Store { return igdata.StoreOf(run, "uscore.store") }

// fetchType fetches the resources of one type: by patient for types searched by patient, else
// by reading every reference to the type found in the patient-searched types of srv.
func fetchType(run *framework.Run, srv *ig.Server, typ string) *igdata.TypeData {
	return store(run).TypeOnce(typ, func() *igdata.TypeData { return fetchTypeNow(run, srv, typ) })
}

func fetchTypeNow(run *framework.Run, srv *ig.Server, typ string) *igdata.TypeData {
	td := igdata.NewTypeData(typ)
	res := srv.Resource(typ)
	ctx, cancel := context.WithTimeout(run.Context(), igdata.Budget(run))
	defer cancel()
	pp := ""
	if res != nil {
		pp = srv.PatientParam(res)
	}
	if pp != "" {
		for _, pid := range igdata.Patients(run) {
			c := clientFor(run, pid)
			if c == nil {
				td.Err = run.NoAccess(pid)
				break
			}
			if td.SearchPatient(ctx, c, pid, pp, false); td.Err != nil {
				break
			}
		}
	} else {
		// Referenced types (Organization, Practitioner, Location, Medication...).
		var others []*igdata.TypeData
		for _, r := range srv.Resources {
			if srv.PatientParam(r) == "" || r.Type == typ {
				continue
			}
			others = append(others, fetchType(run, srv, r.Type))
		}
		td.ReadAll(igdata.Referenced(typ, others, maxReads), func(pid, typ, id string) (*fhirhttp.Response, error) {
			return readOnce(run, pid, typ, id)
		})
	}
	if pp == "" && len(td.Resources) == 0 && td.Err == nil && res != nil {
		searchByReference(run, srv, res, td)
	}
	if len(td.Resources) == 0 && td.Err == nil {
		collectByRevinclude(run, srv, typ, td)
		td.Indirect = len(td.Resources) > 0
	}
	return td
}

// searchByReference finds resources of a type no patient record references (PractitionerRole)
// through its SHALL reference search parameters: T?param=Target/id for the known targets.
func searchByReference(run *framework.Run, srv *ig.Server, res *ig.Resource, td *igdata.TypeData) {
	ctx, cancel := context.WithTimeout(run.Context(), igdata.Budget(run))
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
				pid := known.PatientOf[igdata.ID(r)]
				c := clientFor(run, pid)
				if c == nil {
					return
				}
				q := url.Values{sp.Name: {target + "/" + igdata.ID(r)}}
				td.Queries = append(td.Queries, res.Type+"?"+q.Encode())
				pages, err := c.SearchAll(ctx, res.Type, q)
				if err != nil {
					td.Err = err
					return
				}
				for _, m := range pages.Matches() {
					td.Add(pid, m)
				}
			}
		}
	}
}

const (
	maxReads    = 40 // resources read per type or per spec
	maxPoolSize = 200
)

// readOnce reads Type/id once per run with the patient's client (a failed read is kept too).
func readOnce(run *framework.Run, pid, typ, id string) (*fhirhttp.Response, error) {
	return store(run).ReadOnce(typ, id, true, func() (*fhirhttp.Response, error) {
		c := clientFor(run, pid)
		if c == nil {
			return nil, run.NoAccess(pid)
		}
		ctx, cancel := run.Ctx()
		defer cancel()
		return c.Read(ctx, typ, id)
	})
}

// place returns the profile's pool (igdata.ProfileRule): the resources claiming it (or a profile
// derived from it) in meta.profile, and those claiming no US Core profile that carry its
// discriminating values; at most maxPoolSize.
func place(p *ig.Profile, td *igdata.TypeData) igdata.Placement {
	return igdata.ProfileRule(p, "").Place(td.Resources).Limit(maxPoolSize)
}

// collectByRevinclude finds resources that only point at others (Provenance) through the
// _revinclude=<typ>:<param> searches the CapabilityStatement lists: one search per resource type,
// for the first patient holding data of that type.
func collectByRevinclude(run *framework.Run, srv *ig.Server, typ string, td *igdata.TypeData) {
	ctx, cancel := context.WithTimeout(run.Context(), igdata.Budget(run))
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
			for _, pid := range igdata.Patients(run) {
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
					td.Add(pid, e)
				}
				break
			}
		}
	}
}
