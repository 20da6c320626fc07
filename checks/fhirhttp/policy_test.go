package fhirhttp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Credentials the policy tests send; none may ever reach the attacker listener.
const (
	secBearer   = "BEARER-SECRET-1111"
	secBasic    = "BASIC-SECRET-2222"
	secForm     = "FORM-SECRET-3333"
	secVerifier = "VERIFIER-SECRET-4444"
	secQuery    = "QUERY-SECRET-5555"
	secCookie   = "COOKIE-SECRET-6666"
	secUserinfo = "USERINFO-SECRET-7777"
)

var allSecrets = []string{secBearer, secBasic, base64.StdEncoding.EncodeToString([]byte("client:" + secBasic)),
	secForm, secVerifier, secQuery, secCookie, secUserinfo}

// listener is an httptest server that logs everything it receives (request line, headers, body),
// so a test can assert that no credential ever reached it.
type listener struct {
	*httptest.Server
	mu   sync.Mutex
	log  strings.Builder
	hits int
}

func newListener(t *testing.T, tlsOn bool, h http.HandlerFunc) *listener {
	t.Helper()
	l := &listener{}
	fn := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.hits++
		fmt.Fprintf(&l.log, "%s %s\n", r.Method, r.URL.RequestURI())
		for k, vs := range r.Header {
			fmt.Fprintf(&l.log, "%s: %s\n", k, strings.Join(vs, ","))
		}
		l.log.Write(body)
		l.log.WriteString("\n")
		l.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", FHIRJSON)
		fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset"}`)
	})
	if tlsOn {
		l.Server = httptest.NewTLSServer(fn)
	} else {
		l.Server = httptest.NewServer(fn)
	}
	t.Cleanup(l.Close)
	return l
}

func (l *listener) report() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hits, l.log.String()
}

// leaked returns the first of the test secrets found in s, or "".
func leaked(s string) string {
	for _, sec := range allSecrets {
		if strings.Contains(s, sec) {
			return sec
		}
	}
	return ""
}

// redirectTo answers with a bare redirect (no body quoting the Location).
func redirectTo(loc string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", loc)
		w.WriteHeader(status)
	}
}

// policyClient returns a client for target; with a TLS target it trusts the test certificate.
func policyClient(t *testing.T, target *listener, o Options) *Client {
	t.Helper()
	if target.TLS != nil {
		o.Transport = target.Client().Transport
	}
	return newClient(t, target.URL+"/fhir", o)
}

// TestCredentialsNeverCrossRedirects: for every redirect status, every kind of credential, and a
// target on http or https, nothing secret reaches the other origin's listener; a body or a query
// credential is never carried across, and the refused redirect is returned as data.
func TestCredentialsNeverCrossRedirects(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("client:"+secBasic))
	form := "grant_type=authorization_code&client_secret=" + secForm + "&code_verifier=" + secVerifier
	cases := []struct {
		name string
		opts Options
		req  func(target string) *Request
		// follows says whether the client may follow this redirect status (without credentials).
		follows func(status int) bool
	}{
		{"bearer from TokenSource", Options{TokenSource: StaticToken(secBearer)},
			func(string) *Request { return &Request{URL: "Patient/1"} },
			func(int) bool { return true }},
		{"caller Basic header on GET", Options{},
			func(string) *Request {
				return &Request{URL: "Patient/1", Header: http.Header{"Authorization": {basic}}}
			},
			func(int) bool { return true }},
		{"cookie", Options{},
			func(string) *Request {
				return &Request{URL: "Patient/1", Header: http.Header{"Cookie": {"sid=" + secCookie}}}
			},
			func(int) bool { return true }},
		{"client_secret_basic token request", Options{},
			func(string) *Request {
				return &Request{Method: "POST", URL: "token", Body: []byte("grant_type=authorization_code&code_verifier=" + secVerifier),
					Header: http.Header{"Authorization": {basic}, "Content-Type": {"application/x-www-form-urlencoded"}}}
			},
			func(s int) bool { return s != 307 && s != 308 }},
		{"client_secret_post and code_verifier in the body", Options{},
			func(string) *Request {
				return &Request{Method: "POST", URL: "token", Body: []byte(form), Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}
			},
			func(s int) bool { return s != 307 && s != 308 }},
		{"access_token in the query", Options{},
			func(string) *Request { return &Request{URL: "Patient?access_token=" + secQuery} },
			func(int) bool { return false }},
	}
	for _, tlsTarget := range []bool{false, true} {
		for _, status := range []int{301, 302, 303, 307, 308} {
			for _, tc := range cases {
				name := fmt.Sprintf("%s/%d/https-target=%v", tc.name, status, tlsTarget)
				t.Run(name, func(t *testing.T) {
					attacker := newListener(t, false, nil)
					target := newListener(t, tlsTarget, redirectTo(attacker.URL+"/steal", status))
					rec := &recorded{}
					o := tc.opts
					o.Recorder = rec.rec
					c := policyClient(t, target, o)
					resp, err := c.Do(context.Background(), tc.req(target.URL))
					if err != nil {
						t.Fatalf("want the redirect as data or followed, got %v", err)
					}
					hits, log := attacker.report()
					if s := leaked(log); s != "" {
						t.Fatalf("%s reached the other origin:\n%s", s, log)
					}
					if s := leaked(rec.all()); s != "" {
						t.Errorf("%s in evidence", s)
					}
					if tc.follows(status) {
						if hits != 1 || resp.Status != 200 {
							t.Errorf("want the redirect followed without credentials: %d hits, status %d", hits, resp.Status)
						}
					} else if hits != 0 || resp.Status != status || resp.RedirectRefused == "" {
						t.Errorf("want the %d returned as data: %d hits, status %d, refused %q", status, hits, resp.Status, resp.RedirectRefused)
					}
				})
			}
		}
	}
}

