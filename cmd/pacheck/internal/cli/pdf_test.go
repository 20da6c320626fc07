package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/reports"
)

// pdfFailLine is what a failed spec says is wrong; the PDF must carry it as text.
const pdfFailLine = "Encounter?date=ge2024-11-10 returned Encounter/enc-2-2 whose period ends 2024-09-25"

// pdfResults is a small non-conformant run: 80 specs (enough for an appendix over several
// pages), three of them failed with an HTTP exchange as evidence.
func pdfResults() *reports.Results {
	r := &reports.Results{SchemaVersion: reports.SchemaVersion, Run: reports.Run{Target: "https://fhir.example/r4", Suite: "pacheck", PacheckVersion: "test"}}
	for i := range 80 {
		s := reports.Spec{ID: fmt.Sprintf("uscore-6.1.0/resource-%02d/search/patient", i), Outcome: reports.Pass, State: "passed", Group: "uscore-6.1.0"}
		if i%30 == 0 {
			s.Outcome, s.State = reports.Fail, "failed"
			s.Failure = &reports.Failure{Message: pdfFailLine + "\nmore"}
			s.Evidence = []evidence.Entry{{Kind: evidence.KindHTTP, Title: "search", Exchange: &evidence.Exchange{Method: "GET",
				URL: "https://fhir.example/r4/Encounter?date=ge2024-11-10", Status: 200,
				ResponseBody: `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":{"resourceType":"Encounter","id":"enc-2-2"}}]}`}}}
		}
		r.Specs = append(r.Specs, s)
	}
	r.Recount(nil)
	return r
}

func TestReportPDF(t *testing.T) {
	if _, err := browser.FindChromium(""); err != nil {
		t.Skipf("no Chromium (Debian: apt-get install chromium): the PDF test did not run: %v", err)
	}
	dir := t.TempDir()
	if err := reports.WriteAll(dir, pdfResults(), reports.Options{}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if code := runReport(ctx, []string{"pdf", dir}, &out, &errb); code != ExitOK {
		t.Fatalf("report pdf: exit %d: %s", code, errb.String())
	}
	checkPDF(t, filepath.Join(dir, FilePDF), "NON-CONFORMANT", "Failures by cause", pdfFailLine, "appendix",
		"uscore-6.1.0/resource-79/search/patient", `"searchset"`)

	if code := runReport(ctx, []string{"pdf", t.TempDir()}, &out, &errb); code != ExitUsage {
		t.Errorf("report pdf on a folder without a report: exit %d, want %d", code, ExitUsage)
	}
}

// checkPDF checks that a PDF has more than one page and, when pdftotext (Debian poppler-utils)
// is installed, that its text has every want (whitespace-insensitive: the PDF breaks lines).
func checkPDF(t *testing.T, path string, wants ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("%s is not a PDF", path)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(b, -1))
	if info, err := exec.Command("pdfinfo", path).Output(); err == nil {
		if m := regexp.MustCompile(`(?m)^Pages:\s+([0-9]+)`).FindSubmatch(info); m != nil {
			pages, _ = strconv.Atoi(string(m[1]))
		}
	}
	if pages < 2 {
		t.Errorf("%s has %d pages, want more than one", path, pages)
	}
	txt, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Skipf("pdftotext (Debian poppler-utils) not usable (%v): the PDF's text was not checked", err)
	}
	// Compared without whitespace: the layout breaks long tokens (a URL, a date after a hyphen)
	// across lines, which would otherwise read as a space inside them.
	flat := strings.Join(strings.Fields(string(txt)), "")
	for _, w := range wants {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), "")) {
			t.Errorf("the PDF's text lacks %q", w)
		}
	}
	t.Logf("%s: %d pages, %d bytes", path, pages, len(b))
}
