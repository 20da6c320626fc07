package search

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dateRange is the half-open interval [Lo, Hi) a date, dateTime, instant or Period stands for,
// given its precision (2020 -> [2020-01-01, 2021-01-01)). Open ends are the zero time.
type dateRange struct {
	Lo, Hi    time.Time
	OpenLo    bool // Period without start
	OpenHi    bool // Period without end (ongoing)
	NoZone    bool // a time was given without a zone: the instant is uncertain by +-14h
	DateOnly  bool // precision is a day or coarser
	Precision string
	Source    string
}

var reDate = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)

// parseDateRange parses a FHIR date, dateTime or instant (or a search value without its prefix).
func parseDateRange(s string) (dateRange, bool) {
	m := reDate.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return dateRange{}, false
	}
	num := func(x string, def int) int {
		if x == "" {
			return def
		}
		n, _ := strconv.Atoi(x)
		return n
	}
	y, mo, d := num(m[1], 0), num(m[2], 1), num(m[3], 1)
	hh, mi, ss := num(m[4], 0), num(m[5], 0), num(m[6], 0)
	if mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 24 || mi > 59 || ss > 60 {
		return dateRange{}, false
	}
	loc := time.UTC
	r := dateRange{Source: s}
	if m[4] != "" {
		switch z := m[8]; {
		case z == "":
			r.NoZone = true
		case z == "Z":
		default:
			sign := 1
			if z[0] == '-' {
				sign = -1
			}
			off := sign * (num(z[1:3], 0)*3600 + num(z[4:6], 0)*60)
			loc = time.FixedZone(z, off)
		}
	}
	var ns int
	if m[7] != "" {
		frac := (m[7][1:] + "000000000")[:9]
		ns, _ = strconv.Atoi(frac)
	}
	lo := time.Date(y, time.Month(mo), d, hh, mi, ss, ns, loc)
	var hi time.Time
	switch {
	case m[2] == "":
		hi, r.Precision = lo.AddDate(1, 0, 0), "year"
	case m[3] == "":
		hi, r.Precision = lo.AddDate(0, 1, 0), "month"
	case m[4] == "":
		hi, r.Precision = lo.AddDate(0, 0, 1), "day"
	case m[6] == "":
		hi, r.Precision = lo.Add(time.Minute), "minute"
	case m[7] == "":
		hi, r.Precision = lo.Add(time.Second), "second"
	default:
		digits := len(m[7]) - 1
		step := time.Second
		for i := 0; i < digits && i < 9; i++ {
			step /= 10
		}
		if step <= 0 {
			step = time.Nanosecond
		}
		hi, r.Precision = lo.Add(step), "fraction"
	}
	r.DateOnly = m[4] == ""
	r.Lo, r.Hi = lo.UTC(), hi.UTC()
	return r, true
}

// targetRanges turns one selected value into the ranges it stands for (a Timing gives one per
// event; unknown shapes give none and an explanation).
func targetRanges(v Value) ([]dateRange, string) {
	typ := v.Type
	if typ == "" {
		typ = inferType(v.V)
	}
	switch x := v.V.(type) {
	case string:
		r, ok := parseDateRange(x)
		if !ok {
			return nil, fmt.Sprintf("%q is not a date", x)
		}
		return []dateRange{r}, ""
	case map[string]any:
		switch typ {
		case "Period":
			var r dateRange
			s, _ := x["start"].(string)
			e, _ := x["end"].(string)
			if s == "" {
				r.OpenLo = true
			} else if sr, ok := parseDateRange(s); ok {
				r.Lo, r.NoZone = sr.Lo, sr.NoZone
			} else {
				return nil, fmt.Sprintf("Period.start %q is not a dateTime", s)
			}
			if e == "" {
				r.OpenHi = true
			} else if er, ok := parseDateRange(e); ok {
				r.Hi, r.NoZone = er.Hi, r.NoZone || er.NoZone
			} else {
				return nil, fmt.Sprintf("Period.end %q is not a dateTime", e)
			}
			r.Source = fmt.Sprintf("Period %s..%s", s, e)
			return []dateRange{r}, ""
		case "Timing":
			var out []dateRange
			evs, _ := x["event"].([]any)
			for _, e := range evs {
				if s, ok := e.(string); ok {
					if r, ok := parseDateRange(s); ok {
						out = append(out, r)
					}
				}
			}
			if rep, ok := x["repeat"].(map[string]any); ok {
				if b, ok := rep["boundsPeriod"]; ok {
					rs, _ := targetRanges(Value{Type: "Period", V: b})
					out = append(out, rs...)
				}
			}
			return out, ""
		}
	}
	return nil, fmt.Sprintf("a %s value cannot be compared with a date", orUnknown(typ))
}

func orUnknown(s string) string {
	if s == "" {
		return "non-date"
	}
	return s
}

// dateMatch decides whether target matches "prefix search". slack widens the test in the
// lenient direction where either side has a time without a zone, or the search value is a bare
// date (servers may read it in their own zone): pacheck only reports a resource that does not
// match under any reading.
func dateMatch(prefix string, search dateRange, t dateRange, now time.Time) bool {
	var slack time.Duration
	if search.NoZone || t.NoZone || search.DateOnly {
		slack = 14 * time.Hour
	}
	sLo, sHi := search.Lo, search.Hi
	lt := func(a, b time.Time) bool { return a.Before(b) }
	// helpers with open ends
	tLoBefore := func(x time.Time) bool { return t.OpenLo || lt(t.Lo, x) }          // t.Lo < x
	tHiAfter := func(x time.Time) bool { return t.OpenHi || lt(x, t.Hi) }           // t.Hi > x
	tLoAtLeast := func(x time.Time) bool { return !t.OpenLo && !lt(t.Lo, x) }       // t.Lo >= x
	tHiAtMost := func(x time.Time) bool { return !t.OpenHi && !lt(x, t.Hi) }        // t.Hi <= x
	overlap := func(lo, hi time.Time) bool { return tLoBefore(hi) && tHiAfter(lo) } // intersects [lo,hi)
	switch prefix {
	case "", "eq":
		return overlap(sLo.Add(-slack), sHi.Add(slack))
	case "ne":
		// not fully inside the search range (under the strictest reading)
		return !(tLoAtLeast(sLo.Add(slack)) && tHiAtMost(sHi.Add(-slack)))
	case "gt":
		return tHiAfter(sHi.Add(-slack))
	case "lt":
		return tLoBefore(sLo.Add(slack))
	case "ge":
		return tHiAfter(sLo.Add(-slack))
	case "le":
		return tLoBefore(sHi.Add(slack))
	case "sa":
		return tLoAtLeast(sHi.Add(-slack))
	case "eb":
		return tHiAtMost(sLo.Add(slack))
	case "ap":
		gap := now.Sub(sLo)
		if gap < 0 {
			gap = -gap
		}
		w := gap / 10
		if w < 24*time.Hour {
			w = 24 * time.Hour
		}
		return overlap(sLo.Add(-w-slack), sHi.Add(w+slack))
	}
	return true
}

// splitPrefix splits a date/number/quantity search value into its comparator and the rest.
func splitPrefix(v string) (string, string) {
	if len(v) >= 2 {
		switch v[:2] {
		case "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap":
			return v[:2], v[2:]
		}
	}
	return "", v
}
