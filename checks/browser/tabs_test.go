package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// leftState is what a sign-in page found of earlier sign-ins when it loaded.
type leftState struct {
	Header  string `json:"header"` // the Cookie header of the request for the page
	Cookie  string `json:"cookie"`
	Local   int    `json:"local"`
	Session int    `json:"session"`
	Name    string `json:"name"`
	IDB     int    `json:"idb"`
	Caches  int    `json:"caches"`
}

// stateServer is a sign-in page that reports what it finds of earlier sign-ins (cookies, both web
// storages, window.name, IndexedDB, Cache Storage), then leaves all of them behind and only then
// shows its login form; /login redirects with a code when the request carries the page's session
// cookie. ?frame=1 adds a same-origin frame, ?fail=1 refuses the password, ?hold=1 posts the login
// to /hold, which signals held, waits for release and shows an approval page.
func stateServer(t *testing.T, redirect string, held chan<- struct{}, release <-chan struct{}) (*httptest.Server, func() []leftState) {
	var mu sync.Mutex
	var seen []leftState
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "server_session", Value: "s1", Path: "/", HttpOnly: true})
		frame := ""
		if r.URL.Query().Get("frame") != "" {
			frame = `<iframe src="/frame"></iframe>`
		}
		action := "/login"
		switch {
		case r.URL.Query().Get("fail") != "":
			action = "/login?fail=1"
		case r.URL.Query().Get("hold") != "":
			action = "/hold"
		}
		header, _ := json.Marshal(r.Header.Get("Cookie"))
		fmt.Fprintf(w, `<!doctype html><title>Sign in</title><body>%s<div id=f></div><script>
(async () => {
  const s = {header: %s, cookie: document.cookie, local: localStorage.length, session: sessionStorage.length, name: window.name,
    idb: (await indexedDB.databases()).length, caches: (await caches.keys()).length};
  await fetch('/seen', {method: 'POST', body: JSON.stringify(s)});
  document.cookie = 'script_cookie=1; path=/'; localStorage.setItem('k', 'v'); sessionStorage.setItem('k', 'v'); window.name = 'left';
  await new Promise(ok => { const o = indexedDB.open('left', 1); o.onupgradeneeded = () => o.result.createObjectStore('s'); o.onsuccess = () => { o.result.close(); ok(); }; });
  await caches.open('left');
  document.getElementById('f').innerHTML = '<form method=post action=%q><input name=user><input type=password name=pw><button type=submit>Sign in</button></form>';
})();
</script></body>`, frame, header, action)
	})
	mux.HandleFunc("/hold", func(w http.ResponseWriter, r *http.Request) {
		held <- struct{}{}
		select {
		case <-release:
		case <-time.After(30 * time.Second):
		}
		fmt.Fprint(w, `<!doctype html><form method=post action="/login"><p>Share your records?</p><button type=submit>Allow</button></form>`)
	})
	mux.HandleFunc("/frame", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<!doctype html><p>frame") })
	mux.HandleFunc("/seen", func(w http.ResponseWriter, r *http.Request) {
		var s leftState
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			t.Errorf("/seen: %v", err)
		}
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			http.Redirect(w, r, "/authorize?fail=1", http.StatusFound)
			return
		}
		if c, err := r.Cookie("server_session"); err != nil || c.Value != "s1" {
			http.Redirect(w, r, redirect+"?error=session_lost&state=s", http.StatusFound)
			return
		}
		http.Redirect(w, r, redirect+"?code=C-1&state=s", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, func() []leftState {
		mu.Lock()
		defer mu.Unlock()
		s := seen
		seen = nil
		return s
	}
}

// signedOut waits until no tab is being signed out.
func signedOut(t *testing.T, b *Browser) {
	t.Helper()
	for end := time.Now().Add(15 * time.Second); ; {
		b.mu.Lock()
		n := b.signingOut
		b.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatal("a tab was still being signed out after 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTabReuseIsolation: a tab serves the next sign-in only signed out — the next sign-in's page
// finds nothing of the last one — and a tab whose sign-in loaded a frame or failed is not reused.
func TestTabReuseIsolation(t *testing.T) {
	const redirect = "https://app.pacheck.invalid/cb"
	held, release := make(chan struct{}, 1), make(chan struct{})
	srv, seen := stateServer(t, redirect, held, release)
	b := launch(t, Options{StepTimeout: 10 * time.Second, Timeout: 40 * time.Second, Credentials: Credentials{Username: "alice", Password: "pw-1"}})
	ctx := context.Background()
	// signIn signs in and checks what its first page found of earlier sign-ins (a page loaded
	// again within one sign-in finds that sign-in's own state).
	signIn := func(query string) error {
		t.Helper()
		res, err := b.Authorize(ctx, srv.URL+"/authorize?"+query, redirect, nil)
		if err == nil && !strings.HasPrefix(res.RedirectURL, redirect+"?code=C-1") {
			t.Fatalf("%s: redirect %q", query, res.RedirectURL)
		}
		signedOut(t, b)
		got := seen()
		if len(got) == 0 || got[0] != (leftState{}) {
			t.Errorf("sign-in %s: its page found state of an earlier sign-in: %+v", query, got)
		}
		return err
	}
	for i := range 3 {
		if err := signIn(url.Values{"n": {fmt.Sprint(i)}}.Encode()); err != nil {
			t.Fatalf("sign-in %d: %v", i, err)
		}
	}
	if n := b.TabsOpened(); n != 1 {
		t.Fatalf("3 sign-ins one after another opened %d tabs, want 1 (the signed-out tab reused)", n)
	}

	// A frame's storage is partitioned under the page's site, which signing out does not reach.
	if err := signIn("frame=1"); err != nil {
		t.Fatal(err)
	}
	if err := signIn("n=after-frame"); err != nil {
		t.Fatal(err)
	}
	if n := b.TabsOpened(); n != 2 {
		t.Errorf("after a sign-in that loaded a frame: %d tabs opened, want 2 (that tab closed)", n)
	}
	if err := signIn("fail=1"); err == nil {
		t.Fatal("a refused password passed")
	}
	if err := signIn("n=after-failure"); err != nil {
		t.Fatal(err)
	}
	if n := b.TabsOpened(); n != 3 {
		t.Errorf("after a failed sign-in: %d tabs opened, want 3 (that tab closed)", n)
	}

	// Signing a tab out clears its own browser context only: a sign-in in another tab keeps its
	// session cookie while others end and are signed out beside it.
	slow := make(chan error, 1)
	go func() {
		res, err := b.Authorize(ctx, srv.URL+"/authorize?hold=1", redirect, nil)
		if err == nil && !strings.HasPrefix(res.RedirectURL, redirect+"?code=C-1") {
			err = fmt.Errorf("redirect %q (the session cookie was lost)", res.RedirectURL)
		}
		slow <- err
	}()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the held sign-in did not reach /hold")
	}
	for i := range 3 {
		if _, err := b.Authorize(ctx, srv.URL+"/authorize?beside="+fmt.Sprint(i), redirect, nil); err != nil {
			t.Fatal(err)
		}
		signedOut(t, b)
	}
	close(release)
	for _, s := range seen() { // each of these sign-ins loaded its page once
		if s != (leftState{}) {
			t.Errorf("a sign-in beside the held one found state of an earlier sign-in: %+v", s)
		}
	}
	if err := <-slow; err != nil {
		t.Errorf("a sign-in held while three others beside it ended and were signed out: %v", err)
	}
}
