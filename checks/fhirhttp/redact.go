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
	// launch binds an EHR launch to the portal session that issued it (SMART "launch": an opaque
	// identifier the app passes back to authorize): as good as a code to whoever holds it.
	"launch",
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

// Redact masks secrets in s by what they are, and leaves messages readable ("code_verifier: 3
// error(s)", "no access token: expected HTTP 401", "Basic information"):
//   - values of SecretKeys in URL queries and form bodies (key=value after start, ?, #, &, ; or a
//     space) and in JSON ("key": "value"; a cut-off value too), always;
//   - "key: value" text (not for "code") when the value looks like a secret (LooksSecret);
//   - Authorization/Proxy-Authorization text: the credential after a scheme word, or a token-like
//     value; Cookie/Set-Cookie text whose value holds name=value pairs;
//   - bearer and basic credentials (CredentialLike), compact JWTs, URL user info.
//
// It is idempotent and safe on truncated input. The JSON member "code" is left alone in FHIR
// resources (text containing "resourceType"): Coding.code is data. Keys match
// case-insensitively. It scans with strings.Index, one pass per key, not regular expressions, so
// that large evidence bodies stay cheap.
func Redact(s string) string {
	if s == "" {
		return s
	}
	out := applySpans(s, secretSpans(s, false))
	if strings.Contains(out, "eyJ") {
		out = reJWT.ReplaceAllString(out, Mask)
	}
	return out
}

// secretSpans finds what Redact masks, compact JWTs aside. skipCode leaves the key "code" alone
// everywhere (a FHIR search URL: code= is a search parameter there); otherwise it is left alone
// only as a JSON member of FHIR resources.
func secretSpans(s string, skipCode bool) []span {
	low := asciiLower(s)
	fhir := strings.Contains(s, `"resourceType"`)
	var spans []span
	for _, k := range SecretKeys {
		if k == "code" && skipCode {
			continue
		}
		spans = keyValues(s, low, k, k == "code" && fhir, k != "code", spans)
	}
	for _, w := range []string{"bearer", "basic"} {
		spans = credentials(s, low, w, spans)
	}
	spans = headerText(s, low, "authorization", spans)
	spans = headerText(s, low, "cookie", spans)
	return userInfo(s, spans)
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

// keyValues finds, for each occurrence of key: key=value (the key at the start or after ? & ; #
// or whitespace), "key" : "value" (unless skipJSON; the closing quote may be missing in cut-off
// bodies) and, when text is set, key: value text whose value looks like a secret.
func keyValues(s, low, key string, skipJSON, text bool, spans []span) []span {
	for i := 0; i < len(low); {
		j := strings.Index(low[i:], key)
		if j < 0 {
			break
		}
		j += i
		a := j + len(key)
		i = a
		var before byte
		if j > 0 {
			before = low[j-1]
		}
		switch {
		case a < len(s) && s[a] == '=':
			if j > 0 && !(before == '?' || before == '&' || before == ';' || before == '#' || isSpace(before)) {
				continue
			}
			e := a + 1
			for e < len(s) && !strings.ContainsRune("&#\"' \t\r\n", rune(s[e])) {
				e++
			}
			spans = append(spans, span{a + 1, e, Mask})
			i = e
		case before == '"' && a < len(s) && s[a] == '"':
			if skipJSON {
				continue
			}
			if sp, ok := jsonValue(s, a+1); ok {
				spans = append(spans, sp)
			}
			// Resume right after the key, not the value: in broken JSON a value's closing quote
			// can open the next key.
		case text && (j == 0 || isSpace(before) || before == '{' || before == ',' || before == '('):
			if sp, ok := textValue(s, a); ok {
				spans = append(spans, sp)
			}
		}
	}
	return spans
}

// jsonValue masks the string value after a JSON member name that ended at p: ws ':' ws '"'.
func jsonValue(s string, p int) (span, bool) {
	for p < len(s) && isSpace(s[p]) {
		p++
	}
	if p >= len(s) || s[p] != ':' {
		return span{}, false
	}
	p++
	for p < len(s) && isSpace(s[p]) {
		p++
	}
	if p >= len(s) || s[p] != '"' {
		return span{}, false
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
	return span{p, e, `"` + Mask + `"`}, true
}

// textValue masks the value of "name: value" text after a name that ended at p, when the value
// looks like a secret.
func textValue(s string, p int) (span, bool) {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	if p >= len(s) || s[p] != ':' {
		return span{}, false
	}
	p++
	v := p
	for v < len(s) && isSpace(s[v]) {
		v++
	}
	if v == p {
		return span{}, false // "key:value" is a URN or a path, not a label
	}
	e := v
	for e < len(s) && !isSpace(s[e]) && !strings.ContainsRune("\"',})", rune(s[e])) {
		e++
	}
	if e == v || !LooksSecret(s[v:e]) {
		return span{}, false
	}
	return span{v, e, Mask}, true
}

// IsAuthScheme reports whether word (any case) is an HTTP authentication scheme: in
// Authorization text, what follows one is a credential.
func IsAuthScheme(word string) bool { return authSchemes[strings.ToLower(word)] }

var authSchemes = map[string]bool{"bearer": true, "basic": true, "digest": true, "negotiate": true, "ntlm": true,
	"dpop": true, "hawk": true, "mac": true, "aws4-hmac-sha256": true, "apikey": true, "token": true, "oauth": true}

// headerText finds "Authorization: value" or "Cookie: value" text (also Proxy-Authorization,
// Set-Cookie and JSON members of those names). An Authorization value keeps its scheme word and
// loses the rest; without a scheme it is masked when a word of it looks like a secret. A Cookie
// value is masked when it holds name=value pairs.
func headerText(s, low, name string, spans []span) []span {
	for i := 0; i < len(low); {
		j := strings.Index(low[i:], name)
		if j < 0 {
			break
		}
		j += i
		i = j + len(name)
		b := j // where the header name starts
		if name == "authorization" && strings.HasSuffix(low[:j], "proxy-") {
			b -= len("proxy-")
		} else if name == "cookie" && strings.HasSuffix(low[:j], "set-") {
			b -= len("set-")
		}
		if b > 0 && !(isSpace(low[b-1]) || strings.IndexByte(`"'{,;`, low[b-1]) >= 0) {
			continue
		}
		p := i
		if p < len(s) && s[p] == '"' {
			p++
		}
		for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
			p++
		}
		if p >= len(s) || (s[p] != ':' && !(s[p] == '=' && name == "authorization")) {
			continue
		}
		p++
		for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
			p++
		}
		if p < len(s) && s[p] == '"' {
			p++
		}
		e := p
		for e < len(s) && s[e] != '"' && s[e] != '\r' && s[e] != '\n' && s[e] != '}' {
			e++
		}
		v := s[p:e]
		if strings.TrimSpace(v) == "" {
			continue
		}
		if name == "cookie" {
			if strings.Contains(v, "=") {
				spans = append(spans, span{p, e, Mask})
			}
			continue
		}
		w, rest, _ := strings.Cut(v, " ")
		switch {
		case IsAuthScheme(w):
			if strings.TrimSpace(rest) != "" {
				spans = append(spans, span{p + len(w), e, " " + Mask})
			}
		case anyField(v, LooksSecret):
			spans = append(spans, span{p, e, Mask})
		}
		i = e
	}
	return spans
}