// TestSameOriginRedirectKeepsBody: the policy does not over-block: a 307 on the same origin
// re-sends the body and the caller's Authorization, as RFC 9110 requires.
func TestSameOriginRedirectKeepsBody(t *testing.T) {
	var mu sync.Mutex
	var gotBody, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			redirectTo("/token2", 307)(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		gotBody, gotAuth = string(b), r.Header.Get("Authorization")
		mu.Unlock()
		fmt.Fprint(w, `{}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, Options{})
	resp, err := c.Do(context.Background(), &Request{Method: "POST", URL: "/token", Body: []byte("code=abc"),
		Header: http.Header{"Authorization": {"Basic eDp5"}}})
	if err != nil || resp.Status != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if gotBody != "code=abc" || gotAuth != "Basic eDp5" {
		t.Errorf("same-origin 307 lost the body or header: %q %q", gotBody, gotAuth)
	}
}

// TestHTTPSTargetNoCredentialOverHTTP: with an https target, a request to a plain http URL (here
// on the target's own host) carrying credentials is refused before it is sent; one without is
// sent without the token.
func TestHTTPSTargetNoCredentialOverHTTP(t *testing.T) {
	target := newListener(t, true, nil)
	plain := newListener(t, false, nil)
	if !strings.HasPrefix(plain.URL, "http://127.0.0.1:") || !strings.HasPrefix(target.URL, "https://127.0.0.1:") {
		t.Fatalf("want both listeners on 127.0.0.1: %s %s", target.URL, plain.URL)
	}
	c := policyClient(t, target, Options{TokenSource: StaticToken(secBearer)})
	cases := []struct {
		name   string
		req    *Request
		refuse bool
	}{
		{"form body", &Request{Method: "POST", URL: plain.URL + "/token", Body: []byte("client_secret=" + secForm)}, true},
		{"caller Authorization", &Request{URL: plain.URL + "/x", Header: http.Header{"Authorization": {"Basic " + secBasic}}}, true},
		{"query token", &Request{URL: plain.URL + "/x?access_token=" + secQuery}, true},
		{"cookie", &Request{URL: plain.URL + "/x", Header: http.Header{"Cookie": {"a=" + secCookie}}}, true},
		{"plain GET goes without the bearer", &Request{URL: plain.URL + "/Patient"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := plain.report()
			_, err := c.Do(context.Background(), tc.req)
			after, log := plain.report()
			if s := leaked(log); s != "" {
				t.Fatalf("%s went over plain http:\n%s", s, log)
			}
			if tc.refuse {
				if !errors.Is(err, ErrInsecure) || !IsTransport(err) || after != before {
					t.Errorf("want ErrInsecure before sending, got %v (%d new hits)", err, after-before)
				}
				if err != nil && !strings.Contains(err.Error(), "127.0.0.1") {
					t.Errorf("error should name the URL: %v", err)
				}
			} else if err != nil || after != before+1 {
				t.Errorf("want it sent without credentials: %v, %d new hits", err, after-before)
			}
		})
	}
	// The TokenSource bearer still reaches the https target itself.
	if _, err := c.Get(context.Background(), "Patient"); err != nil {
		t.Fatal(err)
	}
	if _, log := target.report(); !strings.Contains(log, "Bearer "+secBearer) {
		t.Errorf("the https target did not get the token:\n%s", log)
	}
	if _, err := New(Options{BaseURL: target.URL, TokenOrigins: []string{plain.URL}}); err == nil {
		t.Error("an http TokenOrigin for an https target was accepted")
	}
}

// TestNextLinksElsewhereWithoutToken: a next link to another origin, to plain http from an https
// target, or with user:pass@ in it, is followed without the token and without URL credentials.
func TestNextLinksElsewhereWithoutToken(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tlsTarget bool
		userinfo  bool
	}{
		{"another origin", false, false},
		{"https to http", true, false},
		{"userinfo in the link", false, true},
		{"https to http with userinfo", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attacker := newListener(t, false, nil)
			next := attacker.URL + "/Patient?page=2"
			if tc.userinfo {
				u, _ := url.Parse(next)
				u.User = url.UserPassword("evil", secUserinfo)
				next = u.String()
			}
			target := newListener(t, tc.tlsTarget, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", FHIRJSON)
				fmt.Fprint(w, bundle("", []string{"a"}, next))
			})
			rec := &recorded{}
			c := policyClient(t, target, Options{TokenSource: StaticToken(secBearer), Recorder: rec.rec})
			p, err := c.SearchAll(context.Background(), "Patient", nil)
			if err != nil {
				t.Fatal(err)
			}
			hits, log := attacker.report()
			if hits != 1 || len(p.Pages) != 2 {
				t.Fatalf("want the next link followed once: %d hits, %d pages", hits, len(p.Pages))
			}
			if s := leaked(log); s != "" || strings.Contains(log, "Authorization") {
				t.Errorf("credential at the other origin:\n%s", log)
			}
			for _, ex := range rec.ex {
				if strings.Contains(ex.URL, secUserinfo) || strings.Contains(ex.URL, "evil@") {
					t.Errorf("userinfo in evidence URL %q", ex.URL)
				}
			}
			if _, tl := target.report(); !strings.Contains(tl, "Bearer "+secBearer) {
				t.Errorf("the target itself did not get the token")
			}
		})
	}
}

// TestUserinfoIgnored: user:pass@ in a redirect Location is never used as credentials (Go's
// client would turn it into Basic auth) and is kept out of evidence; a BaseURL with it is refused.
func TestUserinfoIgnored(t *testing.T) {
	for _, sameOrigin := range []bool{true, false} {
		t.Run(fmt.Sprintf("same-origin=%v", sameOrigin), func(t *testing.T) {
			attacker := newListener(t, false, nil)
			var target *listener
			target = newListener(t, false, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/fhir/start" {
					dst := attacker.URL
					if sameOrigin {
						dst = target.URL
					}
					u, _ := url.Parse(dst + "/fhir/final")
					u.User = url.UserPassword("evil", secUserinfo)
					redirectTo(u.String(), 302)(w, r)
					return
				}
				fmt.Fprint(w, `{}`)
			})
			rec := &recorded{}
			c := newClient(t, target.URL+"/fhir", Options{TokenSource: StaticToken(secBearer), Recorder: rec.rec})
			resp, err := c.Get(context.Background(), "start")
			if err != nil || resp.Status != 200 {
				t.Fatalf("%v %v", resp, err)
			}
			_, alog := attacker.report()
			_, tlog := target.report()
			for _, log := range []string{alog, tlog} {
				if strings.Contains(log, "Authorization: Basic") {
					t.Errorf("userinfo was sent as Basic credentials:\n%s", log)
				}
			}
			if strings.Contains(alog, secBearer) {
				t.Errorf("bearer at the other origin")
			}
			if strings.Contains(rec.all(), secUserinfo) || strings.Contains(resp.URL, secUserinfo) {
				t.Errorf("userinfo kept in evidence or Response.URL: %s", rec.all())
			}
		})
	}
	if _, err := New(Options{BaseURL: "https://user:" + secUserinfo + "@fhir.example.org/r4"}); err == nil || strings.Contains(err.Error(), secUserinfo) {
		t.Errorf("BaseURL with userinfo: want an error without the password, got %v", err)
	}
}

// TestBadURLKeepsPassword: a URL that does not parse is reported without its password.
func TestBadURLKeepsPassword(t *testing.T) {
	c := newClient(t, "https://fhir.example.org/r4", Options{})
	_, err := c.Get(context.Background(), "https://user:"+secUserinfo+"@bad host/x")
	if !IsTransport(err) || strings.Contains(err.Error(), secUserinfo) {
		t.Errorf("want a transport error without the password, got %v", err)
	}
}

func TestStripUserinfo(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://u:p@h.example/x?y=1", "https://h.example/x?y=1"},
		{"https://h.example/x?email=a@b", "https://h.example/x?email=a@b"},
		{"https://u:p@bad host/x", "https://bad host/x"},
		{"https://u:p@x@bad host/x@y", "https://bad host/x@y"},
		{"mailto:a@b", "mailto:a@b"},
		{"no url @ all", "no url @ all"},
	} {
		if got := StripUserinfo(tc.in); got != tc.want {
			t.Errorf("StripUserinfo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
