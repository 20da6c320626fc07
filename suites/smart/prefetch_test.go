package smart

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func TestSelectedSpecs(t *testing.T) {
	n := 0
	mk := func(texts []string, labels ...string) declaredSpec {
		i := n
		n++
		return declaredSpec{texts: texts, labels: labels, need: func(s *session) { s.memo[texts[2]] = &memoCell{val: i} }}
	}
	specs := []declaredSpec{
		mk([]string{"smart-2.0.0", "probes", "bad-aud"}, "ig:smart-2.0.0", "req:smart.authorize.aud", "level:SHALL"),
		mk([]string{"smart-2.0.0", "scopes", "granular"}, "ig:smart-2.0.0", "req:smart.scopes.granular", "level:SHOULD"),
		mk([]string{"smart-1.0.0", "probes", "bad-aud"}, "ig:smart-1.0.0", "req:smart.authorize.aud", "level:SHALL"),
	}
	run := func(cfg types.SuiteConfig, focus bool) (names []string, ok bool) {
		fs, ok := selectedSpecs("pacheck", cfg, focus, specs)
		for _, f := range fs {
			s := &session{memo: map[string]*memoCell{}}
			f(s)
			for k := range s.memo {
				names = append(names, k)
			}
		}
		return names, ok
	}
	for _, tc := range []struct {
		name  string
		cfg   types.SuiteConfig
		focus bool
		want  int
		ok    bool
	}{
		{"everything", types.SuiteConfig{}, false, 3, true},
		{"label", types.SuiteConfig{LabelFilter: "level:SHALL"}, false, 2, true},
		{"label and version", types.SuiteConfig{LabelFilter: "level:SHALL && ig:smart-2.0.0"}, false, 1, true},
		{"focus on text", types.SuiteConfig{FocusStrings: []string{`smart-2\.0\.0 scopes`}}, false, 1, true},
		{"skip", types.SuiteConfig{SkipStrings: []string{`bad-aud$`}}, false, 1, true},
		{"focus anchored at the suite name", types.SuiteConfig{FocusStrings: []string{`^pacheck smart-1`}}, false, 1, true},
		{"programmatic focus: no prediction", types.SuiteConfig{}, true, 0, false},
		{"file filter: no prediction", types.SuiteConfig{FocusFiles: []string{"x.go"}}, false, 0, false},
	} {
		got, ok := run(tc.cfg, tc.focus)
		if len(got) != tc.want || ok != tc.ok {
			t.Errorf("%s: selected %v (ok %v), want %d (ok %v)", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestSelectedSpecsStartFirst: a computation that mostly waits (startFirst) is queued ahead of
// the others, which keep their order.
func TestSelectedSpecsStartFirst(t *testing.T) {
	var got []string
	mk := func(name string, first bool) declaredSpec {
		return declaredSpec{texts: []string{"smart-2.0.0", "probes", name}, first: first,
			need: func(*session) { got = append(got, name) }}
	}
	specs := []declaredSpec{mk("a", false), mk("b", false), mk("code-expired", true), mk("c", false)}
	fs, ok := selectedSpecs("pacheck", types.SuiteConfig{}, false, specs)
	if !ok {
		t.Fatal("selection not predicted")
	}
	for _, f := range fs {
		f(nil)
	}
	if want := "code-expired a b c"; strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
	if !startFirst["probes/code-expired"] {
		t.Error("the expired-code probe is not started first")
	}
}

// TestOnceKeepsPanics: a computation that panics (for instance ahead of its spec, in the
// background) panics again in every caller, so the spec reports it.
func TestOnceKeepsPanics(t *testing.T) {
	s := &session{memo: map[string]*memoCell{}}
	for i := range 2 {
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("call %d: recovered %v, want boom", i, p)
				}
			}()
			s.once("k", func() any { panic("boom") })
		}()
	}
}

func TestRunOrder(t *testing.T) {
	d := func(v string, order int, section, name string) declaredSpec {
		return declaredSpec{texts: []string{"smart-" + v, section, name}, order: order}
	}
	specs := []declaredSpec{d("2.0.0", 7, "probes", "bad-aud"), d("2.0.0", 1, "launch", "standalone"), d("1.0.0", 7, "probes", "x"),
		d("2.0.0", 1, "launch", "code-single-use"), d("2.0.0", 6, "scopes", "granular")}
	runOrder(specs)
	var got []string
	for _, s := range specs {
		got = append(got, s.texts[0]+"/"+s.texts[2])
	}
	want := "smart-1.0.0/x smart-2.0.0/code-single-use smart-2.0.0/standalone smart-2.0.0/granular smart-2.0.0/bad-aud"
	if strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}
