package browser_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/fixtures/refserver/auth"
)

// BenchmarkAuthorize measures one sign-in (login and consent pages of the reference server, the
// default strategy, screenshots written) in a running browser.
func BenchmarkAuthorize(b *testing.B) {
	if _, err := browser.FindChromium(""); err != nil {
		b.Skipf("skipping browser benchmark: %v", err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fhirBase := srv.URL + "/fhir"
	as, err := auth.New(auth.Config{BaseURL: srv.URL, FHIRBase: fhirBase})
	if err != nil {
		b.Fatal(err)
	}
	as.Register(mux)
	ctx := context.Background()
	evDir := b.TempDir()
	if os.Getenv("NOSHOT") != "" {
		evDir = ""
	}
	br, err := browser.Launch(ctx, browser.Options{EvidenceDir: evDir})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	member := auth.MemberUser(1)
	creds := browser.Credentials{Username: member.Username, Password: member.Password}
	const redirect = "http://localhost/callback"
	authorize := func() {
		req := oauth.NewAuthRequest(srv.URL+"/auth/authorize", auth.PublicClientID, redirect, "launch/patient openid fhirUser patient/*.rs", fhirBase)
		u, _ := req.URL()
		res, err := br.AuthorizeAs(ctx, u, redirect, creds, nil)
		if err != nil {
			b.Fatal(err)
		}
		if res.Query.Get("code") == "" {
			b.Fatalf("no code in %q", res.RedirectURL)
		}
	}
	authorize() // warm the browser
	b.ResetTimer()
	for range b.N {
		authorize()
	}
}
