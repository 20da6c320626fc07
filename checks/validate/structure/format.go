package structure

import "strings"

// Go implementations of the R4 primitive regexes (the StructureDefinition "regex" extension of
// each primitive's value). Go's regexp runs these patterns as an NFA, which made the regex the
// largest cost of schema validation (a 500 kB base64 attachment alone took tens of ms); these
// scanners accept exactly the same strings (FuzzFormatsAgreeWithRegex checks it, with Go's \s =
// [\t\n\f\r ]). A primitive without a scanner here uses its regex.
var fastFormats = map[string]func(string) bool{
	"string":       isFHIRString,
	"markdown":     isFHIRString,
	"uri":          noSpace,
	"url":          noSpace,
	"canonical":    noSpace,
	"code":         isCode,
	"id":           IsID,
	"base64Binary": isBase64,
	"date":         isDate,
	"dateTime":     isDateTime,
	"instant":      isInstant,
	"time":         isTime,
	"oid":          isOID,
	"uuid":         isUUID,
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// [ \r\n\t\S]+ : not empty, no form feed (the one \s character the class leaves out).
func isFHIRString(s string) bool { return s != "" && strings.IndexByte(s, '\f') < 0 }

// \S*
func noSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return false
		}
	}
	return true
}

// [^\s]+(\s[^\s]+)*
func isCode(s string) bool {
	if s == "" || isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if isSpace(s[i]) && isSpace(s[i-1]) {
			return false
		}
	}
	return true
}

// IsID reports whether s is a FHIR id: [A-Za-z0-9\-\.]{1,64}.
func IsID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// (\s*([0-9a-zA-Z\+/=]){4}\s*)+ : groups of four alphabet characters, whitespace only between groups.
func isBase64(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		switch b64class[s[i]] {
		case 1:
			n++
		case 2:
			if n%4 != 0 {
				return false
			}
		default:
			return false
		}
	}
	return n > 0 && n%4 == 0
}

// b64class: 1 for the base64 alphabet (with '='), 2 for \s, 0 otherwise.
var b64class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=':
			t[c] = 1
		case isSpace(b):
			t[c] = 2
		}
	}
	return t
}()

func digits(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for j := i; j < i+n; j++ {
		if s[j] < '0' || s[j] > '9' {
			return false
		}
	}
	return true
}

func num2(s string, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }

// year: four digits, not 0000. Returns the index after it or -1.
func year(s string) int {
	if !digits(s, 0, 4) || s[:4] == "0000" {
		return -1
	}
	return 4
}

// -MM at i (01-12).
func month(s string, i int) bool {
	return i+3 <= len(s) && s[i] == '-' && digits(s, i+1, 2) && num2(s, i+1) >= 1 && num2(s, i+1) <= 12
}

// -DD at i (01-31).
func day(s string, i int) bool {
	return i+3 <= len(s) && s[i] == '-' && digits(s, i+1, 2) && num2(s, i+1) >= 1 && num2(s, i+1) <= 31
}

// hh:mm:ss(.f+)? at i; returns the index after it or -1.
func clock(s string, i int) int {
	if i+8 > len(s) || !digits(s, i, 2) || s[i+2] != ':' || !digits(s, i+3, 2) || s[i+5] != ':' || !digits(s, i+6, 2) {
		return -1
	}
	if num2(s, i) > 23 || num2(s, i+3) > 59 || num2(s, i+6) > 60 {
		return -1
	}
	i += 8
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return -1
		}
		i = j
	}
	return i
}

// Z | (+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00), the whole rest of s from i.
func zone(s string, i int) bool {
	rest := s[i:]
	if rest == "Z" {
		return true
	}
	if len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || !digits(rest, 1, 2) || rest[3] != ':' || !digits(rest, 4, 2) {
		return false
	}
	h, m := num2(rest, 1), num2(rest, 4)
	return (h <= 13 && m <= 59) || (h == 14 && m == 0)
}

func isDate(s string) bool {
	i := year(s)
	switch {
	case i < 0:
		return false
	case len(s) == 4:
		return true
	case !month(s, 4):
		return false
	case len(s) == 7:
		return true
	}
	return len(s) == 10 && day(s, 7)
}

func isDateTime(s string) bool {
	if len(s) <= 10 {
		return isDate(s)
	}
	if !isDate(s[:10]) || s[10] != 'T' {
		return false
	}
	i := clock(s, 11)
	return i > 0 && zone(s, i)
}

func isInstant(s string) bool { return len(s) > 10 && isDateTime(s) }

func isTime(s string) bool { return clock(s, 0) == len(s) }

// urn:oid:[0-2](\.(0|[1-9][0-9]*))+
func isOID(s string) bool {
	rest, ok := strings.CutPrefix(s, "urn:oid:")
	if !ok || len(rest) < 3 || rest[0] < '0' || rest[0] > '2' {
		return false
	}
	arcs := strings.Split(rest[1:], ".")
	if arcs[0] != "" || len(arcs) < 2 {
		return false
	}
	for _, a := range arcs[1:] {
		if a == "" || (a[0] == '0' && len(a) > 1) || !digits(a, 0, len(a)) {
			return false
		}
	}
	return true
}

// urn:uuid:8-4-4-4-12 lowercase hex
func isUUID(s string) bool {
	rest, ok := strings.CutPrefix(s, "urn:uuid:")
	if !ok || len(rest) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := rest[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
