package browser

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/evidence"
)

func TestPatterns(t *testing.T) {
	cases := []struct {
		pat, u string
		want   bool
	}{
		{"", "http://x/a", true},
		{"/login", "http://x/login?a=1", true},
		{"^http://x/login", "http://y/login", false},
		{"glob:*/consent*", "http://x/auth/consent?t=1", true},
		{"glob:*/consent", "http://x/auth/consent?t=1", false},
		{"glob:http://x/a?b=*", "http://x/a?b=1", true},
		{"glob:http://x/a", "http://x/ab", false},
		{"re:/auth/(login|authorize)", "http://x/auth/authorize?x", true},
		{"^https:", "http://x/", false},
	}
	for _, tc := range cases {
		if got := MatchURL(tc.pat, tc.u); got != tc.want {
			t.Errorf("MatchURL(%q, %q) = %v", tc.pat, tc.u, got)
		}
	}
	if err := Validate([]Step{{URL: "re:(", Actions: []Action{{Click: "a"}}}}); err == nil {
		t.Error("bad regexp accepted")
	}
	if err := Validate([]Step{{Actions: []Action{{Wait: "url:("}}}}); err == nil {
		t.Error("bad wait url regexp accepted")
	}
	if v, arg, err := (Action{Wait: "url:/callback"}).Verb(); v != "waitUrl" || arg != "/callback" || err != nil {
		t.Errorf("wait url: %s %s %v", v, arg, err)
	}
	if err := Validate([]Step{{Actions: []Action{{Click: "a", Fill: "b"}}}}); err == nil || !strings.Contains(err.Error(), "steps[0].actions[0]") {
		t.Errorf("two verbs: %v", err)
	}
	if globEscape(`https://a/b?c=*`) != `https://a/b\?c=\*` {
		t.Error(globEscape(`https://a/b?c=*`))
	}
}

// fakeLogin is an authorization endpoint with a login page and a consent page.
type fakeLogin struct {
	mu     sync.Mutex
	logins int
}

var loginPage = template.Must(template.New("l").Parse(`<!doctype html><html><head><title>Sign in</title></head><body>
<h1>Member sign in</h1>{{if .Bad}}<p class=err>Wrong username or password</p>{{end}}
<form method=post action="/login">
<input type=hidden name=q value="{{.Q}}">
<label for=u>Member ID</label> <input id=u name=member_login type=text>
<label for=p>Secret</label> <input id=p name=pw type=password>
<a href="/forgot">Forgot password?</a>
<button type=submit id=go>Sign in</button>
</form></body></html>`))

var consentPage = template.Must(template.New("c").Parse(`<!doctype html><html><body>
<h1>Share your data with the app?</h1>
<form method=post action="/consent">
<input type=hidden name=q value="{{.Q}}">
<label><input type=checkbox name=scope value="patient/*.rs" checked> Read your records</label>
<label><input type=checkbox name=scope value="offline_access"> Stay connected</label>
<p>Which person?</p>
<label><input type=radio name=who value="p1" id=p1> Pat One</label>
<label><input type=radio name=who value="p2" id=p2> Pat Two</label>
<button type=submit name=decision value=deny id=deny>Deny</button>
<button type=submit name=decision value=allow id=allow>Allow access</button>
</form></body></html>`))

