package fhirpath

import (
	"testing"
)

// TestHTMLChecksOnExamples: every narrative of the packages' examples passes htmlChecks().
func TestHTMLChecksOnExamples(t *testing.T) {
	var n, bad int
	e := MustCompile("text.div.htmlChecks()")
	for _, tgz := range packagePaths(t) {
		readPackage(t, tgz, true, func(f pkgFile) {
			v, err := DecodeJSON(f.data)
			if err != nil {
				return
			}
			r, err := e.Evaluate(t.Context(), v, nil)
			if err != nil {
				t.Errorf("%s %s: %v", f.pkg, f.name, err)
				return
			}
			if len(r) == 1 {
				n++
				if !r.IsTrue() {
					bad++
					t.Errorf("%s %s: narrative rejected by htmlChecks()", f.pkg, f.name)
				}
			}
		})
	}
	t.Logf("%d narratives checked, %d rejected", n, bad)
}

func TestHTMLChecksRejects(t *testing.T) {
	const ns = `xmlns="http://www.w3.org/1999/xhtml"`
	for _, tc := range []struct {
		html string
		ok   bool
	}{
		{`<div ` + ns + `><p>Hello <b>world</b> &amp; <a href="http://x">link</a></p><img src="#a"/></div>`, true},
		{`<div ` + ns + `><script>alert(1)</script></div>`, false},
		{`<div ` + ns + `><p onmouseover="x()">a</p></div>`, false},
		{`<div ` + ns + `><a href=" JavaScript:alert(1)">a</a></div>`, false},
		{`<div ` + ns + `><iframe src="http://x"></iframe></div>`, false},
		{`<div ` + ns + `><form action="http://x"></form></div>`, false},
		{`<p ` + ns + `>not a div</p>`, false},
		{`<div ` + ns + `><p>unclosed</div>`, false},
		{`<div ` + ns + `></div><div></div>`, false},
		{`text <div ` + ns + `></div>`, false},
	} {
		if got := htmlSafe(tc.html); got != tc.ok {
			t.Errorf("htmlSafe(%q) = %v, want %v", tc.html, got, tc.ok)
		}
	}
}
