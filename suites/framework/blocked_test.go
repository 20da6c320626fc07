package framework

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
)

func TestRootCausesAndNoAccess(t *testing.T) {
	signIn := evidence.Blocked{Cause: "smart-2.0.0/launch/standalone", Reason: "the browser could not get past the sign-in"}
	down := evidence.Blocked{Cause: "target", Reason: "no answer"}
	cases := []struct {
		name    string
		roots   map[string]evidence.Blocked
		blocked bool
		cause   string
	}{
		{"no root cause: plain error saying what to configure", nil, false, ""},
		{"failed sign-in", map[string]evidence.Blocked{RootSignIn: signIn}, true, signIn.Cause},
		{"target down wins over the sign-in", map[string]evidence.Blocked{RootSignIn: signIn, RootTargetDown: down}, true, down.Cause},
		{"discovery alone does not explain a missing token", map[string]evidence.Blocked{RootDiscovery: signIn}, false, ""},
	}
	for _, c := range cases {
		r := &Run{}
		for k, v := range c.roots {
			r.SetRootCause(k, v)
		}
		err := r.NoAccess("member-1")
		b, ok := blockedBy(err)
		if ok != c.blocked || b.Cause != c.cause {
			t.Errorf("%s: blocked %v by %q, want %v by %q (%v)", c.name, ok, b.Cause, c.blocked, c.cause, err)
		}
		if !strings.Contains(err.Error(), "member-1") {
			t.Errorf("%s: %q does not name the patient", c.name, err)
		}
		if pb := r.PatientsBlocked(); (pb != nil) != c.blocked {
			t.Errorf("%s: PatientsBlocked = %v, want blocked %v", c.name, pb, c.blocked)
		}
		if !c.blocked && !strings.Contains(err.Error(), "configure auth") {
			t.Errorf("%s: %q does not say what to configure", c.name, err)
		}
	}
}

func TestFirstRootCauseWins(t *testing.T) {
	r := &Run{}
	if !r.SetRootCause(RootSignIn, evidence.Blocked{Cause: "first"}) || r.SetRootCause(RootSignIn, evidence.Blocked{Cause: "second"}) {
		t.Fatal("SetRootCause: want the first record stored and the second refused")
	}
	if b, _ := r.RootCause(RootSignIn); b.Cause != "first" {
		t.Errorf("root cause %q, want first", b.Cause)
	}
	if len(r.RootCauses()) != 1 {
		t.Errorf("RootCauses = %v", r.RootCauses())
	}
}

func TestRunDeadline(t *testing.T) {
	cases := []struct {
		name     string
		deadline time.Duration
		cancel   bool
		want     string // "" while live
	}{
		{"live", time.Hour, false, ""},
		{"no deadline", 0, false, ""},
		{"deadline passed", time.Nanosecond, false, "deadline"},
		{"interrupted", time.Hour, true, "interrupted"},
	}
	for _, c := range cases {
		r := &Run{Limits: Limits{Deadline: c.deadline, RequestTimeout: time.Minute}}
		parent, cancel := context.WithCancel(context.Background())
		r.SetContext(parent)
		if c.cancel {
			cancel()
		}
		if c.want == "deadline" {
			<-r.Context().Done()
		}
		err := r.DeadlineErr()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: DeadlineErr = %v, want nil", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: DeadlineErr = %v, want one naming %q", c.name, err, c.want)
		}
		ctx, done := r.Ctx()
		if (c.want != "") != (ctx.Err() != nil) {
			t.Errorf("%s: spec context err %v, want it done only when the run is over", c.name, ctx.Err())
		}
		if c.want == "deadline" && !errors.Is(context.Cause(r.Context()), ErrDeadline) {
			t.Errorf("%s: cause %v, want ErrDeadline", c.name, context.Cause(r.Context()))
		}
		done()
		cancel()
	}
}

// TestDeadTargetOneRootCause: against a closed port the run's shared breaker trips after its
// threshold; every later request fails at once, and the errors are blocked by one root cause.
func TestDeadTargetOneRootCause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	if _, blocked := blockedBy(errors.New("x")); blocked {
		t.Fatal("a plain error is blocked with no run")
	}
	r := &Run{Target: "http://" + addr + "/fhir", Limits: DefaultLimits}
	prev := Current()
	Set(r)
	defer func() {
		curMu.Lock()
		cur = prev
		curMu.Unlock()
	}()
	pub, err := r.PublicClient()
	if err != nil {
		t.Fatal(err)
	}
	authorized, err := fhirhttp.New(r.ClientOptions()) // another client of the run: same breaker
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for i := range fhirhttp.DefaultBreakerThreshold + 3 {
		c := pub
		if i%2 == 1 {
			c = authorized
		}
		_, err := c.Metadata(context.Background())
		errs = append(errs, err)
	}
	if r.TargetDown() == nil {
		t.Fatal("TargetDown() = nil after every request was refused")
	}
	for i, err := range errs {
		tripped := i >= fhirhttp.DefaultBreakerThreshold
		if err == nil || errors.Is(err, fhirhttp.ErrTargetDown) != tripped {
			t.Errorf("request %d: err %v; want ErrTargetDown only after the threshold", i+1, err)
		}
		// reported now, after the trip: every error of the run is blocked by the dead target
		if b, blocked := blockedBy(err); !blocked || b.Cause != "target http://"+addr {
			t.Errorf("request %d: blocked %v by %q, want blocked by the target", i+1, blocked, b.Cause)
		}
	}
	b, ok := r.RootCause(RootTargetDown)
	if !ok || !strings.HasPrefix(b.Reason, "unreachable after") || !strings.Contains(b.Reason, "connection refused") {
		t.Errorf("root cause %+v, want the unreachable target with its cause", b)
	}
	if _, blocked := blockedBy(r.NoAccess("member-1")); !blocked {
		t.Errorf("NoAccess = %v, want it blocked by the dead target", r.NoAccess("member-1"))
	}
	// the requests the breaker refuses never reach the network and are not observed
	if o := r.Observations().Snapshot(); o.Requests != fhirhttp.DefaultBreakerThreshold || o.Failed != o.Requests {
		t.Errorf("observations %+v, want the %d refused requests of both clients, all failed", o, fhirhttp.DefaultBreakerThreshold)
	}
}

func TestPrepareStopsWhenTheRunIsOver(t *testing.T) {
	ran := 0
	RegisterPreparer(Preparer{Area: "prepare-test", Do: func(context.Context, *Run) error { ran++; return nil }})
	for _, c := range []struct {
		name   string
		cancel bool
		ran    int
	}{{"live", false, 1}, {"cancelled", true, 0}} {
		ran = 0
		r := &Run{Suites: []string{"prepare-test"}}
		ctx, cancel := context.WithCancel(context.Background())
		if c.cancel {
			cancel()
		}
		err := Prepare(ctx, r)
		cancel()
		if ran != c.ran || (err != nil) != c.cancel || (r.PrepareError("prepare-test") != nil) != c.cancel {
			t.Errorf("%s: preparer ran %d time(s), Prepare = %v; want %d and an error only when cancelled", c.name, ran, err, c.ran)
		}
	}
}
