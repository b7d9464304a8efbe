package yaml_test

import (
	"fmt"
	"strings"
	"testing"

	goyaml "gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/libkite/modules/yaml"
)

// records renders n records as a YAML sequence.
func records(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "- id: %d\n  name: item-%d\n  price: %d.25\n  tags: [a, b, c]\n  nested:\n    ok: true\n    ratio: 0.5\n    none: null\n", i, i, i)
	}
	return b.String()
}

// benchDoc is a ~12 KB document of 100 records.
var benchDoc = records(100)

func BenchmarkDecode(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	for b.Loop() {
		if _, err := yaml.Decode([]byte(benchDoc)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeAll(b *testing.B) {
	doc := strings.Repeat("---\n"+records(10), 10)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := yaml.DecodeAll([]byte(doc)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	v, err := yaml.Decode([]byte(benchDoc))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchDoc)))
	for b.Loop() {
		if _, err := yaml.Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeYAMLv3 is the baseline: yaml.v3 decoding into interface{}.
func BenchmarkDecodeYAMLv3(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	for b.Loop() {
		var v any
		if err := goyaml.Unmarshal([]byte(benchDoc), &v); err != nil {
			b.Fatal(err)
		}
	}
}
