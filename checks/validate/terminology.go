package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/pacheck/pacheck/checks/issue"
)

// Terminology without a server: value sets are expanded locally from their compose (or stored
// expansion) using the code systems in the package set; systems that are large and external
// (SNOMED CT, LOINC, RxNorm...) or not present are "open": codes in them cannot be checked.

type membership int

const (
	memberNo membership = iota
	memberYes
	memberUnknown
)

// expansion is a locally computed value set content.
type expansion struct {
	codes   map[string]map[string]bool // system -> codes
	open    map[string]bool            // systems included but not enumerable here
	unknown string                     // why part of the value set could not be evaluated
}

type codeSystem struct {
	url      string
	content  string
	concepts map[string]*csConcept
	order    []string
}

type csConcept struct {
	code     string
	parents  []string
	children []string
	props    map[string][]string
}

type terminology struct {
	mu  sync.Mutex
	css sync.Map // *scope|url -> *codeSystem (nil when absent)
}

func newTerminology() *terminology { return &terminology{} }

// externalSystems are code systems no package ships in full: their codes are checked for syntax
// only. A system a package does ship (CDC Race & Ethnicity, urn:oid:2.16.840.1.113883.6.238, is a
// complete CodeSystem in US Core 3.1.1 and 4.0.0) must not be listed, or the value sets built on it
// (detailed-race: is-a 1000-9) are never expanded.
var externalSystems = map[string]string{
	"http://snomed.info/sct":                                   "SNOMED CT",
	"http://loinc.org":                                         "LOINC",
	"http://www.nlm.nih.gov/research/umls/rxnorm":              "RxNorm",
	"http://hl7.org/fhir/sid/icd-10-cm":                        "ICD-10-CM",
	"http://www.cms.gov/Medicare/Coding/ICD10":                 "ICD-10-PCS",
	"http://hl7.org/fhir/sid/icd-10":                           "ICD-10",
	"http://hl7.org/fhir/sid/icd-9-cm":                         "ICD-9-CM",
	"http://hl7.org/fhir/sid/ndc":                              "NDC",
	"http://www.ama-assn.org/go/cpt":                           "CPT",
	"https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "HCPCS",
	"http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets":  "HCPCS",
	"http://nucc.org/provider-taxonomy":                        "NUCC",
	"http://hl7.org/fhir/sid/cvx":                              "CVX",
	"http://unitsofmeasure.org":                                "UCUM",
	"urn:ietf:bcp:47":                                          "BCP-47",
	"urn:ietf:bcp:13":                                          "MIME types",
	"urn:iso:std:iso:3166":                                     "ISO 3166",
	"urn:iso:std:iso:4217":                                     "ISO 4217",
	"http://hl7.org/fhir/sid/us-npi":                           "NPI",
	"https://www.usps.com/":                                    "USPS",
	"http://www.ada.org/cdt":                                   "CDT",
	"https://www.nubc.org/CodeSystem/PatDischargeStatus":       "NUBC",
}

// codeSystem returns the compiled local code system (nil when not in the set).
func (s *scope) codeSystem(url string) *codeSystem {
	if v, ok := s.css.Load(url); ok {
		cs, _ := v.(*codeSystem)
		return cs
	}
	var cs *codeSystem
	if r, ok := s.ctx.ResolveType("CodeSystem", url); ok {
		var raw struct {
			URL     string           `json:"url"`
			Content string           `json:"content"`
			Concept []map[string]any `json:"concept"`
		}
		dec := json.NewDecoder(bytes.NewReader(r.Raw))
		dec.UseNumber()
		if dec.Decode(&raw) == nil {
			cs = &codeSystem{url: raw.URL, content: raw.Content, concepts: map[string]*csConcept{}}
			var walk func(list []map[string]any, parent string)
			walk = func(list []map[string]any, parent string) {
				for _, c := range list {
					code, _ := c["code"].(string)
					if code == "" {
						continue
					}
					cc := cs.concepts[code]
					if cc == nil {
						cc = &csConcept{code: code, props: map[string][]string{}}
						cs.concepts[code] = cc
						cs.order = append(cs.order, code)
					}
					if parent != "" {
						cc.parents = append(cc.parents, parent)
						cs.concepts[parent].children = append(cs.concepts[parent].children, code)
					}
					if ps, ok := c["property"].([]any); ok {
						for _, p := range ps {
							pm, _ := p.(map[string]any)
							pc, _ := pm["code"].(string)
							for k, v := range pm {
								if strings.HasPrefix(k, "value") {
									cc.props[pc] = append(cc.props[pc], fmt.Sprint(v))
								}
							}
						}
					}
					var kids []map[string]any
					if ks, ok := c["concept"].([]any); ok {
						for _, k := range ks {
							if km, ok := k.(map[string]any); ok {
								kids = append(kids, km)
							}
						}
					}
					walk(kids, code)
				}
			}
			walk(raw.Concept, "")
			// parent/child properties
			for code, cc := range cs.concepts {
				for _, p := range cc.props["parent"] {
					if pc := cs.concepts[p]; pc != nil {
						cc.parents = append(cc.parents, p)
						pc.children = append(pc.children, code)
					}
				}
			}
		}
	}
	if cs != nil {
		s.css.Store(url, cs) // misses are not cached: system URLs come from the input
	}
	return cs
}

