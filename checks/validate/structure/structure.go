// Package structure is the first layer of the FHIR validator: JSON syntax and the FHIR JSON rules
// of R4 (unknown properties, JSON types, primitive formats, "_name" companions, empty values,
// choice-type names, duplicate keys, resourceType). It checks a resource against a JSON Schema it
// generates from the R4 core StructureDefinitions (validated with
// github.com/santhosh-tekuri/jsonschema/v5) plus a Go walker for the rules a schema cannot state
// or locate precisely. Profiles, slicing, terminology and invariants are later layers
// (checks/validate); they reuse the decoded value Validate returns.
//
// Which part owns which rule (each violation is reported once):
//
//	parser  json-syntax, json-duplicate-key, json-encoding, json-depth, json-size, not-a-resource
//	walker  resource-type, empty (incl. ele-1 "neither value nor children"), choice-type,
//	        element-sibling, type for integers written with a fraction or exponent,
//	        primitive-format for control characters in strings
//	schema  unknown-element, type (JSON type; array vs single value), primitive-format (regex, range)
//
// When walker and schema report the same location, the walker's finding is kept. With
// EngineWalker the walker checks the schema's rules itself (same findings, far faster).
package structure

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Default limits.
const (
	DefaultMaxBytes = 32 << 20 // 32 MiB of JSON decode to roughly 10x that in Go values
	DefaultMaxDepth = 256
)

// Engine chooses who checks the rules the schema owns.
type Engine int

const (
	// EngineSchema (default): the walker checks its rules and jsonschema/v5 validates the generated
	// schema for unknown-element, type and primitive-format.
	EngineSchema Engine = iota
	// EngineWalker: the walker checks those rules too and jsonschema/v5 is not run. It reports the
	// same findings (TestEnginesAgree) many times faster; see the benchmarks.
	EngineWalker
)

// Validator checks FHIR R4 JSON structure. It is safe for concurrent use. MaxBytes, MaxDepth and
// Engine may be changed before first use.
type Validator struct {
	MaxBytes int    // inputs longer than this get one json-size issue and are not decoded
	MaxDepth int    // JSON nesting limit
	Engine   Engine // EngineSchema (default) or EngineWalker

	core *core
}

// core is what is built once per R4 core package: the model (at New) and the compiled schema
// (at first use of EngineSchema: compiling takes most of the start-up time, and EngineWalker
// never needs it).
type core struct {
	m *model

	once sync.Once
	c    *compiled
	err  error
}

func (c *core) schema() (*compiled, error) {
	c.once.Do(func() { c.c, c.err = c.m.compile() })
	return c.c, c.err
}

var (
	cacheMu sync.Mutex
	cache   = map[*profiles.Package]*coreOnce{}
)

type coreOnce struct {
	once sync.Once
	c    *core
	err  error
}

// New returns a validator for the R4 core package of set (for example profiles.Embedded()). The
// model and compiled schema are built once per core package and shared by every Validator.
func New(set *profiles.Set) (*Validator, error) {
	if set == nil {
		return nil, fmt.Errorf("structure: no profile set given (use profiles.Embedded())")
	}
	p, ok := set.Package("hl7.fhir.r4.core#4.0.1")
	if !ok {
		if p, ok = set.Package("hl7.fhir.r4.core"); !ok {
			return nil, fmt.Errorf("structure: the profile set holds no FHIR R4 core package (hl7.fhir.r4.core#4.0.1); add it to validate structure")
		}
	}
	cacheMu.Lock()
	co := cache[p]
	if co == nil {
		co = &coreOnce{}
		cache[p] = co
	}
	cacheMu.Unlock()
	co.once.Do(func() {
		m, err := buildModel(profiles.NewSet(p))
		if err != nil {
			co.err = err
			return
		}
		co.c = &core{m: m}
	})
	if co.err != nil {
		return nil, co.err
	}
	return &Validator{MaxBytes: DefaultMaxBytes, MaxDepth: DefaultMaxDepth, core: co.c}, nil
}

// Prepare compiles the JSON schema now rather than at the first validation (EngineSchema); it
// returns the compilation error, if any.
func (v *Validator) Prepare() error {
	if v.Engine == EngineWalker {
		return nil
	}
	_, err := v.core.schema()
	return err
}

// ResourceTypes lists the concrete R4 resource types, sorted.
func (v *Validator) ResourceTypes() []string { return append([]string(nil), v.core.m.resources...) }

// Schema returns the generated JSON Schema (draft-07) as indented JSON.
func (v *Validator) Schema() ([]byte, error) { return v.core.m.schemaJSON(false) }

func (v *Validator) limits() (maxBytes, maxDepth int) {
	maxBytes, maxDepth = v.MaxBytes, v.MaxDepth
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	return
}

