package cli

import (
	"testing"

	"github.com/pacheck/pacheck/reports"
)

func TestExitCodeFromResults(t *testing.T) {
	spec := func(o reports.Outcome, level string) reports.Spec { return reports.Spec{Outcome: o, Level: level} }
	for _, c := range []struct {
		name   string
		specs  []reports.Spec
		strict bool
		want   int
	}{
		{"all pass or skip", []reports.Spec{spec(reports.Pass, "SHALL"), spec(reports.Skip, "SHALL")}, false, ExitOK},
		{"SHALL failure", []reports.Spec{spec(reports.Pass, "SHALL"), spec(reports.Fail, "SHALL")}, false, ExitNonConf},
		{"SHOULD failure", []reports.Spec{spec(reports.Fail, "SHOULD")}, false, ExitOK},
		{"SHOULD failure, strict", []reports.Spec{spec(reports.Fail, "SHOULD")}, true, ExitNonConf},
		{"known deviation", []reports.Spec{spec(reports.Known, "SHALL")}, false, ExitOK},
		{"error dominates", []reports.Spec{spec(reports.Fail, "SHALL"), spec(reports.Error, "SHALL")}, false, ExitEnvError},
	} {
		if got := exitCode(&reports.Results{Specs: c.specs}, c.strict); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
}
