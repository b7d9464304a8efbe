package json_test

import (
	"bytes"
	gojson "encoding/json"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/modules/json"
)

// FuzzDecode checks Decode against encoding/json: same acceptance, same
// error text, equal values (dict order aside), and stable encoded text
// (except for ints beyond uint64, which json.md refuses to encode).
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"a": [1, 2.5, -0, 1e3, "x"], "b": {"c": null, "d": true, "e": false}}`,
		`"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \u2028"`,
		"\"raw é 😀 \xff\xfe\"", `  [ ]  `, `{}`, `[[[[]]]]`, `{"a":1,"a":2}`,
		`12345678901234567890`, `-9007199254740993`, `1E+2`, `0.000001`,
		`[1,]`, `{"a" 1}`, `01`, `"\x"`, `tru`, ``, `1 2`, "\t\n\r 7 \n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := json.Decode(data)
		var ref any
		var want starlark.Value
		dec := gojson.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		refErr := gojson.Unmarshal(data, new(gojson.RawMessage))
		if refErr == nil {
			refErr = dec.Decode(&ref)
		}
		if refErr == nil {
			// numbers beyond float64 range fail here, as in Decode
			want, refErr = json.FromGo(ref)
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("Decode(%q) error = %v, encoding/json error = %v", data, err, refErr)
		}
		if err != nil {
			if err.Error() != refErr.Error() {
				t.Fatalf("Decode(%q) error = %q, want %q", data, err, refErr)
			}
			return
		}
		if eq, cerr := starlark.Equal(got, want); cerr != nil || !eq {
			t.Fatalf("Decode(%q) = %s, want %s", data, got, want)
		}
		text, eerr := json.Encode(got, "", "")
		if eerr != nil && eerr.Error() == "unsupported starlark.Int type" {
			return // ints beyond uint64 decode exactly but cannot be encoded (json.md)
		}
		if eerr != nil {
			t.Fatalf("Encode(Decode(%q)): %v", data, eerr)
		}
		again, derr := json.Decode([]byte(text))
		if derr != nil {
			t.Fatalf("Decode(Encode(...)) of %q: %v", text, derr)
		}
		// The text is a fixpoint. (Values need not be: a float ≥ 2^53 such
		// as 1.0000000000000001e18 encodes as the integer literal
		// 1000000000000000100, which decodes to that exact int.)
		// Floats in [2^64, 1e21) encode as integer literals beyond uint64,
		// which decode to exact ints that json.md refuses to encode.
		text2, err := json.Encode(again, "", "")
		if err != nil && err.Error() == "unsupported starlark.Int type" {
			return
		}
		if err != nil || text2 != text {
			t.Fatalf("encode(decode(%s)) = %s, %v", text, text2, err)
		}
	})
}
