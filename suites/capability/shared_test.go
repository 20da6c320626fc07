package capability

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/runner"
)

const childEnv = "PACHECK_CAPABILITY_CHILD" // target URL and result file, tab-separated

type childSpec struct {
	Outcome string `json:"outcome"`
	Blocked string `json:"blocked"`
}

// TestChild runs the capability specs once (Ginkgo runs once per process) for TestMetadataFailureReportedOnce.
func TestChild(t *testing.T) {
	env := os.Getenv(childEnv)
	if env == "" {
		t.Skip("child process of TestMetadataFailureReportedOnce")
	}
	var job struct{ Target, Out string }
	if err := json.Unmarshal([]byte(env), &job); err != nil {
		t.Fatal(err)
	}
	rep, err := runner.Run(runner.Options{Run: &framework.Run{Target: job.Target, Suites: []string{Area}}, Focus: []string{"^capability"}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]childSpec{}
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || (s.State == types.SpecStateSkipped && s.Failure.Message == "") {
			continue
		}
		cs := childSpec{Outcome: runner.Outcome(s)}
		for _, e := range s.ReportEntries {
			if b, ok := e.GetRawValue().(evidence.Blocked); ok && e.Name == evidence.BlockedEntryName {
				cs.Blocked = b.Cause
			}
		}
		out[runner.SpecID(s)] = cs
	}
	b, _ := json.Marshal(out)
	if err := os.WriteFile(job.Out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMetadataFailureReportedOnce: the CapabilityStatement is fetched once for every capability
// spec; when that fails (no answer, or an answer that is not a CapabilityStatement) the first
// spec reports it and every other spec that needs it is blocked by that one.
func TestMetadataFailureReportedOnce(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/fhir"
	ln.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusInternalServerError)
	}))
	defer broken.Close()
	for _, c := range []struct {
		name, target, first string // first: the outcome of the spec that reports the failure
	}{
		{"no answer", dead, "error"},
		{"HTTP 500", broken.URL + "/fhir", "fail"},
	} {
		out := t.TempDir() + "/result.json"
		job, _ := json.Marshal(map[string]string{"Target": c.target, "Out": out})
		cmd := exec.Command(os.Args[0], "-test.run=^TestChild$")
		cmd.Env = append(os.Environ(), childEnv+"="+string(job))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: child: %v\n%s", c.name, err, b)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]childSpec
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		reporters, blocked := []string{}, 0
		for id, s := range got {
			switch {
			case s.Blocked != "":
				blocked++
			case s.Outcome == c.first:
				reporters = append(reporters, id)
			}
		}
		if len(reporters) != 1 || blocked < 6 {
			t.Errorf("%s: reported by %v, %d blocked; want one spec reporting (%s) and the others blocked by it: %v", c.name, reporters, blocked, c.first, got)
			continue
		}
		for id, s := range got {
			if s.Blocked != "" && s.Blocked != reporters[0] {
				t.Errorf("%s: %s blocked by %q, want %q", c.name, id, s.Blocked, reporters[0])
			}
		}
	}
}
