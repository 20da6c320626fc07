package fhirpath

import (
	"strconv"
	"strings"
	"time"
)

// Precision levels of dates, date-times and times.
const (
	precNone uint8 = iota
	precYear
	precMonth
	precDay
	precHour
	precMinute
	precSecond
	precMilli
)

// dtKind tells Date, DateTime and Time apart.
type dtKind uint8

const (
	dtDate dtKind = iota + 1
	dtDateTime
	dtTime
)

// DateTime is a FHIRPath Date, DateTime or Time with its precision and optional offset.
type DateTime struct {
	kind                     dtKind
	prec                     uint8
	year, month, day         int
	hour, minute, sec, milli int
	hasTZ                    bool
	tzZ                      bool // written as Z
	tzMin                    int  // offset east of UTC in minutes
}

func digitsAt(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for k := i; k < i+n; k++ {
		c := s[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseDatePart parses YYYY[-MM[-DD]] and returns how many bytes it used.
func parseDatePart(s string, d *DateTime) (int, bool) {
	y, ok := digitsAt(s, 0, 4)
	if !ok {
		return 0, false
	}
	d.year, d.prec = y, precYear
	i := 4
	if i < len(s) && s[i] == '-' {
		m, ok := digitsAt(s, i+1, 2)
		if !ok || m < 1 || m > 12 {
			return 0, false
		}
		d.month, d.prec = m, precMonth
		i += 3
		if i < len(s) && s[i] == '-' {
			dd, ok := digitsAt(s, i+1, 2)
			if !ok || dd < 1 || dd > daysIn(y, m) {
				return 0, false
			}
			d.day, d.prec = dd, precDay
			i += 3
		}
	}
	return i, true
}

// parseTimePart parses hh[:mm[:ss[.fff]]].
func parseTimePart(s string, d *DateTime) (int, bool) {
	h, ok := digitsAt(s, 0, 2)
	if !ok || h > 23 {
		return 0, false
	}
	d.hour, d.prec = h, precHour
	i := 2
	if i < len(s) && s[i] == ':' {
		m, ok := digitsAt(s, i+1, 2)
		if !ok || m > 59 {
			return 0, false
		}
		d.minute, d.prec = m, precMinute
		i += 3
		if i < len(s) && s[i] == ':' {
			sec, ok := digitsAt(s, i+1, 2)
			if !ok || sec > 60 {
				return 0, false
			}
			d.sec, d.prec = sec, precSecond
			i += 3
			if i < len(s) && s[i] == '.' {
				j := i + 1
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				if j == i+1 {
					return 0, false
				}
				frac := s[i+1 : j]
				for len(frac) < 3 {
					frac += "0"
				}
				ms, _ := digitsAt(frac, 0, 3)
				d.milli, d.prec = ms, precMilli
				i = j
			}
		}
	}
	return i, true
}

func parseTZ(s string, d *DateTime) bool {
	if s == "" {
		return true
	}
	if s == "Z" {
		d.hasTZ, d.tzZ = true, true
		return true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return false
	}
	h, ok1 := digitsAt(s, 1, 2)
	m, ok2 := digitsAt(s, 4, 2)
	if !ok1 || !ok2 || h > 14 || m > 59 {
		return false
	}
	d.hasTZ = true
	d.tzMin = h*60 + m
	if s[0] == '-' {
		d.tzMin = -d.tzMin
	}
	return true
}

// ParseDate parses a FHIR/FHIRPath date (without '@').
func ParseDate(s string) (DateTime, bool) {
	var d DateTime
	n, ok := parseDatePart(s, &d)
	if !ok || n != len(s) {
		return DateTime{}, false
	}
	d.kind = dtDate
	return d, true
}

// ParseDateTime parses a dateTime; a bare date is accepted too (with date precision).
// literal allows the FHIRPath form with a trailing 'T' ("2015T").
func ParseDateTime(s string, literal bool) (DateTime, bool) {
	var d DateTime
	n, ok := parseDatePart(s, &d)
	if !ok {
		return DateTime{}, false
	}
	d.kind = dtDateTime
	rest := s[n:]
	if rest == "" {
		return d, true
	}
	if rest[0] != 'T' {
		return DateTime{}, false
	}
	rest = rest[1:]
	if rest == "" {
		return d, literal
	}
	if d.prec != precDay {
		return DateTime{}, false
	}
	m, ok := parseTimePart(rest, &d)
	if !ok {
		return DateTime{}, false
	}
	if !parseTZ(rest[m:], &d) {
		return DateTime{}, false
	}
	return d, true
}

// ParseTime parses hh[:mm[:ss[.fff]]] (without '@T').
func ParseTime(s string) (DateTime, bool) {
	var d DateTime
	n, ok := parseTimePart(s, &d)
	if !ok || n != len(s) {
		return DateTime{}, false
	}
	d.kind = dtTime
	return d, true
}

func pad(b []byte, v, n int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < n; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func (d DateTime) appendTime(b []byte) []byte {
	b = pad(b, d.hour, 2)
	if d.prec >= precMinute {
		b = append(b, ':')
		b = pad(b, d.minute, 2)
	}
	if d.prec >= precSecond {
		b = append(b, ':')
		b = pad(b, d.sec, 2)
	}
	if d.prec >= precMilli {
		b = append(b, '.')
		b = pad(b, d.milli, 3)
	}
	return b
}

// String writes the value without '@' the way FHIR writes it.
func (d DateTime) String() string {
	b := make([]byte, 0, 32)
	if d.kind == dtTime {
		return string(d.appendTime(b))
	}
	b = pad(b, d.year, 4)
	if d.prec >= precMonth {
		b = append(b, '-')
		b = pad(b, d.month, 2)
	}
	if d.prec >= precDay {
		b = append(b, '-')
		b = pad(b, d.day, 2)
	}
	if d.kind == dtDateTime && d.prec >= precHour {
		b = append(b, 'T')
		b = d.appendTime(b)
		if d.hasTZ {
			if d.tzZ {
				b = append(b, 'Z')
			} else {
				m := d.tzMin
				if m < 0 {
					b = append(b, '-')
					m = -m
				} else {
					b = append(b, '+')
				}
				b = pad(b, m/60, 2)
				b = append(b, ':')
				b = pad(b, m%60, 2)
			}
		}
	}
	return string(b)
}

// literal writes the FHIRPath literal form (with '@').
func (d DateTime) literal() string {
	if d.kind == dtTime {
		return "@T" + d.String()
	}
	return "@" + d.String()
}

// goTime converts to a Go time in UTC using the offset (or UTC when there is none).
func (d DateTime) goTime() time.Time {
	month, day := max(d.month, 1), max(d.day, 1)
	t := time.Date(d.year, time.Month(month), day, d.hour, d.minute, d.sec, d.milli*1e6, time.UTC)
	if d.hasTZ {
		t = t.Add(-time.Duration(d.tzMin) * time.Minute)
	}
	return t
}

// fields returns the comparable components in order, normalised to UTC when an offset exists.
func (d DateTime) fields() [7]int {
	if d.kind == dtTime {
		return [7]int{d.hour, d.minute, d.sec, d.milli}
	}
	if d.hasTZ && d.prec >= precHour {
		t := d.goTime()
		return [7]int{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond() / 1e6}
	}
	return [7]int{d.year, d.month, d.day, d.hour, d.minute, d.sec, d.milli}
}

// levels returns how many components the value has (seconds and milliseconds count as one).
func (d DateTime) levels() int {
	p := int(d.prec)
	if d.kind == dtTime {
		p -= int(precHour) - 1
	}
	if d.prec == precMilli {
		p--
	}
	return p
}

// compareDT compares two temporal values; ok is false when the result is unknown (empty)
// because the precisions differ at the deciding component or the kinds are incompatible.
func compareDT(a, b DateTime) (int, bool) {
	if (a.kind == dtTime) != (b.kind == dtTime) {
		return 0, false
	}
	if a.kind != dtTime && a.prec >= precHour && b.prec >= precHour && a.hasTZ != b.hasTZ {
		return 0, false
	}
	fa, fb := a.fields(), b.fields()
	la, lb := a.levels(), b.levels()
	n := min(la, lb)
	for i := 0; i < n; i++ {
		if i == n-1 && (a.kind == dtTime && i == 2 || a.kind != dtTime && i == 5) {
			// seconds with milliseconds
			va, vb := fa[i]*1000+fa[i+1], fb[i]*1000+fb[i+1]
			if va != vb {
				return sgn(va - vb), true
			}
			break
		}
		if fa[i] != fb[i] {
			return sgn(fa[i] - fb[i]), true
		}
	}
	if la != lb {
		return 0, false
	}
	return 0, true
}

func sgn(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// precisionDigits is the value of precision() for temporal values.
func (d DateTime) precisionDigits() int {
	if d.kind == dtTime {
		return [...]int{0, 0, 0, 0, 2, 4, 6, 9}[d.prec]
	}
	return [...]int{0, 4, 6, 8, 10, 12, 14, 17}[d.prec]
}

func precFromDigits(kind dtKind, n int) (uint8, bool) {
	if kind == dtTime {
		switch n {
		case 2:
			return precHour, true
		case 4:
			return precMinute, true
		case 6:
			return precSecond, true
		case 9:
			return precMilli, true
		}
		return 0, false
	}
	switch n {
	case 4:
		return precYear, true
	case 6:
		return precMonth, true
	case 8:
		return precDay, true
	case 10:
		return precHour, true
	case 12:
		return precMinute, true
	case 14:
		return precSecond, true
	case 17:
		return precMilli, true
	}
	return 0, false
}

// boundary fills unspecified components with their lowest (or highest) values.
func (d DateTime) boundary(high bool, digits int) (DateTime, bool) {
	p, ok := precFromDigits(d.kind, digits)
	if !ok {
		return DateTime{}, false
	}
	if d.kind == dtDate && p > precDay {
		return DateTime{}, false
	}
	r := d
	if d.prec < precMonth && d.kind != dtTime {
		r.month = 1
		if high {
			r.month = 12
		}
	}
	if d.prec < precDay && d.kind != dtTime {
		r.day = 1
		if high {
			r.day = daysIn(r.year, r.month)
		}
	}
	if d.prec < precHour {
		r.hour = 0
		if high {
			r.hour = 23
		}
	}
	if d.prec < precMinute {
		r.minute = 0
		if high {
			r.minute = 59
		}
	}
	if d.prec < precSecond {
		r.sec = 0
		if high {
			r.sec = 59
		}
	}
	if d.prec < precMilli {
		r.milli = 0
		if high {
			r.milli = 999
		}
	}
	if d.kind == dtDateTime && !d.hasTZ && p >= precHour {
		r.hasTZ = true
		r.tzMin = 14 * 60
		if high {
			r.tzMin = -12 * 60
		}
	}
	r.prec = p
	if d.kind == dtDateTime && p <= precDay {
		r.hasTZ = false
	}
	return r, true
}

// addDuration adds sign × q to d: calendar units (year, month) by the calendar, the fixed-length
// ones (week down to millisecond) as milliseconds.
func addDuration(d DateTime, q Quantity, sign int) (DateTime, error) {
	unit := q.Unit
	n, ok := q.Value.Truncate().Int64()
	if !ok || n > 1e7 || n < -1e7 {
		return DateTime{}, errorf("date arithmetic: quantity %s out of range", q.String())
	}
	n *= int64(sign)
	switch unit {
	case "year", "years", "month", "months":
		if d.kind == dtTime {
			return DateTime{}, errorf("cannot add %s to a time", q.String())
		}
		months := int(n)
		if unit == "year" || unit == "years" {
			months *= 12
		}
		r := d
		total := r.year*12 + (max(r.month, 1) - 1) + months
		if d.prec < precMonth && months%12 != 0 {
			// year precision: only whole years count
			total = r.year*12 + (months/12)*12
		}
		r.year = total / 12
		if d.prec >= precMonth {
			r.month = total%12 + 1
		}
		if r.year < 1 || r.year > 9999 {
			return DateTime{}, errorf("date arithmetic result out of range")
		}
		if d.prec >= precDay && r.day > daysIn(r.year, r.month) {
			r.day = daysIn(r.year, r.month)
		}
		return r, nil
	}
	var ms int64
	switch unit {
	case "week", "weeks", "wk":
		ms = n * 7 * 86400000
	case "day", "days", "d":
		ms = n * 86400000
	case "hour", "hours", "h":
		ms = n * 3600000
	case "minute", "minutes", "min":
		ms = n * 60000
	case "second", "seconds", "s":
		ms = n * 1000
	case "millisecond", "milliseconds", "ms":
		ms = n
	default:
		return DateTime{}, errorf("cannot add quantity with unit '%s' to a date/time; use a calendar duration", unit)
	}
	r := d
	if d.kind == dtTime {
		base := int64(((d.hour*60+d.minute)*60+d.sec)*1000 + d.milli)
		v := ((base+ms)%86400000 + 86400000) % 86400000
		r.milli = int(v % 1000)
		v /= 1000
		r.sec = int(v % 60)
		v /= 60
		r.minute = int(v % 60)
		r.hour = int(v / 60)
		return r, nil
	}
	// Work at the value's own precision: drop parts of the duration finer than it.
	switch d.prec {
	case precYear, precMonth:
		return d, nil
	case precDay:
		ms -= ms % 86400000
	case precHour:
		ms -= ms % 3600000
	case precMinute:
		ms -= ms % 60000
	case precSecond:
		ms -= ms % 1000
	}
	t := time.Date(d.year, time.Month(d.month), d.day, d.hour, d.minute, d.sec, d.milli*1e6, time.UTC)
	t = t.Add(time.Duration(ms) * time.Millisecond)
	if t.Year() < 1 || t.Year() > 9999 {
		return DateTime{}, errorf("date arithmetic result out of range")
	}
	r.year, r.month, r.day = t.Year(), int(t.Month()), t.Day()
	r.hour, r.minute, r.sec, r.milli = t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e6
	return r, nil
}

func dateTimeFromGo(t time.Time, kind dtKind) DateTime {
	_, off := t.Zone()
	d := DateTime{kind: kind, year: t.Year(), month: int(t.Month()), day: t.Day(),
		hour: t.Hour(), minute: t.Minute(), sec: t.Second(), milli: t.Nanosecond() / 1e6}
	switch kind {
	case dtDate:
		d.prec = precDay
		d.hour, d.minute, d.sec, d.milli = 0, 0, 0, 0
	case dtDateTime:
		d.prec = precMilli
		d.hasTZ = true
		d.tzMin = off / 60
	case dtTime:
		d.prec = precMilli
		d.year, d.month, d.day = 0, 0, 0
	}
	return d
}

func isDateLike(s string) bool { return strings.IndexByte(s, '-') >= 0 || len(s) == 4 }
