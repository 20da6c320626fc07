// Package member checks what the member sees when authorizing an app: the consent page the SMART
// sign-in reached (each requested access named in words, a Deny control, a privacy-policy link)
// and the payer's member-education resources on app privacy (42 CFR 422.119(g) and its parallels).
// It opens no browser of its own: the consent page is the one the SMART suite's main launch
// recorded (text, links, buttons, screenshot), and Deny is the SMART consent-deny probe, cited.
// The rule gives no testable wording for these pages, so findings fail SHOULD requirements and
// the wording itself is a review for a person, with the screenshot and extracted text as evidence.
// Spec ids: member-1/consent-scopes-shown.
package member

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/browser"
	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/suites/framework"
	"github.com/pacheck/pacheck/suites/smart"
)

// Area is the suite area name.
const Area = "member"

// Version of the suite's rules: spec ids start member-1/.
const Version = "1"

// Requirement ids.
const (
	ReqScopesShown = "member.consent.scopes-shown"
	ReqDeny        = "member.consent.deny-control"
	ReqPrivacy     = "member.consent.privacy-link"
	ReqEducation   = "member.education"
	// reqDenyWorks is the SMART requirement the consent-deny probe judges: cited, not judged again.
	reqDenyWorks = "smart.authorize.deny"
)

// Bounds of a GET of a link found on the consent page (a page the server under test wrote).
const (
	linkTimeout   = 10 * time.Second
	linkMaxBody   = 512 << 10
	linkRedirects = 5
)

// The member suite reads the SMART suite's sign-in (the consent page) and its deny probe: it runs
// after the other areas instead of waiting for them at the start of the run.
var _ = framework.DescribeArea(framework.Area{Name: Area, Versions: []string{Version}, Default: Version, Listed: true, Build: build, Priority: -1})

func build(string) {
	framework.Spec("consent-scopes-shown", []string{ReqScopesShown}, specScopes)
	framework.Spec("consent-deny", []string{ReqDeny}, specDeny)
	framework.Spec("consent-privacy-link", []string{ReqPrivacy}, specPrivacy)
	framework.Spec("education", []string{ReqEducation}, specEducation)
}

// consentPage returns the main launch's consent page, attached as evidence, or ends the spec.
func consentPage() smart.ConsentView {
	v := smart.MainConsent()
	if v.Page == nil {
		if v.Err != nil {
			framework.Infra(fmt.Errorf("member: no consent page to judge: %w", v.Err))
		}
		if v.Explicit {
			framework.SkipBecause("the sign-in's explicit steps reached the redirect without a page the tool could read",
				"login steps whose last page is the consent page, on an allowed origin")
		}
		framework.SkipBecause("the sign-in reached the redirect without a page the default strategy took for a consent page (the server may not ask the member)",
			"a server that shows a consent page, or explicit login steps (auth.login.steps) ending on it")
	}
	p := v.Page
	what := "the page the default strategy approved as the consent page"
	if v.Explicit {
		what = "the last page the explicit login steps handled before the redirect"
	}
	framework.Evidence(&evidence.Entry{Kind: evidence.KindBrowserStep, Title: "consent page",
		Text: fmt.Sprintf("%s (main launch, %s)\nvisible text: %s\nbuttons: %s\nlinks: %s", p.URL, what, p.Text,
			strings.Join(p.Buttons, " | "), describeLinks(p.Links)), Screenshot: p.Screenshot})
	return v
}

func describeLinks(ls []browser.Link) string {
	if len(ls) == 0 {
		return "none"
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = fmt.Sprintf("%q → %s", l.Text, fhirhttp.Redact(l.Href))
	}
	return strings.Join(out, "; ")
}

