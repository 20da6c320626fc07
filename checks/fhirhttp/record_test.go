package fhirhttp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// flowServer issues a fresh access token per token request, echoes state on its authorize
// redirect, and serves FHIR data only to the latest token.
func flowServer(t *testing.T) *httptest.Server {
	var latest string
	mux := http.NewServeMux()
	mux.HandleFunc("/auth/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("client_secret") != "s3cr3t-client-value" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		latest = "tok-" + randomHex(t)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "sid="+randomHex(t)+"; Path=/; HttpOnly")
		w.Write([]byte(`{"access_token":"` + latest + `","token_type":"Bearer","refresh_token":"` + randomHex(t) + `"}`))
	})
	mux.HandleFunc("/auth/authorize", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://app.example/cb?code="+randomHex(t)+"&state="+url.QueryEscape(r.URL.Query().Get("state")))
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/fhir/Patient/1", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+latest {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", FHIRJSON)
		w.Write([]byte(`{"resourceType":"Patient","id":"1","address":[{"state":"MA"}]}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// flow is what a run does: a token, a read with it, an authorize probe with a fresh state.
func flow(t *testing.T, c *Client, base string) []string {
	t.Helper()
	ctx := context.Background()
	var got []string
	tr, err := c.Do(ctx, &Request{Method: http.MethodPost, URL: base + "/auth/token", NoToken: true,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:   []byte("grant_type=client_credentials&client_secret=s3cr3t-client-value")})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := tr.Resource["access_token"].(string)
	got = append(got, tr.Method+" token "+http.StatusText(tr.Status))
	pr, err := c.WithToken(StaticToken(tok)).Do(ctx, &Request{URL: "Patient/1"})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, "read "+http.StatusText(pr.Status)+" "+string(pr.Body))
	state := randomHex(t)
	ar, err := c.Do(ctx, &Request{URL: base + "/auth/authorize?response_type=code&state=" + state, NoToken: true, NoRedirect: true})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := url.Parse(ar.Header.Get("Location"))
	got = append(got, "authorize "+http.StatusText(ar.Status)+" state echoed: "+
		map[bool]string{true: "yes", false: "no"}[loc != nil && loc.Query().Get("state") == state])
	return got
}

// TestRecordReplay: a recorded flow replays offline with the same answers, though the replaying
// run's random values differ; the recording holds no secret; a request the recording lacks is
// an error naming it.
func TestRecordReplay(t *testing.T) {
	srv := flowServer(t)
	dir := filepath.Join(t.TempDir(), "rec")
	rec, err := NewRecording(dir, srv.URL+"/fhir", "s3cr3t-client-value")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{BaseURL: srv.URL + "/fhir", WrapTransport: rec.Wrap})
	if err != nil {
		t.Fatal(err)
	}
	live := flow(t, c, srv.URL)
	if err := rec.Close(map[string]string{"token": "s3cr3t-client-value"}); err != nil {
		t.Fatal(err)
	}
	if live[1] == "read Unauthorized " || !strings.HasSuffix(live[2], "yes") {
		t.Fatalf("the live flow itself did not work: %q", live)
	}

	// No secret on disk: the client secret, and the tokens, codes and cookies the server made.
	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 4 { // index + 3 exchanges
		t.Fatalf("recording files %q: want the index and 3 exchanges", files)
	}
	for _, p := range files {
		b, _ := os.ReadFile(p)
		s := string(b)
		for _, secret := range []string{"s3cr3t-client-value", "tok-", "sid=0", "sid=1", "code=0", "code=1"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s holds %q", p, secret)
			}
		}
		// the same secret, the same placeholder; FHIR data untouched
		if strings.HasSuffix(p, "000002.json") && (!strings.Contains(s, `"state\":\"MA\"`) || !strings.Contains(s, "Bearer "+PlaceholderPrefix)) {
			t.Errorf("%s: want the FHIR data as it was and the bearer as a placeholder:\n%s", p, s)
		}
	}

	// The token the token response issued is the token the read carried: one placeholder.
	var tokEx, readEx RecordedExchange
	for i, ex := range []*RecordedExchange{&tokEx, &readEx} {
		b, _ := os.ReadFile(filepath.Join(dir, "exchanges", []string{"000001.json", "000002.json"}[i]))
		if err := json.Unmarshal(b, ex); err != nil {
			t.Fatal(err)
		}
	}
	issued, _ := DecodeObject([]byte(tokEx.ResponseBody))
	if ph, _ := issued["access_token"].(string); !IsPlaceholder(ph) || readEx.RequestHeaders["Authorization"][0] != "Bearer "+ph {
		t.Errorf("issued token %q, read with %q: want the same placeholder", ph, readEx.RequestHeaders["Authorization"])
	}

	// Replay offline: the server is gone, and the replaying run's state differs.
	srv.Close()
	rp, err := OpenReplay(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rp.Index().Target != srv.URL+"/fhir" {
		t.Errorf("index target %q", rp.Index().Target)
	}
	c2, err := New(Options{BaseURL: rp.Index().Target, WrapTransport: rp.Wrap})
	if err != nil {
		t.Fatal(err)
	}
	replayed := flow(t, c2, srv.URL)
	if strings.Join(replayed, "\n") != strings.Join(live, "\n") {
		t.Errorf("replay answered\n%q\nthe recorded run saw\n%q", replayed, live)
	}
	if st := rp.Stats(); st.Served != 3 || st.Unused != 0 || len(st.Missing) != 0 {
		t.Errorf("stats %+v: want the 3 exchanges served", st)
	}

	// A request the recording lacks: an error (a transport error) naming it.
	_, err = c2.Do(context.Background(), &Request{URL: "Observation?patient=1"})
	if !errors.Is(err, ErrNotRecorded) || !IsTransport(err) || !strings.Contains(err.Error(), "GET "+srv.URL+"/fhir/Observation?patient=1") {
		t.Errorf("unrecorded request: %v; want a transport error wrapping ErrNotRecorded naming the request", err)
	}
	// A POST asked again once its answer was used is not in the recording either.
	_, err = c2.Do(context.Background(), &Request{Method: http.MethodPost, URL: srv.URL + "/auth/token", NoToken: true,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:   []byte("grant_type=client_credentials&client_secret=s3cr3t-client-value")})
	if !errors.Is(err, ErrNotRecorded) {
		t.Errorf("second token POST: %v; want ErrNotRecorded", err)
	}
}

