package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/profiles/registry/registrytest"
)

func TestInstallWithDependencies(t *testing.T) {
	reg := registrytest.New(t, "hl7.fhir.us.carin-bb-2.0.0.tgz", "hl7.fhir.us.core-3.1.1.tgz", "hl7.fhir.r4.core-4.0.1.tgz")
	cache := t.TempDir()
	c := &Client{Registry: reg.URL, Cache: cache}
	res, err := c.Install(context.Background(), "hl7.fhir.us.carin-bb#2.0.0")
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	status := map[string]string{}
	for _, r := range res {
		status[r.Ref] = r.Status
		if r.Status == "failed" && !strings.Contains(r.Err.Error(), "HTTP 404") {
			t.Errorf("%s failed with %v; want only the registry's 404 for packages it lacks", r.Ref, r.Err)
		}
	}
	for _, ref := range []string{"hl7.fhir.us.carin-bb#2.0.0", "hl7.fhir.us.core#3.1.1", "hl7.fhir.r4.core#4.0.1"} {
		if status[ref] != "installed" {
			t.Errorf("%s: %q, want installed (results %v)", ref, status[ref], status)
		}
	}
	// CARIN BB 2.0.0 depends on hl7.terminology.r4#5.0.0 and us.nlm.vsac#0.7.0, which this
	// registry does not have: reported as failed dependencies, not a failed install.
	if status["hl7.terminology.r4#5.0.0"] != "failed" || status["us.nlm.vsac#0.7.0"] != "failed" {
		t.Errorf("missing dependencies: %v", status)
	}
	// profiles.Load finds the installed package by id#version in the cache.
	t.Setenv("FHIR_PACKAGE_CACHE", cache)
	p, err := profiles.Load("hl7.fhir.us.carin-bb#2.0.0", profiles.LoadOptions{})
	if err != nil {
		t.Fatalf("Load from the cache: %v", err)
	}
	if len(p.Resources) < 50 {
		t.Errorf("the installed package has %d resources", len(p.Resources))
	}
	got, err := Installed(cache)
	if err != nil || strings.Join(got, " ") != "hl7.fhir.r4.core#4.0.1 hl7.fhir.us.carin-bb#2.0.0 hl7.fhir.us.core#3.1.1" {
		t.Errorf("Installed: %v %v", got, err)
	}
	// A second install downloads nothing.
	before := reg.Hits("/hl7.fhir.r4.core/4.0.1")
	res, err = c.Install(context.Background(), "hl7.fhir.us.carin-bb#2.0.0")
	if err != nil || res[0].Status != "cached" || reg.Hits("/hl7.fhir.r4.core/4.0.1") != before {
		t.Errorf("second install: %+v %v (r4 core fetched %d times)", res, err, reg.Hits("/hl7.fhir.r4.core/4.0.1"))
	}
}

// A tarball whose SHA-1 does not match the registry's is refused with a clear error, and nothing
// is written to the cache.
func TestInstallRefusesCorruptedTarball(t *testing.T) {
	reg := registrytest.New(t, "hl7.fhir.us.core-3.1.1.tgz")
	reg.Tamper["hl7.fhir.us.core#3.1.1"] = true
	cache := t.TempDir()
	c := &Client{Registry: reg.URL, Cache: cache, NoDeps: true}
	_, err := c.Install(context.Background(), "hl7.fhir.us.core#3.1.1")
	if err == nil || !strings.Contains(err.Error(), "SHA-1") || !strings.Contains(err.Error(), "not installed") {
		t.Fatalf("err = %v, want a SHA-1 mismatch refusal", err)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 0 {
		t.Errorf("the cache holds %d entries after a refused install", len(entries))
	}
}

func TestInstallErrors(t *testing.T) {
	reg := registrytest.New(t, "hl7.fhir.us.core-3.1.1.tgz")
	// a registry whose listing names a tarball that is another package
	wrong := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/hl7.fhir.us.core" {
			json.NewEncoder(w).Encode(map[string]any{"versions": map[string]any{"9.9.9": map[string]any{
				"dist": map[string]string{"tarball": reg.URL + "/hl7.fhir.us.core/3.1.1"}}}})
			return
		}
		http.NotFound(w, req)
	}))
	defer wrong.Close()
	for _, tc := range []struct {
		name, registry, ref, want string
	}{
		{"not a reference", reg.URL, "hl7.fhir.us.core", "not a package reference"},
		{"unknown version", reg.URL, "hl7.fhir.us.core#9.0.0", "has no version 9.0.0 (it has 3.1.1)"},
		{"unknown package", reg.URL, "example.nothing#1.0.0", "HTTP 404"},
		{"tarball of another package", wrong.URL, "hl7.fhir.us.core#9.9.9", "is hl7.fhir.us.core#3.1.1, not the package asked for"},
		{"registry down", "http://127.0.0.1:1", "hl7.fhir.us.core#3.1.1", "connection refused"},
	} {
		cache := t.TempDir()
		c := &Client{Registry: tc.registry, Cache: cache, NoDeps: true}
		_, err := c.Install(context.Background(), tc.ref)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Errorf("%s: %d entries written to the cache", tc.name, len(entries))
		}
	}
}
