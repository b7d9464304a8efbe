package json_test

import (
	gojson "encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/modules/json"
)

func TestEncodeInvalidUTF8(t *testing.T) {
	got, err := json.Encode(starlark.String("a\x80b"), "", "")
	if err != nil || got != `"a\ufffdb"` {
		t.Fatalf("Encode = %q, %v", got, err)
	}
}

func TestToGo(t *testing.T) {
	dict := func(kv ...starlark.Value) *starlark.Dict {
		d := starlark.NewDict(len(kv) / 2)
		for i := 0; i < len(kv); i += 2 {
			_ = d.SetKey(kv[i], kv[i+1])
		}
		return d
	}
	big64 := starlark.MakeUint64(1 << 63)
	cases := []struct {
		name string
		in   starlark.Value
		opts []json.ToGoOption
		want string // %#v of the result
		err  string
	}{
		{name: "None", in: starlark.None, want: "<nil>"},
		{name: "int", in: starlark.MakeInt(-3), want: "-3"},
		{name: "uint64", in: big64, want: "0x8000000000000000"},
		{name: "too big", in: starlark.MakeBigInt(new(big.Int).Lsh(big.NewInt(1), 64)), err: "unsupported starlark.Int type"},
		{name: "bytes", in: starlark.Bytes("hi"), want: "[]byte{0x68, 0x69}"},
		{name: "tuple", in: starlark.Tuple{starlark.True, starlark.Float(1.5)}, want: "[]interface {}{true, 1.5}"},
		{name: "str dict", in: dict(starlark.String("a"), starlark.MakeInt(1)), want: `map[string]interface {}{"a":1}`},
		{name: "typed keys", in: dict(starlark.MakeInt(1), starlark.String("x")), want: `map[interface {}]interface {}{1:"x"}`},
		{name: "string keys option", in: dict(starlark.MakeInt(1), starlark.String("x"), starlark.False, starlark.None),
			opts: []json.ToGoOption{json.StringKeys()}, want: `map[string]interface {}{"1":"x", "false":interface {}(nil)}`},
		{name: "tuple key", in: dict(starlark.Tuple{starlark.MakeInt(1)}, starlark.None), err: "unsupported type: tuple (as dict key)"},
		{name: "tuple key as text", in: dict(starlark.Tuple{starlark.MakeInt(1), starlark.MakeInt(2)}, starlark.None),
			opts: []json.ToGoOption{json.StringKeys()}, want: `map[string]interface {}{"[1 2]":interface {}(nil)}`},
		{name: "unsupported", in: starlark.NewBuiltin("f", nil), err: "unsupported type: builtin_function_or_method"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.ToGo(c.in, c.opts...)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprintf("%#v", got); s != c.want {
				t.Fatalf("= %s, want %s", s, c.want)
			}
		})
	}
	t.Run("cyclic dict", func(t *testing.T) {
		d := starlark.NewDict(1)
		_ = d.SetKey(starlark.String("self"), d)
		if _, err := json.ToGo(d); err == nil || err.Error() != "unsupported value: cycle via dict" {
			t.Fatalf("error = %v", err)
		}
	})
}

type named string

func TestFromGo(t *testing.T) {
	bigInt, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	x := 5
	cases := []struct {
		name string
		in   any
		opts []json.FromGoOption
		want string // repr
		err  string
	}{
		{name: "nil", in: nil, want: "None"},
		{name: "scalars", in: []any{true, "s", 3, int64(-4), uint64(1 << 63), 1.5, float32(0.5)}, want: `[True, "s", 3, -4, 9223372036854775808, 1.5, 0.5]`},
		{name: "floats stay floats", in: []any{2.0}, want: `[2.0]`},
		{name: "integral floats option", in: []any{2.0, 2.5, -3.0}, opts: []json.FromGoOption{json.IntegralFloatsAsInts()}, want: `[2, 2.5, -3]`},
		{name: "json numbers", in: []any{gojson.Number("1"), gojson.Number("1.0"), gojson.Number("12345678901234567890123")}, want: `[1.0, 1.0, 12345678901234567890123]`},
		{name: "json numbers integral", in: []any{gojson.Number("1"), gojson.Number("1.5")}, opts: []json.FromGoOption{json.IntegralFloatsAsInts()}, want: `[1, 1.5]`},
		{name: "big.Int", in: bigInt, want: "123456789012345678901234567890"},
		{name: "bytes", in: []byte("hi"), want: `b"hi"`},
		{name: "sorted map", in: map[string]any{"b": 1, "a": map[string]any{"d": nil, "c": []any{}}}, want: `{"a": {"c": [], "d": None}, "b": 1}`},
		{name: "any-key map", in: map[any]any{"x": 1, 2: "two", 1: "one", true: "t"}, want: `{True: "t", 1: "one", 2: "two", "x": 1}`},
		{name: "typed slices and maps", in: map[string][]int{"k": {1, 2}}, want: `{"k": [1, 2]}`},
		{name: "named types", in: []named{"a"}, want: `["a"]`},
		{name: "pointer", in: &x, want: "5"},
		{name: "nil pointer", in: (*int)(nil), want: "None"},
		{name: "array", in: [2]uint8{1, 2}, want: `b"\x01\x02"`},
		{name: "starlark value", in: starlark.String("v"), want: `"v"`},
		{name: "struct", in: struct{}{}, err: "unsupported Go type struct {}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.FromGo(c.in, c.opts...)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != c.want {
				t.Fatalf("= %s, want %s", got, c.want)
			}
		})
	}
}

func TestNumberValue(t *testing.T) {
	cases := map[string]string{
		"0":                      "0.0",
		"-0":                     "-0.0",
		"999999999999999":        "9.99999999999999e+14",
		"9007199254740992":       "9.007199254740992e+15",
		"9007199254740993":       "9007199254740993",
		"18014398509481984":      "1.8014398509481984e+16", // 2^54: exact
		"18014398509481985":      "18014398509481985",
		"1.5":                    "1.5",
		"1E2":                    "100.0",
		"12345678901234567890e0": "1.2345678901234567e+19", // not an integer literal
	}
	for in, want := range cases {
		v, err := json.NumberValue(in)
		if err != nil || v.String() != want {
			t.Errorf("NumberValue(%s) = %v, %v; want %s", in, v, err, want)
		}
	}
	if _, err := json.NumberValue("-1e400"); err == nil || !strings.Contains(err.Error(), "cannot unmarshal number -1e400") {
		t.Errorf("overflow error = %v", err)
	}
}