func specScopes() {
	v := consentPage()
	if len(v.Scopes) == 0 {
		framework.SkipBecause("the main launch requested no scope", "a launch that requests scopes")
	}
	shown, literal, missing := judgeScopes(v.Scopes, v.Page.Text)
	var lines []string
	for _, s := range shown {
		lines = append(lines, fmt.Sprintf("%s: shown (%q)", s.Scope, s.Words))
	}
	for _, s := range literal {
		lines = append(lines, s+": shown only as the technical scope")
	}
	for _, s := range missing {
		lines = append(lines, s+": no visible words")
	}
	framework.Note("requested access on the consent page", "%s", strings.Join(lines, "\n"))
	var issues issue.List
	for _, s := range missing {
		issues = append(issues, issue.Issue{Severity: issue.Error, Rule: "member-consent-scope", Requirement: ReqScopesShown,
			Message: fmt.Sprintf("the requested scope %s has no visible words on the consent page (%s): the member is not told this access is asked for", s, what(s))})
	}
	framework.ExpectConformant("requested access on the consent page", issues)
	review := "confirm the consent page (screenshot and extracted text in the evidence) tells a member in plain words what the app will see and for how long"
	if len(literal) > 0 {
		review += fmt.Sprintf("; %d scope(s) appear only as technical scope strings (%s)", len(literal), strings.Join(literal, ", "))
	}
	framework.Review("%s", review)
}

func specDeny() {
	v := consentPage()
	var ctrl string
	for _, b := range v.Page.Buttons {
		if denyRE.MatchString(b) {
			ctrl = "button " + fmt.Sprintf("%q", b)
			break
		}
	}
	if ctrl == "" {
		for _, l := range v.Page.Links {
			if denyRE.MatchString(l.Text) {
				ctrl = "link " + fmt.Sprintf("%q", l.Text)
				break
			}
		}
	}
	var issues issue.List
	if ctrl == "" {
		issues = append(issues, issue.Issue{Severity: issue.Error, Rule: "member-consent-deny", Requirement: ReqDeny,
			Message: fmt.Sprintf("the consent page shows no control to refuse (Deny, Decline, Cancel...); its buttons: %s", orNone(v.Page.Buttons))})
	} else {
		framework.Note("deny control", "the consent page shows the %s", ctrl)
	}
	// That Deny works is the SMART suite's probe: cited, not judged again (its failure is that
	// spec's, under smart.authorize.deny).
	d := smart.ConsentDeny()
	switch {
	case d.Err != nil:
		framework.Note("consent deny probe", "%s could not judge Deny: %v", d.SpecID, d.Err)
	case d.Skip != "":
		framework.Note("consent deny probe", "%s did not run: %s (to enable: %s)", d.SpecID, d.Skip, d.Enable)
	case len(d.Issues.Errors()) > 0:
		framework.Note("consent deny probe", "%s found that pressing Deny does not refuse the request (it fails %s there): %s",
			d.SpecID, reqDenyWorks, d.Issues.Errors()[0].Message)
	default:
		framework.Note("consent deny probe", "%s pressed Deny on the consent page: the server redirected with error=access_denied and no code", d.SpecID)
	}
	framework.ExpectConformant("deny on the consent page", issues)
	if d.Err != nil || d.Skip != "" {
		framework.Review("a Deny control is shown but whether it works was not judged (%s did not run): confirm pressing it ends the request without sharing", d.SpecID)
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " | ")
}

func specPrivacy() {
	v := consentPage()
	l, ok := findLink(v.Page.Links, privacyRE, "")
	if !ok {
		framework.ExpectConformant("privacy link on the consent page", issue.List{{Severity: issue.Error, Rule: "member-privacy-link", Requirement: ReqPrivacy,
			Message: fmt.Sprintf("the consent page links to no privacy policy (no link whose text or address names privacy); its links: %s", describeLinks(v.Page.Links))}})
	}
	framework.Note("privacy link", "%q → %s", l.Text, fhirhttp.Redact(l.Href))
	framework.ExpectConformant("privacy link on the consent page", reach(ReqPrivacy, "the consent page's privacy link", l.Href))
	framework.Review("confirm the privacy policy the consent page links to is the app's or the payer's and readable by a member")
}

