package validate

import (
	"fmt"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// Narrative rules txt-1 and txt-2 (R4 Narrative.div, expression htmlChecks()), evaluated natively:
// FHIRPath has no XHTML parser. R4 narrative.html#xhtml: the div "SHALL contain only the basic
// HTML formatting elements and attributes described in chapters 7-11 (except section 4 of chapter
// 9) and 15 of the HTML 4.0 standard, <a> elements (either name or href), images and internally
// contained style attributes"; no head, body, scripts, forms, frames, objects, event attributes,
// external stylesheets; and it "SHALL have some non-whitespace content". The element and attribute
// lists are the HL7 Java validator's (FHIRPathEngine.checkHtmlNames), so both validators agree.
//
// The scanner is a small hand-written XML tokenizer rather than encoding/xml: narratives are more
// than half the bytes of typical resources, and encoding/xml would roughly double validation time.
// It checks what the rules need (element and attribute names, nesting, the root div and its
// namespace, content) and is bounded: linear in the text, nesting limited to maxXHTMLDepth.

const (
	xhtmlNS       = "http://www.w3.org/1999/xhtml"
	maxXHTMLDepth = 128
)

// xhtmlElem: the allowed elements. Switches rather than maps: they are looked up for every tag
// and attribute of every narrative, and a string switch is several times cheaper than hashing.
func xhtmlElem(name string) bool {
	switch name {
	case "p", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "b", "em", "i", "strong",
		"small", "big", "tt", "dfn", "q", "var", "abbr", "acronym", "cite", "blockquote", "hr", "address", "bdo", "kbd", "sub", "sup",
		"ul", "ol", "li", "dl", "dt", "dd", "pre", "table", "caption", "colgroup", "col", "thead", "tr", "tfoot", "tbody", "th", "td",
		"code", "samp", "img", "map", "area":
		return true
	}
	return false
}

// xhtmlAttr: the attributes allowed on every element (xmlns and xmlns:* too), then those allowed
// on one element only.
func xhtmlAttr(elem, name string) bool {
	switch name {
	case "title", "style", "class", "id", "lang", "xml:lang", "dir", "accesskey", "tabindex",
		"span", "width", "align", "valign", "char", "charoff", "abbr", "axis", "headers", "scope", "rowspan", "colspan", "xmlns":
		return true
	}
	if strings.HasPrefix(name, "xmlns:") {
		return true
	}
	switch elem {
	case "a":
		switch name {
		case "href", "name", "charset", "type", "hreflang", "rel", "rev", "shape", "coords":
			return true
		}
	case "img":
		switch name {
		case "src", "border", "alt", "longdesc", "height", "usemap", "ismap":
			return true
		}
	case "blockquote", "q":
		return name == "cite"
	case "map":
		return name == "name"
	case "area":
		switch name {
		case "shape", "coords", "href", "nohref", "alt":
			return true
		}
	case "table":
		switch name {
		case "summary", "border", "frame", "rules", "cellspacing", "cellpadding":
			return true
		}
	case "pre":
		return name == "space" || name == "xml:space"
	case "td":
		return name == "nowrap"
	}
	return false
}

// checkNarrative applies txt-1 and txt-2 to a Narrative.div value, when element c carries them.
func (w *walker) checkNarrative(c *Elem, s string) {
	if w.quiet > 0 || w.v.opts.NoInvariants {
		return // probing a match: the narrative does not decide it, and is reported once
	}
	var txt1, txt2 *Constraint
	for _, k := range c.Constraints {
		if k.Expression != "htmlChecks()" {
			continue
		}
		switch k.Key {
		case "txt-1":
			txt1 = k
		case "txt-2":
			txt2 = k
		}
	}
	if txt1 == nil && txt2 == nil {
		return
	}
	problem, content := scanXHTML(s)
	if txt1 != nil && problem != "" {
		w.add(constraintSeverity(txt1), "invariant:txt-1", c, "", fmt.Sprintf("narrative may contain only basic HTML: %s", problem))
	}
	if txt2 != nil && !content && problem == "" {
		w.add(constraintSeverity(txt2), "invariant:txt-2", c, "", "narrative must have some non-whitespace content (text or an image)")
	}
}

func constraintSeverity(c *Constraint) issue.Severity {
	if c.Severity == "warning" {
		return issue.Warning
	}
	return issue.Error
}

// scanXHTML returns the first txt-1 problem of an XHTML fragment ("" when none) and whether it has
// content in the sense of txt-2: non-whitespace text or an img element.
func scanXHTML(s string) (problem string, content bool) {
	var stackBuf [16]string
	stack := stackBuf[:0]
	rootDone := false
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			text := s[i : i+j]
			if hasText(text) {
				if len(stack) == 0 {
					return "text outside the root <div>", content
				}
				content = true
			}
			i += j
			continue
		}
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			j := strings.Index(rest[4:], "-->")
			if j < 0 {
				return "unterminated comment (not well-formed XML)", content
			}
			i += 4 + j + 3
			continue
		case strings.HasPrefix(rest, "<![CDATA["):
			j := strings.Index(rest, "]]>")
			if j < 0 {
				return "unterminated CDATA section (not well-formed XML)", content
			}
			if len(stack) == 0 {
				return "text outside the root <div>", content
			}
			if strings.TrimSpace(rest[9:j]) != "" {
				content = true
			}
			i += j + 3
			continue
		case strings.HasPrefix(rest, "<?"):
			j := strings.Index(rest, "?>")
			if j < 0 {
				return "unterminated processing instruction (not well-formed XML)", content
			}
			i += j + 2
			continue
		case strings.HasPrefix(rest, "<!"):
			return "a DOCTYPE or other declaration is not allowed", content
		case strings.HasPrefix(rest, "</"):
			j := strings.IndexByte(rest, '>')
			if j < 0 {
				return "unterminated end tag (not well-formed XML)", content
			}
			name := strings.TrimRight(rest[2:j], " \t\r\n")
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return fmt.Sprintf("end tag </%s> does not match an open element (not well-formed XML)", clip(name)), content
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				rootDone = true
			}
			i += j + 1
			continue
		}
		// a start tag
		name, attrs, n, self, bad := parseStartTag(rest)
		if bad != "" {
			return bad, content
		}
		local := name
		if k := strings.IndexByte(name, ':'); k >= 0 {
			local = name[k+1:]
		}
		if len(stack) == 0 {
			if rootDone {
				return "more than one root element (the narrative is one <div>)", content
			}
			if local != "div" {
				return fmt.Sprintf("the root element must be a <div>, found <%s>", clip(name)), content
			}
			if ns := attrValue(attrs, "xmlns"); ns != xhtmlNS && !strings.Contains(name, ":") {
				return fmt.Sprintf("the root <div> must be in the XHTML namespace (xmlns=%q), found %q", xhtmlNS, clip(ns)), content
			}
		}
		if !xhtmlElem(local) {
			return fmt.Sprintf("element <%s> is not allowed", clip(name)), content
		}
		if p := badAttr(local, attrs); p != "" {
			return p, content
		}
		if local == "img" {
			content = true
		}
		i += n
		if !self {
			if len(stack) >= maxXHTMLDepth {
				return fmt.Sprintf("elements nested deeper than %d levels", maxXHTMLDepth), content
			}
			stack = append(stack, name)
		} else if len(stack) == 0 {
			rootDone = true
		}
	}
	if len(stack) > 0 {
		return fmt.Sprintf("<%s> is not closed (not well-formed XML)", clip(stack[len(stack)-1])), content
	}
	if !rootDone {
		return "no root <div> element", content
	}
	return "", content
}