func (f *fakeLogin) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("spa") != "" {
			// The form appears by script, well after the load event.
			var b strings.Builder
			loginPage.Execute(&b, map[string]any{"Q": r.URL.RawQuery})
			fmt.Fprintf(w, `<!doctype html><body><div id=root>Loading…</div><template id=t>%s</template>
<script>setTimeout(() => { document.getElementById('root').replaceWith(document.getElementById('t').content.cloneNode(true)); }, 1200)</script></body>`, b.String())
			return
		}
		loginPage.Execute(w, map[string]any{"Q": r.URL.RawQuery})
	})
	mux.HandleFunc("/formpost", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method=post action=%q><input type=hidden name=code value=FP-1><input type=hidden name=state value=%q></form><script>document.forms[0].submit()</script>`,
			r.URL.Query().Get("redirect_uri"), r.URL.Query().Get("state"))
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.PostForm.Get("member_login") != "alice" || r.PostForm.Get("pw") != "s3cret-PW!" {
			loginPage.Execute(w, map[string]any{"Q": r.PostForm.Get("q"), "Bad": true})
			return
		}
		f.mu.Lock()
		f.logins++
		f.mu.Unlock()
		http.Redirect(w, r, "/consent?q="+url.QueryEscape(r.PostForm.Get("q")), http.StatusFound)
	})
	mux.HandleFunc("/consent", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			consentPage.Execute(w, map[string]any{"Q": r.URL.Query().Get("q")})
			return
		}
		r.ParseForm()
		q, _ := url.ParseQuery(r.PostForm.Get("q"))
		target := q.Get("redirect_uri")
		if r.PostForm.Get("decision") != "allow" {
			http.Redirect(w, r, target+"?error=access_denied&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
			return
		}
		code := "CODE-" + r.PostForm.Get("who") + "-" + strings.Join(r.PostForm["scope"], "+")
		http.Redirect(w, r, target+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	return mux
}

func launch(t *testing.T, opts Options) *Browser {
	t.Helper()
	if _, err := FindChromium(""); err != nil {
		t.Skipf("skipping browser test: %v", err)
	}
	b, err := Launch(context.Background(), opts)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Cleanup(func() {
		dir := b.DataDir()
		b.Close()
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("profile dir %s not removed", dir)
		}
	})
	return b
}

func TestAuthorize(t *testing.T) {
	srv := httptest.NewServer((&fakeLogin{}).handler())
	defer srv.Close()
	evDir := filepath.Join(t.TempDir(), "evidence")
	var recMu sync.Mutex
	var recorded []evidence.Entry
	b := launch(t, Options{EvidenceDir: evDir, StepTimeout: 20 * time.Second, Timeout: 90 * time.Second,
		Credentials: Credentials{Username: "alice", Password: "s3cret-PW!"},
		Expand:      func(s string) (string, error) { return os.Expand(s, envMap{"PW": "s3cret-PW!"}.get), nil },
		Recorder:    func(e evidence.Entry) { recMu.Lock(); recorded = append(recorded, e); recMu.Unlock() }})
	// An https redirect_uri on a host that does not resolve: interception must catch it.
	redirect := "https://app.pacheck.invalid/callback"
	authURL := srv.URL + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {redirect}, "state": {"st-123"}}.Encode()
	ctx := context.Background()

	checkResult := func(t *testing.T, res *Result) {
		t.Helper()
		if !strings.HasPrefix(res.RedirectURL, redirect+"?") {
			t.Fatalf("redirect %q", res.RedirectURL)
		}
		if res.Query.Get("state") != "st-123" {
			t.Errorf("state %q", res.Query.Get("state"))
		}
		shots := 0
		for _, e := range res.Evidence {
			if e.Kind != evidence.KindBrowserStep {
				t.Errorf("kind %q", e.Kind)
			}
			if strings.Contains(e.Text+e.Title, "s3cret-PW!") || strings.Contains(e.Text, "CODE-") {
				t.Errorf("secret in evidence: %s", e.Text)
			}
			if e.Screenshot != nil {
				shots++
				data, err := os.ReadFile(filepath.Join(filepath.Dir(evDir), filepath.FromSlash(e.Screenshot.Path)))
				if err != nil {
					t.Fatalf("screenshot file: %v", err)
				}
				sum := sha256.Sum256(data)
				if hex.EncodeToString(sum[:]) != e.Screenshot.SHA256 || !strings.HasPrefix(string(data), "\x89PNG") {
					t.Errorf("screenshot %s: bad hash or not a PNG", e.Screenshot.Path)
				}
			}
		}
		// One screenshot per page the member sees (login and consent), at least.
		if shots < res.Pages || res.Pages < 2 {
			t.Errorf("%d screenshots for %d pages", shots, res.Pages)
		}
	}

	t.Run("default strategy", func(t *testing.T) {
		// The login form is rendered by script after load: the strategy must wait for it.
		res, err := b.Authorize(ctx, authURL+"&spa=1", redirect, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, res)
		if got := res.Query.Get("code"); got != "CODE-p1-patient/*.rs" {
			t.Errorf("code %q (the first radio must be chosen and the checkboxes left alone)", got)
		}
		ctrl := strings.Join(res.Controls, "\n")
		for _, want := range []string{"input[type=text]#u (Member ID)", "input[type=password]#p", `"Sign in"`, `"Allow access"`, "left 2 checkboxes as they were (1 ticked)", "#p1"} {
			if !strings.Contains(ctrl, want) {
				t.Errorf("controls lack %q:\n%s", want, ctrl)
			}
		}
	})

	t.Run("explicit steps", func(t *testing.T) {
		steps := []Step{
			{URL: "glob:" + srv.URL + "/authorize?*", Actions: []Action{
				{Fill: "#u", Value: "alice"},
				{Fill: "input[name=pw]", Value: "${PW}"},
				{Screenshot: "filled"},
				{Click: "#go"},
			}},
			{URL: "re:/consent", Actions: []Action{
				{Wait: "url:/consent"},
				{Wait: "#allow"},
				{Check: "input[value=offline_access]"},
				{Check: "#p2"},
				{Click: "#allow"},
			}},
		}
		res, err := b.Authorize(ctx, authURL, redirect, steps)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, res)
		if got := res.Query.Get("code"); got != "CODE-p2-patient/*.rs+offline_access" {
			t.Errorf("code %q", got)
		}
		all, _ := json.Marshal(res.Evidence)
		if !strings.Contains(string(all), `typed \"alice\"`) || !strings.Contains(string(all), "*** (secret)") {
			t.Errorf("evidence should show the username and mask the password: %s", all)
		}
	})

	t.Run("failed step names url, step and selector", func(t *testing.T) {
		steps := []Step{{URL: "glob:*/authorize*", Actions: []Action{{Fill: "#u", Value: "alice"}, {Click: "#no-such-button", Timeout: "1s"}}}}
		res, err := b.Authorize(ctx, authURL, redirect, steps)
		var se *StepError
		if !errors.As(err, &se) {
			t.Fatalf("want *StepError, got %v", err)
		}
		msg := err.Error()
		for _, want := range []string{srv.URL + "/authorize", "steps[0].actions[1] click", "#no-such-button", "screenshot"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q: %s", want, msg)
			}
		}
		if se.Screenshot == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("screenshot %v, deadline %v", se.Screenshot, errors.Is(err, context.DeadlineExceeded))
		}
		if res == nil || len(res.Evidence) == 0 {
			t.Error("no evidence on failure")
		}
	})

	t.Run("form_post redirect", func(t *testing.T) {
		u := srv.URL + "/formpost?" + url.Values{"redirect_uri": {redirect}, "state": {"st-123"}}.Encode()
		res, err := b.Authorize(ctx, u, redirect, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Method != "POST" || res.Query.Get("code") != "FP-1" || res.Query.Get("state") != "st-123" {
			t.Errorf("form_post: %s %v", res.Method, res.Query)
		}
	})

	t.Run("wrong password stops", func(t *testing.T) {
		_, err := b.AuthorizeAs(ctx, authURL, redirect, Credentials{Username: "alice", Password: "wrong-pass"}, nil)
		if err == nil || !strings.Contains(err.Error(), "login form came back") || strings.Contains(err.Error(), "wrong-pass") {
			t.Errorf("got %v", err)
		}
	})

	recMu.Lock()
	defer recMu.Unlock()
	if len(recorded) == 0 {
		t.Error("Recorder saw nothing")
	}
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }

// TestTypingEvents: a value is typed whole, and the page sees input events and a key press (a
// submit enabled on keyup), though all but the last character arrive in one insertion.
func TestTypingEvents(t *testing.T) {
	const redirect = "https://app.pacheck.invalid/callback"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Sign in</title>
<input id=u oninput="window.i=(window.i||0)+1" onkeyup="document.getElementById('go').disabled=false;window.k=(window.k||0)+1">
<button id=go disabled onclick="location='%s?code='+encodeURIComponent(document.getElementById('u').value)+'&i='+window.i+'&k='+window.k">Go</button>`, redirect)
	}))
	defer srv.Close()
	b := launch(t, Options{StepTimeout: 10 * time.Second, Timeout: 30 * time.Second})
	const val = "mémber-1 ✓x"
	res, err := b.Authorize(context.Background(), srv.URL+"/authorize", redirect,
		[]Step{{URL: "glob:*", Actions: []Action{{Fill: "#u", Value: val}, {Click: "#go"}}}})
	if err != nil {
		t.Fatal(err)
	}
	q := res.Query
	if q.Get("code") != val {
		t.Errorf("typed %q, want %q", q.Get("code"), val)
	}
	if i, _ := strconv.Atoi(q.Get("i")); i < 2 {
		t.Errorf("%q input events, want at least 2 (the insertion and the last key)", q.Get("i"))
	}
	if k, _ := strconv.Atoi(q.Get("k")); k < 1 {
		t.Errorf("%q keyup events, want at least 1 (the submit is enabled on keyup)", q.Get("k"))
	}
}
