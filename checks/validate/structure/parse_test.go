package structure

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// FuzzParseMatchesEncodingJSON: the parser accepts exactly the documents encoding/json accepts and
// decodes them to the same value (UseNumber), within the depth limit.
func FuzzParseMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,2.5e-3,-0,"x\u00e9\ud83d\ude00",true,false,null]}`, `"\ud800x"`, `{"a":1,"a":{"b":2}}`,
		`"\xff\xfe"`, `[1,]`, `{"a" 1}`, `01`, `1.`, `-`, `"\u12"`, "\"a\tb\"", `"abcdefghijklmnop\"qr"`, `"abcdefgh\\ijklmnop"`,
		`"abcdefghé12345678"`, ` [ 1 , 2 ] `, `nul`, `{"x":"` + "\x7f" + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			return // we tolerate a BOM, encoding/json does not
		}
		got, _, serr := parseJSON(b, 64)
		if serr != nil && serr.depth {
			return
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var want any
		err := d.Decode(&want)
		if err == nil {
			if _, err2 := d.Token(); err2 != io.EOF {
				err = errTrailing
			}
		}
		if (err != nil) != (serr != nil) {
			t.Fatalf("%q: encoding/json error %v, ours %v", b, err, serr)
		}
		if n, ok := want.(json.Number); ok && !validNumber(string(n)) {
			t.Fatalf("validNumber(%q) = false for a number encoding/json accepts", n)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded %#v, encoding/json %#v", b, got, want)
		}
	})
}

var errTrailing = &json.SyntaxError{}
