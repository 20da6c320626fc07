package public

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/fixtures/refserver"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/runner"
)

const childEnv = "PACHECK_PUBLIC_CHILD"

// leaky is a server that gets every public check wrong: no discovery, metadata behind auth, data
// without a token.
func leaky() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/fhir/metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"resourceType":"OperationOutcome"}`, http.StatusUnauthorized)
	})
	mux.HandleFunc("/fhir/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]}`))
	})
	return mux
}

// TestHelperRun is the child process body: one run of the public specs against $PACHECK_PUBLIC_CHILD
// ("refserver" or "leaky"); it writes spec id -> outcome as JSON to the file named by the second
// field.
func TestHelperRun(t *testing.T) {
	job := os.Getenv(childEnv)
	if job == "" {
		t.Skip("helper process")
	}
	kind, out, _ := strings.Cut(job, ",")
	var base string
	switch kind {
	case "refserver":
		srv, err := refserver.New(refserver.Config{Members: 2, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if base, err = srv.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
	default:
		ts := httptest.NewServer(leaky())
		defer ts.Close()
		base = ts.URL + "/fhir"
	}
	run := &framework.Run{Target: base, Suites: []string{Area}, Patients: []string{"member-1"}, Auth: framework.Auth{Mode: "none"}}
	rep, err := runner.Run(runner.Options{Run: run})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range rep.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt {
			got[runner.SpecID(s)] = runner.Outcome(s)
		}
	}
	b, _ := json.Marshal(got)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func child(t *testing.T, kind string) map[string]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRun$")
	cmd.Env = append(os.Environ(), childEnv+"="+kind+","+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child %s: %v\n%s", kind, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestPublicSpecs(t *testing.T) {
	for _, tc := range []struct {
		kind string
		want map[string]string
	}{
		{"refserver", map[string]string{"public/smart-discovery": "pass", "public/capability-statement": "pass",
			"public/unauthenticated-refused": "pass", "public/tls-1.2": "skip"}},
		{"leaky", map[string]string{"public/smart-discovery": "fail", "public/capability-statement": "fail",
			"public/unauthenticated-refused": "fail", "public/tls-1.2": "skip"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			got := child(t, tc.kind)
			for id, w := range tc.want {
				if got[id] != w {
					t.Errorf("%s: outcome %q, want %q", id, got[id], w)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("ran %v, want exactly %d specs", got, len(tc.want))
			}
		})
	}
}

func tlsServer(t *testing.T, min uint16) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.TLS = &tls.Config{MinVersion: min}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return strings.TrimPrefix(ts.URL, "https://")
}

func TestCheckTLS(t *testing.T) {
	ctx := context.Background()
	iss, err := CheckTLS(ctx, tlsServer(t, tls.VersionTLS12), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(iss.Errors()) != 0 {
		t.Errorf("TLS 1.2+ server: %v", iss)
	}
	iss, err = CheckTLS(ctx, tlsServer(t, tls.VersionTLS10), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !hasRule(iss, RuleTLSOld) {
		t.Errorf("a server accepting TLS 1.0 passed: %v", iss)
	}
	// Nothing listening: an error (tool/network), not a verdict.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if _, err := CheckTLS(ctx, addr, 2*time.Second); err == nil {
		t.Error("no server: expected an error")
	}
}

func hasRule(l issue.List, rule string) bool {
	for _, i := range l {
		if i.Rule == rule {
			return true
		}
	}
	return false
}