func anyField(v string, f func(string) bool) bool {
	for _, w := range strings.Fields(v) {
		if f(w) {
			return true
		}
	}
	return false
}

// userInfo finds the user info of URLs (scheme://user:password@host) and masks it.
func userInfo(s string, spans []span) []span {
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		p := i + j + 3
		i = p
		e := p
		for e < len(s) && !isSpace(s[e]) && strings.IndexByte(`/?#"'<>\`, s[e]) < 0 {
			e++
		}
		if at := strings.LastIndexByte(s[p:e], '@'); at > 0 && s[p:p+at] != Mask {
			spans = append(spans, span{p, p + at, Mask})
		}
		i = e
	}
	return spans
}

// LooksSecret judges the value of a "name: value" text: a secret is a token-like string, not a
// count, a date, a word or words joined by -_./ ("3", "expected", "invalid_grant",
// "us-core-patient"). Letters with digits (hunter2, tokens), symbols (P@ss!), long runs of
// letters (opaque tokens) and mixed-case runs (base64) are secrets; a value with brackets is
// prose ("error(s)") and one with '*' is already masked.
func LooksSecret(v string) bool {
	v = strings.TrimRight(v, ".,;:")
	if len(v) < 6 {
		return false
	}
	var letters, digits, seps, other int
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c >= 0x80:
			letters++
		case '0' <= c && c <= '9':
			digits++
		case c == '-' || c == '_' || c == '.' || c == '/' || c == ':':
			seps++
		case c == '(' || c == ')' || c == '[' || c == ']' || c == '*':
			return false
		default:
			other++
		}
	}
	switch {
	case letters > 0 && digits > 0:
		return true
	case letters == 0:
		return other > 0 || len(v) >= 16
	case other > 0:
		return true
	case seps > 0:
		return len(v) >= 32
	}
	return len(v) >= 20 || (len(v) >= 8 && !plainWord(v))
}

// CredentialLike judges what follows Bearer or Basic: a credential has 8 or more characters and
// is not a plain word ("Bearer tokens", "Basic information", "Basic Authentication").
func CredentialLike(v string) bool { return len(v) >= 8 && !plainWord(v) }

// plainWord: ASCII letters only, all lower case, all upper case or capitalised.
func plainWord(v string) bool {
	if v == "" {
		return false
	}
	upperAfterFirst, lower := false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upperAfterFirst = upperAfterFirst || i > 0
		default:
			return false
		}
	}
	return !(upperAfterFirst && lower)
}

func isWordChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// credentials finds "<word> <token>" (word at a word boundary, token of token68 characters that
// is CredentialLike).
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
		if !CredentialLike(s[p:e]) { // "Basic information" is not a credential
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
