// Package attest reads the payer's attestations file: signed statements for requirements no spec
// can observe on the wire (profiles.Requirement.Attestation). An attested requirement is shown as
// "attested", the payer's claim, never as pass; one without an entry is untested, naming the
// missing entry.
//
// The file is a YAML list:
//
//   - id: general.data-since-2016
//     who: Jane Roe, Director of Interoperability, Example Health Plan
//     when: 2026-11-30
//     evidence: https://compliance.example.com/patient-access/2016-backfill.pdf
//     statement: Claims and clinical data with dates of service from 2016-01-01 are available.
package attest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pacheck/pacheck/profiles"
)

// Entry is one attestation: who states what about a requirement, when, and where the evidence is.
type Entry struct {
	ID        string `yaml:"id" json:"id"`
	Who       string `yaml:"who" json:"who"`             // person and role
	When      string `yaml:"when" json:"when"`           // date signed, YYYY-MM-DD
	Evidence  string `yaml:"evidence" json:"evidence"`   // link to the evidence (optional)
	Statement string `yaml:"statement" json:"statement"` // the claim, in the payer's words
}

// maxFile bounds the file read: an attestations file is a few kilobytes.
const maxFile = 1 << 20

var keys = map[string]bool{"id": true, "who": true, "when": true, "evidence": true, "statement": true}

// Load reads and validates path against the catalogue: every id must be a requirement that takes
// an attestation, given once, with who, when (a date) and statement. An error is one line naming
// the file, the line and the field.
func Load(path string, cat *profiles.Catalogue) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("attestations: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("attestations: reading %s: %w", path, err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("attestations: %s is larger than %d bytes", path, maxFile)
	}
	return Parse(path, data, cat)
}

// Parse validates data as Load does; name is the file name used in errors.
func Parse(name string, data []byte, cat *profiles.Catalogue) ([]Entry, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file attests nothing
		}
		return nil, fmt.Errorf("%s: not YAML: %v", name, err)
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	list := root.Content[0]
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: want a list of attestations (- id: ..., who: ..., when: ..., evidence: ..., statement: ...)", name, list.Line)
	}
	var out []Entry
	seen := map[string]int{}
	for i, item := range list.Content {
		at := fmt.Sprintf("%s:%d", name, item.Line)
		if item.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: attestation %d is not a mapping of id, who, when, evidence, statement", at, i+1)
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k := item.Content[j]
			if !keys[k.Value] {
				return nil, fmt.Errorf("%s:%d: unknown field %q; allowed: id, who, when, evidence, statement", name, k.Line, k.Value)
			}
			if v := item.Content[j+1]; v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s:%d: field %q must be text", name, v.Line, k.Value)
			}
		}
		var e Entry
		if err := item.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s: %v", at, err)
		}
		e.ID, e.Who, e.When = strings.TrimSpace(e.ID), strings.TrimSpace(e.Who), strings.TrimSpace(e.When)
		e.Evidence, e.Statement = strings.TrimSpace(e.Evidence), strings.TrimSpace(e.Statement)
		if err := check(e, cat); err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		if prev, dup := seen[e.ID]; dup {
			return nil, fmt.Errorf("%s: %s is attested twice (first at line %d)", at, e.ID, prev)
		}
		seen[e.ID] = item.Line
		out = append(out, e)
	}
	return out, nil
}

func check(e Entry, cat *profiles.Catalogue) error {
	if e.ID == "" {
		return errors.New("id is missing (the requirement id attested)")
	}
	if cat != nil {
		r, ok := cat.Lookup(e.ID)
		if !ok {
			return fmt.Errorf("id %q: no such requirement (pacheck list --requirements lists them)", e.ID)
		}
		if r.Attestation == "" {
			return fmt.Errorf("id %q: this requirement is tested on the wire, not attested (pacheck list --requirements marks those that take one as attestable)", e.ID)
		}
	}
	switch {
	case e.Who == "":
		return fmt.Errorf("%s: who is missing (the person attesting, with their role)", e.ID)
	case e.When == "":
		return fmt.Errorf("%s: when is missing (the date signed, YYYY-MM-DD)", e.ID)
	case e.Statement == "":
		return fmt.Errorf("%s: statement is missing (what the payer attests)", e.ID)
	}
	if _, err := time.Parse(time.DateOnly, e.When); err != nil {
		return fmt.Errorf("%s: when %q is not a date YYYY-MM-DD", e.ID, e.When)
	}
	return nil
}

// Missing is the text for an attestable requirement without an entry: what to add, and where.
func Missing(r profiles.Requirement) string {
	return fmt.Sprintf("no attestation: add an entry for %s to the attestations file (config attestations, --attestations) with who, when, evidence and statement: %s",
		r.ID, strings.TrimSpace(r.Attestation))
}
