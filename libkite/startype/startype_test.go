package startype_test

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/project-starkite/starkite/libkite/startype"
)

// eval evaluates a Starlark expression; `struct` is available.
func eval(t testing.TB, src string) starlark.Value {
	t.Helper()
	env := starlark.StringDict{"struct": starlark.NewBuiltin("struct", starlarkstruct.Make)}
	v, err := starlark.Eval(&starlark.Thread{Name: "test"}, "test.star", src, env)
	if err != nil {
		t.Fatalf("eval %q: %v", src, err)
	}
	return v
}

// equal is reflect.DeepEqual except that NaN equals NaN.
func equal(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case float32:
		y, ok := b.(float32)
		return ok && (x == y || x != x && y != y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

type (
	myString string
	Point    struct{ X, Y int }
)

// ---------------------------------------------------------------------------
// Go → Starlark

func TestToStarlark(t *testing.T) {
	one := 1
	pOne := &one
	var nilInt *int
	str := "s"
	tests := []struct {
		name     string
		in       any
		wantType string
		want     string // String() of the result
	}{
		{"nil is None", nil, "NoneType", "None"},
		{"true", true, "bool", "True"},
		{"false", false, "bool", "False"},
		{"int", 42, "int", "42"},
		{"int8", int8(-8), "int", "-8"},
		{"int16", int16(1000), "int", "1000"},
		{"int32", int32(-70000), "int", "-70000"},
		{"int64 min", int64(math.MinInt64), "int", "-9223372036854775808"},
		{"uint", uint(7), "int", "7"},
		{"uint8", uint8(255), "int", "255"},
		{"uint16", uint16(65535), "int", "65535"},
		{"uint32", uint32(math.MaxUint32), "int", "4294967295"},
		{"uint64 max", uint64(math.MaxUint64), "int", "18446744073709551615"},
		{"uintptr", uintptr(9), "int", "9"},
		{"float32 stays float", float32(1.5), "float", "1.5"},
		{"integral float32 stays float", float32(3), "float", "3.0"},
		{"integral float64 becomes int", 3.0, "int", "3"},
		{"negative zero float64 becomes int", math.Copysign(0, -1), "int", "0"},
		{"large integral float64 becomes int", 1e18, "int", "1000000000000000000"},
		{"float64 -2^63 becomes int", -9223372036854775808.0, "int", "-9223372036854775808"},
		{"float64 2^63 stays float", 9223372036854775808.0, "float", "9.223372036854776e+18"},
		{"huge float64 stays float", 1e300, "float", "1e+300"},
		{"fractional float64", 1.5, "float", "1.5"},
		{"NaN stays float", math.NaN(), "float", "nan"},
		{"+Inf stays float", math.Inf(1), "float", "+inf"},
		{"-Inf stays float", math.Inf(-1), "float", "-inf"},
		{"string", "héllo", "string", `"héllo"`},
		{"named string", myString("x"), "string", `"x"`},
		{"bytes", []byte("ab"), "bytes", `b"ab"`},
		{"nil bytes", []byte(nil), "bytes", `b""`},
		{"slice of any", []any{1, "a", nil, true}, "list", `[1, "a", None, True]`},
		{"typed slice", []int{1, 2}, "list", `[1, 2]`},
		{"nil slice is empty list", []string(nil), "list", `[]`},
		{"array", [2]string{"a", "b"}, "list", `["a", "b"]`},
		{"byte array is a list", [2]byte{1, 2}, "list", `[1, 2]`},
		{"nested slices", [][]any{{1}, {"x", []int{2}}}, "list", `[[1], ["x", [2]]]`},
		{"map sorted by key", map[string]any{"c": 3, "a": 1, "b": 2.0}, "dict", `{"a": 1, "b": 2, "c": 3}`},
		{"nil map is empty dict", map[string]int(nil), "dict", `{}`},
		{"typed map sorted by fmt.Sprint of key", map[int]string{10: "ten", 2: "two", 1: "one"}, "dict", `{1: "one", 10: "ten", 2: "two"}`},
		{"map[any]any ties broken by type", map[any]any{"1": "string", 1: "int"}, "dict", `{1: "int", "1": "string"}`},
		{"float keys converted", map[float64]int{2.5: 2, 1.0: 1}, "dict", `{1: 1, 2.5: 2}`},
		{"bool keys", map[bool]int{true: 1, false: 0}, "dict", `{False: 0, True: 1}`},
		{"nested containers", map[string]any{"l": []any{map[string]any{"k": nil}}, "m": map[string][]int{"x": {1}}}, "dict", `{"l": [{"k": None}], "m": {"x": [1]}}`},
		{"starlark string passes through", starlark.String("x"), "string", `"x"`},
		{"starlark int passes through", starlark.MakeInt(5), "int", "5"},
		{"starlark tuple passes through", starlark.Tuple{starlark.True}, "tuple", "(True,)"},
		{"typed nil starlark pointer is None", (*starlark.List)(nil), "NoneType", "None"},
		{"starlark values inside slices", []starlark.Value{starlark.String("a"), nil}, "list", `["a", None]`},
		{"starlark values inside maps", map[string]starlark.Value{"a": starlark.Float(1)}, "dict", `{"a": 1.0}`},
		{"pointer dereferenced", pOne, "int", "1"},
		{"pointer to pointer", &pOne, "int", "1"},
		{"nil pointer is None", nilInt, "NoneType", "None"},
		{"pointer to map", &map[string]int{"a": 1}, "dict", `{"a": 1}`},
		{"pointers inside containers", []any{&str, nilInt}, "list", `["s", None]`},
		{"pointer to starlark value", &[]starlark.Value{starlark.None}[0], "NoneType", "None"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, conv := range []struct {
				name string
				fn   func(any) (starlark.Value, error)
			}{
				{"Go", func(v any) (starlark.Value, error) { return startype.Go(v).ToStarlarkValue() }},
				{"ToStarlark", startype.ToStarlark},
			} {
				got, err := conv.fn(tt.in)
				if err != nil {
					t.Fatalf("%s: unexpected error: %v", conv.name, err)
				}
				if got.Type() != tt.wantType || got.String() != tt.want {
					t.Errorf("%s: got %s %s, want %s %s", conv.name, got.Type(), got, tt.wantType, tt.want)
				}
			}
		})
	}
}

func TestToStarlarkPassesStarlarkValuesThroughUnchanged(t *testing.T) {
	l := starlark.NewList(nil)
	got, err := startype.ToStarlark(l)
	if err != nil || got != starlark.Value(l) {
		t.Fatalf("got %v, %v; want the same *List", got, err)
	}
	d, err := startype.ToStarlark(map[string]any{"l": l})
	if err != nil {
		t.Fatal(err)
	}
	inner, _, _ := d.(*starlark.Dict).Get(starlark.String("l"))
	if inner != starlark.Value(l) {
		t.Fatalf("nested starlark value was copied")
	}
}

func TestToStarlarkErrors(t *testing.T) {
	selfMap := map[string]any{}
	selfMap["self"] = selfMap
	selfSlice := []any{nil}
	selfSlice[0] = selfSlice
	var x int
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"anonymous struct", struct{}{}, "unsupported Go type struct {} for dynamic conversion"},
		{"named struct", Point{1, 2}, "unsupported Go type startype_test.Point for dynamic conversion"},
		{"pointer to struct", &Point{}, "unsupported Go type startype_test.Point for dynamic conversion"},
		{"func", func() {}, "unsupported Go type func() for dynamic conversion"},
		{"chan", make(chan int), "unsupported Go type chan int for dynamic conversion"},
		{"unsafe pointer", unsafe.Pointer(&x), "unsupported Go type unsafe.Pointer for dynamic conversion"},
		{"complex", complex(1, 2), "unsupported Go type complex128 for dynamic conversion"},
		{"in slice of any", []any{1, 2, struct{}{}}, "index 2: unsupported Go type struct {} for dynamic conversion"},
		{"in typed slice", []func(){nil}, "index 0: unsupported Go type func() for dynamic conversion"},
		{"in map of any", map[string]any{"a": func() {}}, `key "a": unsupported Go type func() for dynamic conversion`},
		{"in typed map", map[int]chan int{7: nil}, "key 7: unsupported Go type chan int for dynamic conversion"},
		{"struct map key", map[Point]int{{}: 1}, "key {0 0}: unsupported Go type startype_test.Point for dynamic conversion"},
		{"deeply nested", map[string]any{"a": []any{0, map[string]any{"b": make(chan int)}}}, `key "a": index 1: key "b": unsupported Go type chan int for dynamic conversion`},
		{"unhashable key", map[[2]int]int{{1, 2}: 3}, "key [1 2]: unhashable type: list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := startype.ToStarlark(tt.in)
			if err == nil {
				t.Fatalf("got %v, want error %q", got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
		})
	}
	for name, v := range map[string]any{"self-referencing map": selfMap, "self-referencing slice": selfSlice} {
		t.Run(name, func(t *testing.T) {
			if _, err := startype.ToStarlark(v); err == nil || !strings.Contains(err.Error(), "nested more than") {
				t.Fatalf("error = %v, want nesting error", err)
			}
		})
	}
}

