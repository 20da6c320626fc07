package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
)

func TestDiscoverPatient(t *testing.T) {
	srv := startRefserver(t, refserver.Config{Members: 3, Seed: 1})
	client := func(tok string) *fhirhttp.Client {
		c, err := fhirhttp.New(fhirhttp.Options{BaseURL: srv.FHIRBase(), TokenSource: fhirhttp.StaticToken(tok)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	member := srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Patient: "member-2", FHIRUser: "Patient/member-2",
		Scopes: []string{"launch/patient", "patient/*.rs"}})
	for _, tc := range []struct {
		name, tok, want, wantErr string
	}{
		{"patient token", member, "member-2", ""},
		{"invalid token", "not-a-token", "", "HTTP 401"},
		{"user token", srv.Auth().MintToken(auth.Grant{ClientID: "pacheck-public", Scopes: []string{"user/*.rs"}}), "", "patients, not one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := discoverPatient(context.Background(), client(tc.tok))
			if got != tc.want {
				t.Errorf("patient %q, want %q", got, tc.want)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
