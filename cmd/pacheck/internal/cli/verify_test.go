package cli

import (
	"strings"
	"testing"

	"github.com/pacheck/pacheck/reports"
)

func TestSealText(t *testing.T) {
	for _, tc := range []struct {
		seal *reports.Seal
		want string
	}{
		{&reports.Seal{Signed: true, SignatureChecked: true}, "signature valid"},
		{&reports.Seal{Signed: true}, "NOT checked"},
		{&reports.Seal{}, "UNSIGNED"},
	} {
		if got := sealText(tc.seal); !strings.Contains(got, tc.want) {
			t.Errorf("%+v: %q, want it to say %q", tc.seal, got, tc.want)
		}
	}
}
