package profiles

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// requirementFiles holds the requirements catalogue: one YAML list per area
// (requirements/<area>.yaml). Every *.yaml file in the folder is part of it.
//
//go:embed requirements/*.yaml requirements/rules/*.yaml
var requirementFiles embed.FS

// Requirement levels.
const (
	LevelShall  = "SHALL"
	LevelShould = "SHOULD"
	LevelMay    = "MAY"
)

// RequirementIDPattern is the shape of a requirement id: lowercase dot-separated words of
// [a-z0-9-], at least two words, no "/" (Ginkgo labels forbid it).
var RequirementIDPattern = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+$`)

// reqCFRPattern accepts "42 CFR 422.119", "42 CFR 422.119(b)(1)(iv)", "45 CFR 170.215(c)(2)".
var reqCFRPattern = regexp.MustCompile(`^(42|45) CFR [0-9]+\.[0-9]+(\([a-z0-9]+\))*$`)

// Requirement is one entry of the catalogue: a requirement pacheck tests (or documents as
// untestable), in our words, with its source and the regulation paragraphs it supports.
type Requirement struct {
	ID        string   `yaml:"id" json:"id"`
	Statement string   `yaml:"statement" json:"statement"`
	Level     string   `yaml:"level" json:"level"`
	IG        string   `yaml:"ig,omitempty" json:"ig,omitempty"`
	Versions  []string `yaml:"versions,omitempty" json:"versions,omitempty"`
	Section   string   `yaml:"section,omitempty" json:"section,omitempty"`
	CFR       []string `yaml:"cfr,omitempty" json:"cfr,omitempty"`
	// Note qualifies the entry, e.g. why a citation stops at the section and omits an
	// unconfirmed paragraph letter.
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
	// UntestedReason says why no spec can test the requirement on the wire (annual metrics,
	// organisational duties). Such requirements are listed as untested, with this reason.
	UntestedReason string `yaml:"untested_reason,omitempty" json:"untestedReason,omitempty"`
	// Attestation is what the payer attests for a requirement no spec can observe on the wire
	// (data back to 2016, one-business-day availability, member education): an entry in the
	// run's attestations file (profiles/attest) shows it as attested, distinct from pass.
	Attestation string `yaml:"attestation,omitempty" json:"attestation,omitempty"`

	// Area is the catalogue file's base name (smart, uscore, general, ...).
	Area string `yaml:"-" json:"area"`
	// Source is "<file>:<line>" of the entry.
	Source string `yaml:"-" json:"source"`
}

// reqKeys are the keys an entry may have; anything else is an error.
var reqKeys = map[string]bool{
	"id": true, "statement": true, "level": true, "ig": true, "versions": true, "section": true,
	"cfr": true, "note": true, "untested_reason": true, "attestation": true,
}

// Catalogue is the loaded set of requirements, in file then entry order.
type Catalogue struct {
	all  []*Requirement
	byID map[string]*Requirement
}

// Lookup returns the requirement with the id.
func (c *Catalogue) Lookup(id string) (Requirement, bool) {
	if c == nil {
		return Requirement{}, false
	}
	r, ok := c.byID[id]
	if !ok {
		return Requirement{}, false
	}
	return *r, true
}

// All returns every requirement, sorted by area file then file order.
func (c *Catalogue) All() []Requirement {
	if c == nil {
		return nil
	}
	out := make([]Requirement, len(c.all))
	for i, r := range c.all {
		out[i] = *r
	}
	return out
}

// Area returns the requirements of one area (the catalogue file's base name), in file order.
func (c *Catalogue) Area(area string) []Requirement {
	if c == nil {
		return nil
	}
	var out []Requirement
	for _, r := range c.all {
		if r.Area == area {
			out = append(out, *r)
		}
	}
	return out
}

// Areas returns the area names, sorted.
func (c *Catalogue) Areas() []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, r := range c.all {
		if !slices.Contains(out, r.Area) {
			out = append(out, r.Area)
		}
	}
	sort.Strings(out)
	return out
}

// Len returns the number of requirements.
func (c *Catalogue) Len() int {
	if c == nil {
		return 0
	}
	return len(c.all)
}

var (
	reqOnce sync.Once
	reqCat  *Catalogue
	reqErr  error
)

// Requirements returns the embedded catalogue (profiles/requirements/*.yaml). It is loaded once;
// the result is shared, so callers must not modify it (the accessors return copies).
func Requirements() (*Catalogue, error) {
	reqOnce.Do(func() {
		sub, err := fs.Sub(requirementFiles, "requirements")
		if err != nil {
			reqErr = fmt.Errorf("requirements catalogue: %w", err)
			return
		}
		reqCat, reqErr = LoadRequirements(sub, "profiles/requirements")
	})
	return reqCat, reqErr
}

// LoadRequirements reads every *.yaml file at the root of fsys as a catalogue area. prefix is
// prepended to file names in errors and in Requirement.Source (e.g. "profiles/requirements").
// Decoding is strict: unknown keys, duplicate keys or ids, bad levels, malformed ids or CFR
// citations are errors that name file:line.
func LoadRequirements(fsys fs.FS, prefix string) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("requirements catalogue: %w", err)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("requirements catalogue %s: no *.yaml file; add one list per area", prefix)
	}
	cat := &Catalogue{byID: map[string]*Requirement{}}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("requirements catalogue: read %s: %w", path.Join(prefix, name), err)
		}
		if err := cat.addFile(path.Join(prefix, name), strings.TrimSuffix(name, ".yaml"), data); err != nil {
			return nil, err
		}
	}
	return cat, nil
}

func (c *Catalogue) addFile(file, area string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if doc.Kind == 0 { // empty file
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return fmt.Errorf("%s:%d: expected one YAML document holding a list of requirements", file, doc.Line)
	}
	list := doc.Content[0]
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s:%d: expected a list of requirements (- id: ...), got %s", file, list.Line, reqKindName(list))
	}
	for _, item := range list.Content {
		at := fmt.Sprintf("%s:%d", file, item.Line)
		if item.Kind != yaml.MappingNode {
			return fmt.Errorf("%s: expected a mapping (id, statement, level, ...), got %s", at, reqKindName(item))
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k := item.Content[i]
			if !reqKeys[k.Value] {
				return fmt.Errorf("%s:%d: unknown key %q; allowed: id, statement, level, ig, versions, section, cfr, note, untested_reason, attestation", file, k.Line, k.Value)
			}
			if seen[k.Value] {
				return fmt.Errorf("%s:%d: key %q given twice", file, k.Line, k.Value)
			}
			seen[k.Value] = true
		}
		var r Requirement
		if err := item.Decode(&r); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		r.Area, r.Source = area, at
		if err := reqCheck(&r); err != nil {
			return fmt.Errorf("%s: requirement %q: %w", at, r.ID, err)
		}
		if prev, dup := c.byID[r.ID]; dup {
			return fmt.Errorf("%s: duplicate requirement id %q (first at %s); ids must be unique across all files", at, r.ID, prev.Source)
		}
		rp := &r
		c.byID[r.ID] = rp
		c.all = append(c.all, rp)
	}
	return nil
}

func reqCheck(r *Requirement) error {
	switch {
	case r.ID == "":
		return fmt.Errorf("missing id")
	case !RequirementIDPattern.MatchString(r.ID):
		return fmt.Errorf("id must match %s (lowercase dot-separated words, no '/')", RequirementIDPattern)
	case strings.TrimSpace(r.Statement) == "":
		return fmt.Errorf("missing statement")
	}
	switch r.Level {
	case LevelShall, LevelShould, LevelMay:
	case "":
		return fmt.Errorf("missing level (SHALL, SHOULD or MAY)")
	default:
		return fmt.Errorf("level %q is not SHALL, SHOULD or MAY", r.Level)
	}
	for _, c := range r.CFR {
		if !reqCFRPattern.MatchString(c) {
			return fmt.Errorf("cfr %q is not a citation like \"42 CFR 422.119(c)(1)\"", c)
		}
	}
	if len(r.Versions) > 0 && r.IG == "" {
		return fmt.Errorf("versions given without ig")
	}
	return nil
}

func reqKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// RuleMapping is one entry of the rule -> requirement map (requirements/rules/*.yaml): the
// requirements an error issue with the rule code may break, most specific first.
type RuleMapping struct {
	// Rule is a rule code (issue.Issue.Rule) or a prefix ending in "*".
	Rule string `yaml:"rule" json:"rule"`
	// Requirements are the candidate ids; an issue breaks the first one its spec cites.
	Requirements []string `yaml:"requirements" json:"requirements"`
	// Why quotes the words of the requirement statement the rule checks.
	Why string `yaml:"why" json:"why"`
	// Source is "<file>:<line>" of the entry.
	Source string `yaml:"-" json:"source"`
}

// RuleMap attributes a failing issue to the one requirement it breaks, by its rule code and the
// requirements the failing spec cites.
type RuleMap struct {
	exact    map[string]*RuleMapping
	prefixes []*RuleMapping // longest prefix first
}

var ruleKeys = map[string]bool{"rule": true, "requirements": true, "why": true}

// rulePattern is a rule code ([a-z0-9] words joined by . - : _) or such a prefix ending in "*".
var rulePattern = regexp.MustCompile(`^([a-z0-9][a-z0-9.:_-]*)?\*?$`)

var (
	rulesOnce sync.Once
	rulesMap  *RuleMap
	rulesErr  error
)

// Rules returns the embedded rule -> requirement map (profiles/requirements/rules/*.yaml),
// checked against the embedded catalogue. It is loaded once and shared.
func Rules() (*RuleMap, error) {
	rulesOnce.Do(func() {
		cat, err := Requirements()
		if err != nil {
			rulesErr = err
			return
		}
		sub, err := fs.Sub(requirementFiles, "requirements/rules")
		if err != nil {
			rulesErr = fmt.Errorf("rule map: %w", err)
			return
		}
		rulesMap, rulesErr = LoadRules(sub, "profiles/requirements/rules", cat)
	})
	return rulesMap, rulesErr
}

// LoadRules reads every *.yaml file at the root of fsys as part of the rule map. Decoding is
// strict: unknown or duplicate keys, a rule given twice, a malformed rule, an entry without
// requirements or why, and a requirement id the catalogue cat does not hold are errors naming
// file:line.
func LoadRules(fsys fs.FS, prefix string, cat *Catalogue) (*RuleMap, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("rule map: %w", err)
	}
	sort.Strings(names)
	m := &RuleMap{exact: map[string]*RuleMapping{}}
	seen := map[string]string{}
	for _, name := range names {
		file := path.Join(prefix, name)
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("rule map: read %s: %w", file, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if doc.Kind == 0 {
			continue
		}
		list := doc.Content[0]
		if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
			continue
		}
		if list.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s:%d: expected a list of rule mappings (- rule: ...), got %s", file, list.Line, reqKindName(list))
		}
		for _, item := range list.Content {
			at := fmt.Sprintf("%s:%d", file, item.Line)
			if item.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%s: expected a mapping (rule, requirements, why), got %s", at, reqKindName(item))
			}
			keys := map[string]bool{}
			for i := 0; i+1 < len(item.Content); i += 2 {
				k := item.Content[i]
				if !ruleKeys[k.Value] {
					return nil, fmt.Errorf("%s:%d: unknown key %q; allowed: rule, requirements, why", file, k.Line, k.Value)
				}
				if keys[k.Value] {
					return nil, fmt.Errorf("%s:%d: key %q given twice", file, k.Line, k.Value)
				}
				keys[k.Value] = true
			}
			var r RuleMapping
			if err := item.Decode(&r); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			r.Source = at
			switch {
			case r.Rule == "":
				return nil, fmt.Errorf("%s: missing rule", at)
			case !rulePattern.MatchString(r.Rule):
				return nil, fmt.Errorf("%s: rule %q must be a lowercase rule code or a prefix ending in \"*\"", at, r.Rule)
			case len(r.Requirements) == 0:
				return nil, fmt.Errorf("%s: rule %q: no requirements; list the ids it breaks, most specific first", at, r.Rule)
			case strings.TrimSpace(r.Why) == "":
				return nil, fmt.Errorf("%s: rule %q: missing why (the words of the requirement statement it checks)", at, r.Rule)
			}
			if prev, dup := seen[r.Rule]; dup {
				return nil, fmt.Errorf("%s: rule %q given twice (first at %s)", at, r.Rule, prev)
			}
			seen[r.Rule] = at
			for i, id := range r.Requirements {
				if _, ok := cat.Lookup(id); !ok {
					return nil, fmt.Errorf("%s: rule %q: requirement %q is not in the catalogue (profiles/requirements/*.yaml)", at, r.Rule, id)
				}
				if slices.Contains(r.Requirements[:i], id) {
					return nil, fmt.Errorf("%s: rule %q: requirement %q listed twice", at, r.Rule, id)
				}
			}
			rp := &r
			if p, ok := strings.CutSuffix(r.Rule, "*"); ok {
				rp.Rule = p + "*"
				m.prefixes = append(m.prefixes, rp)
			} else {
				m.exact[r.Rule] = rp
			}
		}
	}
	sort.SliceStable(m.prefixes, func(i, j int) bool { return len(m.prefixes[i].Rule) > len(m.prefixes[j].Rule) })
	return m, nil
}

// Lookup returns the mapping that decides for the rule code: its exact entry, else the entry of
// the longest matching prefix.
func (m *RuleMap) Lookup(rule string) (RuleMapping, bool) {
	if m == nil {
		return RuleMapping{}, false
	}
	if r, ok := m.exact[rule]; ok {
		return *r, true
	}
	for _, r := range m.prefixes {
		if strings.HasPrefix(rule, strings.TrimSuffix(r.Rule, "*")) {
			return *r, true
		}
	}
	return RuleMapping{}, false
}

// All returns every mapping: exact rules sorted, then prefixes longest first.
func (m *RuleMap) All() []RuleMapping {
	if m == nil {
		return nil
	}
	var out []RuleMapping
	for _, r := range m.exact {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule < out[j].Rule })
	for _, r := range m.prefixes {
		out = append(out, *r)
	}
	return out
}

// Attribute returns the requirement an error issue with the rule breaks in a spec citing the
// requirement ids cited: the only one when the spec cites one, else the first candidate of the
// rule's mapping that the spec cites. ok is false when the rule names no requirement the spec
// cites (a bug in the spec or in the map).
func (m *RuleMap) Attribute(rule string, cited []string) (id string, ok bool) {
	if len(cited) == 1 {
		return cited[0], true
	}
	r, found := m.Lookup(rule)
	if !found {
		return "", false
	}
	for _, id := range r.Requirements {
		if slices.Contains(cited, id) {
			return id, true
		}
	}
	return "", false
}
