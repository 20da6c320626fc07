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
//go:embed requirements/*.yaml
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

	// Area is the catalogue file's base name (smart, uscore, general, ...).
	Area string `yaml:"-" json:"area"`
	// Source is "<file>:<line>" of the entry.
	Source string `yaml:"-" json:"source"`
}

// reqKeys are the keys an entry may have; anything else is an error.
var reqKeys = map[string]bool{
	"id": true, "statement": true, "level": true, "ig": true, "versions": true, "section": true,
	"cfr": true, "note": true, "untested_reason": true,
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
				return fmt.Errorf("%s:%d: unknown key %q; allowed: id, statement, level, ig, versions, section, cfr, note, untested_reason", file, k.Line, k.Value)
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
