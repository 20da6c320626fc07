package issue

import "testing"

func TestListFilters(t *testing.T) {
	l := List{
		{Severity: Error, Rule: "cardinality", Path: "Patient.name", Message: "min 1, found 0"},
		{Severity: Warning, Rule: "binding"},
		{Severity: Information, Rule: "terminology"},
	}
	if got := len(l.Errors()); got != 1 {
		t.Fatalf("Errors() = %d issues, want 1", got)
	}
	if got := len(l.Warnings()); got != 1 {
		t.Fatalf("Warnings() = %d issues, want 1", got)
	}
	if !l.HasErrors() || (List{l[1]}).HasErrors() {
		t.Fatal("HasErrors disagrees with the severities")
	}
	if got, want := l[0].String(), "error cardinality: min 1, found 0 @ Patient.name"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}
