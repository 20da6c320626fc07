package igdata

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pacheck/pacheck/suites/uscore/ig"
)

// PoolRule says which fetched resources of a type belong to a profile's pool: a resource that
// claims the profile (or a profile derived from it) in meta.profile; else, when it claims no
// profile at all, one that carries every discriminating value of the profile. A resource whose
// meta.profile names only other profiles (of this IG or another) is not placed: it says what it
// is. A resource of the type is never placed by its type alone unless the profile fixes nothing
// that tells its instances apart (Patient) and the resource claims no profile, and the placement
// says so.
type PoolRule struct {
	URL     string // the profile canonical (a version after "|" is ignored)
	Version string // claims must name this version when they name one ("": any version)
	// Through, with Version "", leaves out claims that name only a later version than this one:
	// data a later version of the IG asks for (a US Core 7.0.0 smoking status in pack-years) is
	// not an instance of the profile at an earlier version (3.1.1 allows no quantity).
	Through string
	Derived []string // canonicals of the profiles derived from it (a claim of one is a claim of it)
	// Discriminators are what a resource claiming no profile of the IG must carry, each with the
	// label the data note gives it ("use=preauthorization").
	Discriminators []Discriminator
	// ByType is the label of the placement of a resource claiming no profile of the IG when there
	// are no Discriminators ("": such a resource is not placed).
	ByType string
}

// Discriminator is one test a resource claiming no profile of the IG must pass.
type Discriminator struct {
	Label string
	Match func(r map[string]any) bool
}

// ByTypeLabel is the placement of a resource by its type when the profile fixes no value that
// tells its instances apart.
const ByTypeLabel = "type (the profile fixes no discriminating value)"

// Placement is a profile's pool and how each resource got there.
type Placement struct {
	Pool []map[string]any
	Why  []string // per pool resource: "meta.profile" or the discriminators' labels
}

// Place applies the rule to the resources, keeping their order.
func (pr PoolRule) Place(rs []map[string]any) Placement {
	var pl Placement
	igBase := canonicalBase(pr.URL)
	var labels []string
	for _, d := range pr.Discriminators {
		labels = append(labels, d.Label)
	}
	for _, r := range rs {
		switch {
		case pr.claims(r, pr.URL) || slices.ContainsFunc(pr.Derived, func(u string) bool { return pr.claims(r, u) }):
			pl.add(r, "meta.profile")
		case claimsUnder(r, igBase):
			// it says what it is: another profile of the IG (or this one at another version)
		case claimsAny(r):
			// It names only other IGs' profiles (a US Core Patient beside CARIN BB members, a US
			// Core Device beside PDex devices, a formulary InsurancePlan carrying the fixed status
			// of Plan-Net's): it says what it is, and it is not this, whatever values it carries.
		case len(pr.Discriminators) == 0:
			// By type only for a resource that claims nothing.
			if pr.ByType != "" {
				pl.add(r, pr.ByType)
			}
		case !slices.ContainsFunc(pr.Discriminators, func(d Discriminator) bool { return !d.Match(r) }):
			pl.add(r, strings.Join(labels, ", "))
		}
	}
	return pl
}

func (pl *Placement) add(r map[string]any, why string) {
	pl.Pool = append(pl.Pool, r)
	pl.Why = append(pl.Why, why)
}

// Limit keeps the first n resources.
func (pl Placement) Limit(n int) Placement {
	if len(pl.Pool) > n {
		pl.Pool, pl.Why = pl.Pool[:n], pl.Why[:n]
	}
	return pl
}

// Note counts the placements by rule, in order of first use: "12 by meta.profile, 3 by
// use=preauthorization".
func (pl Placement) Note() string {
	var order []string
	n := map[string]int{}
	for _, w := range pl.Why {
		if n[w] == 0 {
			order = append(order, w)
		}
		n[w]++
	}
	var parts []string
	for _, w := range order {
		parts = append(parts, fmt.Sprintf("%d by %s", n[w], w))
	}
	return strings.Join(parts, ", ")
}

// canonicalBase is the part of a profile canonical before StructureDefinition/, which the IG's
// profiles share (http://hl7.org/fhir/us/core/).
func canonicalBase(u string) string {
	u, _, _ = strings.Cut(u, "|")
	if i := strings.Index(u, "StructureDefinition/"); i > 0 {
		return u[:i]
	}
	return u
}

// claimsAny reports whether a resource claims any profile in meta.profile.
func claimsAny(r map[string]any) bool {
	meta, _ := r["meta"].(map[string]any)
	ps, _ := meta["profile"].([]any)
	for _, p := range ps {
		if s, ok := p.(string); ok && s != "" {
			return true
		}
	}
	return false
}

// claimsUnder reports whether a resource claims any profile whose canonical starts with base.
func claimsUnder(r map[string]any, base string) bool {
	meta, _ := r["meta"].(map[string]any)
	ps, _ := meta["profile"].([]any)
	for _, p := range ps {
		if s, ok := p.(string); ok && strings.HasPrefix(s, base+"StructureDefinition/") {
			return true
		}
	}
	return false
}

// ProfileRule is the pool rule of a CapabilityStatement profile: claims at version ("": any),
// the profiles derived from it, and its discriminators derived from its snapshot
// (ig.Profile.Discriminators); with none, a resource claiming no profile of the IG is placed by
// its type.
func ProfileRule(p *ig.Profile, version string) PoolRule {
	pr := PoolRule{URL: p.URL, Version: version, Derived: p.Derived()}
	if p.SD != nil {
		pr.URL = p.SD.URL
	}
	for _, d := range p.Discriminators() {
		pr.Discriminators = append(pr.Discriminators, Discriminator{Label: d.Label, Match: d.Match})
	}
	if len(pr.Discriminators) == 0 {
		pr.ByType = ByTypeLabel
	}
	return pr
}

// claims reports whether the resource claims the profile at the rule's version (or, with
// Through, at a version no later than Through).
func (pr PoolRule) claims(r map[string]any, url string) bool {
	if pr.Version != "" || pr.Through == "" {
		return Claims(r, url, pr.Version)
	}
	base, _, _ := strings.Cut(url, "|")
	meta, _ := r["meta"].(map[string]any)
	ps, _ := meta["profile"].([]any)
	for _, p := range ps {
		s, _ := p.(string)
		u, v, hasV := strings.Cut(s, "|")
		if u == base && (!hasV || CompareVersions(v, pr.Through) <= 0) {
			return true
		}
	}
	return false
}

// CompareVersions orders two dotted versions (1.10.0 after 1.9.0) by their numeric parts; a part
// that is not a number compares as text.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y string
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		xn, errX := strconv.Atoi(x)
		yn, errY := strconv.Atoi(y)
		switch {
		case errX == nil && errY == nil:
			if c := cmp.Compare(xn, yn); c != 0 {
				return c
			}
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	return 0
}
