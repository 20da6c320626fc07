package fhirhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pacheck/pacheck/checks/evidence"
)

func TestRedact(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"query code and state", "https://app/cb?code=abc123&state=xyz", "https://app/cb?code=***&state=xyz"},
		{"code_challenge is public", "https://as/authorize?code_challenge=CH&code_challenge_method=S256", "https://as/authorize?code_challenge=CH&code_challenge_method=S256"},
		{"form body", "grant_type=authorization_code&code=C0DE&code_verifier=VERIFIER1&client_secret=s3cr3t", "grant_type=authorization_code&code=***&code_verifier=***&client_secret=***"},
		{"password form", "username=alice&password=hunter22", "username=alice&password=***"},
		{"assertion", "client_assertion_type=urn%3Aietf&client_assertion=abc.def.ghi", "client_assertion_type=urn%3Aietf&client_assertion=***"},
		{"json token response", `{"access_token":"AT-1","token_type":"Bearer","refresh_token": "RT-2","id_token":"x.y.z","patient":"123"}`, `{"access_token":"***","token_type":"Bearer","refresh_token": "***","id_token":"***","patient":"123"}`},
		{"json truncated", `{"access_token":"AT-very-lo`, `{"access_token":"***"`},
		{"json escaped quote", `{"password":"a\"b","x":1}`, `{"password":"***","x":1}`},
		{"json code outside FHIR", `{"code":"C1","state":"s"}`, `{"code":"***","state":"s"}`},
		{"FHIR coding code kept", `{"resourceType":"Observation","code":{"coding":[{"code":"1234-5"}]}}`, `{"resourceType":"Observation","code":{"coding":[{"code":"1234-5"}]}}`},
		{"bearer in text", "sent Bearer abcdefgh12345 to server", "sent Bearer *** to server"},
		{"jwt anywhere", "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl end", "token *** end"},
		{"token_type_hint kept", "token=T0K3N&token_type_hint=access_token", "token=***&token_type_hint=access_token"},
		{"case insensitive", "?Access_Token=ZZZZ", "?Access_Token=***"},
		{"basic word in text", "Basic information about the plan", "Basic information about the plan"},
		{"bearer inside a word", "mybearer abcdefghijkl", "mybearer abcdefghijkl"},
		{"basic credentials", "Authorization: Basic Y2xpZW50OnNlY3JldA==", "Authorization: Basic ***"},
		{"json spaces", `{ "client_secret" : "s1" , "refresh_token":"r"}`, `{ "client_secret" : "***" , "refresh_token":"***"}`},
		{"json non-string kept", `{"code": 123}`, `{"code": 123}`},
		{"fragment", "https://app/cb#code=abc&state=s", "https://app/cb#code=***&state=s"},
		{"plain text untouched", "the patient has a code of conduct", "the patient has a code of conduct"},
		{"idempotent", "code=***", "code=***"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactHeaders(t *testing.T) {
	h := http.Header{
		"Authorization": {"Bearer sekrit-token"},
		"Cookie":        {"sid=abc"},
		"Set-Cookie":    {"sid=abc; HttpOnly"},
		"Location":      {"https://app/cb?code=CODE1&state=s"},
		"Content-Type":  {"application/json"},
	}
	got := RedactHeaders(h)
	want := map[string]string{"Authorization": "Bearer ***", "Cookie": "***", "Set-Cookie": "***",
		"Location": "https://app/cb?code=***&state=s", "Content-Type": "application/json"}
	for k, v := range want {
		if got[k][0] != v {
			t.Errorf("%s: got %q want %q", k, got[k][0], v)
		}
	}
	var s Secrets
	s.Add("opaque-value-1", "ab")
	if r := s.Redact("x opaque-value-1 ab"); r != "x *** ab" {
		t.Errorf("Secrets.Redact: %q", r)
	}
}

type recorded struct {
	mu sync.Mutex
	ex []evidence.Exchange
}

func (r *recorded) rec(e evidence.Exchange) { r.mu.Lock(); r.ex = append(r.ex, e); r.mu.Unlock() }
func (r *recorded) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, _ := json.Marshal(r.ex)
	return string(b)
}

