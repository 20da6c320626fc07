// Package evidence holds the shapes of the proof a check leaves behind: HTTP exchanges (redacted),
// validation issues, browser screenshots, must-support matrices. Suites attach them to specs with
// Ginkgo's AddReportEntry under EntryName; reports reads them back. It is a leaf like checks/issue.
package evidence

import (
	"time"

	"github.com/pacheck/pacheck/checks/issue"
)

// Ginkgo report entry names that pacheck owns.
const (
	// EntryName carries one *Entry (AddReportEntry(EntryName, &Entry{...})).
	EntryName = "pacheck.evidence"
	// ErrorEntryName marks a failed spec as an error (tool/environment trouble), not a
	// non-conformance; its value is the one-line reason.
	ErrorEntryName = "pacheck.error"
	// RequirementEntryName carries the quoted requirement (statement, level, IG section) as text.
	RequirementEntryName = "pacheck.requirement"
	// BrokenEntryName carries, on a failed spec, the requirement ids ([]string) that its failing
	// issues break. A failed spec without it is taken to break every requirement it cites.
	BrokenEntryName = "pacheck.broken"
	// BlockedEntryName marks an errored spec as blocked by a root cause it depends on (discovery,
	// sign-in, token, patient read, a probe's baseline); its value is a Blocked.
	BlockedEntryName = "pacheck.blocked"
	// ReviewEntryName marks a spec that passed as needing a person's confirmation (the outcome
	// "review"): what the tool cannot judge, e.g. whether consent text is understandable. Its
	// value is the one-line text of what to confirm.
	ReviewEntryName = "pacheck.review"
)

// Blocked names the root cause that kept a spec from running.
type Blocked struct {
	Cause  string `json:"cause"`  // spec id or step of the root cause, e.g. "smart-2.0.0/launch/standalone"
	Reason string `json:"reason"` // one line: why the root cause failed (PHI-free, redacted)
}

// Kinds of evidence.
const (
	KindHTTP        = "http"
	KindIssues      = "issues"
	KindScreenshot  = "screenshot"
	KindMustSupport = "must-support"
	KindNote        = "note"
	KindBrowserStep = "browser-step"
	KindDataQuality = "data-quality"
)

// Entry is one piece of evidence. Exactly one of the payload fields matches Kind.
type Entry struct {
	Kind        string        `json:"kind"`
	Title       string        `json:"title"`
	Exchange    *Exchange     `json:"exchange,omitempty"`
	Issues      []issue.Issue `json:"issues,omitempty"`
	Resource    string        `json:"resource,omitempty"` // e.g. "Observation/123" the issues are about
	Screenshot  *File         `json:"screenshot,omitempty"`
	MustSupport *MustSupport  `json:"mustSupport,omitempty"`
	DataQuality *DataQuality  `json:"dataQuality,omitempty"`
	Text        string        `json:"text,omitempty"`
}

// DataQuality holds the figures of a data-quality spec (suites/dataquality) that the report
// draws: completeness per profile and element, the span of the member's data per type, and the
// counts of findings. Each spec fills its part.
type DataQuality struct {
	Completeness []ProfileCompleteness `json:"completeness,omitempty"`
	Timeline     []TypeTimeline        `json:"timeline,omitempty"`
	// Counts are named figures: "duplicate groups", "dangling references", "references read"...
	Counts map[string]int `json:"counts,omitempty"`
}

// ProfileCompleteness is how many of a profile's resources populate each must-support element.
type ProfileCompleteness struct {
	Profile   string         `json:"profile"`
	Resources int            `json:"resources"`
	Elements  []ElementShare `json:"elements"`
}

// ElementShare is one must-support element and the resources that populate it.
type ElementShare struct {
	Element string `json:"element"`
	Present int    `json:"present"`
}

// TypeTimeline is the first and last care or claim date of a resource type in the member's data.
type TypeTimeline struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
	First string `json:"first,omitempty"` // YYYY-MM-DD
	Last  string `json:"last,omitempty"`
}

// Exchange is one HTTP request/response, already redacted: no token, secret, password or cookie
// value survives in it (they read "***").
type Exchange struct {
	Time            time.Time           `json:"time"`
	Method          string              `json:"method"`
	URL             string              `json:"url"`
	Status          int                 `json:"status"`
	DurationMS      int64               `json:"durationMs"`
	RequestHeaders  map[string][]string `json:"requestHeaders,omitempty"`
	RequestBody     string              `json:"requestBody,omitempty"`
	ResponseHeaders map[string][]string `json:"responseHeaders,omitempty"`
	ResponseBody    string              `json:"responseBody,omitempty"` // may be cut: see Truncated
	Truncated       bool                `json:"truncated,omitempty"`    // the body or the headers were cut for the report
	Error           string              `json:"error,omitempty"`        // transport error, when there was no response
	// Attempt numbers the tries of one request (1 first; 2 and on are retries of a transient
	// fault: 429, 503, a dropped connection). 0 when the recorder does not count.
	Attempt int `json:"attempt,omitempty"`
}

// File is a large payload written beside the report (screenshots, full bodies).
type File struct {
	Path   string `json:"path"` // relative to the report folder
	SHA256 string `json:"sha256"`
	Media  string `json:"media"`         // e.g. image/png
	URL    string `json:"url,omitempty"` // page the screenshot shows
}

// MustSupport records, for one profile, which must-support elements were seen.
type MustSupport struct {
	Profile  string   `json:"profile"`
	Present  []string `json:"present"`
	Missing  []string `json:"missing"`
	Searched []string `json:"searched,omitempty"` // e.g. patient ids whose data was examined
}
