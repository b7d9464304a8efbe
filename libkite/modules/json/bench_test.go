package json_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite/modules/json"
)

// benchDoc is a ~20 KB document of 100 records.
var benchDoc = func() string {
	var b strings.Builder
	b.WriteString("[")
	for i := range 100 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item-%d","price":%d.25,"tags":["a","b","c"],"nested":{"ok":true,"ratio":0.5,"none":null}}`, i, i, i)
	}
	b.WriteString("]")
	return b.String()
}()

func BenchmarkDecode(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	for b.Loop() {
		if _, err := json.Decode([]byte(benchDoc)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	v, err := json.Decode([]byte(benchDoc))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchDoc)))
	for b.Loop() {
		if _, err := json.Encode(v, "", ""); err != nil {
			b.Fatal(err)
		}
	}
}
