package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
)

// TestWriteJSONStreams: the streaming writer produces exactly json.Encoder's bytes, and knows
// every field of Results (a new field must be added to WriteJSON too).
func TestWriteJSONStreams(t *testing.T) {
	fields := []string{}
	rt := reflect.TypeOf(Results{})
	for i := range rt.NumField() {
		if !rt.Field(i).IsExported() {
			continue // not encoded (evidenceRedacted)
		}
		if tag := rt.Field(i).Tag.Get("json"); tag != "-" { // not in results.json (Seal)
			fields = append(fields, tag)
		}
	}
	want := []string{"schemaVersion", "run", "verdict", "counts", "specs", "requirements", "knownIssues,omitempty", "attestations,omitempty", "incomplete,omitempty", "rootCauses,omitempty"}
	if !reflect.DeepEqual(fields, want) {
		t.Fatalf("Results fields %v; WriteJSON writes %v: update it", fields, want)
	}
	for name, r := range map[string]*Results{
		"fixture": fixtureResults(t, t.TempDir()),
		"big":     bigResults(t, 30, 2000),
		"empty":   {SchemaVersion: SchemaVersion},
		"known":   {SchemaVersion: SchemaVersion, Specs: []Spec{}, KnownIssues: []KnownIssue{{Spec: "a/b", Reason: "<accepted> & tracked"}}},
	} {
		var got, exp bytes.Buffer
		if err := WriteJSON(&got, r); err != nil {
			t.Fatal(err)
		}
		if err := json.NewEncoder(&exp).Encode(r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), exp.Bytes()) {
			t.Errorf("%s: streamed results.json differs from json.Encoder's (%d vs %d bytes)", name, got.Len(), exp.Len())
		}
	}
}

// TestHTMLDataStreams: the data block index.html embeds, written spec by spec, is exactly
// json.Marshal's encoding of the same jsData.
func TestHTMLDataStreams(t *testing.T) {
	for name, r := range map[string]*Results{"fixture": nil, "big": bigResults(t, 40, 70<<10)} {
		dir := t.TempDir()
		if r == nil {
			r = fixtureResults(t, dir)
		}
		if err := WriteAll(dir, r, Options{}); err != nil {
			t.Fatal(err)
		}
		page, err := os.ReadFile(filepath.Join(dir, FileHTML))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?s)<script type="application/json" id="pacheck-data">(.*?)</script>`).FindSubmatch(page)
		if m == nil {
			t.Fatalf("%s: no data block", name)
		}
		var data jsData
		if err := json.Unmarshal(m[1], &data); err != nil {
			t.Fatalf("%s: data block is not JSON: %v", name, err)
		}
		again, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, m[1]) {
			t.Errorf("%s: data block (%d bytes) is not json.Marshal's encoding (%d bytes)", name, len(m[1]), len(again))
		}
		if len(data.Specs) != len(r.Specs) || bytes.Count(page, []byte("pacheck-data-")) != 0 {
			t.Errorf("%s: %d specs in the data block, want %d (or the marker survived)", name, len(data.Specs), len(r.Specs))
		}
	}
}
