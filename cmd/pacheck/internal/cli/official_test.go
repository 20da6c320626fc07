package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestListOfficial checks `list --requirements --official`: one table row per IG version with its
// server-row total, counts that add up, and with -v every official id listed once.
func TestListOfficial(t *testing.T) {
	code, out, errOut := run("list", "--requirements", "--official", "--format", "json", "-v")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var sets []officialSet
	if err := json.Unmarshal([]byte(out), &sets); err != nil {
		t.Fatalf("json: %v\n%s", err, out[:min(len(out), 500)])
	}
	totals := map[string]int{}
	for _, s := range sets {
		totals[s.Set] = s.Total
		if sum := s.Tested + s.Attested + s.Explained + s.Unmapped + s.Unselected; sum != s.Total {
			t.Errorf("%s: statuses add up to %d, want %d", s.Set, sum, s.Total)
		}
		if len(s.Rows) != s.Total {
			t.Errorf("%s: -v listed %d ids, want %d", s.Set, len(s.Rows), s.Total)
		}
		seen := map[string]bool{}
		for _, r := range s.Rows {
			if !strings.HasPrefix(r.ID, s.Set+"@") || seen[r.ID] {
				t.Errorf("%s: bad or repeated id %q", s.Set, r.ID)
			}
			seen[r.ID] = true
			if r.Status == "explained" && r.Reason == "" {
				t.Errorf("%s explained without a reason", r.ID)
			}
		}
	}
	for set, want := range map[string]int{"hl7.fhir.us.core_6.1.0": 378, "hl7.fhir.us.core_7.0.0": 476, "hl7.fhir.us.core_8.0.0": 529,
		"hl7.fhir.uv.smart-app-launch_2.2.0": 263, "hl7.fhir.us.carin-bb_2.0.0": 155, "hl7.fhir.us.davinci-pdex_2.0.0": 71} {
		if totals[set] != want {
			t.Errorf("%s: %d server rows, want %d", set, totals[set], want)
		}
	}

	// The default selection runs the SMART suite, so a row mapped to a SMART requirement is tested.
	code, out, errOut = run("list", "--requirements", "--official", "-v")
	if code != 0 {
		t.Fatalf("text: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"tested       mapped to a pacheck requirement", "US Core 6.1.0", "94/378",
		"hl7.fhir.uv.smart-app-launch_2.2.0@372"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
}

func TestListOfficialUsage(t *testing.T) {
	for _, args := range [][]string{{"list", "--official"}, {"list", "--requirements", "-v"}} {
		if code, _, _ := run(args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (usage)", args, code, ExitUsage)
		}
	}
}

// TestOfficialTestedByVersion: a spec of an IG counts for that IG's official rows only in its own
// version; a spec of another IG, or of none (a capability check), counts for every version.
func TestOfficialTestedByVersion(t *testing.T) {
	for _, tc := range []struct {
		igs  []string
		set  string
		want bool
	}{
		{[]string{"uscore-6.1.0"}, "hl7.fhir.us.core_6.1.0", true},
		{[]string{"uscore-6.1.0"}, "hl7.fhir.us.core_7.0.0", false},
		{[]string{"uscore-6.1.0", "uscore-7.0.0"}, "hl7.fhir.us.core_7.0.0", true},
		{[]string{""}, "hl7.fhir.us.core_8.0.0", true},
		{[]string{"smart-2.0.0"}, "hl7.fhir.us.core_7.0.0", true},
		{[]string{"smart-2.0.0"}, "hl7.fhir.uv.smart-app-launch_2.2.0", false},
		{[]string{"smart-2.2.0"}, "hl7.fhir.uv.smart-app-launch_2.2.0", true},
		{[]string{"pdex-2.0.0"}, "hl7.fhir.uv.bulkdata_2.0.0", true},
		{nil, "hl7.fhir.us.core_6.1.0", false},
	} {
		igs := map[string]bool{}
		for _, v := range tc.igs {
			igs[v] = true
		}
		if got := testsSet(igs, tc.set); got != tc.want {
			t.Errorf("testsSet(%v, %s) = %v, want %v", tc.igs, tc.set, got, tc.want)
		}
	}
}