func newClient(t *testing.T, base string, o Options) *Client {
	t.Helper()
	o.BaseURL = base
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenOnlyToTargetOrigin(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen["other"] = r.Header.Get("Authorization")
		mu.Unlock()
		w.Header().Set("Content-Type", FHIRJSON)
		fmt.Fprint(w, `{"resourceType":"Patient","id":"1"}`)
	}))
	defer other.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("Authorization")
		mu.Unlock()
		switch r.URL.Path {
		case "/fhir/Patient/1":
			http.Redirect(w, r, other.URL+"/Patient/1", http.StatusFound)
		case "/fhir/Patient/2":
			http.Redirect(w, r, "/fhir/Patient/3", http.StatusTemporaryRedirect)
		default:
			w.Header().Set("Content-Type", FHIRJSON)
			fmt.Fprint(w, `{"resourceType":"Patient","id":"3"}`)
		}
	}))
	defer target.Close()
	rec := &recorded{}
	c := newClient(t, target.URL+"/fhir", Options{TokenSource: StaticToken("tok-SECRET-123"), Recorder: rec.rec})
	ctx := context.Background()

	resp, err := c.Read(ctx, "Patient", "1")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.ResourceType() != "Patient" {
		t.Fatalf("status %d type %q", resp.Status, resp.ResourceType())
	}
	if seen["/fhir/Patient/1"] != "Bearer tok-SECRET-123" {
		t.Errorf("target did not get the token: %q", seen["/fhir/Patient/1"])
	}
	if seen["other"] != "" {
		t.Errorf("token leaked to another origin: %q", seen["other"])
	}
	// A direct request to another origin never carries it either.
	seen["other"] = "unset"
	if _, err := c.Get(ctx, other.URL+"/x"); err != nil {
		t.Fatal(err)
	}
	if seen["other"] != "" {
		t.Errorf("token sent to absolute URL on another origin: %q", seen["other"])
	}
	// Same-origin redirect keeps it.
	if _, err := c.Read(ctx, "Patient", "2"); err != nil {
		t.Fatal(err)
	}
	if seen["/fhir/Patient/3"] != "Bearer tok-SECRET-123" {
		t.Errorf("same-origin redirect lost the token: %q", seen["/fhir/Patient/3"])
	}
	// NoRedirect returns the redirect itself.
	resp, err = c.Do(ctx, &Request{URL: "Patient/1", NoRedirect: true})
	if err != nil || resp.Status != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), other.URL) {
		t.Errorf("NoRedirect: %v %v", resp, err)
	}
	var sec Secrets
	sec.Add("opaque-123")
	if h := sec.RedactHeaders(http.Header{"X-Echo": {"opaque-123"}, "Cookie": {"a=b"}}); h["X-Echo"][0] != "***" || h["Cookie"][0] != "***" {
		t.Errorf("Secrets.RedactHeaders: %v", h)
	}
	all := rec.all()
	if strings.Contains(all, "tok-SECRET-123") {
		t.Errorf("token in evidence: %s", all)
	}
	if !strings.Contains(all, "Bearer ***") {
		t.Errorf("evidence lacks the masked Authorization header: %s", all)
	}
	if !strings.Contains(all, "pacheck/") {
		t.Errorf("User-Agent not recorded: %s", all)
	}
}

func TestCallerAuthorizationDroppedOnCrossOriginRedirect(t *testing.T) {
	got := "unset"
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
	}))
	defer other.Close()
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			t.Error("first hop lost the caller's Authorization")
		}
		http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
	}))
	defer as.Close()
	c := newClient(t, "http://fhir.invalid/fhir", Options{})
	resp, err := c.Do(context.Background(), &Request{Method: "POST", URL: as.URL + "/token",
		Header: http.Header{"Authorization": {"Basic Y2xpZW50OnNlY3JldA=="}}, Body: []byte("a=b")})
	if err != nil {
		t.Fatal(err)
	}
	if got != "unset" {
		t.Errorf("a 307 with a body was followed to another origin (Authorization %q)", got)
	}
	if resp.Status != http.StatusTemporaryRedirect || resp.RedirectRefused == "" {
		t.Errorf("want the 307 returned as data with RedirectRefused, got %d %q", resp.Status, resp.RedirectRefused)
	}
	// Without a body the redirect is followed, and the caller's Authorization stays behind.
	if _, err := c.Do(context.Background(), &Request{URL: as.URL + "/token",
		Header: http.Header{"Authorization": {"Basic Y2xpZW50OnNlY3JldA=="}}}); err != nil {
		t.Fatal(err)
	}
	if got != "" {
		t.Errorf("Authorization followed a redirect to another origin: %q", got)
	}
}

func TestLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(strings.Repeat("x", 2000)))
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		case "/404":
			w.Header().Set("Content-Type", FHIRJSON)
			w.WriteHeader(404)
			fmt.Fprint(w, `{"resourceType":"OperationOutcome"}`)
		}
	}))
	defer srv.Close()
	rec := &recorded{}
	c := newClient(t, srv.URL, Options{MaxBodyBytes: 1000, MaxEvidenceBody: 100, Recorder: rec.rec})
	slow := newClient(t, srv.URL, Options{Timeout: 200 * time.Millisecond})
	ctx := context.Background()

	_, err := c.Get(ctx, "/big")
	if !errors.Is(err, ErrBodyTooLarge) || !IsTransport(err) {
		t.Fatalf("big body: got %v", err)
	}
	if !strings.Contains(err.Error(), "/big") || !strings.Contains(err.Error(), "1000") {
		t.Errorf("error should name URL and limit: %v", err)
	}
	_, err = c.Get(ctx, "/loop")
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("redirect loop: got %v", err)
	}
	_, err = slow.Get(ctx, "/slow")
	if !IsTransport(err) || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("slow: got %v", err)
	}
	// An HTTP error status is data, not an error.
	resp, err := c.Get(ctx, "/404")
	if err != nil || resp.Status != 404 || resp.ResourceType() != "OperationOutcome" {
		t.Errorf("404: resp %+v err %v", resp, err)
	}
	// Nothing listening: transport error.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	_, err = c.Get(ctx, deadURL+"/x")
	if !IsTransport(err) {
		t.Errorf("closed server: got %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	truncated := false
	for _, e := range rec.ex {
		if e.Truncated && len(e.ResponseBody) <= 100 {
			truncated = true
		}
	}
	if !truncated {
		t.Errorf("no truncated evidence body recorded")
	}
}

func TestBadInputs(t *testing.T) {
	if _, err := New(Options{BaseURL: "ftp://x"}); err == nil {
		t.Error("ftp base accepted")
	}
	c := newClient(t, "http://127.0.0.1:1/fhir", Options{})
	if _, err := c.Read(context.Background(), "Patient", "../etc"); !IsTransport(err) {
		t.Errorf("bad id: %v", err)
	}
	if _, err := c.Get(context.Background(), "javascript:alert(1)"); err == nil {
		t.Error("non-http URL accepted")
	}
}

func bundle(base string, ids []string, next string) string {
	var es []string
	for _, id := range ids {
		es = append(es, fmt.Sprintf(`{"fullUrl":"%s/Patient/%s","resource":{"resourceType":"Patient","id":"%s"},"search":{"mode":"match"}}`, base, id, id))
	}
	link := ""
	if next != "" {
		link = fmt.Sprintf(`,"link":[{"relation":"next","url":"%s"}]`, next)
	}
	return fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset","entry":[%s]%s}`, strings.Join(es, ","), link)
}

func TestPaging(t *testing.T) {
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", FHIRJSON)
		p := r.URL.Query().Get("page")
		switch r.URL.Query().Get("mode") + p {
		case "ok", "ok1":
			fmt.Fprint(w, bundle(srvURL, []string{"a", "b"}, srvURL+"/Patient?mode=ok&page=2"))
		case "ok2":
			fmt.Fprint(w, bundle(srvURL, []string{"c"}, ""))
		case "loop", "loop1":
			fmt.Fprint(w, bundle(srvURL, []string{"a"}, srvURL+"/Patient?page=2&mode=loop"))
		case "loop2":
			fmt.Fprint(w, bundle(srvURL, []string{"a"}, srvURL+"/Patient?mode=loop&page=1"))
		case "endless":
			n := 1
			fmt.Sscan(p, &n)
			fmt.Fprint(w, bundle(srvURL, []string{fmt.Sprint(n)}, fmt.Sprintf("%s/Patient?mode=endless&page=%d", srvURL, n+1)))
		default:
			if strings.HasPrefix(r.URL.Query().Get("mode"), "endless") {
				n := 0
				fmt.Sscan(p, &n)
				fmt.Fprint(w, bundle(srvURL, []string{fmt.Sprint(n)}, fmt.Sprintf("%s/Patient?mode=endless&page=%d", srvURL, n+1)))
				return
			}
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	srvURL = srv.URL
	c := newClient(t, srv.URL, Options{MaxPages: 4})
	ctx := context.Background()

	p, err := c.SearchAll(ctx, "Patient", url.Values{"mode": {"ok"}, "page": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Pages) != 2 || len(p.Entries) != 3 || len(p.Matches()) != 3 || len(p.Issues) != 0 {
		t.Errorf("ok: pages %d entries %d issues %v", len(p.Pages), len(p.Entries), p.Issues)
	}

	p, err = c.SearchAll(ctx, "Patient", url.Values{"mode": {"loop"}, "page": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, i := range p.Issues {
		rules[i.Rule] = true
	}
	if !rules[RulePagingLoop] || !rules[RulePagingDuplicate] || !p.Issues.HasErrors() {
		t.Errorf("loop: issues %v", p.Issues)
	}

	p, err = c.SearchAll(ctx, "Patient", url.Values{"mode": {"endless"}, "page": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Truncated || len(p.Pages) != 4 || p.Issues.HasErrors() {
		t.Errorf("endless: truncated %v pages %d issues %v", p.Truncated, len(p.Pages), p.Issues)
	}

	p, err = c.SearchAll(ctx, "Patient", url.Values{"mode": {"broken"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Issues) != 1 || p.Issues[0].Rule != RulePagingStatus {
		t.Errorf("broken: issues %v", p.Issues)
	}
}

func TestSearchPost(t *testing.T) {
	var gotCT, gotBody, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotCT, gotPath = r.Header.Get("Content-Type"), r.URL.Path
		r.ParseForm()
		gotBody = r.PostForm.Encode()
		fmt.Fprint(w, `{"resourceType":"Bundle","total":1.50}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/fhir/", Options{})
	resp, err := c.SearchPost(context.Background(), "Observation", url.Values{"patient": {"1"}, "category": {"laboratory"}})
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/fhir/Observation/_search" || gotCT != "application/x-www-form-urlencoded" || gotBody != "category=laboratory&patient=1" {
		t.Errorf("path %q ct %q body %q", gotPath, gotCT, gotBody)
	}
	if n, ok := resp.Resource["total"].(json.Number); !ok || n.String() != "1.50" {
		t.Errorf("UseNumber not used: %#v", resp.Resource["total"])
	}
}

type flipSource struct {
	mu  sync.Mutex
	tok string
	inv int
}

func (f *flipSource) Token() (*oauth2.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &oauth2.Token{AccessToken: f.tok}, nil
}

func (f *flipSource) Invalidate() { f.mu.Lock(); f.tok = "fresh-token"; f.inv++; f.mu.Unlock() }

func TestRetryUnauthorized(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh-token" {
			w.WriteHeader(401)
			return
		}
		fmt.Fprint(w, `{"resourceType":"Patient","id":"1"}`)
	}))
	defer srv.Close()
	fs := &flipSource{tok: "stale-token"}
	c := newClient(t, srv.URL, Options{TokenSource: fs})
	if resp, _ := c.Get(context.Background(), "Patient/1"); resp.Status != 401 || fs.inv != 0 {
		t.Errorf("without RetryUnauthorized: %d, %d invalidations", resp.Status, fs.inv)
	}
	c = newClient(t, srv.URL, Options{TokenSource: fs, RetryUnauthorized: true})
	if resp, err := c.Get(context.Background(), "Patient/1"); err != nil || resp.Status != 200 || fs.inv != 1 {
		t.Errorf("with RetryUnauthorized: %v %v, %d invalidations", resp, err, fs.inv)
	}
}
