package dataquality

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/internal/igdata"
)

// ReqOneBusinessDay is the rule's availability deadline (general.one-business-day).
const ReqOneBusinessDay = "general.one-business-day"

// Due is the end of the first business day after processed (UTC, Monday to Friday; public
// holidays are not known here, so a deadline may come a day early around one — the message
// says when it was due).
func Due(processed time.Time) time.Time {
	d := processed.UTC()
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	for {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return d.Add(24*time.Hour - time.Second)
		}
	}
}

// specReferenceClaims reads each record the payer named (dataquality.reference_claims) with its
// member's token once its one-business-day deadline has passed: it must be there.
func specReferenceClaims() {
	run := framework.Current()
	now := time.Now().UTC()
	var l issue.List
	var lines []string
	due := 0
	for _, c := range run.ReferenceClaims {
		d := Due(c.Processed)
		if now.Before(d) {
			lines = append(lines, fmt.Sprintf("%s: processed %s, due by %s — not yet due", c.Ref, c.Processed.UTC().Format(time.RFC3339), d.Format(time.RFC3339)))
			continue
		}
		due++
		pid := c.Patient
		if pid == "" {
			if ps := igdata.Patients(run); len(ps) > 0 {
				pid = ps[0]
			}
		}
		cl := run.PatientClient(pid)
		if cl == nil {
			framework.Infra(run.NoAccess(pid))
		}
		typ, id, _ := strings.Cut(c.Ref, "/")
		ctx, cancel := run.Ctx()
		resp, err := cl.Read(ctx, typ, id)
		cancel()
		if err != nil {
			framework.Infra(fmt.Errorf("read reference claim %s: %w", c.Ref, err))
		}
		switch {
		case resp.Status == http.StatusOK && resp.ResourceType() == typ:
			lines = append(lines, fmt.Sprintf("%s: processed %s, due by %s — available", c.Ref, c.Processed.UTC().Format(time.RFC3339), d.Format(time.RFC3339)))
		case resp.Status == http.StatusOK, resp.Status == http.StatusNotFound, resp.Status == http.StatusGone,
			resp.Status == http.StatusUnauthorized, resp.Status == http.StatusForbidden:
			actual := fmt.Sprintf("HTTP %d", resp.Status)
			if resp.Status == http.StatusOK {
				actual = "HTTP 200 with a " + resp.ResourceType()
			}
			l = append(l, issue.Issue{Severity: issue.Error, Rule: ReqOneBusinessDay, Requirement: ReqOneBusinessDay, Path: typ}.
				Mismatch(fmt.Sprintf("%s (processed %s, due by %s, read with %s's token)", c.Ref, c.Processed.UTC().Format("2006-01-02"), d.Format("2006-01-02"), pid),
					"the record readable through the API", actual))
		default:
			framework.Infra(fmt.Errorf("read reference claim %s: HTTP %d%s", c.Ref, resp.Status, igdata.OutcomeText(resp)))
		}
	}
	framework.Note("reference claims", "%s", strings.Join(lines, "\n"))
	if due == 0 {
		framework.SkipBecause(fmt.Sprintf("none of the %d reference claim(s) is due yet (one business day after it was processed)", len(run.ReferenceClaims)),
			"a reference claim processed more than one business day before the run")
	}
	framework.ExpectConformant("reference claims available one business day after processing", l)
}
