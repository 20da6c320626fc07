package profiles

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Preset is a named run configuration: which suites and which IG versions a run tests.
type Preset struct {
	Name        string              `yaml:"name" json:"name"`
	Description string              `yaml:"description" json:"description"`
	Suites      []string            `yaml:"suites" json:"suites"`
	IGs         map[string][]string `yaml:"igs" json:"igs"`
	LabelFilter string              `yaml:"label_filter,omitempty" json:"labelFilter,omitempty"`
	Auth        string              `yaml:"auth,omitempty" json:"auth,omitempty"` // forced auth mode (public: none)
}

//go:embed presets/*.yaml
var presetFS embed.FS

// Presets returns the embedded presets sorted by name.
func Presets() ([]Preset, error) {
	names, err := fs.Glob(presetFS, "presets/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []Preset
	for _, n := range names {
		b, err := presetFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var p Preset
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("preset %s: %w", n, err)
		}
		if p.Name != strings.TrimSuffix(path.Base(n), ".yaml") {
			return nil, fmt.Errorf("preset %s: name %q does not match its file", n, p.Name)
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// LookupPreset returns the named preset or an error listing the known ones.
func LookupPreset(name string) (Preset, error) {
	ps, err := Presets()
	if err != nil {
		return Preset{}, err
	}
	var names []string
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Preset{}, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(names, ", "))
}
