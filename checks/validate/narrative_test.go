package validate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

func TestNarrativeRules(t *testing.T) {
	v := embedded(t)
	const ns = `xmlns="http://www.w3.org/1999/xhtml"`
	cases := []struct {
		name string
		div  string
		rule string // "" = no narrative finding
	}{
		{"plain paragraph", `<div ` + ns + `><p>Jo Doe</p></div>`, ""},
		{"table, link, image, style, entity, comment", `<div ` + ns + `><!-- c --><table border="1" cellpadding="2"><tr><td colspan='2' style="color:red">a&amp;b &lt; c</td></tr></table><a href="http://x.org/a" name="n">x</a><img src="http://x.org/i.png" alt="i"/><br/></div>`, ""},
		{"only an image is content", `<div ` + ns + `><img src="#p"/></div>`, ""},
		{"script", `<div ` + ns + `><script>alert(1)</script>x</div>`, "invariant:txt-1"},
		{"event attribute", `<div ` + ns + `><p onclick="x()">x</p></div>`, "invariant:txt-1"},
		{"form", `<div ` + ns + `><form><p>x</p></form></div>`, "invariant:txt-1"},
		{"iframe", `<div ` + ns + `><iframe src="http://evil"></iframe>x</div>`, "invariant:txt-1"},
		{"link stylesheet", `<div ` + ns + `><link rel="stylesheet" href="http://x/s.css"/>x</div>`, "invariant:txt-1"},
		{"root is not a div", `<p ` + ns + `>x</p>`, "invariant:txt-1"},
		{"root without the XHTML namespace", `<div>x</div>`, "invariant:txt-1"},
		{"not well-formed", `<div ` + ns + `><p>x</div>`, "invariant:txt-1"},
		{"unquoted attribute", `<div ` + ns + `><p class=a>x</p></div>`, "invariant:txt-1"},
		{"text after the root", `<div ` + ns + `>x</div>y`, "invariant:txt-1"},
		{"whitespace only", `<div ` + ns + `> <p>  </p>
 </div>`, "invariant:txt-2"},
		{"empty div", `<div ` + ns + `/>`, "invariant:txt-2"},
		{"deep nesting is bounded", `<div ` + ns + `>` + strings.Repeat("<span>", 200) + "x" + strings.Repeat("</span>", 200) + `</div>`, "invariant:txt-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			div, _ := json.Marshal(tc.div)
			raw := `{"resourceType":"Patient","text":{"status":"generated","div":` + string(div) + `}}`
			res := validateStr(t, v, raw, ValidateOptions{})
			var got []issue.Issue
			for _, is := range res.Issues {
				if strings.HasPrefix(is.Rule, "invariant:txt-") {
					got = append(got, is)
				}
			}
			if tc.rule == "" {
				if len(got) > 0 || res.Issues.HasErrors() {
					t.Errorf("want clean, got %v", res.Issues)
				}
				return
			}
			if len(got) != 1 || got[0].Rule != tc.rule || got[0].Path != "Patient.text.div" || got[0].Severity != issue.Error {
				t.Errorf("want one error %s at Patient.text.div, got %v", tc.rule, res.Issues)
			}
		})
	}
}

// The narrative of a resource in a Bundle entry and of a contained resource is checked too, once.
func TestNarrativeNested(t *testing.T) {
	v := embedded(t)
	bad := `{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script/>x</div>"}`
	raw := `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:2d5a1a8e-2a34-4e4b-9d0f-4b2a3d0b1c01","resource":{"resourceType":"Patient","text":` + bad + `}}]}`
	res := validateStr(t, v, raw, ValidateOptions{})
	n := 0
	for _, is := range res.Issues {
		if is.Rule == "invariant:txt-1" && is.Path == "Bundle.entry[0].resource.ofType(Patient).text.div" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want one txt-1 at the entry's div, got %v", res.Issues)
	}
}

func FuzzScanXHTML(f *testing.F) {
	f.Add(`<div xmlns="http://www.w3.org/1999/xhtml"><p a='1'>x</p><!-- y --><![CDATA[z]]></div>`)
	f.Add(`<div`)
	f.Add(`<`)
	f.Fuzz(func(t *testing.T, s string) {
		scanXHTML(s) // must not panic
	})
}
