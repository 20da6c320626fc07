package structure

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parse decodes JSON into map[string]any / []any / json.Number / string / bool / nil, the shapes
// encoding/json gives with UseNumber, while catching what encoding/json hides: duplicate keys
// (the last one wins, as in encoding/json) and invalid UTF-8 (replaced by U+FFFD). Depth is
// bounded. A syntax error stops the parse.

type seg struct {
	key string
	idx int // -1 for an object key
}

type parseFinding struct {
	rule    string
	message string
	diag    string
	ptr     []seg // where, inside the value (nil for the whole document)
}

type syntaxError struct {
	offset int
	msg    string
	depth  bool // the nesting limit, not a syntax error
}

type parser struct {
	data     []byte
	src      string // one copy of data: unescaped strings and numbers are slices of it (no allocation each)
	pos      int
	maxDepth int
	depth    int
	stack    []seg
	found    []parseFinding
	err      *syntaxError
	badUTF8  bool
	// keys interns property names (the model's), saving an allocation per known key.
	keys map[string]string
}

func parseJSON(data []byte, maxDepth int) (any, []parseFinding, *syntaxError) {
	return parseJSONKeys(data, maxDepth, nil)
}

func parseJSONKeys(data []byte, maxDepth int, keys map[string]string) (any, []parseFinding, *syntaxError) {
	p := &parser{data: data, src: string(data), maxDepth: maxDepth, keys: keys}
	// A UTF-8 byte-order mark is tolerated (RFC 8259 lets parsers ignore it).
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		p.pos = 3
	}
	p.ws()
	v := p.value()
	if p.err == nil {
		p.ws()
		if p.pos < len(p.data) {
			p.fail("unexpected content after the top-level value")
		}
	}
	if p.err != nil {
		return nil, p.found, p.err
	}
	return v, p.found, nil
}

func (p *parser) fail(msg string) {
	if p.err == nil {
		p.err = &syntaxError{offset: p.pos, msg: msg}
	}
}

func (p *parser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() any {
	if p.pos >= len(p.data) {
		p.fail("unexpected end of input")
		return nil
	}
	switch c := p.data[p.pos]; c {
	case '{':
		return p.object()
	case '[':
		return p.array()
	case '"':
		return p.str()
	case 't':
		return p.lit("true", true)
	case 'f':
		return p.lit("false", false)
	case 'n':
		return p.lit("null", nil)
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.number()
		}
		p.fail(fmt.Sprintf("unexpected character %s", quoteByte(c)))
		return nil
	}
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *parser) lit(word string, v any) any {
	if len(p.data)-p.pos >= len(word) && string(p.data[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return v
	}
	p.fail("invalid literal (expected " + word + ")")
	return nil
}

func (p *parser) enter() bool {
	p.depth++
	if p.depth > p.maxDepth {
		p.fail(fmt.Sprintf("nesting deeper than %d levels", p.maxDepth))
		p.err.depth = true
		return false
	}
	return true
}

func (p *parser) object() any {
	if !p.enter() {
		return nil
	}
	defer func() { p.depth-- }()
	p.pos++ // {
	m := make(map[string]any)
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return m
	}
	for {
		p.ws()
		if p.pos >= len(p.data) {
			p.fail("unexpected end of input inside an object")
			return nil
		}
		if p.data[p.pos] != '"' {
			p.fail("expected a property name in double quotes")
			return nil
		}
		k := p.key()
		if p.err != nil {
			return nil
		}
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			p.fail("expected ':' after a property name")
			return nil
		}
		p.pos++
		p.ws()
		p.stack = append(p.stack, seg{key: k, idx: -1})
		v := p.value()
		if p.err != nil {
			return nil
		}
		if _, dup := m[k]; dup {
			ptr := append([]seg(nil), p.stack...)
			p.found = append(p.found, parseFinding{rule: RuleDuplicateKey,
				message: "the same property appears twice in one JSON object; the last value is used",
				diag:    "property " + strconv.Quote(k), ptr: ptr})
		}
		p.stack = p.stack[:len(p.stack)-1]
		m[k] = v
		p.ws()
		if p.pos >= len(p.data) {
			p.fail("unexpected end of input inside an object")
			return nil
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return m
		default:
			p.fail("expected ',' or '}' in an object")
			return nil
		}
	}
}

