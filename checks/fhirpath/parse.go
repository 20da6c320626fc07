package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SyntaxError is returned by Compile for expressions that do not parse (or use unknown
// functions or wrong argument counts).
type SyntaxError struct {
	Expr     string // the expression (truncated to 200 bytes)
	Offset   int    // byte offset of the problem
	Line     int    // 1-based line
	Col      int    // 1-based column (in runes)
	Expected string // what the parser expected, if known
	Found    string // what it found
	Msg      string // extra detail
}

func (e *SyntaxError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fhirpath: syntax error at line %d col %d (offset %d)", e.Line, e.Col, e.Offset)
	if e.Msg != "" {
		b.WriteString(": " + e.Msg)
	}
	if e.Expected != "" {
		b.WriteString(": expected " + e.Expected)
	}
	if e.Found != "" {
		b.WriteString(", found " + e.Found)
	}
	return b.String()
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tDelimIdent
	tString
	tNumber
	tLong
	tDate
	tDateTime
	tTime
	tOp
	tVar    // $this, $index, $total
	tExtVar // %name
)

type token struct {
	kind tokKind
	text string // identifier name, unescaped string, number text, operator
	pos  int
}

const (
	maxExprLen    = 1 << 20
	maxParseDepth = 256
	maxTokens     = 200000
)

type lexer struct {
	src  string
	pos  int
	toks []token
}

func (l *lexer) errf(pos int, expected, found, msg string) *SyntaxError {
	return newSyntaxError(l.src, pos, expected, found, msg)
}

func newSyntaxError(src string, pos int, expected, found, msg string) *SyntaxError {
	if pos > len(src) {
		pos = len(src)
	}
	line, col := 1, 1
	for i, r := range src[:pos] {
		_ = i
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	e := src
	if len(e) > 200 {
		e = e[:200]
	}
	return &SyntaxError{Expr: e, Offset: pos, Line: line, Col: col, Expected: expected, Found: found, Msg: msg}
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

func (l *lexer) lex() error {
	s := l.src
	for {
		// skip whitespace and comments
		for l.pos < len(s) {
			c := s[l.pos]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' {
				l.pos++
				continue
			}
			if c == '/' && l.pos+1 < len(s) && s[l.pos+1] == '/' {
				for l.pos < len(s) && s[l.pos] != '\n' {
					l.pos++
				}
				continue
			}
			if c == '/' && l.pos+1 < len(s) && s[l.pos+1] == '*' {
				end := strings.Index(s[l.pos+2:], "*/")
				if end < 0 {
					return l.errf(l.pos, "end of comment */", "end of expression", "unterminated comment")
				}
				l.pos += end + 4
				continue
			}
			break
		}
		if len(l.toks) > maxTokens {
			return l.errf(l.pos, "", "", "expression too long")
		}
		if l.pos >= len(s) {
			l.toks = append(l.toks, token{kind: tEOF, pos: l.pos})
			return nil
		}
		start := l.pos
		c := s[l.pos]
		switch {
		case isIdentStart(c):
			for l.pos < len(s) && isIdentChar(s[l.pos]) {
				l.pos++
			}
			l.toks = append(l.toks, token{kind: tIdent, text: s[start:l.pos], pos: start})
		case c == '`':
			str, err := l.quoted('`')
			if err != nil {
				return err
			}
			l.toks = append(l.toks, token{kind: tDelimIdent, text: str, pos: start})
		case c == '\'':
			str, err := l.quoted('\'')
			if err != nil {
				return err
			}
			l.toks = append(l.toks, token{kind: tString, text: str, pos: start})
		case isDigit(c):
			for l.pos < len(s) && isDigit(s[l.pos]) {
				l.pos++
			}
			if l.pos+1 < len(s) && s[l.pos] == '.' && isDigit(s[l.pos+1]) {
				l.pos++
				for l.pos < len(s) && isDigit(s[l.pos]) {
					l.pos++
				}
			}
			if l.pos < len(s) && s[l.pos] == 'L' && (l.pos+1 >= len(s) || !isIdentChar(s[l.pos+1])) {
				l.toks = append(l.toks, token{kind: tLong, text: s[start:l.pos], pos: start})
				l.pos++
				break
			}
			l.toks = append(l.toks, token{kind: tNumber, text: s[start:l.pos], pos: start})
		case c == '@':
			if err := l.dateLiteral(); err != nil {
				return err
			}
		case c == '$':
			l.pos++
			for l.pos < len(s) && isIdentChar(s[l.pos]) {
				l.pos++
			}
			name := s[start:l.pos]
			if name != "$this" && name != "$index" && name != "$total" {
				return l.errf(start, "$this, $index or $total", strconv.Quote(name), "")
			}
			l.toks = append(l.toks, token{kind: tVar, text: name, pos: start})
		case c == '%':
			l.pos++
			if l.pos >= len(s) {
				return l.errf(l.pos, "variable name", "end of expression", "")
			}
			switch {
			case s[l.pos] == '`':
				str, err := l.quoted('`')
				if err != nil {
					return err
				}
				l.toks = append(l.toks, token{kind: tExtVar, text: str, pos: start})
			case s[l.pos] == '\'':
				str, err := l.quoted('\'')
				if err != nil {
					return err
				}
				l.toks = append(l.toks, token{kind: tExtVar, text: str, pos: start})
			case isIdentStart(s[l.pos]):
				b := l.pos
				for l.pos < len(s) && isIdentChar(s[l.pos]) {
					l.pos++
				}
				l.toks = append(l.toks, token{kind: tExtVar, text: s[b:l.pos], pos: start})
			default:
				return l.errf(l.pos, "variable name", strconv.Quote(s[l.pos:l.pos+1]), "")
			}
		default:
			two := ""
			if l.pos+1 < len(s) {
				two = s[l.pos : l.pos+2]
			}
			switch two {
			case "<=", ">=", "!=", "!~":
				l.toks = append(l.toks, token{kind: tOp, text: two, pos: start})
				l.pos += 2
				continue
			}
			switch c {
			case '.', '[', ']', '(', ')', '{', '}', ',', '+', '-', '*', '/', '|', '&', '=', '~', '<', '>':
				l.toks = append(l.toks, token{kind: tOp, text: s[l.pos : l.pos+1], pos: start})
				l.pos++
			default:
				r, _ := utf8.DecodeRuneInString(s[l.pos:])
				return l.errf(l.pos, "", strconv.QuoteRune(r), "unexpected character")
			}
		}
	}
}

// quoted reads a quoted string or delimited identifier with FHIRPath escapes.
func (l *lexer) quoted(q byte) (string, error) {
	s := l.src
	start := l.pos
	l.pos++
	var b strings.Builder
	for {
		if l.pos >= len(s) {
			return "", l.errf(start, "closing "+string(q), "end of expression", "unterminated literal")
		}
		c := s[l.pos]
		if c == q {
			l.pos++
			return b.String(), nil
		}
		if c != '\\' {
			b.WriteByte(c)
			l.pos++
			continue
		}
		if l.pos+1 >= len(s) {
			return "", l.errf(l.pos, "escape sequence", "end of expression", "")
		}
		e := s[l.pos+1]
		l.pos += 2
		switch e {
		case '\'', '"', '`', '\\', '/':
			b.WriteByte(e)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if l.pos+4 > len(s) {
				return "", l.errf(l.pos-2, "\\uXXXX", "end of expression", "")
			}
			n, err := strconv.ParseUint(s[l.pos:l.pos+4], 16, 32)
			if err != nil {
				return "", l.errf(l.pos-2, "\\uXXXX", strconv.Quote(s[l.pos-2:l.pos+4]), "")
			}
			b.WriteRune(rune(n))
			l.pos += 4
		default:
			return "", l.errf(l.pos-2, "escape sequence", strconv.Quote(s[l.pos-2:l.pos]), "")
		}
	}
}

func (l *lexer) digits(n int) bool {
	if l.pos+n > len(l.src) {
		return false
	}
	for i := 0; i < n; i++ {
		if !isDigit(l.src[l.pos+i]) {
			return false
		}
	}
	return true
}

func (l *lexer) timePart() {
	s := l.src
	if !l.digits(2) {
		return
	}
	l.pos += 2
	if l.pos < len(s) && s[l.pos] == ':' {
		l.pos++
		if !l.digits(2) {
			l.pos--
			return
		}
		l.pos += 2
		if l.pos < len(s) && s[l.pos] == ':' {
			l.pos++
			if !l.digits(2) {
				l.pos--
				return
			}
			l.pos += 2
			if l.pos+1 < len(s) && s[l.pos] == '.' && isDigit(s[l.pos+1]) {
				l.pos++
				for l.pos < len(s) && isDigit(s[l.pos]) {
					l.pos++
				}
			}
		}
	}
}

func (l *lexer) dateLiteral() error {
	s := l.src
	start := l.pos
	l.pos++
	if l.pos < len(s) && s[l.pos] == 'T' {
		l.pos++
		b := l.pos
		l.timePart()
		if l.pos == b {
			return l.errf(b, "time after @T", "", "")
		}
		l.toks = append(l.toks, token{kind: tTime, text: s[b:l.pos], pos: start})
		return nil
	}
	b := l.pos
	if !l.digits(4) {
		return l.errf(l.pos, "date, dateTime or time literal after @", "", "")
	}
	l.pos += 4
	for k := 0; k < 2 && l.pos < len(s) && s[l.pos] == '-'; k++ {
		l.pos++
		if !l.digits(2) {
			return l.errf(l.pos, "two-digit month or day", "", "")
		}
		l.pos += 2
	}
	kind := tDate
	if l.pos < len(s) && s[l.pos] == 'T' {
		kind = tDateTime
		l.pos++
		l.timePart()
		if l.pos < len(s) {
			switch s[l.pos] {
			case 'Z':
				l.pos++
			case '+', '-':
				if l.pos+6 <= len(s) && l.src[l.pos+3] == ':' {
					save := l.pos
					l.pos++
					if l.digits(2) {
						l.pos += 3
						if l.digits(2) {
							l.pos += 2
						} else {
							l.pos = save
						}
					} else {
						l.pos = save
					}
				}
			}
		}
	}
	l.toks = append(l.toks, token{kind: kind, text: s[b:l.pos], pos: start})
	return nil
}

// ---- parser ----

type parser struct {
	src    string
	toks   []token
	i      int
	depth  int
	depths map[node]int // height of each built node, to bound evaluation recursion
}

// maxTreeHeight bounds the height of the syntax tree (long chains like a.b.c… or
// 1+1+1… nest without recursion in the parser but recurse when evaluated).
const maxTreeHeight = 1000

func (p *parser) track(n node, pos int, kids ...node) error {
	h := 1
	for _, k := range kids {
		if k == nil {
			continue
		}
		d, ok := p.depths[k]
		if !ok {
			d = 1
		}
		h = max(h, d+1)
	}
	if h > maxTreeHeight {
		return newSyntaxError(p.src, pos, "", "", fmt.Sprintf("expression nested deeper than %d levels", maxTreeHeight))
	}
	if p.depths == nil {
		p.depths = map[node]int{}
	}
	p.depths[n] = h
	return nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return "string " + strconv.Quote(t.text)
	case tIdent, tDelimIdent:
		return "identifier " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

func (p *parser) errAt(t token, expected string) *SyntaxError {
	return newSyntaxError(p.src, t.pos, expected, describe(t), "")
}

func (p *parser) isOp(text string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == text
}

func (p *parser) expectOp(text string) error {
	t := p.next()
	if t.kind != tOp || t.text != text {
		return p.errAt(t, strconv.Quote(text))
	}
	return nil
}

// binary operator precedence (higher binds tighter)
func infixPrec(t token) int {
	switch t.kind {
	case tOp:
		switch t.text {
		case "*", "/":
			return 10
		case "+", "-", "&":
			return 9
		case "|":
			return 7
		case "<", ">", "<=", ">=":
			return 6
		case "=", "~", "!=", "!~":
			return 5
		}
	case tIdent:
		switch t.text {
		case "div", "mod":
			return 10
		case "is", "as":
			return 8
		case "in", "contains":
			return 4
		case "and":
			return 3
		case "or", "xor":
			return 2
		case "implies":
			return 1
		}
	}
	return 0
}

func (p *parser) parseExpr(minPrec int) (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth {
		return nil, newSyntaxError(p.src, p.peek().pos, "", "", fmt.Sprintf("expression nested deeper than %d levels", maxParseDepth))
	}
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		prec := infixPrec(t)
		if prec == 0 || prec <= minPrec-1 || prec < minPrec {
			return left, nil
		}
		p.next()
		if t.kind == tIdent && (t.text == "is" || t.text == "as") {
			ts, err := p.parseTypeSpec()
			if err != nil {
				return nil, err
			}
			left = &typeOpNode{op: t.text, x: left, ts: ts}
			if err := p.track(left, t.pos, left.(*typeOpNode).x); err != nil {
				return nil, err
			}
			continue
		}
		right, err := p.parseExpr(prec + 1)
		if err != nil {
			return nil, err
		}
		bin := newBinary(t.text, left, right)
		if err := p.track(bin, t.pos, left, right); err != nil {
			return nil, err
		}
		left = bin
	}
}

func (p *parser) parseUnary() (node, error) {
	if p.isOp("+") || p.isOp("-") {
		op := p.next().text
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxParseDepth {
			return nil, newSyntaxError(p.src, p.peek().pos, "", "", fmt.Sprintf("expression nested deeper than %d levels", maxParseDepth))
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		u := &unaryNode{neg: op == "-", x: x}
		return u, p.track(u, p.peek().pos, x)
	}
	return p.parsePostfix()
}

func (p *parser) parsePostfix() (node, error) {
	n, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.next()
			t := p.next()
			if t.kind != tIdent && t.kind != tDelimIdent {
				return nil, p.errAt(t, "identifier or function name after '.'")
			}
			if t.kind == tIdent && p.isOp("(") {
				n, err = p.parseCall(n, t)
				if err != nil {
					return nil, err
				}
				continue
			}
			m := &memberNode{left: n, name: t.text}
			if err := p.track(m, t.pos, n); err != nil {
				return nil, err
			}
			n = m
		case p.isOp("["):
			p.next()
			idx, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			ix := &indexNode{left: n, idx: idx}
			if err := p.track(ix, p.peek().pos, n, idx); err != nil {
				return nil, err
			}
			n = ix
		default:
			return n, nil
		}
	}
}

func (p *parser) parseTypeSpec() (typeSpec, error) {
	t := p.next()
	if t.kind != tIdent && t.kind != tDelimIdent {
		return typeSpec{}, p.errAt(t, "type name")
	}
	name := t.text
	ns := ""
	if p.isOp(".") && (p.toks[p.i+1].kind == tIdent || p.toks[p.i+1].kind == tDelimIdent) {
		p.next()
		t2 := p.next()
		ns, name = name, t2.text
	}
	return typeSpec{ns: ns, name: name}, nil
}

func (p *parser) parseCall(focus node, name token) (node, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var args []node
	if !p.isOp(")") {
		for {
			a, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.isOp(",") {
				p.next()
				continue
			}
			break
		}
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	fn, ok := functions[name.text]
	if !ok {
		return nil, newSyntaxError(p.src, name.pos, "", "", "unknown function "+strconv.Quote(name.text))
	}
	if len(args) < fn.minArgs || len(args) > fn.maxArgs {
		return nil, newSyntaxError(p.src, name.pos, "", "", fmt.Sprintf("function %s takes %s, got %d", name.text, arity(fn), len(args)))
	}
	c := &callNode{focus: focus, name: name.text, fn: fn, args: args}
	if err := p.track(c, name.pos, append([]node{focus}, args...)...); err != nil {
		return nil, err
	}
	if fn.typeArg {
		ts, ok := typeSpecOf(args[0])
		if !ok {
			return nil, newSyntaxError(p.src, name.pos, "type name", "", "function "+name.text+" needs a type name")
		}
		c.ts = ts
	}
	return c, nil
}

func arity(f *funcDef) string {
	if f.minArgs == f.maxArgs {
		return fmt.Sprintf("%d argument(s)", f.minArgs)
	}
	return fmt.Sprintf("%d to %d arguments", f.minArgs, f.maxArgs)
}

// typeSpecOf reads a type name written as a function argument: is(Patient), as(FHIR.string).
func typeSpecOf(n node) (typeSpec, bool) {
	switch x := n.(type) {
	case *identNode:
		return typeSpec{name: x.name}, true
	case *memberNode:
		if id, ok := x.left.(*identNode); ok {
			return typeSpec{ns: id.name, name: x.name}, true
		}
	}
	return typeSpec{}, false
}

func (p *parser) parseTerm() (node, error) {
	t := p.next()
	switch t.kind {
	case tNumber:
		var lit Item
		if strings.IndexByte(t.text, '.') >= 0 {
			d, ok := ParseDecimal(t.text)
			if !ok {
				return nil, p.errAt(t, "number")
			}
			lit = Item{k: kDec, v: d}
		} else {
			n, err := strconv.ParseInt(t.text, 10, 64)
			if err != nil {
				d, ok := ParseDecimal(t.text)
				if !ok {
					return nil, p.errAt(t, "number")
				}
				lit = Item{k: kDec, v: d}
			} else {
				lit = Item{k: kInt, v: n}
			}
		}
		// quantity literal: number followed by a unit string or calendar keyword
		u := p.peek()
		if u.kind == tString || u.kind == tIdent && isCalendarUnit(u.text) {
			p.next()
			d, _ := lit.decVal()
			return &literalNode{c: Collection{{k: kQty, v: Quantity{Value: d, Unit: u.text}}}}, nil
		}
		return &literalNode{c: Collection{lit}}, nil
	case tLong:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, p.errAt(t, "64-bit integer")
		}
		return &literalNode{c: Collection{{k: kInt, v: n}}}, nil
	case tString:
		return &literalNode{c: Collection{{k: kStr, v: t.text}}}, nil
	case tDate:
		d, ok := ParseDate(t.text)
		if !ok {
			if dt, ok2 := ParseDateTime(t.text, true); ok2 {
				return &literalNode{c: Collection{{k: kDateTime, v: dt}}}, nil
			}
			return nil, newSyntaxError(p.src, t.pos, "valid date", "@"+t.text, "")
		}
		return &literalNode{c: Collection{{k: kDate, v: d}}}, nil
	case tDateTime:
		d, ok := ParseDateTime(t.text, true)
		if !ok {
			return nil, newSyntaxError(p.src, t.pos, "valid dateTime", "@"+t.text, "")
		}
		return &literalNode{c: Collection{{k: kDateTime, v: d}}}, nil
	case tTime:
		d, ok := ParseTime(t.text)
		if !ok {
			return nil, newSyntaxError(p.src, t.pos, "valid time", "@T"+t.text, "")
		}
		return &literalNode{c: Collection{{k: kTime, v: d}}}, nil
	case tVar:
		return &varNode{name: t.text}, nil
	case tExtVar:
		return &extVarNode{name: t.text}, nil
	case tDelimIdent:
		return &identNode{name: t.text}, nil
	case tIdent:
		switch t.text {
		case "true":
			return &literalNode{c: Collection{trueItem}}, nil
		case "false":
			return &literalNode{c: Collection{falseItem}}, nil
		}
		if p.isOp("(") {
			return p.parseCall(nil, t)
		}
		return &identNode{name: t.text}, nil
	case tOp:
		switch t.text {
		case "(":
			x, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return x, nil
		case "{":
			if err := p.expectOp("}"); err != nil {
				return nil, err
			}
			return &literalNode{}, nil
		}
	}
	return nil, p.errAt(t, "expression term (literal, identifier, function, variable or '(')")
}

func parse(src string) (node, error) {
	if len(src) > maxExprLen {
		return nil, newSyntaxError(src, 0, "", "", fmt.Sprintf("expression longer than %d bytes", maxExprLen))
	}
	if !utf8.ValidString(src) {
		return nil, newSyntaxError(src, 0, "", "", "expression is not valid UTF-8")
	}
	l := &lexer{src: src}
	if err := l.lex(); err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: l.toks}
	n, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "operator or end of expression")
	}
	return n, nil
}
