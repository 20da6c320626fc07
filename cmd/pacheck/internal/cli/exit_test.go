package cli

import (
	"testing"

	"github.com/pacheck/pacheck/reports"
)

func TestExitCodeFromResults(t *testing.T) {
	spec := func(o reports.Outcome, level string) reports.Spec { return reports.Spec{Outcome: o, Level: level} }
	missing := []reports.Missing{{Requirement: "smart.isolation", Status: "skip", Reason: "no second member"}}
	for _, c := range []struct {
		name            string
		verdict         string
		specs           []reports.Spec
		incomplete      []reports.Missing
		runErrors       []string
		strict, allowed bool
		want            int
	}{
		{"conformant", reports.VerdictPass, []reports.Spec{spec(reports.Pass, "SHALL"), spec(reports.Skip, "SHOULD")}, nil, nil, false, false, ExitOK},
		{"conformant, strict", reports.VerdictPass, []reports.Spec{spec(reports.Pass, "SHALL")}, nil, nil, true, false, ExitOK},
		{"SHALL failure", reports.VerdictFail, []reports.Spec{spec(reports.Pass, "SHALL"), spec(reports.Fail, "SHALL")}, nil, nil, false, false, ExitNonConf},
		{"SHALL failure, allow-incomplete", reports.VerdictFail, []reports.Spec{spec(reports.Fail, "SHALL")}, nil, nil, false, true, ExitNonConf},
		{"failure without a level counts as SHALL", reports.VerdictFail, []reports.Spec{spec(reports.Fail, "")}, nil, nil, false, false, ExitNonConf},
		{"SHOULD failure", reports.VerdictPass, []reports.Spec{spec(reports.Fail, "SHOULD")}, nil, nil, false, false, ExitOK},
		{"SHOULD failure, strict", reports.VerdictPass, []reports.Spec{spec(reports.Fail, "SHOULD")}, nil, nil, true, false, ExitNonConf},
		{"SHALL requirement broken by a SHOULD-level spec", reports.VerdictFail, []reports.Spec{spec(reports.Fail, "SHOULD")}, nil, nil, false, false, ExitNonConf},
		{"SHALL-level spec breaking only its SHOULD requirement", reports.VerdictIncomplete, []reports.Spec{spec(reports.Fail, "SHALL")}, missing, nil, false, false, ExitIncomplete},
		{"no verdict, SHALL failure", "", []reports.Spec{spec(reports.Fail, "SHALL")}, nil, nil, false, false, ExitNonConf},
		{"no verdict, SHOULD failure", "", []reports.Spec{spec(reports.Fail, "SHOULD")}, nil, nil, false, false, ExitOK},
		{"SHOULD failure in an incomplete run", reports.VerdictIncomplete, []reports.Spec{spec(reports.Fail, "SHOULD")}, missing, nil, false, false, ExitIncomplete},
		{"SHOULD failure in an incomplete run, strict", reports.VerdictIncomplete, []reports.Spec{spec(reports.Fail, "SHOULD")}, missing, nil, true, false, ExitNonConf},
		{"known deviation", reports.VerdictPass, []reports.Spec{spec(reports.Known, "SHALL")}, nil, nil, false, false, ExitOK},
		{"incomplete", reports.VerdictIncomplete, []reports.Spec{spec(reports.Pass, "SHALL"), spec(reports.Skip, "SHALL")}, missing, nil, false, false, ExitIncomplete},
		{"incomplete, strict", reports.VerdictIncomplete, []reports.Spec{spec(reports.Skip, "SHALL")}, missing, nil, true, false, ExitIncomplete},
		{"incomplete, allowed", reports.VerdictIncomplete, []reports.Spec{spec(reports.Skip, "SHALL")}, missing, nil, false, true, ExitOK},
		{"incomplete, allowed and strict", reports.VerdictIncomplete, []reports.Spec{spec(reports.Skip, "SHALL")}, missing, nil, true, true, ExitOK},
		{"errored spec makes the run incomplete", reports.VerdictIncomplete, []reports.Spec{spec(reports.Pass, "SHALL"), spec(reports.Error, "SHALL")}, missing, nil, false, false, ExitIncomplete},
		{"run error", reports.VerdictError, []reports.Spec{spec(reports.Pass, "SHALL")}, nil, []string{"Interrupted by User"}, false, false, ExitEnvError},
		{"run error dominates a failure", reports.VerdictError, []reports.Spec{spec(reports.Fail, "SHALL")}, nil, []string{"Suite Timeout Elapsed"}, false, true, ExitEnvError},
		{"error verdict", reports.VerdictError, []reports.Spec{spec(reports.Fail, "SHALL"), spec(reports.Error, "SHALL")}, nil, nil, false, false, ExitEnvError},
		{"no verdict, errored spec", "", []reports.Spec{spec(reports.Pass, "SHALL"), spec(reports.Error, "SHALL")}, nil, nil, false, false, ExitIncomplete},
		{"no verdict, errored spec, allowed", "", []reports.Spec{spec(reports.Error, "SHALL")}, nil, nil, false, true, ExitOK},
	} {
		r := &reports.Results{Verdict: c.verdict, Specs: c.specs, Incomplete: c.incomplete}
		r.Run.Errors = c.runErrors
		if got := exitCode(r, c.strict, c.allowed); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
}

// A run over several targets exits with the worst code: 3 > 2 > 1 > 4 > 0.
func TestWorseExit(t *testing.T) {
	order := []int{ExitOK, ExitIncomplete, ExitNonConf, ExitUsage, ExitEnvError}
	for i, a := range order {
		for j, b := range order {
			want := a
			if j > i {
				want = b
			}
			if got := worseExit(a, b); got != want {
				t.Errorf("worseExit(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestVerdictWord(t *testing.T) {
	for _, c := range []struct {
		code    int
		verdict string
		want    string
	}{
		{ExitOK, reports.VerdictPass, "conformant"},
		{ExitOK, reports.VerdictIncomplete, "incomplete"}, // --allow-incomplete: exit 0, still said
		{ExitOK, "", "conformant"},
		{ExitNonConf, reports.VerdictFail, "non-conformant"},
		{ExitIncomplete, reports.VerdictIncomplete, "incomplete"},
		{ExitUsage, "", "usage error"},
		{ExitEnvError, reports.VerdictError, "error"},
	} {
		if got := verdictWord(c.code, c.verdict); got != c.want {
			t.Errorf("verdictWord(%d, %q) = %q, want %q", c.code, c.verdict, got, c.want)
		}
	}
}

func TestDefaultDeadline(t *testing.T) {
	for _, c := range []struct {
		specs int
		want  string
	}{
		{0, "2m0s"}, {30, "3m0s"}, {863, "30m46s"},
	} {
		if got := defaultDeadline(c.specs).String(); got != c.want {
			t.Errorf("defaultDeadline(%d) = %s, want %s", c.specs, got, c.want)
		}
	}
}
