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

func TestMismatch(t *testing.T) {
	i := Issue{Severity: Error, Rule: "token.status"}.Mismatch("token response", "HTTP 200", "401")
	if i.Message != "token response: expected HTTP 200, got 401" || i.Expected != "HTTP 200" || i.Actual != "401" {
		t.Errorf("got %+v", i)
	}
	if i := (Issue{}).Mismatch("", "a", "b"); i.Message != "expected a, got b" {
		t.Errorf("without subject: %q", i.Message)
	}
}
