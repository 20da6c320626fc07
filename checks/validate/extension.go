package validate

import (
	"fmt"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// Extension rules beyond the extension's own StructureDefinition (which the walk applies like any
// type profile): where it may be used (StructureDefinition.context), its url, and how an extension
// whose definition is not loaded is reported.

// ExtContext is one StructureDefinition.context of an extension definition.
type ExtContext struct {
	Type       string `json:"type"` // element | extension | fhirpath
	Expression string `json:"expression"`
}

// exampleExtensionDomains are the hosts whose extensions need no definition: the reserved example
// domains (RFC 2606) and those the HL7 Java validator allows (acme.com, nema.org).
var exampleExtensionDomains = []string{"example.org", "example.com", "example.net", "acme.com", "acme.org", "nema.org"}

// unknownExtension reports an extension whose definition is not loaded (path pushed).
//
// FHIR lets anyone define extensions ("Applications should not reject resources merely because
// they contain extensions", R4 extensibility.html), so whether a missing definition is an error is a
// policy. With ValidateOptions.RejectUnknownExtensions (pacheck validate sets it) pacheck does what
// the HL7 Java validator CLI does by default: an error unless the url is in an example domain or in
// ValidateOptions.AllowedExtensionDomains ("any" allows every domain). Without it (the library
// default, which the server suites use) it is a warning: a server's own extension, whose definition
// pacheck does not hold, is not a conformance failure. A modifier extension that is not understood
// is always an error: a reader SHALL NOT ignore it (R4 extensibility.html#modifierExtension).
func (w *walker) unknownExtension(c *Elem, url string) {
	if !w.first || w.quiet > 0 {
		return
	}
	parent, _ := splitID(c.Path)
	nested := parent == "Extension" || strings.HasSuffix(parent, ".extension") || strings.HasSuffix(parent, ".modifierExtension")
	if !isAbsoluteURI(url) {
		if !nested {
			return // extension-url says it
		}
		if c.profile != nil && c.profile.URL != "http://hl7.org/fhir/StructureDefinition/Extension" {
			// a relative name is defined by the enclosing extension's definition or nowhere; a
			// closed slicing already reports it, an open one allows it (SMART oauth-uris is open
			// and servers add introspect and revoke), so a warning
			if c.Slicing == nil || c.Slicing.Rules != "closed" {
				w.add(issue.Warning, "extension-unknown", c, "", fmt.Sprintf("sub-extension %q is not defined by its complex extension (%s), whose slicing is open", clip(url), c.profile.URL))
			}
			return
		}
	}
	if c.Name == "modifierExtension" {
		w.add(issue.Error, "extension-unknown", c, "", fmt.Sprintf("modifier extension %s is not defined in the loaded packages; a modifier cannot be ignored", url))
		return
	}
	if w.extStrict && !w.extensionDomainAllowed(url) {
		w.add(issue.Error, "extension-unknown", c, "", fmt.Sprintf("extension %s is not defined in the loaded packages and its domain is not allowed (load its package with --package, or allow it with --allowed-extension-domain)", url))
		return
	}
	w.add(issue.Warning, "extension-unknown", c, "", fmt.Sprintf("extension %s is not defined in the loaded packages; its content was checked as a plain Extension only", url))
}

// extensionDomainAllowed: an example domain, or an allowed domain: "any", a URL prefix
// ("http://fhir.acme.org/ext/") or a host name matching the url's host or a parent of it.
func (w *walker) extensionDomainAllowed(url string) bool {
	host := urlHost(url)
	for _, d := range exampleExtensionDomains {
		if hostIn(host, d) {
			return true
		}
	}
	for _, d := range w.extDomains {
		switch {
		case d == "any":
			return true
		case strings.Contains(d, "://"):
			if strings.HasPrefix(url, d) {
				return true
			}
		case hostIn(host, strings.ToLower(strings.TrimSuffix(d, "/"))):
			return true
		}
	}
	return false
}

func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "]") {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}

func hostIn(host, domain string) bool {
	return domain != "" && (host == domain || strings.HasSuffix(host, "."+domain))
}

// checkExtensionURL: an extension's url identifies its StructureDefinition ("The definition SHALL
// be a URI for the Structure Definition defining the extension", R4 Extension.url), whose url is
// an absolute URI; only an extension inside a complex extension may use a relative name, the
// slice name its parent's definition gives it (path pushed).
func (w *walker) checkExtensionURL(c *Elem, obj map[string]any) {
	if !w.first || w.quiet > 0 {
		return
	}
	if parent, _ := splitID(c.Path); parent == "Extension" || strings.HasSuffix(parent, ".extension") || strings.HasSuffix(parent, ".modifierExtension") {
		return // a sub-extension of a complex extension
	}
	url, ok := obj["url"].(string)
	if !ok || url == "" || isAbsoluteURI(url) {
		return // a missing url is a cardinality error already
	}
	w.add(issue.Error, "extension-url", c, ".url", fmt.Sprintf("extension url %q must be an absolute URI (the canonical URL of the extension's StructureDefinition)", clip(url)))
}

