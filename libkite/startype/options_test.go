package startype_test

import (
	gojson "encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/startype"
)

type myByte uint8

func TestOptionsToStarlark(t *testing.T) {
	data := startype.Options{Data: true}
	number := func(lit string) (starlark.Value, error) {
		if lit == "bad" {
			return nil, fmt.Errorf("bad number")
		}
		return starlark.Float(2), nil
	}
	tests := []struct {
		name string
		opts startype.Options
		in   any
		want string // repr, or "error: <text>"
	}{
		{"zero Options is the bridge", startype.Options{}, []any{3.0, float32(3)}, `[3, 3.0]`},
		{"FloatsKeep", startype.Options{Floats: startype.FloatsKeep}, []any{3.0, 1e300}, `[3.0, 1e+300]`},
		{"FloatsIntegral", startype.Options{Floats: startype.FloatsIntegral}, []any{float32(3), 1e20, 2.5, math.Inf(1), math.NaN()}, `[3, 100000000000000000000, 2.5, +inf, nan]`},
		{"json.Number without Number is a string", startype.Options{}, gojson.Number("1"), `"1"`},
		{"Number then Floats", startype.Options{Number: number}, gojson.Number("x"), `2`},
		{"Number inside typed map", startype.Options{Number: number, Floats: startype.FloatsKeep}, map[string]gojson.Number{"a": "x"}, `{"a": 2.0}`},
		{"Number error", startype.Options{Number: number}, []gojson.Number{"bad"}, `error: index 0: bad number`},
		{"big.Int needs Data", startype.Options{}, big.NewInt(7), `error: unsupported Go type big.Int for dynamic conversion`},
		{"Data big.Int", data, []*big.Int{big.NewInt(7), nil}, `[7, None]`},
		{"Data byte array", data, [2]myByte{1, 2}, `b"\x01\x02"`},
		{"bridge byte array", startype.Options{}, [2]myByte{1, 2}, `[1, 2]`},
		{"named byte slice", data, []myByte{1, 2}, `b"\x01\x02"`},
		{"Data key order", data, map[any]any{"x": 1, 10: 0, 2: 0, true: 0}, `{True: 0, 2: 0, 10: 0, "x": 1}`},
		{"bridge key order", startype.Options{}, map[any]any{"x": 1, 10: 0, 2: 0, true: 0}, `{10: 0, 2: 0, True: 0, "x": 1}`},
		{"NaN key keeps its value", startype.Options{}, map[float64]int{math.NaN(): 1}, `{nan: 1}`},
		{"Data errors have no location", data, map[string]any{"a": []any{struct{}{}}}, `error: unsupported Go type struct {}`},
		{"typed nil starlark value", data, []starlark.Value{(*starlark.List)(nil)}, `[None]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.opts.ToStarlark(tt.in)
			got := ""
			if err != nil {
				got = "error: " + err.Error()
			} else {
				got = v.String()
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestOptionsFromStarlark(t *testing.T) {
	data := startype.Options{Data: true}
	tests := []struct {
		name string
		opts startype.Options
		src  string
		want string // %#v, or "error: <text>"
	}{
		{"zero Options is the bridge", startype.Options{}, `[1 << 64, len]`, `[]interface {}{"18446744073709551616", "<built-in function len>"}`},
		{"KeysString", startype.Options{}, `{1: 2}`, `error: dict key must be string, got int`},
		{"KeysAny", startype.Options{Keys: startype.KeysAny}, `{1: 2}`, `map[interface {}]interface {}{1:2}`},
		{"KeysText", startype.Options{Keys: startype.KeysText}, `{1: 2, True: None}`, `map[string]interface {}{"1":2, "true":interface {}(nil)}`},
		{"bridge unhashable key", startype.Options{Keys: startype.KeysAny}, `{(1,): 2}`, `error: key (1,): tuple key cannot be a Go map key`},
		{"Data unhashable key", startype.Options{Data: true, Keys: startype.KeysAny}, `{(1,): 2}`, `error: unsupported type: tuple (as dict key)`},
		{"Data uint64", data, `[1 << 63]`, `[]interface {}{0x8000000000000000}`},
		{"Data too big", data, `[1 << 64]`, `error: unsupported starlark.Int type`},
		{"Data unsupported", data, `{"a": [len]}`, `error: unsupported type: builtin_function_or_method`},
		{"bridge error location", startype.Options{}, `{"a": [{1: 2}]}`, `error: key "a": index 0: dict key must be string, got int`},
		{"Data shared is not a cycle", data, `[[1], [1]]`, `[]interface {}{[]interface {}{1}, []interface {}{1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := tt.opts.FromStarlark(eval(t, tt.src))
			got := ""
			if err != nil {
				got = "error: " + err.Error()
			} else {
				got = fmt.Sprintf("%#v", g)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("cycles", func(t *testing.T) {
		d := eval(t, `{"l": []}`).(*starlark.Dict)
		l, _, _ := d.Get(starlark.String("l"))
		_ = l.(*starlark.List).Append(d)
		if _, err := data.FromStarlark(d); err == nil || err.Error() != "unsupported value: cycle via dict" {
			t.Errorf("Data: error = %v", err)
		}
		if _, err := (startype.Options{}).FromStarlark(d); err == nil || !strings.Contains(err.Error(), "nested more than") {
			t.Errorf("bridge: error = %v", err)
		}
	})
}

// dataValue is a non-dict Starlark value that stands for plain data.
type dataValue struct{ v any }

func (d dataValue) String() string        { return "<data>" }
func (d dataValue) Type() string          { return "data" }
func (d dataValue) Freeze()               {}
func (d dataValue) Truth() starlark.Bool  { return true }
func (d dataValue) Hash() (uint32, error) { return 0, nil }
func (d dataValue) ToData() (any, error)  { return d.v, nil }

func TestDataValuesConvertThroughToData(t *testing.T) {
	inner := map[string]any{"name": "web"}
	l := starlark.NewList([]starlark.Value{dataValue{inner}})
	for _, o := range []startype.Options{{}, {Data: true}} {
		got, err := o.FromStarlark(l)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, []any{inner}) {
			t.Fatalf("Data=%v: got %#v", o.Data, got)
		}
	}
}
