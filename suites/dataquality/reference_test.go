package dataquality

import (
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	for _, tc := range []struct{ processed, due string }{
		{"2026-12-07T10:00:00Z", "2026-12-08T23:59:59Z"},      // Monday -> end of Tuesday
		{"2026-12-04T23:30:00Z", "2026-12-07T23:59:59Z"},      // Friday -> end of Monday
		{"2026-12-05T09:00:00Z", "2026-12-07T23:59:59Z"},      // Saturday -> end of Monday
		{"2026-12-06T09:00:00Z", "2026-12-07T23:59:59Z"},      // Sunday -> end of Monday
		{"2026-12-03T00:00:00-05:00", "2026-12-04T23:59:59Z"}, // Thursday in New York is Thursday 05:00 UTC
	} {
		p, _ := time.Parse(time.RFC3339, tc.processed)
		want, _ := time.Parse(time.RFC3339, tc.due)
		if got := Due(p); !got.Equal(want) {
			t.Errorf("Due(%s) = %s, want %s", tc.processed, got.Format(time.RFC3339), tc.due)
		}
	}
}