// TestRecordingRefusesUsedFolder: a recording never mixes with an older one.
func TestRecordingRefusesUsedFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.json"), []byte("{}"), 0o644)
	if _, err := NewRecording(dir, "http://x/fhir"); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("NewRecording into a used folder: %v", err)
	}
}

// TestOpenReplayBadInput: a recording is input from elsewhere; bad files are errors, not panics.
func TestOpenReplayBadInput(t *testing.T) {
	for name, index := range map[string]string{
		"not json":     "{",
		"other format": `{"format":"x","target":"http://x/fhir"}`,
		"no target":    `{"format":"pacheck-recording/1"}`,
		"escape":       `{"format":"pacheck-recording/1","target":"http://x/fhir","exchanges":[{"seq":1,"file":"../../etc/passwd"}]}`,
		"missing file": `{"format":"pacheck-recording/1","target":"http://x/fhir","exchanges":[{"seq":1,"file":"exchanges/1.json"}]}`,
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, RecordingIndex), []byte(index), 0o644)
		if _, err := OpenReplay(dir); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := OpenReplay(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a recording") {
		t.Errorf("empty folder: %v", err)
	}
}

// TestReplayTimingsAndFailures: a replay answers after the recorded time (the latency specs judge
// the recorded server), and a recorded timeout or dropped connection comes back as one the
// client treats the same way.
func TestReplayTimingsAndFailures(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/fhir/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(120 * time.Millisecond)
		w.Write([]byte(`{"resourceType":"Basic"}`))
	})
	mux.HandleFunc("/fhir/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/fhir/drop", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "rec")
	rec, err := NewRecording(dir, srv.URL+"/fhir")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{BaseURL: srv.URL + "/fhir", Timeout: 2 * time.Second, Retry: RetryPolicy{MaxAttempts: -1}}
	type result struct {
		status  int
		timeout bool
		reset   bool
	}
	do := func(c *Client, ref string) (result, time.Duration) {
		r, err := c.Do(context.Background(), &Request{URL: ref})
		var res result
		if r != nil {
			res.status = r.Status
			return res, r.Duration
		}
		res.timeout, res.reset = errors.Is(err, ErrTimeout), isReset(err)
		return res, 0
	}
	o := opts
	o.WrapTransport = rec.Wrap
	live, _ := New(o)
	var want []result
	for _, ref := range []string{"slow", "hang", "drop"} {
		r, _ := do(live, ref)
		want = append(want, r)
	}
	if err := rec.Close(nil); err != nil {
		t.Fatal(err)
	}
	if want[0].status != 200 || !want[1].timeout || !want[2].reset {
		t.Fatalf("the live answers are not what the test needs: %+v", want)
	}
	rp, err := OpenReplay(dir)
	if err != nil {
		t.Fatal(err)
	}
	o = opts
	o.WrapTransport = rp.Wrap
	c, _ := New(o)
	for i, ref := range []string{"slow", "hang", "drop"} {
		got, took := do(c, ref)
		if got != want[i] {
			t.Errorf("%s: replayed %+v, recorded %+v", ref, got, want[i])
		}
		if ref == "slow" && took < 120*time.Millisecond {
			t.Errorf("slow: replayed in %s, before the recorded server's 120ms", took)
		}
	}
}