func (p *parser) array() any {
	if !p.enter() {
		return nil
	}
	defer func() { p.depth-- }()
	p.pos++ // [
	a := make([]any, 0, 4)
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a
	}
	for {
		p.ws()
		p.stack = append(p.stack, seg{idx: len(a)})
		v := p.value()
		p.stack = p.stack[:len(p.stack)-1]
		if p.err != nil {
			return nil
		}
		a = append(a, v)
		p.ws()
		if p.pos >= len(p.data) {
			p.fail("unexpected end of input inside an array")
			return nil
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return a
		default:
			p.fail("expected ',' or ']' in an array")
			return nil
		}
	}
}

func (p *parser) number() any {
	start := p.pos
	d := p.data
	i := p.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		p.fail("invalid number")
		return nil
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			p.fail("invalid number: digits expected after '.'")
			return nil
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			p.fail("invalid number: digits expected in the exponent")
			return nil
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return json.Number(p.src[start:i])
}

// key reads a property name: an interned string when it is a known one without escapes.
func (p *parser) key() string {
	if p.keys != nil {
		d := p.data
		for i := p.pos + 1; i < len(d); i++ {
			c := d[i]
			if c == '"' {
				if k, ok := p.keys[string(d[p.pos+1:i])]; ok {
					p.pos = i + 1
					return k
				}
				break
			}
			if c == '\\' || c < 0x20 || c >= 0x80 {
				break
			}
		}
	}
	return p.str()
}

// str reads a JSON string starting at the opening quote.
func (p *parser) str() string {
	d := p.data
	i := p.pos + 1
	start := i
	// Fast path: plain ASCII without escapes, eight bytes at a time.
	for i+8 <= len(d) && plainWord(binary.LittleEndian.Uint64(d[i:])) {
		i += 8
	}
	for i < len(d) {
		c := d[i]
		if c == '"' {
			p.pos = i + 1
			return p.src[start:i]
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
		i++
	}
	buf := make([]byte, 0, i-start+16)
	buf = append(buf, d[start:i]...)
	for {
		if i >= len(d) {
			p.pos = i
			p.fail("unexpected end of input inside a string")
			return ""
		}
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(buf)
		case c < 0x20:
			p.pos = i
			p.fail("control character inside a string (must be escaped)")
			return ""
		case c == '\\':
			if i+1 >= len(d) {
				p.pos = i
				p.fail("unexpected end of input inside a string")
				return ""
			}
			switch e := d[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
				i += 2
			case 'b':
				buf = append(buf, '\b')
				i += 2
			case 'f':
				buf = append(buf, '\f')
				i += 2
			case 'n':
				buf = append(buf, '\n')
				i += 2
			case 'r':
				buf = append(buf, '\r')
				i += 2
			case 't':
				buf = append(buf, '\t')
				i += 2
			case 'u':
				r, ok := hex4(d, i+2)
				if !ok {
					p.pos = i
					p.fail("invalid \\u escape in a string")
					return ""
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(-1), false
					if i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
						r2, ok2 = hex4(d, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.pos = i
				p.fail("invalid escape in a string")
				return ""
			}
		case c < 0x80:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				if !p.badUTF8 {
					p.badUTF8 = true
					ptr := append([]seg(nil), p.stack...)
					p.found = append(p.found, parseFinding{rule: RuleEncoding,
						message: fmt.Sprintf("invalid UTF-8 at byte offset %d (FHIR JSON is UTF-8); replaced by U+FFFD", i), ptr: ptr})
				}
				buf = utf8.AppendRune(buf, utf8.RuneError)
				i++
				continue
			}
			buf = append(buf, d[i:i+size]...)
			i += size
		}
	}
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// plainWord reports whether none of the eight bytes is '"', '\\', a control character or
// non-ASCII (SWAR: the high bit of a lane flags it).
func plainWord(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (ones * '"')
	bslash := x ^ (ones * '\\')
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	below20 := (x - ones*0x20) & ^x & highs
	return (hasZero(quote) | hasZero(bslash) | below20 | x&highs) == 0
}

// lineCol turns a byte offset into 1-based line and column.
func lineCol(data []byte, off int) (line, col int) {
	if off > len(data) {
		off = len(data)
	}
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
