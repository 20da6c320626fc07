package structure

import (
	"regexp"
	"testing"
)

// r4Regex are the R4 (4.0.1) primitive regexes, as the StructureDefinitions give them
// (TestFastFormatsCoverRegexTypes checks they still match), so the fuzz target needs no package.
var r4Regex = map[string]string{
	"base64Binary": `(\s*([0-9a-zA-Z\+/=]){4}\s*)+`,
	"canonical":    `\S*`,
	"code":         `[^\s]+(\s[^\s]+)*`,
	"date":         `([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?`,
	"dateTime":     `([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?`,
	"id":           `[A-Za-z0-9\-\.]{1,64}`,
	"instant":      `([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))`,
	"markdown":     `[ \r\n\t\S]+`,
	"oid":          `urn:oid:[0-2](\.(0|[1-9][0-9]*))+`,
	"string":       `[ \r\n\t\S]+`,
	"time":         `([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?`,
	"uri":          `\S*`,
	"url":          `\S*`,
	"uuid":         `urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
}

var formatSeeds = []string{"", " ", "a", "a b", "a  b", " a", "a ", "a\fb", "a\tb", "1970", "1970-01", "1970-01-01", "0000", "1970-13",
	"1970-01-32", "1970-00-10", "2020-01-01T10:00:00Z", "2020-01-01T10:00:00.123+14:00", "2020-01-01T10:00:00+14:01",
	"2020-01-01T24:00:00Z", "2020-01-01T10:00:60-13:59", "2020-01-01T10:00:00", "2020-01-01T10:00Z", "10:00:00", "10:00:00.",
	"10:00:00.5", "23:59:60", "24:00:00", "urn:oid:1.2.3", "urn:oid:3.1", "urn:oid:1.02", "urn:oid:1", "urn:oid:1.", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
	"urn:uuid:C757873D-ec9a-4326-a141-556f43239520", "QUJD", "QUJD RA==", "QU JD", "QUJ", " QUJD ", "QUJD\n", "a-b.C9",
	"0123456789012345678901234567890123456789012345678901234567890123", "01234567890123456789012345678901234567890123456789012345678901234", "é", "\xff"}

// FuzzFormatsAgreeWithRegex: every Go scanner accepts exactly what the StructureDefinition regex
// of its primitive accepts.
func FuzzFormatsAgreeWithRegex(f *testing.F) {
	for _, s := range formatSeeds {
		f.Add(s)
	}
	res := map[string]*regexp.Regexp{}
	for name, r := range r4Regex {
		res[name] = regexp.MustCompile("^(?:" + r + ")$")
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, fast := range fastFormats {
			re := res[name]
			if got, want := fast(s), re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, regex %s says %v", name, s, got, re, want)
			}
		}
	})
}

func TestFastFormatsCoverRegexTypes(t *testing.T) {
	m := validator(t).core.m
	for name := range fastFormats {
		if tp := m.types[name]; tp == nil || tp.re == nil {
			t.Errorf("fast format %s has no primitive with a regex", name)
		} else if tp.pattern != r4Regex[name] {
			t.Errorf("%s: the StructureDefinition regex is %s; the fuzz table has %s", name, tp.pattern, r4Regex[name])
		}
	}
}

func TestPlainWord(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			x := uint64(0)
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(b[i])
			}
			want := c != '"' && c != '\\' && c >= 0x20 && c < 0x80
			if got := plainWord(x); got != want {
				t.Fatalf("plainWord with byte 0x%02x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}

func TestValidNumber(t *testing.T) {
	for s, want := range map[string]bool{"0": true, "-0": true, "1.5e-3": true, "10": true, "1E+2": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "1e": false, "abc": false, "1 ": false, "+1": false} {
		if got := validNumber(s); got != want {
			t.Errorf("validNumber(%q) = %v, want %v", s, got, want)
		}
	}
}
