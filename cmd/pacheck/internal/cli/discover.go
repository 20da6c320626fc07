package cli

import (
	"context"
	"fmt"
	"net/url"
	"regexp"

	"github.com/pacheck/pacheck/checks/fhirhttp"
)

// discoverPatient finds whose data a given token opens when the run names no patient: a SMART
// patient-level token reaches one Patient, so GET [base]/Patient returns exactly that member.
// Anything else (several patients, none, an error) names no patient, with the reason, and the
// data suites then skip saying that no patient id is configured.
func discoverPatient(ctx context.Context, c *fhirhttp.Client) (string, error) {
	resp, err := c.Search(ctx, "Patient", url.Values{})
	if err != nil {
		return "", fmt.Errorf("GET Patient with the token: %w", err)
	}
	if resp.Status != 200 || resp.ResourceType() != "Bundle" {
		return "", fmt.Errorf("GET Patient with the token: HTTP %d (%s), expected a searchset Bundle", resp.Status, resp.ResourceType())
	}
	var ids []string
	entries, _ := resp.Resource["entry"].([]any)
	for _, e := range entries {
		em, _ := e.(map[string]any)
		r, _ := em["resource"].(map[string]any)
		if r["resourceType"] != "Patient" {
			continue
		}
		if id, _ := r["id"].(string); id != "" {
			ids = append(ids, id)
		}
	}
	next := false
	links, _ := resp.Resource["link"].([]any)
	for _, l := range links {
		lm, _ := l.(map[string]any)
		next = next || lm["relation"] == "next"
	}
	if len(ids) != 1 || next {
		n := fmt.Sprint(len(ids))
		if next {
			n = "more than " + n
		}
		return "", fmt.Errorf("GET Patient with the token returned %s patients, not one: name the patients to examine with --patient", n)
	}
	if !reFHIRID.MatchString(ids[0]) {
		return "", fmt.Errorf("GET Patient with the token returned a Patient whose id is not a FHIR id (1-64 of A-Z a-z 0-9 - .)")
	}
	return ids[0], nil
}

var reFHIRID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