func (cs *codeSystem) descendants(code string, self bool, out map[string]bool) {
	c := cs.concepts[code]
	if c == nil {
		return
	}
	if self {
		out[code] = true
	}
	var rec func(c *csConcept, depth int)
	rec = func(c *csConcept, depth int) {
		if depth > 64 {
			return
		}
		for _, k := range c.children {
			if !out[k] || k == code {
				out[k] = true
				if kc := cs.concepts[k]; kc != nil {
					rec(kc, depth+1)
				}
			}
		}
	}
	rec(c, 0)
	if !self {
		delete(out, code)
	}
}

// expand returns the local expansion of a value set (cached).
func (s *scope) expand(canonical string) *expansion {
	if v, ok := s.vs.Load(canonical); ok {
		return v.(*expansion)
	}
	e := s.expandDepth(canonical, 0)
	s.vs.Store(canonical, e)
	return e
}

type vsJSON struct {
	URL     string `json:"url"`
	Compose *struct {
		Include []vsInclude `json:"include"`
		Exclude []vsInclude `json:"exclude"`
	} `json:"compose"`
	Expansion *struct {
		Contains []vsContains `json:"contains"`
	} `json:"expansion"`
}

type vsInclude struct {
	System   string   `json:"system"`
	ValueSet []string `json:"valueSet"`
	Concept  []struct {
		Code string `json:"code"`
	} `json:"concept"`
	Filter []struct {
		Property string `json:"property"`
		Op       string `json:"op"`
		Value    string `json:"value"`
	} `json:"filter"`
}

type vsContains struct {
	System   string       `json:"system"`
	Code     string       `json:"code"`
	Contains []vsContains `json:"contains"`
}

func (s *scope) expandDepth(canonical string, depth int) *expansion {
	e := &expansion{codes: map[string]map[string]bool{}, open: map[string]bool{}}
	if depth > 10 {
		e.unknown = "value set imports nest too deeply"
		return e
	}
	r, ok := s.ctx.ResolveType("ValueSet", canonical)
	if !ok && strings.Contains(canonical, "|") {
		r, ok = s.ctx.ResolveType("ValueSet", stripVersion(canonical))
	}
	if !ok {
		if pkg, ok := s.declaredMissing(canonical); ok {
			e.unknown = fmt.Sprintf("value set %s is in package %s, a declared dependency that is not loaded", canonical, pkg)
		} else {
			e.unknown = fmt.Sprintf("value set %s is not in the loaded packages (e.g. VSAC)", canonical)
		}
		return e
	}
	var vs vsJSON
	if err := json.Unmarshal(r.Raw, &vs); err != nil {
		e.unknown = fmt.Sprintf("value set %s cannot be read", canonical)
		return e
	}
	add := func(sys, code string) {
		m := e.codes[sys]
		if m == nil {
			m = map[string]bool{}
			e.codes[sys] = m
		}
		m[code] = true
	}
	if vs.Compose == nil || len(vs.Compose.Include) == 0 {
		if vs.Expansion != nil {
			var rec func([]vsContains)
			rec = func(cs []vsContains) {
				for _, c := range cs {
					if c.Code != "" {
						add(c.System, c.Code)
					}
					rec(c.Contains)
				}
			}
			rec(vs.Expansion.Contains)
			return e
		}
		e.unknown = fmt.Sprintf("value set %s has neither compose nor expansion", canonical)
		return e
	}
	for _, inc := range vs.Compose.Include {
		for _, imp := range inc.ValueSet {
			sub := s.expandDepth(imp, depth+1)
			if sub.unknown != "" && e.unknown == "" {
				e.unknown = sub.unknown
			}
			for sys, codes := range sub.codes {
				if inc.System != "" && sys != inc.System {
					continue
				}
				for c := range codes {
					add(sys, c)
				}
			}
			for sys := range sub.open {
				e.open[sys] = true
			}
		}
		if inc.System == "" {
			continue
		}
		if len(inc.Concept) > 0 {
			for _, c := range inc.Concept {
				add(inc.System, c.Code)
			}
			continue
		}
		cs := s.codeSystem(stripVersion(inc.System))
		if cs == nil || (cs.content != "complete" && cs.content != "") || externalSystems[inc.System] != "" {
			e.open[inc.System] = true
			continue
		}
		if len(inc.Filter) == 0 {
			for _, c := range cs.order {
				add(inc.System, c)
			}
			continue
		}
		var sel map[string]bool
		for _, f := range inc.Filter {
			got := map[string]bool{}
			switch {
			case (f.Op == "is-a" || f.Op == "descendent-of") && (f.Property == "concept" || f.Property == "code" || f.Property == ""):
				cs.descendants(f.Value, f.Op == "is-a", got)
			case f.Op == "=" || f.Op == "in":
				vals := []string{f.Value}
				if f.Op == "in" {
					vals = strings.Split(f.Value, ",")
				}
				for code, cc := range cs.concepts {
					for _, pv := range cc.props[f.Property] {
						for _, v := range vals {
							if strings.TrimSpace(v) == pv {
								got[code] = true
							}
						}
					}
				}
			default:
				got = nil
			}
			if got == nil {
				sel = nil
				e.open[inc.System] = true
				break
			}
			if sel == nil {
				sel = got
			} else {
				for k := range sel {
					if !got[k] {
						delete(sel, k)
					}
				}
			}
		}
		for c := range sel {
			add(inc.System, c)
		}
	}
	for _, ex := range vs.Compose.Exclude {
		if ex.System == "" {
			continue
		}
		for _, c := range ex.Concept {
			delete(e.codes[ex.System], c.Code)
		}
	}
	return e
}

