package member

import (
	"slices"
	"testing"

	"github.com/pacheck/pacheck/checks/browser"
)

func TestJudgeScopes(t *testing.T) {
	scopes := []string{"launch/patient", "openid", "fhirUser", "offline_access", "patient/*.rs", "patient/ExplanationOfBenefit.rs", "patient/Coverage.read"}
	cases := []struct {
		name            string
		text            string
		literal, absent []string
	}{
		{"every scope in words", "Share your records? know which member's records to use; confirm who you are; keep access after you sign out; " +
			"read and search all your records; your claims; your insurance coverage", nil, nil},
		{"silent page", "Share your records? Demo Member asks for the access below. Approve Deny. Sharing your health plan records with an app.",
			nil, scopes},
		// technical scope strings are visible but say nothing to a member: offline_access is not "offline"
		{"only scope strings", "launch/patient openid fhirUser offline_access patient/*.rs patient/ExplanationOfBenefit.rs patient/Coverage.read",
			scopes, nil},
		{"resource type split apart", "which member; who you are; offline access; all of your records; explanation of benefit; Coverage",
			nil, nil},
		// a word must start a word: "blab" does not name lab results
		{"word start", "which member who you are sign out everything blab", nil, []string{"patient/ExplanationOfBenefit.rs", "patient/Coverage.read"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			shown, literal, absent := judgeScopes(scopes, c.text)
			if !slices.Equal(literal, c.literal) || !slices.Equal(absent, c.absent) {
				t.Errorf("literal %v (want %v), absent %v (want %v), shown %v", literal, c.literal, absent, c.absent, shown)
			}
			if len(shown)+len(literal)+len(absent) != len(scopes) {
				t.Errorf("%d judged, want %d", len(shown)+len(literal)+len(absent), len(scopes))
			}
		})
	}
}

func TestFindLinks(t *testing.T) {
	links := []browser.Link{
		{Href: "https://payer.example/help", Text: "Help"},
		{Href: "https://payer.example/legal/privacy-notice", Text: "Read this"},
		{Href: "https://payer.example/apps", Text: "What to consider before sharing your records with an app"},
	}
	p, ok := findLink(links, privacyRE, "")
	if !ok || p.Href != links[1].Href {
		t.Errorf("privacy link %+v %v: the address names privacy", p, ok)
	}
	e, ok := findLink(links, educationRE, p.Href)
	if !ok || e.Href != links[2].Href {
		t.Errorf("education link %+v %v", e, ok)
	}
	if _, ok := findLink(links[:1], privacyRE, ""); ok {
		t.Error("a help link is no privacy link")
	}
	for _, b := range []struct {
		text string
		deny bool
	}{{"Deny", true}, {"Don't allow", true}, {"Cancel", true}, {"Allow", false}, {"Approve", false}, {"Denying is easy", false}} {
		if denyRE.MatchString(b.text) != b.deny {
			t.Errorf("%q: deny %v", b.text, !b.deny)
		}
	}
}
