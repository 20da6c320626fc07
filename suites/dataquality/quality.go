package dataquality

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pacheck/pacheck/suites/internal/igdata"
)

// Resource is a decoded FHIR resource.
type Resource = map[string]any

// DupGroup is a set of resources of one type that are the same record: they share a business
// identifier (Kind "identifier", Key "system|value") or all their content but the id and meta
// (Kind "content").
type DupGroup struct {
	Kind string
	Type string
	Key  string
	IDs  []string // Type/id, sorted
}

// recordType reports whether a type's identifier names one record of the member (a claim, an
// encounter, a clinical entry, the member), so two resources sharing it are one record served
// twice. Not so for the entities records point to (an Organization's TIN or a Practitioner's NPI
// may sit on several resources: a hospital and its clinic, a practitioner and a role), nor for
// Coverage, whose identifier is the member id, the same on each plan year's Coverage.
func recordType(typ string) bool {
	_, dated := dateElements[typ]
	return (dated || typ == "Patient") && typ != "Coverage"
}

// Duplicates finds the duplicate groups among rs (any mix of types), identifier groups first,
// each sorted. A resource without an id is ignored; a resource listed twice under one id is one.
func Duplicates(rs []Resource) []DupGroup {
	byIdent := map[string]map[string]bool{}
	byContent := map[string]map[string]bool{}
	for _, r := range rs {
		typ, _ := r["resourceType"].(string)
		id := igdata.ID(r)
		if typ == "" || id == "" {
			continue
		}
		key := typ + "/" + id
		for _, x := range asList(r["identifier"]) {
			if !recordType(typ) {
				break
			}
			m, _ := x.(map[string]any)
			sys, _ := m["system"].(string)
			val, _ := m["value"].(string)
			if sys == "" || val == "" {
				continue // without a system a value is not known to be unique anywhere
			}
			add(byIdent, typ+"\x00"+sys+"|"+val, key)
		}
		if c, ok := contentKey(r); ok {
			add(byContent, typ+"\x00"+c, key)
		}
	}
	var out []DupGroup
	for _, g := range []struct {
		kind string
		m    map[string]map[string]bool
	}{{"identifier", byIdent}, {"content", byContent}} {
		var part []DupGroup
		for k, ids := range g.m {
			if len(ids) < 2 {
				continue
			}
			typ, rest, _ := strings.Cut(k, "\x00")
			d := DupGroup{Kind: g.kind, Type: typ, Key: rest}
			if g.kind == "content" {
				d.Key = "" // the whole resource: not worth repeating
			}
			for id := range ids {
				d.IDs = append(d.IDs, id)
			}
			sort.Strings(d.IDs)
			part = append(part, d)
		}
		sort.Slice(part, func(i, j int) bool { return part[i].IDs[0] < part[j].IDs[0] })
		out = append(out, part...)
	}
	return out
}

func add(m map[string]map[string]bool, k, id string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][id] = true
}

// contentKey is the resource's JSON without id, meta and text (encoding/json sorts map keys, so
// equal content gives equal keys). A resource with nothing else is not keyed.
func contentKey(r Resource) (string, bool) {
	c := make(map[string]any, len(r))
	for k, v := range r {
		switch k {
		case "id", "meta", "text":
			continue
		}
		c[k] = v
	}
	if len(c) <= 1 { // resourceType alone
		return "", false
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// RefTarget is a literal relative reference to check, with one resource that holds it.
type RefTarget struct {
	Ref  string // Type/id
	From string // Type/id of the first resource holding it
}

// LiteralTargets lists the distinct relative literal references (Type/id) in rs that do not
// point at a resource of rs, sorted, and counts the references skipped as absolute URLs (they
// may name another server: not read, so no token leaves the target).
func LiteralTargets(rs []Resource) (targets []RefTarget, absolute int) {
	have := map[string]bool{}
	for _, r := range rs {
		if typ, _ := r["resourceType"].(string); typ != "" && igdata.ID(r) != "" {
			have[typ+"/"+igdata.ID(r)] = true
		}
	}
	seen := map[string]bool{}
	for _, r := range rs {
		from, _ := r["resourceType"].(string)
		from += "/" + igdata.ID(r)
		for _, s := range igdata.ReferencesIn(r) {
			if strings.Contains(s, "://") || strings.HasPrefix(s, "urn:") {
				absolute++
				continue
			}
			t, id := igdata.SplitRef(s)
			if t == "" || id == "" {
				continue
			}
			k := t + "/" + id
			if have[k] || seen[k] {
				continue
			}
			seen[k] = true
			targets = append(targets, RefTarget{Ref: k, From: from})
		}
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].Ref < targets[j].Ref })
	return targets, absolute
}

// Sample keeps at most n targets spread over the list (every k-th), so a bound on reads still
// covers every referenced type in order rather than the first types only.
func Sample(ts []RefTarget, n int) []RefTarget {
	if n <= 0 || len(ts) <= n {
		return ts
	}
	out := make([]RefTarget, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, ts[i*len(ts)/n])
	}
	return out
}

