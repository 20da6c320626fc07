package transport

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pacheck/pacheck/checks/issue"
)

// RuleCORS: a cross-origin request from an origin the server must permit is not permitted.
const RuleCORS = "cors.not-permitted"

// Origin is the scheme://host[:port] of an absolute http(s) URL, or "" for anything else.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// CheckCORS judges the answer to a simple cross-origin request (a GET or form POST that needs no
// preflight) sent with the Origin header origin: a browser hands the response to the app only
// when Access-Control-Allow-Origin is "*" or exactly that origin (Fetch standard, CORS check).
// what names the endpoint in messages. A response that is not 2xx is judged too: a browser reads
// an error only through the same header, and an endpoint's CORS policy does not depend on the
// outcome; the caller decides whether a failed request can be judged at all.
func CheckCORS(what, origin string, status int, h http.Header) issue.List {
	vals := h.Values("Access-Control-Allow-Origin")
	switch {
	case len(vals) == 0:
		return issue.List{{Severity: issue.Error, Rule: RuleCORS, Path: what,
			Message: fmt.Sprintf("%s: expected Access-Control-Allow-Origin permitting origin %s, got no Access-Control-Allow-Origin header (HTTP %d)", what, origin, status)}}
	case len(vals) > 1:
		// Fetch: more than one value makes the CORS check fail.
		return issue.List{{Severity: issue.Error, Rule: RuleCORS, Path: what,
			Message: fmt.Sprintf("%s: expected one Access-Control-Allow-Origin value, got %d (a browser refuses the response)", what, len(vals)), Diagnostics: strings.Join(vals, ", ")}}
	}
	v := strings.TrimSpace(vals[0])
	if v == "*" || v == origin {
		return nil
	}
	return issue.List{{Severity: issue.Error, Rule: RuleCORS, Path: what,
		Message: fmt.Sprintf("%s: expected Access-Control-Allow-Origin \"*\" or %s, got another value (HTTP %d)", what, origin, status), Diagnostics: clipValue(v)}}
}

// clipValue bounds a server-supplied header value quoted in a diagnostic.
func clipValue(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// CheckPreflight judges the answer to a CORS preflight (OPTIONS with Access-Control-Request-Method
// method and Access-Control-Request-Headers headers) sent from origin: a browser sends the actual
// request only after an ok status (2xx) whose Access-Control-Allow-Origin permits the origin and
// whose Access-Control-Allow-Headers names every requested header. The wildcard "*" never covers
// Authorization (Fetch standard), so a request carrying a bearer token needs it named. A method
// the Fetch standard safelists (GET, HEAD, POST) needs no Access-Control-Allow-Methods.
func CheckPreflight(what, origin, method string, headers []string, status int, h http.Header) issue.List {
	if status < 200 || status > 299 {
		return issue.List{{Severity: issue.Error, Rule: RuleCORS, Path: what,
			Message: fmt.Sprintf("%s: expected the CORS preflight from %s to succeed (HTTP 2xx), got HTTP %d", what, origin, status)}}
	}
	out := CheckCORS(what+" (preflight)", origin, status, h)
	allowed := map[string]bool{}
	for _, v := range h.Values("Access-Control-Allow-Headers") {
		for _, f := range strings.Split(v, ",") {
			allowed[strings.ToLower(strings.TrimSpace(f))] = true
		}
	}
	for _, x := range headers {
		x = strings.ToLower(x)
		if allowed[x] || (allowed["*"] && x != "authorization") {
			continue
		}
		out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleCORS, Path: what,
			Message: fmt.Sprintf("%s (preflight): expected Access-Control-Allow-Headers to allow %s, got %q", what, x, clipValue(strings.Join(h.Values("Access-Control-Allow-Headers"), ", ")))})
	}
	switch strings.ToUpper(method) {
	case "GET", "HEAD", "POST":
	default:
		ok := false
		for _, v := range h.Values("Access-Control-Allow-Methods") {
			for _, f := range strings.Split(v, ",") {
				f = strings.TrimSpace(f)
				ok = ok || strings.EqualFold(f, method) || f == "*"
			}
		}
		if !ok {
			out = append(out, issue.Issue{Severity: issue.Error, Rule: RuleCORS, Path: what,
				Message: fmt.Sprintf("%s (preflight): expected Access-Control-Allow-Methods to allow %s", what, method)})
		}
	}
	return out
}