func specEducation() {
	run := framework.Current()
	href, from := run.MemberEducationURL, "member.education_url"
	if href == "" {
		if run.Auth.Mode == "browser" && run.Replay == "" {
			v := smart.MainConsent()
			if v.Page != nil {
				privacy, _ := findLink(v.Page.Links, privacyRE, "")
				if l, ok := findLink(v.Page.Links, educationRE, privacy.Href); ok {
					href, from = l.Href, fmt.Sprintf("the consent page's link %q", l.Text)
				}
			}
		}
		if href == "" {
			framework.SkipBecause("no member-education page is configured and none was found on the consent page",
				"member.education_url in the run configuration: the payer's page on app privacy and security (42 CFR 422.119(g))")
		}
	}
	framework.Note("member education", "%s: %s", from, fhirhttp.Redact(href))
	framework.ExpectConformant("member education", reach(ReqEducation, "the member-education page ("+from+")", href))
	framework.Review("confirm the member-education page explains, in plain language, how to protect health data when choosing an app, which organizations HIPAA covers, and how to complain to OCR and the FTC (42 CFR 422.119(g))")
}

// findLink returns the first link whose text or address matches re, other than skip.
func findLink(ls []browser.Link, re interface{ MatchString(string) bool }, skip string) (browser.Link, bool) {
	for _, l := range ls {
		if l.Href == skip && skip != "" {
			continue
		}
		if re.MatchString(l.Text) || re.MatchString(pathOf(l.Href)) {
			return l, true
		}
	}
	return browser.Link{}, false
}

func pathOf(href string) string {
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	return u.Path
}

// reach GETs href with the untrusted-link bounds (time, size, redirects; no token, no
// credentials) and returns an issue unless it answers 2xx.
func reach(req, what, href string) issue.List {
	u, err := url.Parse(href)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return issue.List{{Severity: issue.Error, Rule: "member-link", Requirement: req, Message: fmt.Sprintf("%s is not an http(s) URL", what)}}
	}
	u.User = nil
	run := framework.Current()
	c, err := fhirhttp.New(fhirhttp.Options{BaseURL: u.Scheme + "://" + u.Host + "/", Timeout: linkTimeout, MaxBodyBytes: linkMaxBody,
		MaxRedirects: linkRedirects, MaxEvidenceBody: 8 << 10, Accept: "text/html, */*;q=0.5", WrapTransport: run.Transport,
		Retry: fhirhttp.RetryPolicy{MaxAttempts: 1}, Recorder: record})
	if err != nil {
		framework.Infra(fmt.Errorf("member: %s: %w", what, err))
	}
	ctx, cancel := context.WithTimeout(run.Context(), linkTimeout+2*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, u.String())
	if err != nil {
		if run.DeadlineErr() != nil || errors.Is(err, context.Canceled) {
			framework.Infra(err)
		}
		return issue.List{{Severity: issue.Error, Rule: "member-link", Requirement: req,
			Message: fmt.Sprintf("%s (%s) did not answer within the bounds (%s, %d KiB, %d redirects): %v", what, fhirhttp.Redact(href), linkTimeout, linkMaxBody>>10, linkRedirects, err)}}
	}
	if resp.Status < 200 || resp.Status > 299 {
		return issue.List{{Severity: issue.Error, Rule: "member-link", Requirement: req,
			Message: fmt.Sprintf("%s (%s) answered HTTP %d", what, fhirhttp.Redact(href), resp.Status)}}
	}
	return nil
}

// record attaches an exchange to the running spec.
func record(ex evidence.Exchange) {
	framework.Evidence(&evidence.Entry{Kind: evidence.KindHTTP, Title: ex.Method + " " + ex.URL, Exchange: &ex})
}