// TypeSpan is the first and last date of a type's data (its clinical or claim dates) and its
// newest meta.lastUpdated.
type TypeSpan struct {
	Type        string
	Count       int
	Dated       int // resources with a date
	First, Last time.Time
	LastUpdated time.Time // newest meta.lastUpdated (zero: none)
}

// dateElements are, per type, the elements whose date says when the care or the claim happened,
// in order of preference (the first present wins).
var dateElements = map[string][]string{
	"AllergyIntolerance":    {"recordedDate", "onsetDateTime"},
	"CarePlan":              {"period.start"},
	"CareTeam":              {"period.start"},
	"Condition":             {"recordedDate", "onsetDateTime"},
	"Coverage":              {"period.start"},
	"DiagnosticReport":      {"effectiveDateTime", "effectivePeriod.start", "issued"},
	"DocumentReference":     {"date", "context.period.start"},
	"Encounter":             {"period.start"},
	"ExplanationOfBenefit":  {"billablePeriod.start", "created"},
	"Goal":                  {"startDate", "target.dueDate"},
	"Immunization":          {"occurrenceDateTime"},
	"MedicationDispense":    {"whenHandedOver", "whenPrepared"},
	"MedicationRequest":     {"authoredOn"},
	"Observation":           {"effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued"},
	"Procedure":             {"performedDateTime", "performedPeriod.start"},
	"QuestionnaireResponse": {"authored"},
	"ServiceRequest":        {"authoredOn"},
	"Specimen":              {"collection.collectedDateTime", "receivedTime"},
}

// CareDate is the date of a resource's care or claim (dateElements), if it has one.
func CareDate(r Resource) (time.Time, bool) {
	typ, _ := r["resourceType"].(string)
	for _, p := range dateElements[typ] {
		if t, ok := parseDate(at(r, p)); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// LastUpdated is meta.lastUpdated, if present and valid.
func LastUpdated(r Resource) (time.Time, bool) {
	meta, _ := r["meta"].(map[string]any)
	return parseDate(meta["lastUpdated"])
}

// Spans summarises rs per type, sorted by type.
func Spans(rs []Resource) []TypeSpan {
	by := map[string]*TypeSpan{}
	for _, r := range rs {
		typ, _ := r["resourceType"].(string)
		if typ == "" {
			continue
		}
		s := by[typ]
		if s == nil {
			s = &TypeSpan{Type: typ}
			by[typ] = s
		}
		s.Count++
		if t, ok := CareDate(r); ok {
			if s.Dated == 0 || t.Before(s.First) {
				s.First = t
			}
			if s.Dated == 0 || t.After(s.Last) {
				s.Last = t
			}
			s.Dated++
		}
		if t, ok := LastUpdated(r); ok && t.After(s.LastUpdated) {
			s.LastUpdated = t
		}
	}
	out := make([]TypeSpan, 0, len(by))
	for _, s := range by {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Stale is a resource whose served copy is older than what it says happened, or dated after the
// run.
type Stale struct {
	Ref    string // Type/id
	Reason string
}

// StaleRecords finds the claims whose meta.lastUpdated is more than one business day before the
// claim was processed (ExplanationOfBenefit.created: the served copy predates the adjudicated
// claim, which the rule asks to be available within one business day of processing), and the
// resources whose meta.lastUpdated lies after the run's time (a clock or feed fault: data cannot
// have changed in the future). A minute of clock skew is allowed.
func StaleRecords(rs []Resource, now time.Time) []Stale {
	var out []Stale
	for _, r := range rs {
		typ, _ := r["resourceType"].(string)
		ref := typ + "/" + igdata.ID(r)
		lu, ok := LastUpdated(r)
		if !ok {
			continue
		}
		if lu.After(now.Add(time.Minute)) {
			out = append(out, Stale{Ref: ref, Reason: fmt.Sprintf("meta.lastUpdated %s is after the run's time %s", lu.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))})
			continue
		}
		if typ != "ExplanationOfBenefit" {
			continue
		}
		if use, _ := r["use"].(string); use != "claim" {
			continue
		}
		created, ok := parseDate(r["created"])
		if !ok {
			continue
		}
		// whole days: the rule counts business days, not hours
		if due := AddBusinessDays(day(lu), 1); day(created).After(due) {
			out = append(out, Stale{Ref: ref, Reason: fmt.Sprintf("processed (created) %s but last updated %s: the served copy is %d day(s) older than the claim it should show",
				created.UTC().Format("2006-01-02"), lu.UTC().Format("2006-01-02"), int(created.Sub(lu).Hours()/24))})
		}
	}
	return out
}

// day is t's calendar date in its own zone, at midnight UTC.
func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// AddBusinessDays adds n business days (Monday to Friday; holidays are not known) to t.
func AddBusinessDays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

// parseDate reads a FHIR date, dateTime or instant (a partial date takes its first day).
func parseDate(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok || s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// at is the first value at a dotted path (lists take their first item).
func at(r Resource, path string) any {
	var cur any = r
	for _, p := range strings.Split(path, ".") {
		if l, ok := cur.([]any); ok {
			if len(l) == 0 {
				return nil
			}
			cur = l[0]
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	if l, ok := cur.([]any); ok && len(l) > 0 {
		return l[0]
	}
	return cur
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}
