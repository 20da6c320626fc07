package cli

import (
	"testing"

	"github.com/pacheck/pacheck/cmd/pacheck/internal/config"
)

func TestSmartSettingsParallelSignIns(t *testing.T) {
	for _, n := range []int{0, 3} {
		s, err := smartSettings(config.Auth{Mode: "browser", ClientID: "app", RedirectURI: "http://127.0.0.1:9/cb", ParallelSignIns: n,
			Login: config.Login{Username: "member", Password: "pw"}})
		if err != nil {
			t.Fatal(err)
		}
		if s.Browser.Parallel != n {
			t.Errorf("parallel_sign_ins %d: Browser.Parallel = %d", n, s.Browser.Parallel)
		}
	}
}
