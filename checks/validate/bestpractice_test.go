package validate

import (
	"context"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

// TestBestPractice: dom-6 ("A resource should have narrative for robust management", marked
// best practice in R4 core) is reported at the --best-practice level; pat-1, not best practice,
// keeps its own severity at every level.
func TestBestPractice(t *testing.T) {
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	const noText = `{"resourceType":"Patient","gender":"female"}`
	const withText = `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Jo</div>"},"gender":"female"}`
	const pat1 = `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Jo</div>"},"contact":[{"gender":"male"}]}`
	for _, tc := range []struct {
		level BestPracticeLevel
		sev   issue.Severity // of dom-6 on noText; "" for none
	}{
		{"", issue.Warning},
		{BestPracticeIgnore, ""},
		{BestPracticeHint, issue.Information},
		{BestPracticeWarning, issue.Warning},
		{BestPracticeError, issue.Error},
	} {
		t.Run(string(tc.level), func(t *testing.T) {
			v, err := New(set, Options{BestPractice: tc.level})
			if err != nil {
				t.Fatal(err)
			}
			dom6 := func(raw string) []issue.Issue {
				var out []issue.Issue
				for _, is := range v.Validate(context.Background(), []byte(raw), ValidateOptions{}).Issues {
					if is.Rule == "invariant:dom-6" {
						out = append(out, is)
					}
				}
				return out
			}
			got := dom6(noText)
			if tc.sev == "" && len(got) > 0 || tc.sev != "" && (len(got) != 1 || got[0].Severity != tc.sev || got[0].Path != "Patient") {
				t.Errorf("no narrative: want dom-6 at %q on Patient, got %v", tc.sev, got)
			}
			if got := dom6(withText); len(got) > 0 {
				t.Errorf("with narrative: want no dom-6, got %v", got)
			}
			res := v.Validate(context.Background(), []byte(pat1), ValidateOptions{})
			if !hasIssue(res.Issues, issue.Error, "invariant:pat-1", "") {
				t.Errorf("pat-1 is not best practice: want an error at every level, got %v", res.Issues)
			}
		})
	}
}

func TestCLIBestPractice(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "p.json", `{"resourceType":"Patient","gender":"female"}`)
	for _, tc := range []struct {
		level string
		code  int
		want  string
	}{
		{"", 0, "warning     invariant:dom-6"},
		{"ignore", 0, ""},
		{"hint", 0, "information invariant:dom-6"},
		{"error", 1, "error       invariant:dom-6"},
	} {
		args := []string{p}
		if tc.level != "" {
			args = []string{"--best-practice", tc.level, p}
		}
		code, out, errs := runCLI(t, args...)
		if code != tc.code || (tc.want != "" && !strings.Contains(out, tc.want)) || (tc.want == "" && strings.Contains(out, "dom-6")) {
			t.Errorf("--best-practice %q: exit %d, want %d and %q\n%s%s", tc.level, code, tc.code, tc.want, out, errs)
		}
	}
	if code, _, errs := runCLI(t, "--best-practice", "loud", p); code != 2 || !strings.Contains(errs, "ignore, hint, warning or error") {
		t.Errorf("--best-practice loud: exit %d, stderr %q", code, errs)
	}
}
