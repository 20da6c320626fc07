package official

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// Source names one requirement set in the shared folder.
type Source struct {
	Set   string `yaml:"set"`
	Title string `yaml:"title"`
	// File is the requirement list, relative to $PACHECK_SHARED/requirements.
	File string `yaml:"file"`
	// Server is the server actor's name in the Actors column (Server, Health Plan).
	Server string `yaml:"server"`
	// Coverage is Inferno's server coverage CSV for the set, if any (only to count its links).
	Coverage string `yaml:"coverage,omitempty"`
}

// Rule decides the rows it matches: every given condition must hold; the first matching rule wins.
type Rule struct {
	Name string `yaml:"name"`
	// Sets, URL and Text are regular expressions on the Req Set, URL and requirement text
	// (Text is case-insensitive); Levels lists conformance verbs.
	Sets   string   `yaml:"sets,omitempty"`
	URL    string   `yaml:"url,omitempty"`
	Text   string   `yaml:"text,omitempty"`
	Levels []string `yaml:"levels,omitempty"`

	Requirements []string `yaml:"requirements,omitempty"`
	Attestation  string   `yaml:"attestation,omitempty"`
	Explained    string   `yaml:"explained,omitempty"`

	sets, url, text *regexp.Regexp
}

// Override decides one official id, before any rule.
type Override struct {
	ID           string   `yaml:"id"` // full id, set@id
	Requirements []string `yaml:"requirements,omitempty"`
	Attestation  string   `yaml:"attestation,omitempty"`
	Explained    string   `yaml:"explained,omitempty"`
	Why          string   `yaml:"why,omitempty"` // our note on the decision (not emitted)
}

// Rules is rules.yaml.
type Rules struct {
	Sources   []Source   `yaml:"sources"`
	Overrides []Override `yaml:"overrides"`
	Rules     []Rule     `yaml:"rules"`
}

// EmbeddedRules returns the committed rules.
func EmbeddedRules() (*Rules, error) { return ParseRules(rulesYAML) }

// ParseRules decodes and compiles rules.
func ParseRules(data []byte) (*Rules, error) {
	var r Rules
	if err := decodeStrict(data, &r); err != nil {
		return nil, fmt.Errorf("official rules: %w", err)
	}
	for i := range r.Rules {
		x := &r.Rules[i]
		if n := decisions(x.Requirements, x.Attestation, x.Explained); n != 1 {
			return nil, fmt.Errorf("official rules: rule %q: give exactly one of requirements, attestation, explained (got %d)", x.Name, n)
		}
		var err error
		if x.sets, err = compile(x.Sets, ""); err == nil {
			if x.url, err = compile(x.URL, ""); err == nil {
				x.text, err = compile(x.Text, "(?is)")
			}
		}
		if err != nil {
			return nil, fmt.Errorf("official rules: rule %q: %w", x.Name, err)
		}
	}
	seen := map[string]bool{}
	for _, o := range r.Overrides {
		if n := decisions(o.Requirements, o.Attestation, o.Explained); n != 1 {
			return nil, fmt.Errorf("official rules: override %s: give exactly one of requirements, attestation, explained", o.ID)
		}
		if seen[o.ID] {
			return nil, fmt.Errorf("official rules: override %s given twice", o.ID)
		}
		seen[o.ID] = true
	}
	return &r, nil
}

func decisions(reqs []string, att, expl string) int {
	n := 0
	if len(reqs) > 0 {
		n++
	}
	if att != "" {
		n++
	}
	if expl != "" {
		n++
	}
	return n
}

func compile(expr, flags string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	return regexp.Compile(flags + expr)
}