func (e *expansion) contains(system, code string) membership {
	if system == "" {
		for _, codes := range e.codes {
			if codes[code] {
				return memberYes
			}
		}
		if len(e.open) > 0 || e.unknown != "" {
			return memberUnknown
		}
		return memberNo
	}
	if e.codes[system][code] {
		return memberYes
	}
	if e.open[system] {
		return memberUnknown
	}
	if e.unknown != "" {
		return memberUnknown
	}
	return memberNo
}

func (e *expansion) why(system string) string {
	if e.open[system] {
		if n := externalSystems[system]; n != "" {
			return n + " codes are checked for system only"
		}
		return "code system " + system + " is not available locally"
	}
	if e.unknown != "" {
		return e.unknown
	}
	return "the value set includes code systems that are not available locally"
}

// bound returns the expansion of an element's binding, cached on the binding per scope. Value
// sets and code systems resolve in the scope of the profile being walked (w.tsc).
func (w *walker) bound(b *Binding) *expansion {
	if c := b.cache.Load(); c != nil && c.sc == w.tsc {
		return c.exp
	}
	e := w.tsc.expand(b.ValueSet)
	b.cache.Store(&expCacheEntry{sc: w.tsc, exp: e})
	return e
}

// inValueSet checks a Coding / CodeableConcept / code node against a value set.
func (w *walker) inValueSet(vs string, n any) membership {
	e := w.tsc.expand(vs)
	switch x := n.(type) {
	case string:
		return e.contains("", x)
	case map[string]any:
		if cs, ok := x["coding"].([]any); ok {
			res := memberNo
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				sys, _ := cm["system"].(string)
				code, _ := cm["code"].(string)
				switch e.contains(sys, code) {
				case memberYes:
					return memberYes
				case memberUnknown:
					res = memberUnknown
				}
			}
			return res
		}
		sys, _ := x["system"].(string)
		code, _ := x["code"].(string)
		if code == "" {
			return memberUnknown
		}
		return e.contains(sys, code)
	}
	return memberUnknown
}

func (w *walker) bindingIssue(c *Elem, m membership, what, system, actual string) {
	w.bindingIssueTx(c, m, what, system, "", actual)
}

