package smart

import (
	"context"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/suites/framework"
)

// TestReplaySignsInNowhere: a replayed browser-mode run performs no SMART sign-in (a recording
// holds no browser pages); the launch says why instead of opening Chromium.
func TestReplaySignsInNowhere(t *testing.T) {
	r := &framework.Run{Target: "http://127.0.0.1:1/fhir", Auth: framework.Auth{Mode: "browser"}, Replay: "rec"}
	err := prepare(context.Background(), r)
	if err == nil || !strings.Contains(err.Error(), ReplayNoBrowser) {
		t.Fatalf("prepare in a replay: %v; want an error saying %q", err, ReplayNoBrowser)
	}
	if v, _ := r.Value("smart.note"); v != ReplayNoBrowser {
		t.Errorf("smart.note %v", v)
	}
	if _, ok := r.Value(LaunchKey); ok {
		t.Error("a launch summary was stored: something was launched")
	}
}
