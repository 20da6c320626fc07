package reports

import (
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/pacheck/pacheck/checks/evidence"
	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/issue"
)

// Mask replaces every secret value.
const Mask = "***"

var (
	secretNames = `access_token|refresh_token|id_token|client_secret|client_assertion|password|code_verifier|token`
	// Authorization: Bearer x / "authorization": "Basic y" / Proxy-Authorization=... The name
	// starts a field (not "pdex-priorauthorization: 2 error(s)"); group 3 is the value, to the
	// end of the line or JSON string (Digest parameters are comma-separated).
	reAuthHeader = regexp.MustCompile(`(?i)(^|[\s"'{,;])((?:proxy-)?authorization"?\s*[:=]\s*"?)([^"\r\n}]*)`)
	// Cookie: a=b / Set-Cookie: a=b; HttpOnly (group 3 is the value).
	reCookieHeader = regexp.MustCompile(`(?i)(^|[\s"'{,;])((?:set-)?cookie"?\s*:\s*"?)([^"\r\n}]*)`)
	// Bearer/Basic credentials (group 3), masked only when they look like one.
	reBearer = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]+=*)`)
	// access_token=xyz in URLs, form bodies, logs.
	reParam = regexp.MustCompile(`(?i)\b(` + secretNames + `)=([^&\s"'#<>]*)`)
	// "access_token": "xyz" in JSON.
	reJSON = regexp.MustCompile(`(?i)("(?:` + secretNames + `)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	// access_token: xyz in YAML-ish text (group 4 is the value), masked only when the value looks
	// like a secret: "code_verifier: 3 error(s)" stays.
	reColon = regexp.MustCompile(`(?i)(^|[\s{,(])(` + secretNames + `)(\s*:\s+)([^\s"',})]+)`)
	// JWS compact serialisations (JWTs: access tokens, id tokens, client assertions).
	reJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	// ANSI terminal colour codes (from console-oriented messages).
	reANSI = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
	// user:password@ (or a token as the user) in URLs.
	reUserInfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@"'<>]+@`)
)

// Redact masks secrets in free text by what they are, even when a client already redacted them,
// and leaves ordinary words and numbers readable ("code_verifier: 3 error(s)", "no access token:
// expected HTTP 401", "Basic information"). Masked: Authorization/Proxy-Authorization values
// (a scheme such as Bearer, or a token-like word), Cookie/Set-Cookie values, Bearer/Basic
// credentials (8 or more token characters, not a plain word), JWTs, URL user info, and the values
// of access_token, refresh_token, id_token, client_secret, client_assertion, password,
// code_verifier and token as query/form parameters and JSON members (always) or as "name: value"
// text (when the value looks like a secret: fhirhttp.LooksSecret). It also replaces each byte of
// invalid UTF-8 with U+FFFD, as encoding/json does, and drops ANSI colour codes. It is idempotent.
func Redact(s string) string {
	if s == "" {
		return s
	}
	s = validUTF8(s)
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = reANSI.ReplaceAllString(s, "")
	}
	// Cheap literal gates first: most evidence (resource JSON) contains no secret-looking word,
	// and the regular expressions are slow on megabytes of text. Neither the gates nor a pattern
	// that finds nothing copies the text.
	if authFieldCandidate(s) {
		s = maskGroup(reAuthHeader, s, 3, authValueSecret)
	}
	if containsFold(s, "cookie") {
		s = maskGroup(reCookieHeader, s, 3, func(v string) bool { return strings.Contains(v, "=") })
	}
	if containsFold(s, "bearer") || containsFold(s, "basic") {
		s = maskGroup(reBearer, s, 3, fhirhttp.CredentialLike)
	}
	if strings.Contains(s, "eyJ") {
		s = replace(reJWT, s, Mask)
	}
	if containsFold(s, "token") || containsFold(s, "secret") || containsFold(s, "assertion") || containsFold(s, "password") || containsFold(s, "verifier") {
		s = replace(reParam, s, "${1}="+Mask)
		s = replace(reJSON, s, `${1}"`+Mask+`"`)
		s = maskGroup(reColon, s, 4, fhirhttp.LooksSecret)
	}
	if strings.Contains(s, "@") && strings.Contains(s, "://") {
		s = replace(reUserInfo, s, "${1}"+Mask+"@")
	}
	return s
}

// maskGroup replaces submatch g of each match of re with Mask where secret says so; s itself is
// returned (no copy) when nothing is masked.
func maskGroup(re *regexp.Regexp, s string, g int, secret func(string) bool) string {
	ms := re.FindAllStringSubmatchIndex(s, -1)
	var b strings.Builder
	pos := 0
	for _, m := range ms {
		st, en := m[2*g], m[2*g+1]
		if st < 0 || st == en || !secret(s[st:en]) {
			continue
		}
		if pos == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[pos:st])
		b.WriteString(Mask)
		pos = en
	}
	if pos == 0 {
		return s
	}
	b.WriteString(s[pos:])
	return b.String()
}

// authValueSecret: an Authorization value is a credential when it starts with a scheme or holds a
// token-like word ("Authorization: 2 error(s)" is a message, not a header).
func authValueSecret(v string) bool {
	f := strings.Fields(v)
	if len(f) == 0 {
		return false
	}
	if fhirhttp.IsAuthScheme(f[0]) {
		return true
	}
	for _, w := range f {
		if fhirhttp.LooksSecret(w) {
			return true
		}
	}
	return false
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// replace is re.ReplaceAllString that returns s itself (no copy) when re does not match.
func replace(re *regexp.Regexp, s, repl string) string {
	if !re.MatchString(s) {
		return s
	}
	return re.ReplaceAllString(s, repl)
}

// authFieldCandidate is a necessary condition for reAuthHeader to match: "authorization"
// (any letter case) followed by an optional quote, spaces and ':' or '='. PDex resources name
// "pdex-priorauthorization" in every profile URL; there the regular expression (slow on
// megabytes) has nothing to find and does not run.
func authFieldCandidate(s string) bool {
	const word = "authorization"
	for i := 0; i+len(word) <= len(s); i++ {
		if s[i]|0x20 != 'a' || !strings.EqualFold(s[i:i+len(word)], word) {
			continue
		}
		j := i + len(word)
		if j < len(s) && s[j] == '"' {
			j++
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '\f') {
			j++
		}
		if j < len(s) && (s[j] == ':' || s[j] == '=') {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains word (lower-case ASCII) in any letter case, without
// building a lower-case copy of s.
func containsFold(s, word string) bool {
	n := len(word)
	for i := 0; i+n <= len(s); i++ {
		if s[i]|0x20 == word[0] && strings.EqualFold(s[i:i+n], word) {
			return true
		}
	}
	return false
}

// secretHeaders are masked whole.
var secretHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Api-Key": true, "Api-Key": true, "X-Auth-Token": true,
}

// RedactHeaders returns a copy of h with secret headers masked and other values redacted.
func RedactHeaders(h map[string][]string) map[string][]string {
	if h == nil {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		canon := http.CanonicalHeaderKey(k)
		nv := make([]string, len(vs))
		for i, v := range vs {
			if secretHeaders[canon] || strings.Contains(strings.ToLower(k), "secret") || strings.Contains(strings.ToLower(k), "token") {
				nv[i] = Mask
			} else {
				nv[i] = Redact(v)
			}
		}
		out[k] = nv
	}
	return out
}

// RedactEntry returns a copy of e with every server- or client-supplied string redacted.
func RedactEntry(e evidence.Entry) evidence.Entry {
	e.Title = Redact(e.Title)
	e.Text = Redact(e.Text)
	e.Resource = Redact(e.Resource)
	if e.Exchange != nil {
		x := *e.Exchange
		x.URL = Redact(x.URL)
		x.RequestHeaders = RedactHeaders(x.RequestHeaders)
		x.ResponseHeaders = RedactHeaders(x.ResponseHeaders)
		x.RequestBody = Redact(x.RequestBody)
		x.ResponseBody = Redact(x.ResponseBody)
		x.Error = Redact(x.Error)
		e.Exchange = &x
	}
	if len(e.Issues) > 0 {
		is := make([]issue.Issue, len(e.Issues))
		copy(is, e.Issues)
		for i := range is {
			is[i].Message = Redact(is[i].Message)
			is[i].Diagnostics = Redact(is[i].Diagnostics)
			is[i].Path = Redact(is[i].Path)
			is[i].Expected = Redact(is[i].Expected)
			is[i].Actual = Redact(is[i].Actual)
		}
		e.Issues = is
	}
	if e.Screenshot != nil {
		f := *e.Screenshot
		f.URL = Redact(f.URL)
		e.Screenshot = &f
	}
	if e.MustSupport != nil {
		m := *e.MustSupport
		m.Searched = append([]string(nil), m.Searched...)
		for i := range m.Searched {
			m.Searched[i] = Redact(m.Searched[i])
		}
		e.MustSupport = &m
	}
	return e
}