// isAbsoluteURI: scheme ":" something (RFC 3986 absolute-URI).
func isAbsoluteURI(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 1 || i == len(s)-1 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		alpha := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if j == 0 && !alpha {
			return false
		}
		if !alpha && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// checkExtensionContext checks that extension definition p may be used where it is: on the element
// holding it (the path pushed ends with .extension[i] or .modifierExtension[i]). Its context
// "Identifies the types of resource or data type elements to which the extension can be applied"
// (R4 StructureDefinition.context); a use elsewhere is an error, as in the HL7 Java validator.
// Matching is lenient where pacheck cannot tell (an extension inside another extension, a context
// path inside a data type): only a use that no context can allow is reported. FHIRPath contexts
// are not evaluated and say so.
//
// A profile may itself place an extension outside its context (PDex 2.0.0 pdex-priorauthorization
// slices ExplanationOfBenefit.adjudication.extension with reviewAction, whose context is
// ExplanationOfBenefit.item.adjudication). An instance that follows its profile there is reported
// with a warning that names the profile, not an error: the inconsistency is the profile's
// (bySlice: the extension was reached through a profile's slice or type profile). The profile
// may be another of the resource's profiles than the one whose pass reports: later passes record
// the places their slices sanction, and sanctionExtensionContexts downgrades those errors.
func (w *walker) checkExtensionContext(c *Elem, p *Profile, bySlice bool) {
	if w.quiet > 0 || len(p.Contexts) == 0 || p.Type != "Extension" || (!w.first && !bySlice) {
		return
	}
	inst := containerPath(string(w.path))
	if inst == "" {
		return
	}
	var types []string
	defPath, _ := splitID(c.Path)
	parentID, _ := splitID(c.ID)
	if parentID == "" {
		return
	}
	if !strings.Contains(parentID, ".") {
		types = append(types, parentID) // a type's root: Patient, HumanName, date, Extension
		if w.isResourceType(parentID) {
			types = append(types, "Resource", "DomainResource")
		}
	} else if c.profile != nil {
		if pe := c.profile.byID[parentID]; pe != nil {
			for _, t := range pe.Types {
				types = append(types, t.Code)
			}
		}
		if len(types) == 0 {
			types = append(types, "BackboneElement")
		}
	}
	if extContextAllows(p, inst, defPath, types) {
		return
	}
	// Contexts change between versions of one extension (capabilitystatement-expectation: R4
	// core 4.0.1 lists 8 elements, hl7.fhir.uv.extensions.r4 5.2.0 adds rest.resource.extension
	// and more): a use the highest loaded version allows is not an error.
	newer := false
	if gs, err := w.v.scope(""); err == nil {
		if q, err := gs.profile(p.URL); err == nil && q != p {
			if extContextAllows(q, inst, defPath, types) {
				return
			}
			newer = true
		}
	}
	fhirpathOnly := false
	for _, x := range p.Contexts {
		if x.Type == "fhirpath" {
			fhirpathOnly = true
		}
	}
	if fhirpathOnly {
		w.add(issue.Information, "extension-context", c, "", fmt.Sprintf("the FHIRPath context of extension %s was not evaluated", p.URL))
		return
	}
	w.contextMismatch(c, p, inst, bySlice, !newer && p.pkg != nil && p.pkg.ID == "hl7.fhir.r4.core")
}

// extContextAllows reports whether one of p's contexts allows a use on the holder (instance path
// inst, definition path defPath, holder types); an unknown context type allows it (cannot tell).
func extContextAllows(p *Profile, inst, defPath string, types []string) bool {
	for _, x := range p.Contexts {
		switch x.Type {
		case "element":
			// the holder's path in the instance or in its definition (Questionnaire.item.item is
			// Questionnaire.item by contentReference)
			if contextAllows(x.Expression, inst, types) || contextAllows(x.Expression, defPath, types) {
				return true
			}
		case "extension":
			if containsStr(types, "Extension") {
				return true // used inside an extension: which one is not tracked, so allow it
			}
		case "fhirpath":
		default:
			return true // an unknown context type: cannot tell
		}
	}
	return false
}

// contextMismatch reports a use outside the extension's contexts (see checkExtensionContext).
//
// coreOnly: the only definition loaded is R4 core's. HL7 moved the core extensions to
// hl7.fhir.uv.extensions and widened many contexts there (capabilitystatement-expectation is
// allowed on rest.resource.extension, as US Core's own CapabilityStatements use it), and the HL7
// Java validator judges R4 content with that package loaded; without it pacheck cannot tell, so a
// warning.
func (w *walker) contextMismatch(c *Elem, p *Profile, inst string, bySlice, coreOnly bool) {
	var where []string
	for _, x := range p.Contexts {
		where = append(where, x.Expression)
	}
	if !bySlice && profilePlaces(c, p.URL) {
		bySlice = true // the walked profile slices this element for the extension elsewhere
	}
	if !w.first {
		if c.profile != nil {
			if w.ctxSanctioned == nil {
				w.ctxSanctioned = map[string]string{}
			}
			w.ctxSanctioned[string(w.path)] = c.profile.URL
		}
		return
	}
	if bySlice && c.profile != nil {
		w.add(issue.Warning, "extension-context", c, "", fmt.Sprintf("extension %s is used on %s as profile %s places it, but its context allows only: %s", p.URL, inst, c.profile.URL, strings.Join(where, ", ")))
		return
	}
	if coreOnly {
		w.add(issue.Warning, "extension-context", c, "", fmt.Sprintf("extension %s is not allowed on %s by its R4 core definition (context: %s); later versions (hl7.fhir.uv.extensions, not loaded) may allow it", p.URL, inst, strings.Join(where, ", ")))
		return
	}
	w.add(issue.Error, "extension-context", c, "", fmt.Sprintf("extension %s is not allowed on %s (its context allows: %s)", p.URL, inst, strings.Join(where, ", ")))
}

// contextAllows matches an element context expression against the holder's path and types.
func contextAllows(expr, inst string, types []string) bool {
	switch expr {
	case "Element", "Base", inst:
		return true
	case "BackboneElement":
		if strings.Contains(inst, ".") {
			return true
		}
	}
	if containsStr(types, expr) {
		return true
	}
	if base, ok := strings.CutSuffix(expr, "[x]"); ok && strings.HasPrefix(inst, base) && len(inst) > len(base) {
		if c := inst[len(base)]; c >= 'A' && c <= 'Z' && !strings.Contains(inst[len(base):], ".") {
			return true
		}
	}
	// a path inside a data type (Address.line): the holder's path ends with the same element name
	// and pacheck does not track the data type of every step; allow it
	if i := strings.IndexByte(expr, '.'); i > 0 {
		if head := expr[:i]; head[0] >= 'A' && head[0] <= 'Z' && !strings.HasPrefix(inst, head+".") && inst != head {
			_, last := splitID(expr)
			_, instLast := splitID(inst)
			if strings.TrimSuffix(last, "[x]") == instLast || (strings.HasSuffix(last, "[x]") && strings.HasPrefix(instLast, strings.TrimSuffix(last, "[x]"))) {
				return true
			}
		}
	}
	return false
}

// containerPath turns the instance path of an extension ("Bundle.entry[0].resource.ofType(Patient)
// .name[0].extension[1]") into the element path of its holder within its resource ("Patient.name").
func containerPath(p string) string {
	i := strings.LastIndex(p, ".extension")
	if j := strings.LastIndex(p, ".modifierExtension"); j > i {
		i = j
	}
	if i < 0 {
		return ""
	}
	p = p[:i]
	if k := strings.LastIndex(p, ".ofType("); k >= 0 {
		rest := p[k+len(".ofType("):]
		e := strings.IndexByte(rest, ')')
		if e < 0 {
			return ""
		}
		p = rest[:e] + rest[e+1:]
	}
	if !strings.Contains(p, "[") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '[' {
			for i < len(p) && p[i] != ']' {
				i++
			}
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// sanctionExtensionContexts downgrades extension-context errors at places one of the resource's
// profiles puts the extension itself (see checkExtensionContext).
func (w *walker) sanctionExtensionContexts() {
	if len(w.ctxSanctioned) == 0 {
		return
	}
	for i := range w.issues {
		is := &w.issues[i]
		if prof, ok := w.ctxSanctioned[is.Path]; ok && is.Rule == "extension-context" && is.Severity == issue.Error {
			is.Severity = issue.Warning
			is.Message += "; profile " + prof + " places it there"
		}
	}
}

// profilePlaces reports whether c's profile gives the element path of c (an extension element) a
// slice for extension url, in any of its slices of the enclosing elements: a value can reach the
// unsliced element when an enclosing slice's snapshot leaves the extension slice out.
func profilePlaces(c *Elem, url string) bool {
	if c.profile == nil {
		return false
	}
	for _, e := range c.profile.byID {
		if e.Path != c.Path || e.SliceName == "" {
			continue
		}
		for _, t := range e.Types {
			for _, pr := range t.Profiles {
				if stripVersion(pr) == url {
					return true
				}
			}
		}
	}
	return false
}
