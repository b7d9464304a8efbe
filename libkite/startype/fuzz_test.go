package startype_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/project-starkite/starkite/libkite/startype"
)

// valueGen builds a Go value and the value expected back after a
// Go → Starlark → Go round trip, driven by the fuzzer's shape bytes.
type valueGen struct {
	shape []byte
	pos   int
	nodes int
	s     string
	i     int64
	f     float64
	b     bool
}

func (g *valueGen) next() byte {
	if g.pos >= len(g.shape) {
		return 0
	}
	c := g.shape[g.pos]
	g.pos++
	return c
}

// value returns (input, want).
func (g *valueGen) value(depth int) (any, any) {
	g.nodes++
	op := g.next() % 11
	if (depth >= 6 || g.nodes > 300) && op >= 9 {
		op = 0
	}
	n := int64(g.pos) // vary scalars between nodes
	switch op {
	case 0:
		return g.s, g.s
	case 1:
		v := g.i ^ n
		return v, v
	case 2:
		v := int(g.i - n)
		return v, int64(v)
	case 3:
		v := g.f + float64(n)
		if g.next()%2 == 0 {
			v = g.f
		}
		return v, wantFloat64(v)
	case 4:
		v := float32(g.f)
		return v, float64(v) // float32 always stays Float
	case 5:
		return g.b, g.b
	case 6:
		return nil, nil
	case 7:
		return []byte(g.s), []byte(g.s)
	case 8:
		v := uint64(g.i) + uint64(n)
		if v > math.MaxInt64 {
			return v, strconv.FormatUint(v, 10) // too large for int64
		}
		return v, int64(v)
	case 9:
		size := int(g.next() % 5)
		in, want := make([]any, size), make([]any, size)
		for j := range in {
			in[j], want[j] = g.value(depth + 1)
		}
		return in, want
	default:
		size := int(g.next() % 5)
		in, want := make(map[string]any, size), make(map[string]any, size)
		for j := 0; j < size; j++ {
			k := g.s + strconv.Itoa(j)
			in[k], want[k] = g.value(depth + 1)
		}
		return in, want
	}
}

// wantFloat64 is the documented float64 rule: integral, finite values in
// int64 range come back as int64.
func wantFloat64(f float64) any {
	if f == math.Trunc(f) && f >= -(1<<63) && f < (1<<63) {
		return int64(f)
	}
	return f
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{}, "", int64(0), 0.0, false)
	f.Add([]byte{10, 3, 0, 1, 3, 1, 4, 5, 6}, "k", int64(42), 3.0, true)
	f.Add([]byte{9, 4, 3, 1, 4, 8, 7}, "héllo", int64(-1), 1.5, false)
	f.Add([]byte{10, 2, 9, 2, 3, 0, 10, 1, 8}, "a\x00b", int64(math.MinInt64), math.NaN(), true)
	f.Add([]byte{9, 3, 3, 0, 3, 0, 4}, "", int64(math.MaxInt64), math.Inf(-1), false)
	f.Add([]byte{3, 1}, "x", int64(7), 9223372036854775808.0, true)
	f.Fuzz(func(t *testing.T, shape []byte, s string, i int64, fl float64, b bool) {
		g := &valueGen{shape: shape, s: s, i: i, f: fl, b: b}
		in, want := g.value(0)

		sv, err := startype.ToStarlark(in)
		if err != nil {
			t.Fatalf("ToStarlark(%#v): %v", in, err)
		}
		got, err := startype.FromStarlark(sv)
		if err != nil {
			t.Fatalf("FromStarlark(%s): %v", sv, err)
		}
		if !equal(got, want) {
			t.Fatalf("dynamic round trip of %#v:\n got  %#v\n want %#v", in, got, want)
		}

		var out any
		if err := startype.Starlark(sv).ToGoValue(&out); err != nil {
			t.Fatalf("ToGoValue(*any): %v", err)
		}
		if !equal(out, want) {
			t.Fatalf("ToGoValue(*any) of %#v:\n got  %#v\n want %#v", in, out, want)
		}

		// Typed decode into the container's own type gives the same result.
		switch want := want.(type) {
		case map[string]any:
			var m map[string]any
			if err := startype.Starlark(sv).ToGoValue(&m); err != nil {
				t.Fatalf("ToGoValue(*map[string]any): %v", err)
			}
			if !equal(m, want) {
				t.Fatalf("typed map round trip:\n got  %#v\n want %#v", m, want)
			}
		case []any:
			var l []any
			if err := startype.Starlark(sv).ToGoValue(&l); err != nil {
				t.Fatalf("ToGoValue(*[]any): %v", err)
			}
			if !equal(l, want) {
				t.Fatalf("typed slice round trip:\n got  %#v\n want %#v", l, want)
			}
		}

		// Converting the result back must succeed and give the same
		// Starlark value (Go → Starlark is deterministic).
		sv2, err := startype.ToStarlark(in)
		if err != nil || sv2.String() != sv.String() {
			t.Fatalf("non-deterministic conversion: %s vs %s (%v)", sv, sv2, err)
		}
	})
}
