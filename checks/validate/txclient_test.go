package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/profiles"
)

// txServer is a loopback FHIR terminology server whose answer depends on the code asked about.
type txServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int // code -> requests
	bad  []string       // requests that were not a well-formed $validate-code
}

func newTxServer(t *testing.T) *txServer {
	ts := &txServer{hits: map[string]int{}}
	params := func(w http.ResponseWriter, result bool, msg string) {
		w.Header().Set("Content-Type", "application/fhir+json")
		m, _ := json.Marshal(msg)
		fmt.Fprintf(w, `{"resourceType":"Parameters","parameter":[{"name":"result","valueBoolean":%v},{"name":"message","valueString":%s}]}`, result, m)
	}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := q.Get("code")
		ts.mu.Lock()
		ts.hits[code]++
		if r.Method != http.MethodGet || r.URL.Path != "/fhir/ValueSet/$validate-code" || q.Get("url") == "" || strings.Contains(q.Get("url"), "|") || code == "" {
			ts.bad = append(ts.bad, r.Method+" "+r.URL.String())
		}
		ts.mu.Unlock()
		switch code {
		case "2106-3", "38341003":
			params(w, true, "")
		case "2028-9", "999999999":
			params(w, false, "Code <b>"+code+"</b> is not in the value set \x1b[31m"+strings.Repeat("x", 300))
		case "2054-5":
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","details":{"text":"tx broke"}}]}`)
		case "2076-8":
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
			params(w, true, "")
		case "1002-5":
			w.Header().Set("Content-Type", "application/fhir+json")
			fmt.Fprintf(w, `{"resourceType":"Parameters","parameter":[{"name":"message","valueString":"%s"}]}`, strings.Repeat("y", 256<<10))
		case "2131-1":
			w.Header().Set("Content-Type", "application/fhir+json")
			fmt.Fprint(w, `{"resourceType":"Patient"}`)
		default:
			params(w, false, "")
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *txServer) count(code string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.hits[code]
}

func txValidator(t *testing.T, tx TerminologyServer) *Validator {
	t.Helper()
	set, err := profiles.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(set, Options{Terminology: tx})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// raceOMB is a US Core 6.1.0 patient whose race ombCategory (required binding to
// omb-race-category, which imports VSAC value sets that are not loaded) has code.
func raceOMB(code string) string {
	return `{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Jo Doe</div>"},
"identifier":[{"system":"http://example.org/mrn","value":"1"}],"name":[{"family":"Doe"}],"gender":"female",
"extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":"` + code + `"}},{"url":"text","valueString":"x"}]}]}`
}

const ombPath = "Patient.extension[0].extension[0].valueCoding"
const uc610 = "hl7.fhir.us.core#6.1.0"

// bindingAt returns the binding issues at path.
func bindingAt(l issue.List, path string) issue.List {
	var out issue.List
	for _, i := range l {
		if i.Rule == "binding" && i.Path == path {
			out = append(out, i)
		}
	}
	return out
}

// TestTxBinding: with a terminology server, a code the local expansion cannot decide is decided
// by ValueSet/$validate-code: result=true is clean, result=false is a binding error (required) or
// warning (extensible) with the server's message made plain and bounded; a server that fails,
// times out, answers too much or answers something else leaves "not checked: <why>" information,
// never a failure of the resource.
func TestTxBinding(t *testing.T) {
	ts := newTxServer(t)
	tx, err := NewTxClient(ts.URL+"/fhir", TxOptions{Timeout: 300 * time.Millisecond, MaxBodyBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	v := txValidator(t, tx)
	for _, tc := range []struct {
		code string
		sev  issue.Severity // of the binding issue; "" for none
		want string
	}{
		{"2106-3", "", ""},
		{"2028-9", issue.Error, "is not in the required value set http://hl7.org/fhir/us/core/ValueSet/omb-race-category"},
		{"2054-5", issue.Information, "not checked: terminology server answered HTTP 500: tx broke"},
		{"2076-8", issue.Information, "not checked: terminology server did not answer"},
		{"1002-5", issue.Information, "not checked: terminology server did not answer"},
		{"2131-1", issue.Information, "not checked: terminology server answer is not a FHIR Parameters resource"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			res := v.Validate(context.Background(), []byte(raceOMB(tc.code)), ValidateOptions{IG: uc610})
			got := bindingAt(res.Issues, ombPath)
			if tc.sev == "" {
				if len(got) > 0 || res.Issues.HasErrors() {
					t.Fatalf("want clean, got %v", res.Issues)
				}
				return
			}
			if len(got) != 1 || got[0].Severity != tc.sev || !strings.Contains(got[0].Message, tc.want) {
				t.Fatalf("want one %s binding issue %q at %s, got %v", tc.sev, tc.want, ombPath, res.Issues)
			}
			if tc.sev != issue.Error && res.Issues.HasErrors() {
				t.Errorf("a terminology failure must not fail the resource: %v", res.Issues.Errors())
			}
			if m := got[0].Message; strings.ContainsAny(m, "\x1b\n") || len(m) > 600 {
				t.Errorf("server text not made plain and bounded: %q", m)
			}
		})
	}
	// answers are cached per (value set, system, code) for the run
	for range 3 {
		v.Validate(context.Background(), []byte(raceOMB("2106-3")), ValidateOptions{IG: uc610})
	}
	if n := ts.count("2106-3"); n != 1 {
		t.Errorf("2106-3 asked %d times, want 1 (cached)", n)
	}
	if len(ts.bad) > 0 {
		t.Errorf("malformed requests: %v", ts.bad)
	}
}

// TestTxCodeableConcept: each undecided coding is asked about; one in the value set settles it,
// the concept is out (extensible: a warning) only when every coding is out.
func TestTxCodeableConcept(t *testing.T) {
	ts := newTxServer(t)
	tx, err := NewTxClient(ts.URL+"/fhir", TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := txValidator(t, tx)
	cond := func(codes ...string) string {
		var cs []string
		for _, c := range codes {
			cs = append(cs, `{"system":"http://snomed.info/sct","code":"`+c+`"}`)
		}
		return `{"resourceType":"Condition","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns"]},
"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],
"subject":{"reference":"Patient/p1"},"code":{"coding":[` + strings.Join(cs, ",") + `]}}`
	}
	for _, tc := range []struct {
		codes []string
		sev   issue.Severity
	}{
		{[]string{"38341003"}, ""},
		{[]string{"999999999", "38341003"}, ""},
		{[]string{"999999999"}, issue.Warning},
		{[]string{"999999999", "888888888"}, issue.Warning},
	} {
		res := v.Validate(context.Background(), []byte(cond(tc.codes...)), ValidateOptions{IG: uc610})
		got := bindingAt(res.Issues, "Condition.code")
		if tc.sev == "" && len(got) > 0 || tc.sev != "" && (len(got) != 1 || got[0].Severity != tc.sev) {
			t.Errorf("%v: want binding %q at Condition.code, got %v", tc.codes, tc.sev, res.Issues)
		}
	}
}

// TestTxBounds: the run asks at most MaxRequests distinct questions; a dead server is reported
// as not checked; without a server the old "no terminology server" note stays.
func TestTxBounds(t *testing.T) {
	ts := newTxServer(t)
	tx, err := NewTxClient(ts.URL+"/fhir", TxOptions{MaxRequests: 1})
	if err != nil {
		t.Fatal(err)
	}
	v := txValidator(t, tx)
	v.Validate(context.Background(), []byte(raceOMB("2106-3")), ValidateOptions{IG: uc610})
	res := v.Validate(context.Background(), []byte(raceOMB("2028-9")), ValidateOptions{IG: uc610})
	if got := bindingAt(res.Issues, ombPath); len(got) != 1 || got[0].Severity != issue.Information || !strings.Contains(got[0].Message, "request limit of this run (1)") {
		t.Errorf("over the request limit: want not checked, got %v", res.Issues)
	}
	if ts.count("2028-9") != 0 {
		t.Error("a request was sent over the limit")
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	tx, err = NewTxClient(deadURL, TxOptions{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	v = txValidator(t, tx)
	res = v.Validate(context.Background(), []byte(raceOMB("2106-3")), ValidateOptions{IG: uc610})
	if got := bindingAt(res.Issues, ombPath); len(got) != 1 || got[0].Severity != issue.Information || !strings.Contains(got[0].Message, "not checked: terminology server did not answer") || res.Issues.HasErrors() {
		t.Errorf("dead server: want not checked, got %v", res.Issues)
	}
	// a cancelled run: no panic, no error on the resource
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := txValidator(t, tx).Validate(ctx, []byte(raceOMB("2028-9")), ValidateOptions{IG: uc610}); hasIssue(res.Issues, issue.Error, "binding", ombPath) {
		t.Errorf("cancelled run: an unanswered question must not be an error: %v", res.Issues)
	}

	res = txValidator(t, nil).Validate(context.Background(), []byte(raceOMB("2028-9")), ValidateOptions{IG: uc610})
	if got := bindingAt(res.Issues, ombPath); len(got) != 1 || !strings.Contains(got[0].Message, "not checked: no terminology server") {
		t.Errorf("no server: want the not-checked note, got %v", res.Issues)
	}
}

func TestCLITx(t *testing.T) {
	ts := newTxServer(t)
	dir := t.TempDir()
	good := write(t, dir, "good.json", raceOMB("2106-3"))
	bad := write(t, dir, "bad.json", raceOMB("2028-9"))
	if code, out, errs := runCLI(t, "--ig", uc610, "--tx", ts.URL+"/fhir", good); code != 0 || strings.Contains(out, "not checked") {
		t.Errorf("good code: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "--ig", uc610, "--tx", ts.URL+"/fhir", bad); code != 1 || !strings.Contains(out, "terminology server: Code <b>2028-9</b>") {
		t.Errorf("bad code: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "--ig", uc610, "--tx", "n/a", bad); code != 0 || !strings.Contains(out, "no terminology server") {
		t.Errorf("--tx n/a: exit %d\n%s", code, out)
	}
	if code, _, errs := runCLI(t, "--tx", "ftp://example.org", good); code != 2 || !strings.Contains(errs, "--tx") {
		t.Errorf("--tx ftp: exit %d, stderr %q", code, errs)
	}
}

// TestTxConcurrent: validations running at once ask one question once.
func TestTxConcurrent(t *testing.T) {
	ts := newTxServer(t)
	tx, err := NewTxClient(ts.URL+"/fhir", TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := txValidator(t, tx)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := v.Validate(context.Background(), []byte(raceOMB("2028-9")), ValidateOptions{IG: uc610})
			if !hasIssue(res.Issues, issue.Error, "binding", ombPath) {
				t.Errorf("want the binding error, got %v", res.Issues)
			}
		}()
	}
	wg.Wait()
	if n := ts.count("2028-9"); n != 1 {
		t.Errorf("asked %d times, want 1", n)
	}
}