func TestTuple(t *testing.T) {
	tests := []struct {
		name    string
		in      []any
		want    string
		wantErr string
	}{
		{"nil args", nil, "()", ""},
		{"mixed args", []any{1, "a", 2.0, []int{3}}, `(1, "a", 2, [3])`, ""},
		{"error names the argument", []any{1, struct{}{}}, "", "arg 1: unsupported Go type struct {} for dynamic conversion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := startype.Tuple(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestKwargs(t *testing.T) {
	tests := []struct {
		name    string
		in      map[string]any
		want    string
		wantErr string
	}{
		{"nil kwargs", nil, "[]", ""},
		{"sorted by name", map[string]any{"url": "x", "a": 1, "m": map[string]any{"k": true}}, `[("a", 1) ("m", {"k": True}) ("url", "x")]`, ""},
		{"error names the keyword", map[string]any{"a": 1, "b": make(chan int)}, "", `kwarg "b": unsupported Go type chan int for dynamic conversion`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := startype.Kwargs(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(got))
			for i, kv := range got {
				parts[i] = kv.String()
			}
			if s := "[" + strings.Join(parts, " ") + "]"; s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
}

func TestKwargsWorkWithStarlarkCall(t *testing.T) {
	fn := eval(t, `lambda a, b=2: [a, b]`)
	args, err := startype.Tuple([]any{1})
	if err != nil {
		t.Fatal(err)
	}
	kwargs, err := startype.Kwargs(map[string]any{"b": "x"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := starlark.Call(&starlark.Thread{}, fn, args, kwargs)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != `[1, "x"]` {
		t.Fatalf("got %s", got)
	}
}

// ---------------------------------------------------------------------------
// Starlark → Go, dynamic

func TestFromStarlarkDynamic(t *testing.T) {
	tests := []struct {
		name string
		src  string // Starlark expression
		want any
	}{
		{"None is nil", "None", nil},
		{"True", "True", true},
		{"False", "False", false},
		{"int is int64", "42", int64(42)},
		{"negative int", "-7", int64(-7)},
		{"int64 max", "9223372036854775807", int64(math.MaxInt64)},
		{"int64 min", "-9223372036854775808", int64(math.MinInt64)},
		{"big int is decimal string", "1 << 64", "18446744073709551616"},
		{"negative big int is decimal string", "-(1 << 63) - 1", "-9223372036854775809"},
		{"float", "1.5", 1.5},
		{"integral float stays float64", "3.0", 3.0},
		{"NaN", `float("nan")`, math.NaN()},
		{"+Inf", `float("inf")`, math.Inf(1)},
		{"-Inf", `float("-inf")`, math.Inf(-1)},
		{"string", `"héllo"`, "héllo"},
		{"bytes", `b"\x00ab"`, []byte("\x00ab")},
		{"list", `[1, "a", None]`, []any{int64(1), "a", nil}},
		{"empty list", `[]`, []any{}},
		{"tuple", `(1, (2.5,))`, []any{int64(1), []any{2.5}}},
		{"set in insertion order", `set([3, 1, 2])`, []any{int64(3), int64(1), int64(2)}},
		{"dict", `{"a": 1, "b": [True]}`, map[string]any{"a": int64(1), "b": []any{true}}},
		{"nested dicts", `[{"k": {"x": None}}]`, []any{map[string]any{"k": map[string]any{"x": nil}}}},
		{"struct is its string", `struct(a=1)`, `struct(a = 1)`},
		{"function is its string", `len`, `<built-in function len>`},
		{"range is its string", `range(3)`, `range(3)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := eval(t, tt.src)
			got, err := startype.FromStarlark(v)
			if err != nil {
				t.Fatalf("FromStarlark: %v", err)
			}
			if !equal(got, tt.want) {
				t.Errorf("FromStarlark = %#v, want %#v", got, tt.want)
			}
			got, err = startype.Starlark(v).Value()
			if err != nil || !equal(got, tt.want) {
				t.Errorf("Value = %#v, %v; want %#v", got, err, tt.want)
			}
			var out any = "sentinel"
			if err := startype.Starlark(v).ToGoValue(&out); err != nil {
				t.Fatalf("ToGoValue(*any): %v", err)
			}
			if !equal(out, tt.want) {
				t.Errorf("ToGoValue(*any) = %#v, want %#v", out, tt.want)
			}
		})
	}
}

func TestFromStarlarkNilValueIsNil(t *testing.T) {
	got, err := startype.FromStarlark(nil)
	if err != nil || got != nil {
		t.Fatalf("got %#v, %v", got, err)
	}
}

func TestFromStarlarkDynamicErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"int key", `{1: 2}`, "dict key must be string, got int"},
		{"tuple key", `{"a": 1, (1,): 2}`, "dict key must be string, got tuple"},
		{"nested in list", `[{1: 2}]`, "index 0: dict key must be string, got int"},
		{"nested in tuple", `(0, {1: 2})`, "index 1: dict key must be string, got int"},
		{"nested in dict", `{"a": [0, {None: 1}]}`, `key "a": index 1: dict key must be string, got NoneType`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := eval(t, tt.src)
			if _, err := startype.FromStarlark(v); err == nil || err.Error() != tt.want {
				t.Errorf("FromStarlark error = %v, want %q", err, tt.want)
			}
			out := any("unchanged")
			if err := startype.Starlark(v).ToGoValue(&out); err == nil || err.Error() != tt.want {
				t.Errorf("ToGoValue error = %v, want %q", err, tt.want)
			}
			if out != "unchanged" {
				t.Errorf("target modified on error: %#v", out)
			}
		})
	}
}

func TestFromStarlarkCyclicListFails(t *testing.T) {
	l := starlark.NewList(nil)
	_ = l.Append(l)
	if _, err := startype.FromStarlark(l); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("error = %v, want nesting error", err)
	}
	var out []any
	if err := startype.Starlark(l).ToGoValue(&out); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("typed error = %v, want nesting error", err)
	}
}

// ---------------------------------------------------------------------------
// Starlark → Go, typed decode

type Address struct {
	City string
	Zip  string `starlark:"zip_code"`
}

type Base struct {
	ID int
}

type Person struct {
	Base
	Name     string
	UserID   int
	Nick     string `name:"nickname"`
	Email    string `starlark:"mail" name:"ignored"`
	Tags     []string
	Home     *Address
	Work     Address
	Extra    map[string]any
	Secret   string `starlark:"-"`
	Score    float64
	internal string
}

type NameMatching struct {
	HTTPServer string // http_server
	HomePage   string // homepage (lowercase)
	Title      string // Title (exact)
	Opt        string `starlark:"opt,omitempty"`
}

type myInts []int

type WithPtrBase struct {
	*Base
	Name string
}

type withHidden struct {
	Base   // unexported outer type, exported embedded field
	hidden string
}

func TestToGoValueTyped(t *testing.T) {
	n := 5
	tests := []struct {
		name string
		src  string
		into any // pointer to the target
		want any // expected value of *into
	}{
		{"bool", "True", new(bool), true},
		{"pointer to bool", "False", new(*bool), ptr(false)},
		{"int", "-3", new(int), -3},
		{"int8 max", "127", new(int8), int8(127)},
		{"int16", "-32768", new(int16), int16(-32768)},
		{"int32", "123456", new(int32), int32(123456)},
		{"int64 min", "-9223372036854775808", new(int64), int64(math.MinInt64)},
		{"uint", "7", new(uint), uint(7)},
		{"uint8 max", "255", new(uint8), uint8(255)},
		{"uint16", "65535", new(uint16), uint16(65535)},
		{"uint32", "4294967295", new(uint32), uint32(math.MaxUint32)},
		{"uint64 max", "18446744073709551615", new(uint64), uint64(math.MaxUint64)},
		{"uintptr", "9", new(uintptr), uintptr(9)},
		{"float64", "1.5", new(float64), 1.5},
		{"float64 from int", "3", new(float64), 3.0},
		{"float32", "0.25", new(float32), float32(0.25)},
		{"float32 from int", "2", new(float32), float32(2)},
		{"float64 NaN", `float("nan")`, new(float64), math.NaN()},
		{"float64 Inf", `float("inf")`, new(float64), math.Inf(1)},
		{"float32 Inf", `float("-inf")`, new(float32), float32(math.Inf(-1))},
		{"string", `"hi"`, new(string), "hi"},
		{"named string", `"hi"`, new(myString), myString("hi")},
		{"bytes from Bytes", `b"ab"`, new([]byte), []byte("ab")},
		{"bytes from String", `"ab"`, new([]byte), []byte("ab")},
		{"bytes from list of ints", `[1, 2]`, new([]byte), []byte{1, 2}},
		{"starlark.Bytes unchanged", `b"x"`, new(starlark.Bytes), starlark.Bytes("x")},
		{"slice from list", `[1, 2, 3]`, new([]int), []int{1, 2, 3}},
		{"named slice", `[1]`, new(myInts), myInts{1}},
		{"slice from tuple", `("a", "b")`, new([]string), []string{"a", "b"}},
		{"slice from set", `set([2, 1])`, new([]int), []int{2, 1}},
		{"slice of any", `[1, "a", {"k": 1.5}, {1: 2}]`, new([]any), []any{int64(1), "a", map[string]any{"k": 1.5}, map[any]any{int64(1): int64(2)}}},
		{"nested slices", `[[1], [], [2, 3]]`, new([][]int), [][]int{{1}, {}, {2, 3}}},
		{"slice of pointers with None", `[1, None]`, new([]*int), []*int{ptr(1), nil}},
		{"array from list", `[1, 2, 3]`, new([3]int), [3]int{1, 2, 3}},
		{"array from tuple", `("a",)`, new([1]string), [1]string{"a"}},
		{"map[string]int", `{"a": 1, "b": 2}`, new(map[string]int), map[string]int{"a": 1, "b": 2}},
		{"map[int]string", `{1: "a", 2: "b"}`, new(map[int]string), map[int]string{1: "a", 2: "b"}},
		{"map of slices", `{"a": ["x"]}`, new(map[string][]string), map[string][]string{"a": {"x"}}},
		{"map[string]any with string-keyed nested dict", `{"a": {"b": [1]}}`, new(map[string]any), map[string]any{"a": map[string]any{"b": []any{int64(1)}}}},
		{"map[string]any with other-keyed nested dict", `{"a": {1: "x", "y": 2}}`, new(map[string]any), map[string]any{"a": map[any]any{int64(1): "x", "y": int64(2)}}},
		{"map[any]any from mixed keys", `{"a": 1, 2: None, True: 1.5}`, new(map[any]any), map[any]any{"a": int64(1), int64(2): nil, true: 1.5}},
		{"map with big-int value as any", `{"a": 1 << 70}`, new(map[string]any), map[string]any{"a": "1180591620717411303424"}},
		{"map with set and bytes as any", `{"s": set(["x"]), "b": b"y"}`, new(map[string]any), map[string]any{"s": []any{"x"}, "b": []byte("y")}},
		{"pointer allocated", `5`, new(*int), &n},
		{"pointer to pointer", `5`, new(**int), ptr(&n)},
		{"None into pointer", `None`, ptr(&n), (*int)(nil)},
		{"None into slice", `None`, &[]int{1}, []int(nil)},
		{"None into map", `None`, &map[string]int{"a": 1}, map[string]int(nil)},
		{"None into interface", `None`, ptr[any](1), nil},
		{"None into starlark.Value", `None`, new(starlark.Value), starlark.Value(starlark.None)},
		{"starlark.Value unchanged", `"s"`, new(starlark.Value), starlark.Value(starlark.String("s"))},
		{"starlark.String unchanged", `"s"`, new(starlark.String), starlark.String("s")},
		{"starlark.Tuple from list", `[1, "a"]`, new(starlark.Tuple), starlark.Tuple{starlark.MakeInt(1), starlark.String("a")}},
		{"struct from starlarkstruct", `struct(
			id = 9, name = "Ann", user_id = 3, nickname = "A", mail = "a@x", ignored = "no",
			tags = ("t1", "t2"), home = struct(city = "Oslo", zip_code = "0150"),
			work = {"City": "Bergen"}, extra = {"k": [1]}, secret = "s", internal = "i",
			unknown = 1)`, &Person{Score: 0.5, Secret: "keep"}, Person{
			Base: Base{ID: 9}, Name: "Ann", UserID: 3, Nick: "A", Email: "a@x",
			Tags: []string{"t1", "t2"}, Home: &Address{City: "Oslo", Zip: "0150"},
			Work: Address{City: "Bergen"}, Extra: map[string]any{"k": []any{int64(1)}},
			Secret: "keep", Score: 0.5,
		}},
		{"struct from dict", `{"name": "Bo", "work": struct(city = "Rome"), "home": None}`, new(Person), Person{Name: "Bo", Work: Address{City: "Rome"}}},
		{"struct field name matching", `{"http_server": "h", "homepage": "p", "Title": "t", "opt": "o"}`, new(NameMatching), NameMatching{HTTPServer: "h", HomePage: "p", Title: "t", Opt: "o"}},
		{"snake_case wins over lowercase", `{"http_server": "snake", "httpserver": "lower", "HTTPServer": "exact"}`, new(NameMatching), NameMatching{HTTPServer: "snake"}},
		{"embedded *struct allocated when a field is set", `{"id": 3, "name": "x"}`, new(WithPtrBase), WithPtrBase{Base: &Base{ID: 3}, Name: "x"}},
		{"embedded *struct left nil when no field is set", `{"name": "x"}`, new(WithPtrBase), WithPtrBase{Name: "x"}},
		{"unexported fields ignored", `{"id": 1, "hidden": "h"}`, new(withHidden), withHidden{Base: Base{ID: 1}}},
		{"pointer to struct", `struct(city = "Oslo")`, new(*Address), &Address{City: "Oslo"}},
		{"slice of structs", `[{"city": "a"}, struct(city = "b")]`, new([]Address), []Address{{City: "a"}, {City: "b"}}},
		{"map of structs", `{"x": {"zip_code": "1"}}`, new(map[string]Address), map[string]Address{"x": {Zip: "1"}}},
		{"seed example", `{"status": 200, "ok": True}`, new(map[string]any), map[string]any{"status": int64(200), "ok": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := eval(t, tt.src)
			if err := startype.Starlark(v).ToGoValue(tt.into); err != nil {
				t.Fatalf("ToGoValue: %v", err)
			}
			got := reflect.ValueOf(tt.into).Elem().Interface()
			if !equal(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestToGoValueStarlarkTargetsReceiveValueUnchanged(t *testing.T) {
	list := eval(t, `[1]`)
	fn := eval(t, `len`)
	big := eval(t, `1 << 80`)

	var v starlark.Value
	if err := startype.Starlark(list).ToGoValue(&v); err != nil || v != list {
		t.Errorf("starlark.Value: got %v, %v", v, err)
	}
	var c starlark.Callable
	if err := startype.Starlark(fn).ToGoValue(&c); err != nil || c != fn {
		t.Errorf("starlark.Callable: got %v, %v", c, err)
	}
	var l *starlark.List
	if err := startype.Starlark(list).ToGoValue(&l); err != nil || l != list {
		t.Errorf("*starlark.List: got %v, %v", l, err)
	}
	var i starlark.Int
	if err := startype.Starlark(big).ToGoValue(&i); err != nil || i.String() != "1208925819614629174706176" {
		t.Errorf("starlark.Int: got %v, %v", i, err)
	}
	m := map[string]starlark.Value{}
	d := starlark.NewDict(1)
	_ = d.SetKey(starlark.String("a"), list)
	if err := startype.Starlark(d).ToGoValue(&m); err != nil || m["a"] != list {
		t.Errorf("map[string]starlark.Value: got %v, %v", m, err)
	}
	var s *starlarkstruct.Struct
	st := eval(t, `struct(a = 1)`)
	if err := startype.Starlark(st).ToGoValue(&s); err != nil || s != st {
		t.Errorf("*starlarkstruct.Struct: got %v, %v", s, err)
	}
}

// record is a HasAttrs value other than starlarkstruct whose "broken"
// attribute fails.
type record map[string]starlark.Value

func (r record) String() string        { return "record" }
func (r record) Type() string          { return "record" }
func (r record) Freeze()               {}
func (r record) Truth() starlark.Bool  { return true }
func (r record) Hash() (uint32, error) { return 0, nil }
func (r record) AttrNames() []string {
	names := []string{"broken"}
	for k := range r {
		names = append(names, k)
	}
	return names
}

func (r record) Attr(name string) (starlark.Value, error) {
	if name == "broken" {
		return nil, errors.New("attribute broken failed")
	}
	return r[name], nil
}

func TestToGoValueStructFromCustomHasAttrs(t *testing.T) {
	var a Address
	if err := startype.Starlark(record{"city": starlark.String("Oslo")}).ToGoValue(&a); err != nil {
		t.Fatal(err)
	}
	if a.City != "Oslo" {
		t.Errorf("got %+v", a)
	}
	var b struct{ Broken int }
	err := startype.Starlark(record{}).ToGoValue(&b)
	if err == nil || err.Error() != "field Broken: attribute broken failed" {
		t.Errorf("error = %v", err)
	}
}

func TestToGoValueDoesNotMutatePointees(t *testing.T) {
	a := &Address{City: "old", Zip: "z"}
	p := Person{Home: a}
	if err := startype.Starlark(eval(t, `{"home": {"city": "new"}}`)).ToGoValue(&p); err != nil {
		t.Fatal(err)
	}
	if a.City != "old" {
		t.Errorf("caller's pointee mutated: %+v", a)
	}
	if want := (Address{City: "new", Zip: "z"}); *p.Home != want {
		t.Errorf("Home = %+v, want %+v (existing fields kept as defaults)", *p.Home, want)
	}
}

func TestToGoValueTypedErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		into any
		want string
	}{
		{"string to int", `"1"`, new(int), "cannot convert string to int"},
		{"int to string", `1`, new(string), "cannot convert int to string"},
		{"float to int", `1.5`, new(int), "cannot convert float to int"},
		{"bool to int", `True`, new(int), "cannot convert bool to int"},
		{"string to bool", `"x"`, new(bool), "cannot convert string to bool"},
		{"int to bool", `1`, new(bool), "cannot convert int to bool"},
		{"string to float", `"1"`, new(float64), "cannot convert string to float64"},
		{"bytes to string", `b"x"`, new(string), "cannot convert bytes to string"},
		{"string to starlark.Bytes", `"x"`, new(starlark.Bytes), "cannot convert string to starlark.Bytes"},
		{"dict to *starlark.List", `{}`, new(*starlark.List), "cannot convert dict to *starlark.List"},
		{"int to bytes", `1`, new([]byte), "cannot convert int to []uint8"},
		{"None to int", `None`, new(int), "cannot convert NoneType to int"},
		{"None to bool", `None`, new(bool), "cannot convert NoneType to bool"},
		{"None to string", `None`, new(string), "cannot convert NoneType to string"},
		{"None to struct", `None`, new(Address), "cannot convert NoneType to startype_test.Address"},
		{"None to starlark.Bytes", `None`, new(starlark.Bytes), "cannot convert NoneType to starlark.Bytes"},
		{"int8 overflow", `300`, new(int8), "value 300 out of range for int8"},
		{"int8 underflow", `-129`, new(int8), "value -129 out of range for int8"},
		{"negative to uint", `-1`, new(uint), "value -1 out of range for uint"},
		{"negative to uint8", `-1`, new(uint8), "value -1 out of range for uint8"},
		{"uint8 overflow", `256`, new(uint8), "value 256 out of range for uint8"},
		{"big int to int64", `1 << 64`, new(int64), "value 18446744073709551616 out of range for int64"},
		{"big int to uint64", `1 << 64`, new(uint64), "value 18446744073709551616 out of range for uint64"},
		{"float32 overflow", `1e39`, new(float32), "value 1e+39 out of range for float32"},
		{"int to float32 overflow", `1 << 200`, new(float32), "value " + new(big.Int).Lsh(big.NewInt(1), 200).String() + " out of range for float32"},
		{"int too large for float64", `(1 << 500) * (1 << 500) * (1 << 100)`, new(float64), "value " + new(big.Int).Lsh(big.NewInt(1), 1100).String() + " out of range for float64"},
		{"list to int", `[1]`, new(int), "cannot convert list to int"},
		{"dict to slice", `{}`, new([]int), "cannot convert dict to []int"},
		{"list to map", `[]`, new(map[string]int), "cannot convert list to map[string]int"},
		{"set to array", `set([1])`, new([1]int), "cannot convert set to [1]int"},
		{"array length mismatch", `[1, 2]`, new([3]int), "cannot convert list of length 2 to [3]int"},
		{"slice element", `[1, "a"]`, new([]int), "index 1: cannot convert string to int"},
		{"array element", `(1, 2.5)`, new([2]int), "index 1: cannot convert float to int"},
		{"map value", `{"a": "x"}`, new(map[string]int), `key "a": cannot convert string to int`},
		{"map key", `{1: 2}`, new(map[string]int), "key 1: cannot convert int to string"},
		{"map key overflow", `{1000: 2}`, new(map[int8]int), "key 1000: value 1000 out of range for int8"},
		{"unhashable any key", `{(1, 2): 3}`, new(map[any]int), "key (1, 2): tuple key cannot be a Go map key"},
		{"nested any key", `{"a": {(1,): 3}}`, new(map[string]any), `key "a": key (1,): tuple key cannot be a Go map key`},
		{"struct field", `struct(user_id = "x")`, new(Person), "field UserID: cannot convert string to int"},
		{"nested struct field", `{"home": {"city": 1}}`, new(Person), "field Home: field City: cannot convert int to string"},
		{"embedded struct field", `{"id": "x"}`, new(Person), "field ID: cannot convert string to int"},
		{"string to struct", `"s"`, new(Address), "cannot convert string to startype_test.Address"},
		{"list to struct", `[]`, new(Address), "cannot convert list to startype_test.Address"},
		{"int to struct", `1`, new(Address), "cannot convert int to startype_test.Address"},
		{"dict with int key to struct", `{1: 2}`, new(Address), "dict key must be string, got int"},
		{"int to Callable", `1`, new(starlark.Callable), "cannot convert int to starlark.Callable"},
		{"int to *starlark.List", `1`, new(*starlark.List), "cannot convert int to *starlark.List"},
		{"func target", `1`, new(func()), "cannot convert int to func(): unsupported Go target type"},
		{"chan target", `1`, new(chan int), "cannot convert int to chan int: unsupported Go target type"},
		{"complex target", `1`, new(complex128), "cannot convert int to complex128: unsupported Go target type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := reflect.ValueOf(tt.into).Elem().Interface()
			err := startype.Starlark(eval(t, tt.src)).ToGoValue(tt.into)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if after := reflect.ValueOf(tt.into).Elem().Interface(); !equal(after, before) {
				t.Errorf("target modified on error: %#v → %#v", before, after)
			}
		})
	}
}

func TestToGoValueLeavesTargetUnchangedOnError(t *testing.T) {
	s := []int{9}
	if err := startype.Starlark(eval(t, `[1, "a"]`)).ToGoValue(&s); err == nil {
		t.Fatal("want error")
	}
	if !reflect.DeepEqual(s, []int{9}) {
		t.Errorf("slice = %v", s)
	}
	p := Person{Name: "keep"}
	if err := startype.Starlark(eval(t, `{"name": "new", "user_id": "bad"}`)).ToGoValue(&p); err == nil {
		t.Fatal("want error")
	}
	if p.Name != "keep" {
		t.Errorf("struct partially written: %+v", p)
	}
}

func TestToGoValueRejectsNonPointers(t *testing.T) {
	tests := []struct {
		name string
		out  any
		want string
	}{
		{"nil", nil, "startype: ToGoValue requires a non-nil pointer, got nil"},
		{"non-pointer", 5, "startype: ToGoValue requires a non-nil pointer, got int"},
		{"nil typed pointer", (*int)(nil), "startype: ToGoValue requires a non-nil pointer, got *int"},
		{"nil *any", (*any)(nil), "startype: ToGoValue requires a non-nil pointer, got *interface {}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := startype.Starlark(starlark.MakeInt(1)).ToGoValue(tt.out)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRoundTripSeedShapes(t *testing.T) {
	in := map[string]any{
		"status": 200,
		"ok":     true,
		"ratio":  0.5,
		"count":  2.0,
		"tags":   []any{"a", "b"},
		"meta":   map[string]any{"n": nil},
	}
	v, err := startype.ToStarlark(in)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := startype.Starlark(v).ToGoValue(&out); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"status": int64(200),
		"ok":     true,
		"ratio":  0.5,
		"count":  int64(2), // float64-integral → Int → int64
		"tags":   []any{"a", "b"},
		"meta":   map[string]any{"n": nil},
	}
	if !equal(out, want) {
		t.Fatalf("got %#v, want %#v", out, want)
	}
}

// ---------------------------------------------------------------------------
// Benchmarks

func benchMap() map[string]any {
	m := make(map[string]any, 100)
	for i := 0; i < 25; i++ {
		k := string(rune('a'+i%26)) + strings.Repeat("x", i)
		m[k+"_s"] = "value"
		m[k+"_i"] = i
		m[k+"_f"] = float64(i) + 0.5
		m[k+"_l"] = []any{i, "x", true, map[string]any{"n": nil}}
	}
	return m
}

func BenchmarkToStarlarkMap(b *testing.B) {
	m := benchMap()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := startype.ToStarlark(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToGoMap(b *testing.B) {
	v, err := startype.ToStarlark(benchMap())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var out map[string]any
		if err := startype.Starlark(v).ToGoValue(&out); err != nil {
			b.Fatal(err)
		}
	}
}
