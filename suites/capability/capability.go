// Package capability holds the CapabilityStatement specs: FHIR version, JSON, rest.mode server,
// the SMART security extension, and, per tested US Core version, the server's declaration of
// conformance and of every profile, search parameter and interaction the IG marks SHALL. The
// expectations are read from the IG packages, never written per profile.
package capability

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// Area is the suite area name (framework.Run.Suites).
const Area = "capability"

type metadata struct {
	cs          map[string]any
	contentType string
	err         error // transport trouble: an error outcome
	fail        string
	failOnce    *framework.SharedError // the first spec fails with fail, the others are blocked by it
}

var metaMu sync.Mutex

// fetchMetadata fetches [base]/metadata once per run, without a token.
func fetchMetadata() *metadata {
	run := framework.Current()
	metaMu.Lock()
	defer metaMu.Unlock()
	if v, ok := run.Value("capability.metadata"); ok {
		return v.(*metadata)
	}
	m := &metadata{}
	defer run.SetValue("capability.metadata", m)
	c, err := run.PublicClient()
	if err != nil {
		m.err = err
		return m
	}
	ctx, cancel := run.Ctx()
	defer cancel()
	resp, err := c.Metadata(ctx)
	switch {
	case err != nil:
		m.err = framework.Shared(err) // the first spec reports it, the others are blocked by that spec
	case resp.Status != http.StatusOK:
		m.fail = fmt.Sprintf("GET [base]/metadata: expected HTTP 200, got %d", resp.Status)
	case resp.ResourceType() != "CapabilityStatement":
		m.fail = fmt.Sprintf("GET [base]/metadata: expected a CapabilityStatement, got %q", resp.ResourceType())
	default:
		m.cs = resp.Resource
		m.contentType = resp.ContentType()
	}
	if m.fail != "" {
		m.failOnce = framework.Shared(errors.New(m.fail)).(*framework.SharedError)
	}
	return m
}

// needMetadata returns the server CapabilityStatement or ends the spec (error / fail).
func needMetadata() (map[string]any, string) {
	GinkgoHelper()
	m := fetchMetadata()
	if m.err != nil {
		framework.Infra(m.err)
	}
	if m.fail != "" {
		if be := m.failOnce.Blocked(); be != nil {
			framework.Infra(be)
		}
		Fail(m.fail)
	}
	return m.cs, m.contentType
}

func packageSet() (*profiles.Set, error) {
	if r := framework.Current(); r != nil && r.Profiles != nil {
		return r.Profiles, nil
	}
	return profiles.Embedded()
}

var _ = Describe("capability", Label("area:capability"), func() {
	run := framework.Current()
	if run != nil && !run.Wants(Area) {
		return
	}
	framework.Spec("fhir-version", []string{"capability.fhir-version"}, func() {
		cs, _ := needMetadata()
		framework.ExpectConformant("fhirVersion", filter(CheckBasics(cs, ""), RuleFHIRVersion))
	})
	framework.Spec("format-json", []string{"capability.format-json", "capability.http.content-type"}, func() {
		cs, ct := needMetadata()
		framework.ExpectConformant("format", filter(CheckBasics(cs, ct), RuleFormat, RuleContentType))
	})
	framework.Spec("rest-server", []string{"capability.rest-server"}, func() {
		cs, _ := needMetadata()
		framework.ExpectConformant("rest.mode", CheckRestServer(cs))
	})
	framework.Spec("smart-security", []string{"capability.smart-security"}, func() {
		cs, _ := needMetadata()
		framework.ExpectConformant("rest.security", CheckSecurity(cs))
	})

	set, err := packageSet()
	for _, v := range run.Versions("uscore", "6.1.0") {
		v := v
		Describe("uscore-"+v, Label("ig:uscore-"+v), func() {
			var srv *ig.Server
			var loadErr error
			if err != nil {
				loadErr = err
			} else {
				srv, loadErr = ig.Load(set, v)
			}
			need := func() *ig.Server {
				GinkgoHelper()
				if loadErr != nil {
					framework.Infra(loadErr)
				}
				return srv
			}
			framework.Spec("instantiates", []string{"capability.instantiates-uscore"}, func() {
				s := need()
				cs, _ := needMetadata()
				framework.ExpectConformant("instantiates", CheckInstantiates(cs, ig.ServerCS, s.Version, ig.PackageID))
			})
			framework.Spec("supported-profiles", []string{"capability.supported-profiles"}, func() {
				s := need()
				cs, _ := needMetadata()
				framework.ExpectConformant("supportedProfile", CheckDeclared(cs, s, "profiles"))
			})
			framework.Spec("search-params", []string{"capability.search-params"}, func() {
				s := need()
				cs, _ := needMetadata()
				framework.ExpectConformant("searchParam", CheckDeclared(cs, s, "search"))
			})
			framework.Spec("interactions", []string{"capability.interactions-declared"}, func() {
				s := need()
				cs, _ := needMetadata()
				framework.ExpectConformant("interaction", CheckDeclared(cs, s, "interactions"))
			})
		})
	}

	// Other IGs the server says it instantiates (CARIN BB, PDex, formulary...): when their
	// server CapabilityStatement is in the package set, the same declarations are checked.
	Describe("instantiated", func() {
		framework.Spec("declarations", []string{"capability.supported-profiles", "capability.search-params"}, func() {
			if err != nil {
				framework.Infra(err)
			}
			cs, _ := needMetadata()
			var all issue.List
			var checked, unknown []string
			for _, inst := range strList(cs["instantiates"]) {
				if strings.HasPrefix(inst, ig.ServerCS) {
					continue // checked per tested US Core version above
				}
				s, lerr := ig.LoadCapability(set, inst)
				if lerr != nil {
					unknown = append(unknown, inst)
					continue
				}
				checked = append(checked, inst)
				all = append(all, CheckDeclared(cs, s, "profiles")...)
				all = append(all, CheckDeclared(cs, s, "search")...)
			}
			if len(checked) == 0 {
				framework.SkipBecause(fmt.Sprintf("the server instantiates no CapabilityStatement besides US Core that pacheck holds (instantiates: %v)", strList(cs["instantiates"])),
					"instantiates naming a server CapabilityStatement of a loaded IG package (CARIN BB, PDex, US Drug Formulary)")
			}
			framework.Note("checked", "%s", strings.Join(checked, "\n"))
			if len(unknown) > 0 {
				framework.Note("not checked (package not loaded)", "%s", strings.Join(unknown, "\n"))
			}
			framework.ExpectConformant("declarations", all)
		})
	})
})

func filter(l issue.List, rules ...string) issue.List {
	var out issue.List
	for _, i := range l {
		for _, r := range rules {
			if i.Rule == r {
				out = append(out, i)
			}
		}
	}
	return out
}
