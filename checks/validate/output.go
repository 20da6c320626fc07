package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// FileResult is the outcome for one input (a file, or one NDJSON line).
type FileResult struct {
	Path         string     `json:"path"`
	ResourceType string     `json:"resourceType,omitempty"`
	Profiles     []string   `json:"profiles"`
	Issues       issue.List `json:"issues"`
}

// Summary counts results.
type Summary struct {
	Files    int `json:"files"`
	Valid    int `json:"valid"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

// Add counts one result.
func (s *Summary) Add(r FileResult) {
	s.Files++
	e, w := 0, 0
	for _, i := range r.Issues {
		switch i.Severity {
		case issue.Error:
			e++
		case issue.Warning:
			w++
		}
	}
	if e == 0 {
		s.Valid++
	}
	s.Errors += e
	s.Warnings += w
}

// Formatter writes results as they come and the summary at the end.
type Formatter interface {
	Result(FileResult) error
	Close(Summary) error
}

// Formats lists the output formats.
var Formats = []string{"text", "json", "operationoutcome"}

// NewFormatter returns the formatter for a format name.
func NewFormatter(format string, w io.Writer) (Formatter, error) {
	switch format {
	case "text", "":
		return &textFormatter{w: w}, nil
	case "json":
		return &jsonFormatter{w: w}, nil
	case "operationoutcome", "OperationOutcome", "oo":
		return &ooFormatter{w: w}, nil
	}
	return nil, fmt.Errorf("unknown format %q (use %s)", format, strings.Join(Formats, ", "))
}

type textFormatter struct{ w io.Writer }

func (f *textFormatter) Result(r FileResult) error {
	e, wn := 0, 0
	for _, i := range r.Issues {
		switch i.Severity {
		case issue.Error:
			e++
		case issue.Warning:
			wn++
		}
	}
	status := "valid"
	if e > 0 {
		status = fmt.Sprintf("INVALID (%d errors)", e)
	}
	rt := r.ResourceType
	if rt == "" {
		rt = "?"
	}
	if _, err := fmt.Fprintf(f.w, "%s: %s %s", r.Path, rt, status); err != nil {
		return err
	}
	if wn > 0 {
		fmt.Fprintf(f.w, ", %d warnings", wn)
	}
	if len(r.Profiles) > 0 {
		fmt.Fprintf(f.w, " [%s]", strings.Join(r.Profiles, ", "))
	}
	fmt.Fprintln(f.w)
	for _, i := range r.Issues {
		fmt.Fprintf(f.w, "  %-11s %s", i.Severity, i.Rule)
		if i.Path != "" {
			fmt.Fprintf(f.w, " @ %s", i.Path)
		}
		fmt.Fprintf(f.w, ": %s", i.Message)
		if i.Profile != "" {
			fmt.Fprintf(f.w, " (profile %s", i.Profile)
			if i.ElementID != "" {
				fmt.Fprintf(f.w, ", element %s", i.ElementID)
			}
			fmt.Fprint(f.w, ")")
		}
		if _, err := fmt.Fprintln(f.w); err != nil {
			return err
		}
	}
	return nil
}

func (f *textFormatter) Close(s Summary) error {
	_, err := fmt.Fprintf(f.w, "%d files, %d valid, %d errors, %d warnings\n", s.Files, s.Valid, s.Errors, s.Warnings)
	return err
}

type jsonFormatter struct {
	w io.Writer
	n int
}

func (f *jsonFormatter) Result(r FileResult) error {
	if r.Issues == nil {
		r.Issues = issue.List{}
	}
	if r.Profiles == nil {
		r.Profiles = []string{}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	sep := ",\n  "
	if f.n == 0 {
		sep = "{\"files\": [\n  "
	}
	f.n++
	_, err = fmt.Fprintf(f.w, "%s%s", sep, b)
	return err
}

func (f *jsonFormatter) Close(s Summary) error {
	b, _ := json.Marshal(s)
	if f.n == 0 {
		_, err := fmt.Fprintf(f.w, "{\"files\": [], \"summary\": %s}\n", b)
		return err
	}
	_, err := fmt.Fprintf(f.w, "\n], \"summary\": %s}\n", b)
	return err
}

// RuleSystem is the code system of pacheck's rule codes in OperationOutcome output.
const RuleSystem = "https://github.com/pacheck/pacheck/rules"

type ooFormatter struct {
	w io.Writer
	n int
}

// OperationOutcome converts one result into a FHIR OperationOutcome (as JSON-ready map).
func OperationOutcome(r FileResult) map[string]any {
	var iss []any
	for _, i := range r.Issues {
		code := "invalid"
		switch {
		case strings.HasPrefix(i.Rule, "json-") || i.Rule == ruleNotRes || i.Rule == "resource-type" || i.Rule == "type" || i.Rule == ruleUnknown ||
			i.Rule == ruleFormat || i.Rule == ruleEmpty || i.Rule == ruleChoice || i.Rule == "element-sibling":
			code = "structure"
		case i.Rule == "cardinality":
			code = "required"
		case i.Rule == "binding":
			code = "code-invalid"
		case strings.HasPrefix(i.Rule, "invariant:"):
			code = "invariant"
		case i.Rule == "profile-unknown" || i.Rule == "extension-unknown":
			code = "not-found"
		case i.Rule == "input":
			code = "exception"
		}
		if i.Severity == issue.Information {
			code = "informational"
		}
		x := map[string]any{
			"severity": string(i.Severity),
			"code":     code,
			"details": map[string]any{
				"coding": []any{map[string]any{"system": RuleSystem, "code": i.Rule}},
				"text":   i.Message,
			},
		}
		if i.Diagnostics != "" {
			x["diagnostics"] = i.Diagnostics
		}
		if i.Path != "" {
			x["expression"] = []any{i.Path}
		}
		var ext []any
		if i.Profile != "" {
			ext = append(ext, map[string]any{"url": RuleSystem + "#profile", "valueCanonical": i.Profile})
		}
		if i.ElementID != "" {
			ext = append(ext, map[string]any{"url": RuleSystem + "#element", "valueString": i.ElementID})
		}
		if ext != nil {
			x["extension"] = ext
		}
		iss = append(iss, x)
	}
	if len(iss) == 0 {
		iss = append(iss, map[string]any{"severity": "information", "code": "informational",
			"details": map[string]any{"text": "no issues"}})
	}
	return map[string]any{
		"resourceType": "OperationOutcome",
		"extension":    []any{map[string]any{"url": RuleSystem + "#input", "valueString": r.Path}},
		"issue":        iss,
	}
}

func (f *ooFormatter) Result(r FileResult) error {
	b, err := json.Marshal(OperationOutcome(r))
	if err != nil {
		return err
	}
	sep := ",\n  "
	if f.n == 0 {
		sep = "{\"resourceType\": \"Bundle\", \"type\": \"collection\", \"entry\": [\n  "
	}
	f.n++
	_, err = fmt.Fprintf(f.w, "%s{\"resource\": %s}", sep, b)
	return err
}

func (f *ooFormatter) Close(s Summary) error {
	if f.n == 0 {
		_, err := fmt.Fprintln(f.w, `{"resourceType": "Bundle", "type": "collection"}`)
		return err
	}
	_, err := fmt.Fprint(f.w, "\n]}\n")
	return err
}
