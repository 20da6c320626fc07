package runner

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/suites/framework"
)

const deadlineChildEnv = "PACHECK_RUNNER_DEADLINE_CHILD"

// TestDeadlineChild is the child of TestRunDeadlineEndsSpecs (Ginkgo runs once per process).
func TestDeadlineChild(t *testing.T) {
	out := os.Getenv(deadlineChildEnv)
	if out == "" {
		t.Skip("child process of TestRunDeadlineEndsSpecs")
	}
	run := &framework.Run{Target: "http://127.0.0.1:1/fhir", Limits: framework.DefaultLimits}
	run.Limits.Deadline = time.Nanosecond
	run.SetContext(t.Context())
	<-run.Context().Done()
	r, err := Run(Options{Run: run})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range r.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt {
			got[SpecID(s)] = Outcome(s) + ": " + s.Failure.Message
		}
	}
	b, _ := json.Marshal(got)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunDeadlineEndsSpecs: once the run's deadline has passed, every spec still to run ends
// at once as an error naming the deadline, whatever it would have done.
func TestRunDeadlineEndsSpecs(t *testing.T) {
	if os.Getenv(deadlineChildEnv) != "" {
		t.Skip("in the child")
	}
	out := t.TempDir() + "/outcomes.json"
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeadlineChild$")
	cmd.Env = append(os.Environ(), deadlineChildEnv+"="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) < 5 {
		t.Fatalf("%d specs, want the selftest's five", len(got))
	}
	for id, o := range got {
		if !strings.HasPrefix(o, "error: error: not run: the run's deadline passed") {
			t.Errorf("%s: %q, want an error naming the deadline", id, o)
		}
	}
}