// Validate decodes raw JSON and checks it as a FHIR R4 resource (Bundles and contained resources
// included). root is the decoded value (map[string]any, []any, json.Number, string, bool, nil, as
// encoding/json with UseNumber gives), nil when raw is not JSON or too large.
func (v *Validator) Validate(raw []byte) (root any, issues issue.List) {
	maxBytes, maxDepth := v.limits()
	if len(raw) > maxBytes {
		return nil, issue.List{{Severity: issue.Error, Rule: RuleSize,
			Message: fmt.Sprintf("input is %d bytes, over the %d-byte limit of the structural validator; not decoded (raise Validator.MaxBytes to accept it)", len(raw), maxBytes)}}
	}
	root, found, serr := parseJSONKeys(raw, maxDepth, v.core.m.keys)
	rootName := rootNameOf(root, "")
	for _, f := range found {
		issues = append(issues, issue.Issue{Severity: issue.Error, Rule: f.rule, Path: fhirPath(rootName, f.ptr), Message: f.message, Diagnostics: f.diag})
	}
	if serr != nil {
		line, col := lineCol(raw, serr.offset)
		rule := RuleSyntax
		if serr.depth {
			rule = RuleDepth
		}
		issues = append(issues, issue.Issue{Severity: issue.Error, Rule: rule,
			Message:     fmt.Sprintf("invalid JSON at byte offset %d (line %d, column %d): %s", serr.offset, line, col, serr.msg),
			Diagnostics: "near " + strconv.Quote(snippet(raw, serr.offset))})
		return nil, issues
	}
	issues = append(issues, v.check(root, "", maxDepth)...)
	if obj, ok := root.(map[string]any); ok && len(found) > 0 {
		v.core.m.annotate(obj, issues)
		sortIssues(issues)
	}
	return root, issues
}

// ValidateReader reads at most MaxBytes+1 bytes from r and validates them: a larger input gets the
// json-size issue without being read further or decoded. err is only for read errors.
func (v *Validator) ValidateReader(r io.Reader) (root any, issues issue.List, err error) {
	maxBytes, _ := v.limits()
	raw, err := io.ReadAll(io.LimitReader(r, int64(maxBytes)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("structure: reading the resource: %w", err)
	}
	if len(raw) > maxBytes {
		return nil, issue.List{{Severity: issue.Error, Rule: RuleSize,
			Message: fmt.Sprintf("input is over the %d-byte limit of the structural validator; not decoded (raise Validator.MaxBytes to accept it)", maxBytes)}}, nil
	}
	root, issues = v.Validate(raw)
	return root, issues, nil
}

// ValidateValue checks an already decoded value (encoding/json with UseNumber shapes) as a FHIR R4
// resource; resourceType, when not empty, is the type it must be.
func (v *Validator) ValidateValue(val any, resourceType string) issue.List {
	_, maxDepth := v.limits()
	if !depthWithin(val, maxDepth) {
		return issue.List{{Severity: issue.Error, Rule: RuleDepth, Message: fmt.Sprintf("value nested deeper than %d levels (or cyclic)", maxDepth)}}
	}
	return v.check(val, resourceType, maxDepth)
}

func rootNameOf(root any, want string) string {
	if obj, ok := root.(map[string]any); ok {
		if rt, ok := obj["resourceType"].(string); ok && rt != "" {
			return rt
		}
	}
	return want
}

func (v *Validator) check(root any, want string, maxDepth int) issue.List {
	m := v.core.m
	obj, ok := root.(map[string]any)
	if !ok {
		return issue.List{{Severity: issue.Error, Rule: RuleNotResource,
			Message: fmt.Sprintf("a FHIR resource is a JSON object; found %s", jsonTypeName(root))}}
	}
	w := &walker{m: m, limit: maxDepth, full: v.Engine == EngineWalker}
	w.resource(obj, want)
	issues := w.merged()
	if w.full {
		m.annotate(obj, issues)
		sortIssues(issues)
		return issues
	}
	comp, err := v.core.schema()
	if err != nil {
		issues = append(issues, issue.Issue{Severity: issue.Error, Rule: "schema",
			Message: "structural JSON schema unavailable (tool error): " + err.Error()})
		sortIssues(issues)
		return issues
	}
	rt, _ := obj["resourceType"].(string)
	sch := comp.byType[rt]
	if sch != nil && (want == "" || want == rt) {
		if err := safeValidate(sch, obj); err != nil {
			seen := make(map[string]bool, len(issues))
			for _, is := range issues {
				seen[is.Path] = true
			}
			for _, f := range m.schemaFindings(err, obj, rt) {
				if seen[f.path] {
					continue
				}
				seen[f.path] = true
				issues = append(issues, issue.Issue{Severity: issue.Error, Rule: f.rule, Path: f.path, Message: f.message, Diagnostics: f.diag})
			}
		}
	}
	m.annotate(obj, issues)
	sortIssues(issues)
	return issues
}

// safeValidate runs jsonschema/v5, turning its panics (it panics on a malformed json.Number
// handed to ValidateValue, for one) into an error.
func safeValidate(sch *jsonschema.Schema, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("jsonschema/v5 failed on this value (%v); is it decoded JSON (UseNumber shapes)?", r)
		}
	}()
	return sch.Validate(v)
}

func sortIssues(l issue.List) {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Path != l[j].Path {
			return l[i].Path < l[j].Path
		}
		return l[i].Rule < l[j].Rule
	})
}

// snippet is up to 30 bytes either side of off (Diagnostics only: it may quote data).
func snippet(raw []byte, off int) string {
	lo, hi := max(off-30, 0), min(off+30, len(raw))
	if lo > hi {
		lo = hi
	}
	return string(raw[lo:hi])
}

// depthWithin reports whether v nests at most limit levels (a cyclic value never does).
func depthWithin(v any, limit int) bool {
	if limit < 0 {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			if !depthWithin(c, limit-1) {
				return false
			}
		}
	case []any:
		for _, c := range x {
			if !depthWithin(c, limit-1) {
				return false
			}
		}
	}
	return true
}