func (x *Rule) matches(set string, row map[string]string) bool {
	if x.sets != nil && !x.sets.MatchString(set) {
		return false
	}
	if x.url != nil && !x.url.MatchString(row["URL"]) {
		return false
	}
	if x.text != nil && !x.text.MatchString(row["Requirement"]) {
		return false
	}
	if len(x.Levels) > 0 && !contains(x.Levels, row["Conformance"]) {
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ErrNoShared is returned when the shared requirements folder is absent.
var ErrNoShared = errors.New("shared requirements folder absent")

// Generate builds the mapping from the requirement CSVs under dir ($PACHECK_SHARED/requirements)
// with the rules: server-side, non-deprecated rows only, overrides first, then the first
// matching rule; a row nothing decides is kept, unmapped.
func Generate(dir string, rules *Rules) (*Mapping, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoShared, err)
	}
	over := map[string]Override{}
	for _, o := range rules.Overrides {
		over[o.ID] = o
	}
	used := map[string]bool{}
	m := &Mapping{Reasons: map[string]string{}}
	for _, src := range rules.Sources {
		rows, err := readCSV(filepath.Join(dir, src.File))
		if err != nil {
			return nil, err
		}
		set := Set{Set: src.Set, Title: src.Title}
		var linked map[string]bool
		if src.Coverage != "" {
			if linked, err = coverageLinks(filepath.Join(dir, src.Coverage), src.Set); err != nil {
				return nil, err
			}
		}
		for _, row := range rows {
			if row["Req Set"] != src.Set || row["Conformance"] == "DEPRECATED" || !serverRow(row["Actors"], src.Server) {
				continue
			}
			r := Row{ID: row["ID"], Level: row["Conformance"]}
			full := FullID(src.Set, r.ID)
			if o, ok := over[full]; ok {
				r.Requirements, r.Attestation, r.Explained, r.Rule = o.Requirements, o.Attestation, o.Explained, "override:"+full
				used[full] = true
			} else {
				for i := range rules.Rules {
					x := &rules.Rules[i]
					if x.matches(src.Set, row) {
						r.Requirements, r.Attestation, r.Explained, r.Rule = x.Requirements, x.Attestation, x.Explained, x.Name
						break
					}
				}
			}
			if r.Explained != "" {
				m.Reasons[r.Rule] = r.Explained
			}
			if linked[r.ID] {
				set.InfernoLinked++
			}
			set.Rows = append(set.Rows, r)
		}
		if len(set.Rows) == 0 {
			return nil, fmt.Errorf("official: %s: no server rows for %s (actor %q)", src.File, src.Set, src.Server)
		}
		m.Sets = append(m.Sets, set)
	}
	for _, o := range rules.Overrides {
		if !used[o.ID] {
			return nil, fmt.Errorf("official rules: override %s matches no server row", o.ID)
		}
	}
	return m, nil
}

// serverRow reports whether the Actors cell names the server actor, or names none (not client-only).
func serverRow(actors, server string) bool {
	any := false
	for _, a := range strings.FieldsFunc(actors, func(r rune) bool { return r == ',' || r == '/' }) {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		any = true
		if a == server {
			return true
		}
	}
	return !any
}

func readCSV(path string) ([]map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("official: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("official: %s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("official: %s: empty", path)
	}
	head := recs[0]
	var out []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, h := range head {
			if i < len(rec) {
				row[h] = rec[i]
			}
		}
		out = append(out, row)
	}
	for _, col := range []string{"Req Set", "ID", "Conformance", "Actors"} {
		if !contains(head, col) {
			return nil, fmt.Errorf("official: %s: no %q column", path, col)
		}
	}
	return out, nil
}

// coverageLinks returns the ids of the set's rows Inferno's coverage CSV links to a test.
func coverageLinks(path, set string) (map[string]bool, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range rows {
		if r["Req Set"] != set {
			continue
		}
		for k, v := range r {
			if strings.HasSuffix(k, "Short ID(s)") && strings.TrimSpace(v) != "" {
				out[r["ID"]] = true
			}
		}
	}
	return out, nil
}

// Marshal renders the mapping file, with its generated-code header.
func Marshal(m *Mapping) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Code generated by profiles/internal/officialgen from $PACHECK_SHARED/requirements and rules.yaml; DO NOT EDIT.\n")
	b.WriteString("# Official server-side requirement ids (set@id) -> our requirements, an attestation, or why untested.\n")
	var doc yaml.Node
	if err := doc.Encode(m); err != nil {
		return nil, fmt.Errorf("official mapping: %w", err)
	}
	flowRows(&doc)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("official mapping: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("official mapping: %w", err)
	}
	return b.Bytes(), nil
}

// flowRows writes each row on one line ({id: "51", level: SHALL, ...}), so the file stays
// readable and a changed decision is a one-line diff.
func flowRows(n *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i++ {
		if k := n.Content[i]; n.Kind == yaml.MappingNode && k.Value == "rows" && n.Content[i+1].Kind == yaml.SequenceNode {
			for _, row := range n.Content[i+1].Content {
				row.Style = yaml.FlowStyle
			}
		}
	}
	for _, c := range n.Content {
		flowRows(c)
	}
}
