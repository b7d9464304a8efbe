package yaml_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	goyaml "gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/libkite/modules/json"
	"github.com/project-starkite/starkite/libkite/modules/yaml"
)

var fuzzSeeds = []string{
	"name: svc\nports: [80, 443]\n", "- a\n- b\n", "a: &x {k: 1}\nb: *x\nc:\n  <<: *x\n  k: 2\n",
	"a: 1\na: 2\n", "key: [unclosed", "a: &a [*a]", "? [1, 2]\n: x", "1: a\ntrue: b\n~: c\n1.5: d\n",
	"d: 2024-01-01\n", "x: !!binary aGk=\n", "x: !!int abc", "0x1F", "017", ".nan", "-.inf", "'quoted'",
	"a: |\n  line1\n  line2\n", "{a: [1, {b: c}]}", "---\n...\n", "a: 1\n---\nb: 2\n", "", "\xff\xfe",
	"<<: {a: 1}\n", "<<: [1]\n", "a:\n  - b:\n      - c\n", "!!set {a, b}", "18446744073709551616",
}

// FuzzDecode: Decode never panics; it accepts exactly what yaml.v3's own
// decoding into interface{} accepts, with the same error text, and yields
// the same data (mapping order aside; timestamps are kept as text).
// Whatever decodes also encodes, and re-decodes to an equal value.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := yaml.Decode(data)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("Decode(%q): %v", data, err)
		}
		var ref any
		refErr := goyaml.Unmarshal(data, &ref)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("Decode(%q) error = %v, yaml.v3 error = %v", data, err, refErr)
		}
		if err != nil {
			if err.Error() != refErr.Error() {
				t.Fatalf("Decode(%q) error = %q, yaml.v3 error = %q", data, err, refErr)
			}
			return
		}
		// Merges into a mapping whose own keys are all strings make yaml.v3
		// turn the merged keys into strings (0 → "0"); kite keeps them.
		if comparable(ref) && !strings.Contains(string(data), "<<") {
			g, cerr := json.ToGo(got)
			if cerr != nil {
				t.Fatalf("ToGo(Decode(%q)): %v", data, cerr)
			}
			if a, b := normalize(g), normalize(ref); !reflect.DeepEqual(a, b) {
				t.Fatalf("Decode(%q) = %s\n  normalized %#v\n  yaml.v3    %#v", data, got, a, b)
			}
		}
		if _, err := yaml.DecodeAll(data); err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("DecodeAll(%q): %v", data, err)
		}
		text, err := yaml.Encode(got)
		if err != nil {
			t.Fatalf("Encode(Decode(%q)): %v", data, err)
		}
		again, err := yaml.Decode([]byte(text))
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) of %q: %v", data, text, err)
		}
		if !hasNaN(got) {
			if eq, err := starlark.Equal(again, got); err != nil || !eq {
				t.Fatalf("round trip of %q via %q: %s != %s", data, text, again, got)
			}
		}
	})
}

// comparable reports whether ref holds no values kite decodes differently
// on purpose (timestamps), that DeepEqual cannot compare (NaN), or keys
// that are distinct in Go but equal in Starlark (1 and 1.0).
func comparable(ref any) bool {
	switch x := ref.(type) {
	case time.Time:
		return false
	case float64:
		return !math.IsNaN(x)
	case []any:
		for _, e := range x {
			if !comparable(e) {
				return false
			}
		}
	case map[string]any:
		for _, e := range x {
			if !comparable(e) {
				return false
			}
		}
	case map[any]any:
		for k, e := range x {
			if f, ok := k.(float64); ok && f == math.Trunc(f) {
				return false
			}
			if !comparable(k) || !comparable(e) {
				return false
			}
		}
	}
	return true
}

// normalize maps both sides to one representation: every map keyed by
// the %T:%v of its normalized key, every integer as int64 when it fits.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprintf("%T:%v", k, k)] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			nk := normalize(k)
			out[fmt.Sprintf("%T:%v", nk, nk)] = normalize(e)
		}
		return out
	}
	return v
}

func hasNaN(v starlark.Value) bool {
	switch x := v.(type) {
	case starlark.Float:
		return math.IsNaN(float64(x))
	case *starlark.List:
		for i := 0; i < x.Len(); i++ {
			if hasNaN(x.Index(i)) {
				return true
			}
		}
	case *starlark.Dict:
		for k, e := range x.Entries() {
			if hasNaN(k) || hasNaN(e) {
				return true
			}
		}
	}
	return false
}