// parseStartTag reads "<name attr='v' ...>" at the start of s: the name, the raw attribute text,
// the tag's length, whether it is self-closing, and a problem when it is not well-formed.
func parseStartTag(s string) (name, attrs string, n int, self bool, bad string) {
	i := 1
	for i < len(s) && !isXMLSpace(s[i]) && s[i] != '>' && s[i] != '/' {
		i++
	}
	name = s[1:i]
	if name == "" {
		return "", "", 0, false, "a '<' that starts no element (escape it as &lt;)"
	}
	start := i
	for i < len(s) {
		switch c := s[i]; {
		case c == '>':
			return name, s[start:i], i + 1, false, ""
		case c == '/' && i+1 < len(s) && s[i+1] == '>':
			return name, s[start:i], i + 2, true, ""
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return "", "", 0, false, fmt.Sprintf("unterminated attribute value in <%s> (not well-formed XML)", clip(name))
			}
			i += j + 2
		default:
			i++
		}
	}
	return "", "", 0, false, fmt.Sprintf("unterminated start tag <%s> (not well-formed XML)", clip(name))
}

// eachAttr calls f with each name="value" pair of raw attribute text; it returns a problem when
// the text is not well-formed.
func eachAttr(attrs string, f func(name, value string) string) string {
	i := 0
	for {
		for i < len(attrs) && isXMLSpace(attrs[i]) {
			i++
		}
		if i >= len(attrs) {
			return ""
		}
		j := i
		for j < len(attrs) && attrs[j] != '=' && !isXMLSpace(attrs[j]) {
			j++
		}
		name := attrs[i:j]
		for j < len(attrs) && isXMLSpace(attrs[j]) {
			j++
		}
		if j >= len(attrs) || attrs[j] != '=' {
			return fmt.Sprintf("attribute %s has no value (not well-formed XML)", clip(name))
		}
		j++
		for j < len(attrs) && isXMLSpace(attrs[j]) {
			j++
		}
		if j >= len(attrs) || (attrs[j] != '"' && attrs[j] != '\'') {
			return fmt.Sprintf("attribute %s has an unquoted value (not well-formed XML)", clip(name))
		}
		q := attrs[j]
		k := strings.IndexByte(attrs[j+1:], q)
		if k < 0 {
			return fmt.Sprintf("attribute %s has an unterminated value (not well-formed XML)", clip(name))
		}
		if p := f(name, attrs[j+1:j+1+k]); p != "" {
			return p
		}
		i = j + 1 + k + 1
	}
}

func attrValue(attrs, want string) string {
	var out string
	eachAttr(attrs, func(name, value string) string {
		if name == want {
			out = value
		}
		return ""
	})
	return out
}

func badAttr(elem, attrs string) string {
	return eachAttr(attrs, func(name, _ string) string {
		if xhtmlAttr(elem, name) {
			return ""
		}
		return fmt.Sprintf("attribute %s is not allowed on <%s>", clip(name), clip(elem))
	})
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// hasText reports whether XML character data has non-whitespace content.
func hasText(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isXMLSpace(s[i]) {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
