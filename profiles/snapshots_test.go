package profiles

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePkg writes an unpacked package holding the given resources and loads it.
func writePkg(t *testing.T, name string, deps map[string]string, resources ...string) *Package {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "package")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	man, _ := json.Marshal(map[string]any{"name": name, "version": "1.0.0", "dependencies": deps})
	if err := os.WriteFile(filepath.Join(dir, "package.json"), man, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, r := range resources {
		if err := os.WriteFile(filepath.Join(dir, "r"+string(rune('a'+i))+".json"), []byte(r), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := LoadDir(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A tiny base type with a snapshot, and profiles of it with only a differential.
const (
	baseSD = `{"resourceType":"StructureDefinition","url":"http://example.org/SD/Thing","name":"Thing",
		"kind":"resource","type":"Thing","derivation":"specialization","snapshot":{"element":[
		{"id":"Thing","path":"Thing","min":0,"max":"*"},
		{"id":"Thing.code","path":"Thing.code","min":0,"max":"1","type":[{"code":"string"}]}]}}`
	diffSD = `{"resourceType":"StructureDefinition","url":"http://example.org/SD/thing-profile","name":"ThingProfile",
		"kind":"resource","type":"Thing","derivation":"constraint","baseDefinition":"http://example.org/SD/Thing",
		"differential":{"element":[{"id":"Thing.code","path":"Thing.code","min":1}]}}`
	badSD = `{"resourceType":"StructureDefinition","url":"http://example.org/SD/bad-profile","name":"Bad",
		"kind":"resource","type":"Thing","derivation":"constraint","baseDefinition":"http://example.org/SD/Thing",
		"differential":{"element":[{"id":"Thing.nothing","path":"Thing.nothing","min":1}]}}`
)

func TestSetGeneratesMissingSnapshots(t *testing.T) {
	// the profile's package comes first: its base arrives with the second package
	prof := writePkg(t, "example.profiles", map[string]string{"example.base": "1.0.0"}, diffSD, badSD)
	base := writePkg(t, "example.base", nil, baseSD)
	set := NewSet(prof)
	ctx, err := set.Context(prof.Ref())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := ctx.ResolveType("StructureDefinition", "http://example.org/SD/thing-profile")
	if r.SnapshotGenerated || r.SnapshotErr == nil || !strings.Contains(r.SnapshotErr.Error(), "unknown StructureDefinition http://example.org/SD/Thing") {
		t.Fatalf("without its base: generated %v, err %v", r.SnapshotGenerated, r.SnapshotErr)
	}
	set.Add(base)
	if !r.SnapshotGenerated || r.SnapshotErr != nil {
		t.Fatalf("with its base: generated %v, err %v", r.SnapshotGenerated, r.SnapshotErr)
	}
	var sd struct {
		Snapshot struct {
			Element []struct {
				ID  string `json:"id"`
				Min int    `json:"min"`
			} `json:"element"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal(r.Raw, &sd); err != nil {
		t.Fatal(err)
	}
	if len(sd.Snapshot.Element) != 2 || sd.Snapshot.Element[1].ID != "Thing.code" || sd.Snapshot.Element[1].Min != 1 {
		t.Fatalf("generated snapshot %+v", sd.Snapshot.Element)
	}
	bad, _ := ctx.ResolveType("StructureDefinition", "http://example.org/SD/bad-profile")
	if bad.SnapshotErr == nil || bad.SnapshotErr.Error() != "generating it from the differential failed at element Thing.nothing: no element nothing under Thing" {
		t.Fatalf("bad profile: %v", bad.SnapshotErr)
	}
}
