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

var (
	keyAlt = `access_token|refresh_token|id_token|client_secret|code_verifier|code|password|client_assertion|token|assertion`
	// key=value in URLs and form bodies: the key must start the string or follow ? & ; or space.
	reQuery = regexp.MustCompile(`(?i)(^|[?&;\s])(` + keyAlt + `)=([^&#\s"']*)`)
	// "key": "value" in JSON (closing quote optional: bodies may be truncated).
	reJSON = regexp.MustCompile(`(?i)("(?:` + keyAlt + `)"\s*:\s*)"(?:[^"\\]|\\.)*"?`)
	// JSON "code" only outside FHIR resources (Coding.code is data, not a secret).
	reJSONNoCode = regexp.MustCompile(`(?i)("(?:access_token|refresh_token|id_token|client_secret|code_verifier|password|client_assertion|token|assertion)"\s*:\s*)"(?:[^"\\]|\\.)*"?`)
	reBearer     = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*`)
	// Compact JWS/JWE anywhere (id_tokens, client assertions, JWT access tokens).
	reJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*)?`)
)

// Redact masks secrets in s: values of SecretKeys in URL queries, form bodies and JSON, bearer and
// basic credentials, and compact JWTs. It is idempotent and safe on truncated input. The JSON
// member "code" is left alone in FHIR resources (text containing "resourceType").
func Redact(s string) string {
	if s == "" {
		return s
	}
	s = reQuery.ReplaceAllString(s, "${1}${2}="+Mask)
	if strings.Contains(s, `"resourceType"`) {
		s = reJSONNoCode.ReplaceAllString(s, `${1}"`+Mask+`"`)
	} else {
		s = reJSON.ReplaceAllString(s, `${1}"`+Mask+`"`)
	}
	s = reBearer.ReplaceAllString(s, "${1} "+Mask)
	s = reJWT.ReplaceAllString(s, Mask)
	return s
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
