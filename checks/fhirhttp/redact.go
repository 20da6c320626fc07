package fhirhttp

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Mask replaces every secret value in evidence.
const Mask = "***"

// SecretKeys are the parameter / JSON member names whose values are always masked.
var SecretKeys = []string{
	"access_token", "refresh_token", "id_token", "client_secret", "code", "code_verifier",
	"password", "client_assertion", "token", "assertion",
}

// secretHeaders are masked whole (Authorization keeps its scheme word).
var secretHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
}

// reJWT finds compact JWS/JWE anywhere (id_tokens, client assertions, JWT access tokens).
var reJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*)?`)

// Redact masks secrets in s: values of SecretKeys in URL queries and form bodies (key=value after
// start, ?, #, &, ; or a space) and in JSON ("key": "value"; a cut-off value too), bearer and basic
// credentials, and compact JWTs. It is idempotent and safe on truncated input. The JSON member
// "code" is left alone in FHIR resources (text containing "resourceType"): Coding.code is data.
// Keys match case-insensitively. It scans with strings.Index, not regular expressions, so that
// large evidence bodies stay cheap.
func Redact(s string) string {
	if s == "" {
		return s
	}
	low := asciiLower(s)
	fhir := strings.Contains(s, `"resourceType"`)
	var spans []span
	for _, k := range SecretKeys {
		spans = queryValues(s, low, k, spans)
		if k == "code" && fhir {
			continue
		}
		spans = jsonValues(s, low, k, spans)
	}
	for _, w := range []string{"bearer", "basic"} {
		spans = credentials(s, low, w, spans)
	}
	out := applySpans(s, spans)
	if strings.Contains(out, "eyJ") {
		out = reJWT.ReplaceAllString(out, Mask)
	}
	return out
}

// span replaces s[start:end] with repl.
type span struct {
	start, end int
	repl       string
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// queryValues finds key=value with the key at the start or after ? & ; or whitespace.
func queryValues(s, low, key string, spans []span) []span {
	pat := key + "="
	for i := 0; i < len(low); {
		j := strings.Index(low[i:], pat)
		if j < 0 {
			break
		}
		j += i
		i = j + len(pat)
		if j > 0 && !(low[j-1] == '?' || low[j-1] == '&' || low[j-1] == ';' || low[j-1] == '#' || isSpace(low[j-1])) {
			continue
		}
		e := i
		for e < len(s) && !strings.ContainsRune("&#\"' \t\r\n", rune(s[e])) {
			e++
		}
		spans = append(spans, span{i, e, Mask})
		i = e
	}
	return spans
}

// jsonValues finds "key" : "value" (the closing quote may be missing in cut-off bodies).
func jsonValues(s, low, key string, spans []span) []span {
	pat := `"` + key + `"`
	for i := 0; i < len(low); {
		j := strings.Index(low[i:], pat)
		if j < 0 {
			break
		}
		j += i
		i = j + len(pat)
		p := i
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p >= len(s) || s[p] != ':' {
			continue
		}
		p++
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p >= len(s) || s[p] != '"' {
			continue
		}
		e := p + 1
		for e < len(s) && s[e] != '"' {
			if s[e] == '\\' {
				e++
			}
			e++
		}
		if e < len(s) {
			e++ // closing quote
		} else {
			e = len(s)
		}
		spans = append(spans, span{p, e, `"` + Mask + `"`})
		// Resume right after the key, not the value: in broken JSON a value's closing quote can
		// open the next key.
	}
	return spans
}

func isWordChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// credentials finds "<word> <token>" (word at a word boundary, token of 8 or more token68
// characters, not all lowercase letters).
func credentials(s, low, word string, spans []span) []span {
	for i := 0; i < len(low); {
		j := strings.Index(low[i:], word)
		if j < 0 {
			break
		}
		j += i
		i = j + len(word)
		if j > 0 && isWordChar(low[j-1]) {
			continue
		}
		p := i
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p == i {
			continue
		}
		e := p
		for e < len(s) && isTokenChar(s[e]) {
			e++
		}
		// Ordinary words ("Basic information") are not credentials: require 8 or more characters
		// with at least one that is not a lowercase letter.
		if e-p < 8 || !strings.ContainsFunc(s[p:e], func(r rune) bool { return r < 'a' || r > 'z' }) {
			continue
		}
		for e < len(s) && s[e] == '=' {
			e++
		}
		spans = append(spans, span{i, e, " " + Mask})
		i = e
	}
	return spans
}

// applySpans replaces the spans, earliest first; overlapping spans are masked as their union.
func applySpans(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
	var b strings.Builder
	b.Grow(len(s))
	pos := 0
	for _, sp := range spans {
		if sp.start < pos {
			// Overlap: the union is masked by the earlier replacement.
			if sp.end > pos {
				pos = sp.end
			}
			continue
		}
		b.WriteString(s[pos:sp.start])
		b.WriteString(sp.repl)
		pos = sp.end
	}
	b.WriteString(s[pos:])
	return b.String()
}

// RedactHeaders copies h with secret headers masked and other values passed through Redact.
func RedactHeaders(h http.Header) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		cp := make([]string, len(vs))
		for i, v := range vs {
			switch {
			case ck == "Authorization" || ck == "Proxy-Authorization":
				if sp := strings.IndexByte(v, ' '); sp > 0 {
					cp[i] = v[:sp] + " " + Mask
				} else {
					cp[i] = Mask
				}
			case secretHeaders[ck]:
				cp[i] = Mask
			default:
				cp[i] = Redact(v)
			}
		}
		out[ck] = cp
	}
	return out
}

// Secrets is a set of exact values (tokens, passwords) masked wherever they appear. It is safe for
// concurrent use; the zero value is ready.
type Secrets struct {
	mu   sync.RWMutex
	vals map[string]bool
}

// Add registers values; values shorter than 4 characters are ignored (they would mask ordinary text).
func (s *Secrets) Add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vals == nil {
		s.vals = map[string]bool{}
	}
	for _, v := range vals {
		if len(v) >= 4 {
			s.vals[v] = true
		}
	}
}

// Redact applies the package Redact and then masks every registered value.
func (s *Secrets) Redact(text string) string {
	text = Redact(text)
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.vals) == 0 {
		return text
	}
	// Longest first so a secret containing another is masked whole.
	keys := make([]string, 0, len(s.vals))
	for k := range s.vals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		text = strings.ReplaceAll(text, k, Mask)
	}
	return text
}

// RedactHeaders is the package RedactHeaders followed by masking every registered value.
func (s *Secrets) RedactHeaders(h http.Header) map[string][]string {
	out := RedactHeaders(h)
	for _, vs := range out {
		for i := range vs {
			vs[i] = s.Redact(vs[i])
		}
	}
	return out
}
