package smart

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/oauth"
)

func TestPortalValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		p    *Portal
		want string // "" valid
	}{
		{"none", nil, ""},
		{"ok", &Portal{URL: "https://p.example/portal", LaunchURL: "https://app.example/launch"}, ""},
		{"no url", &Portal{LaunchURL: "https://app.example/launch"}, "portal.url"},
		{"relative launch url", &Portal{URL: "https://p.example/portal", LaunchURL: "/launch"}, "portal.launch_url"},
		{"javascript launch url", &Portal{URL: "https://p.example/portal", LaunchURL: "javascript:alert(1)"}, "portal.launch_url"},
		{"bad step", &Portal{URL: "https://p.example/portal", LaunchURL: "https://app.example/launch",
			Steps: []browser.Step{{Actions: []browser.Action{{}}}}}, "portal steps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}

func TestCheckLaunchContext(t *testing.T) {
	tok := func(raw map[string]any) *oauth.TokenResponse { return &oauth.TokenResponse{Status: 200, Raw: raw} }
	for _, c := range []struct {
		name    string
		t       *oauth.TokenResponse
		version string
		paths   []string // paths of the expected issues
	}{
		{"full", tok(map[string]any{"patient": "p1", "need_patient_banner": "not judged here"}), "2.0.0", nil},
		{"patient only", tok(map[string]any{"patient": "p1"}), "2.0.0", nil},
		{"no patient", tok(map[string]any{"need_patient_banner": true}), "2.0.0", []string{"patient"}},
		{"empty patient", tok(map[string]any{"patient": ""}), "2.0.0", []string{"patient"}},
		{"no response", nil, "2.0.0", []string{""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := checkLaunchContext(c.t, c.version)
			var paths []string
			for _, i := range got {
				paths = append(paths, i.Path)
			}
			if strings.Join(paths, ",") != strings.Join(c.paths, ",") {
				t.Errorf("issues at %q, want %q: %v", paths, c.paths, got)
			}
		})
	}
}

func TestForeignLaunchDiffers(t *testing.T) {
	for _, v := range []string{"abcA", "abcZ", "x", ""} {
		if f := foreignLaunch(v); f == v || f == "" {
			t.Errorf("foreignLaunch(%q) = %q: want another non-empty value", v, f)
		}
	}
}
