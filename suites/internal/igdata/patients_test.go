package igdata

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/suites/framework"
)

// TestPatientsSample: the data suites examine the launch patient first, then the named patients
// in order, deduplicated, at most Limits.MaxPatients (default 10); the description states the
// sample when it is one.
func TestPatientsSample(t *testing.T) {
	many := make([]string, 0, 1000)
	for i := 2; i <= 1000; i++ {
		many = append(many, fmt.Sprintf("member-%d", i))
	}
	for _, c := range []struct {
		name     string
		run      *framework.Run
		want     []string
		describe string
	}{
		{"none", &framework.Run{}, nil, "no patient"},
		{"launch only", &framework.Run{LaunchPatient: "p1", Patients: []string{"p1"}}, []string{"p1"}, "patients p1"},
		{"launch first, duplicates once", &framework.Run{LaunchPatient: "p9", Patients: []string{"p2", "p9", "p2", ""}}, []string{"p9", "p2"}, "patients p9, p2"},
		{"capped", &framework.Run{Limits: framework.Limits{MaxPatients: 2}, Patients: []string{"a", "b", "c"}}, []string{"a", "b"},
			"patients a, b (a sample: 2 of the 3 patients the run names, the launch patient first, then in the order given; limits.max_patients)"},
		{"default cap keeps the launch patient", &framework.Run{LaunchPatient: "member-1", Patients: append(many, "member-1")},
			append([]string{"member-1"}, many[:9]...), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Patients(c.run)
			if !slices.Equal(got, c.want) {
				t.Errorf("Patients = %v, want %v", got, c.want)
			}
			if d := DescribePatients(c.run); c.describe != "" && d != c.describe {
				t.Errorf("DescribePatients = %q, want %q", d, c.describe)
			} else if c.describe == "" && !strings.Contains(d, "(a sample: 10 of the 1000 patients") {
				t.Errorf("DescribePatients = %q, want the sample stated", d)
			}
		})
	}
}
