package validate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 200

// jsonParser is a single-pass decoder into map[string]any / []any / string / bool / json.Number
// / nil, with positions in its errors. It is several times faster than encoding/json's
// interface decoding because it scans once.
type jsonParser struct {
	b     []byte
	i     int
	depth int
	err   error
	dup   string // first duplicate key seen
}

func (p *jsonParser) fail(format string, args ...any) {
	if p.err == nil {
		line, col := 1, 1
		for _, c := range p.b[:min(p.i, len(p.b))] {
			if c == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		p.err = fmt.Errorf("line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
	}
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func parseJSONValue(b []byte) (any, error) {
	p := &jsonParser{b: b}
	// skip a UTF-8 BOM
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		p.i = 3
	}
	p.ws()
	v := p.value()
	if p.err != nil {
		return nil, p.err
	}
	p.ws()
	if p.i != len(p.b) {
		p.fail("extra data after the JSON value")
		return nil, p.err
	}
	if p.dup != "" {
		return v, fmt.Errorf("duplicate property %q", p.dup)
	}
	return v, nil
}

func (p *jsonParser) value() any {
	if p.err != nil {
		return nil
	}
	if p.i >= len(p.b) {
		p.fail("unexpected end of input (truncated?)")
		return nil
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil
		}
		return s
	case c == 't':
		return p.lit("true", true)
	case c == 'f':
		return p.lit("false", false)
	case c == 'n':
		return p.lit("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		p.fail("unexpected character %q", rune(c))
		return nil
	}
}

func (p *jsonParser) lit(w string, v any) any {
	if len(p.b)-p.i < len(w) || string(p.b[p.i:p.i+len(w)]) != w {
		if len(p.b)-p.i < len(w) {
			p.fail("unexpected end of input (truncated?)")
		} else {
			p.fail("invalid literal")
		}
		return nil
	}
	p.i += len(w)
	return v
}

func (p *jsonParser) enter() bool {
	p.depth++
	if p.depth > maxJSONDepth {
		p.fail("nesting deeper than %d levels", maxJSONDepth)
		return false
	}
	return true
}

func (p *jsonParser) object() any {
	if !p.enter() {
		return nil
	}
	p.i++ // {
	m := make(map[string]any, 8)
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		return m
	}
	for {
		p.ws()
		if p.i >= len(p.b) {
			p.fail("unexpected end of input in an object (truncated?)")
			return nil
		}
		if p.b[p.i] != '"' {
			p.fail("expected a property name in quotes")
			return nil
		}
		k, ok := p.str()
		if !ok {
			return nil
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			if p.i >= len(p.b) {
				p.fail("unexpected end of input (truncated?)")
			} else {
				p.fail("expected ':' after property name")
			}
			return nil
		}
		p.i++
		p.ws()
		v := p.value()
		if p.err != nil {
			return nil
		}
		if _, dup := m[k]; dup && p.dup == "" {
			p.dup = k
		}
		m[k] = v
		p.ws()
		if p.i >= len(p.b) {
			p.fail("unexpected end of input in an object (truncated?)")
			return nil
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return m
		default:
			p.fail("expected ',' or '}' in an object")
			return nil
		}
	}
}

func (p *jsonParser) array() any {
	if !p.enter() {
		return nil
	}
	p.i++
	a := make([]any, 0, 4)
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		return a
	}
	for {
		p.ws()
		v := p.value()
		if p.err != nil {
			return nil
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(p.b) {
			p.fail("unexpected end of input in an array (truncated?)")
			return nil
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return a
		default:
			p.fail("expected ',' or ']' in an array")
			return nil
		}
	}
}

func (p *jsonParser) number() any {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	intStart := p.i
	if digits() == 0 {
		p.fail("invalid number")
		return nil
	}
	if p.b[intStart] == '0' && p.i-intStart > 1 {
		p.fail("invalid number (leading zero)")
		return nil
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			p.fail("invalid number")
			return nil
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			p.fail("invalid number")
			return nil
		}
	}
	return json.Number(p.b[start:p.i])
}

func (p *jsonParser) str() (string, bool) {
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := string(p.b[start:p.i])
			p.i++
			return s, true
		}
		if c == '\\' {
			return p.strSlow(start)
		}
		if c < 0x20 {
			p.fail("control character in a string")
			return "", false
		}
		if c >= 0x80 {
			r, n := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && n <= 1 {
				p.fail("invalid UTF-8 in a string")
				return "", false
			}
			p.i += n
			continue
		}
		p.i++
	}
	p.fail("unexpected end of input in a string (truncated?)")
	return "", false
}

func (p *jsonParser) strSlow(start int) (string, bool) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), true
		case c == '\\':
			if p.i+1 >= len(p.b) {
				p.fail("unexpected end of input in a string (truncated?)")
				return "", false
			}
			e := p.b[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", false
				}
				if utf16.IsSurrogate(r) {
					if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
						p.i += 2
						r2, ok := p.hex4()
						if !ok {
							return "", false
						}
						r = utf16.DecodeRune(r, r2)
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.fail("invalid escape \\%c", e)
				return "", false
			}
		case c < 0x20:
			p.fail("control character in a string")
			return "", false
		default:
			buf = append(buf, c)
			p.i++
		}
	}
	p.fail("unexpected end of input in a string (truncated?)")
	return "", false
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		p.fail("unexpected end of input in a \\u escape")
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		p.fail("invalid \\u escape")
		return 0, false
	}
	p.i += 4
	return rune(v), true
}