// bindingIssueTx reports a binding verdict; note is what the terminology server said (memberNo)
// or why it could not answer (memberUnknown), "" when it was not asked. actual is the finding's
// Actual: the system|code values found, "" where the value may be free text (a bound string).
func (w *walker) bindingIssueTx(c *Elem, m membership, what, system, note, actual string) {
	b := c.Binding
	sev := issue.Error
	if b.Strength == "extensible" {
		sev = issue.Warning
	}
	switch m {
	case memberNo:
		msg := fmt.Sprintf("%s is not in the %s value set %s (%s)", what, b.Strength, b.ValueSet, c.ID)
		if note != "" {
			msg += "; terminology server: " + note
		}
		w.addWant(sev, "binding", c, "", msg, b.ValueSet, actual)
	case memberUnknown:
		if note != "" && w.quiet == 0 {
			w.add(issue.Information, "binding", c, "", fmt.Sprintf("not checked: %s (value set %s)", note, b.ValueSet))
			return
		}
		if b.Strength == "required" && w.quiet == 0 {
			e := w.tsc.expand(b.ValueSet)
			w.add(issue.Information, "binding", c, "", fmt.Sprintf("not checked: no terminology server (%s; value set %s)", e.why(system), b.ValueSet))
		}
	}
}

// checkCodingSystem checks that a Coding's code exists in its code system when pacheck holds that
// code system completely (small HL7 and IG code systems); codes of other systems are not checked.
func (w *walker) checkCodingSystem(c *Elem, obj map[string]any) {
	sys, _ := obj["system"].(string)
	code, _ := obj["code"].(string)
	if sys == "" || code == "" {
		return
	}
	if externalSystems[sys] != "" {
		w.checkCodeSyntax(c, sys, code)
		return
	}
	cs := w.tsc.codeSystem(sys)
	if cs == nil || cs.content != "complete" || len(cs.concepts) == 0 {
		return
	}
	if _, ok := cs.concepts[code]; !ok {
		w.addWant(issue.Error, "code-unknown", c, ".code", fmt.Sprintf("code %q is not defined in code system %s", code, sys), sys, sys+"|"+code)
	}
}

// checkCode checks a code/string/uri (typ) against its binding.
func (w *walker) checkCode(c *Elem, code, typ string) {
	b := c.Binding
	if b.Strength != "required" && b.Strength != "extensible" {
		return
	}
	m := w.bound(b).contains("", code)
	note := ""
	if m == memberUnknown {
		m, note = w.txMember(b, "", code)
	}
	w.bindingIssueTx(c, m, "code", "", note, codeLike(typ, code))
}

// checkBinding checks Coding / CodeableConcept / Quantity values against their binding.
func (w *walker) checkBinding(c *Elem, obj map[string]any, typ string) {
	b := c.Binding
	if b.Strength != "required" && b.Strength != "extensible" {
		return
	}
	switch typ {
	case "CodeableConcept":
		cs, ok := obj["coding"].([]any)
		if !ok || len(cs) == 0 {
			return
		}
		e := w.bound(b)
		res := memberNo
		var sys string
		var undecided [][2]string // (system, code) the local expansion could not decide
		for _, x := range cs {
			cm, _ := x.(map[string]any)
			s, _ := cm["system"].(string)
			code, _ := cm["code"].(string)
			if code == "" {
				continue
			}
			switch e.contains(s, code) {
			case memberYes:
				return
			case memberUnknown:
				res, sys = memberUnknown, s
				undecided = append(undecided, [2]string{s, code})
			}
		}
		if res == memberUnknown && w.hasTx() {
			// Ask the server about each undecided coding: one in the value set settles it; the
			// CodeableConcept is out only when every coding is known to be out.
			res = memberNo
			note := ""
			for _, sc := range undecided {
				m, n := w.txMember(b, sc[0], sc[1])
				switch m {
				case memberYes:
					return
				case memberUnknown:
					res, sys = memberUnknown, sc[0]
				}
				if note == "" || m == memberUnknown {
					note = n
				}
			}
			what := "none of the codings"
			if len(cs) == 1 {
				what = "code " + undecided[0][0] + "#" + undecided[0][1]
			}
			w.bindingIssueTx(c, res, what, sys, note, codings(obj, typ))
			return
		}
		if res == memberNo {
			if len(cs) == 1 {
				cm, _ := cs[0].(map[string]any)
				s, _ := cm["system"].(string)
				code, _ := cm["code"].(string)
				if code == "" {
					return
				}
				w.bindingIssue(c, res, "code "+s+"#"+code, s, s+"|"+code)
				return
			}
			w.bindingIssue(c, res, "none of the codings", "", codings(obj, typ))
			return
		}
		w.bindingIssue(c, res, "", sys, "")
	case "Coding", "Quantity":
		code, _ := obj["code"].(string)
		if code == "" {
			return
		}
		s, _ := obj["system"].(string)
		m := w.bound(b).contains(s, code)
		note := ""
		if m == memberUnknown {
			m, note = w.txMember(b, s, code)
		}
		w.bindingIssueTx(c, m, "code "+s+"#"+code, s, note, s+"|"+code)
	}
}
