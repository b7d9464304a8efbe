package json

import (
	gojson "encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// This file holds the shared Starlark ⇄ Go data conversion of
// builtins.md §13, used by the json encoder/decoder and meant for every
// codec module (yaml, template, ...) and for vars.

// ToGoOption tunes ToGo.
type ToGoOption func(*toGo)

type toGo struct {
	stringKeys bool
	path       map[any]bool // containers being converted (cycle guard)
}

// StringKeys makes ToGo render every dict as map[string]any, converting
// non-string keys to text the way JSON object keys need: int 1 → "1",
// bool → "true", other keys Go-%v formatted.
func StringKeys() ToGoOption { return func(c *toGo) { c.stringKeys = true } }

// ToGo converts Starlark data to host data (builtins.md §13):
//
//	None → nil, bool → bool, int → int64 (uint64 when above int64),
//	float → float64, str → string, bytes → []byte, list/tuple/set → []any,
//	dict → map[string]any when every key is a str (or with StringKeys),
//	else map[any]any with converted keys.
//
// Errors: ints beyond uint64 → `unsupported starlark.Int type`; any other
// type → `unsupported type: <type>`; a container that contains itself →
// `unsupported value: cycle via <type>`.
func ToGo(v starlark.Value, opts ...ToGoOption) (any, error) {
	c := &toGo{path: map[any]bool{}}
	for _, o := range opts {
		o(c)
	}
	return c.conv(v)
}

func (c *toGo) conv(v starlark.Value) (any, error) {
	switch x := v.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(x), nil
	case starlark.Int:
		if i, ok := x.Int64(); ok {
			return i, nil
		}
		if u, ok := x.Uint64(); ok {
			return u, nil
		}
		return nil, fmt.Errorf("unsupported starlark.Int type")
	case starlark.Float:
		return float64(x), nil
	case starlark.String:
		return string(x), nil
	case starlark.Bytes:
		return []byte(x), nil
	case *starlark.List:
		if err := c.enter(x); err != nil {
			return nil, err
		}
		defer delete(c.path, x)
		out := make([]any, x.Len())
		for i := range out {
			e, err := c.conv(x.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case starlark.Tuple:
		out := make([]any, len(x))
		for i, ev := range x {
			e, err := c.conv(ev)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case *starlark.Set:
		out := make([]any, 0, x.Len())
		for ev := range x.Elements() {
			e, err := c.conv(ev)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case *starlark.Dict:
		if err := c.enter(x); err != nil {
			return nil, err
		}
		defer delete(c.path, x)
		return c.dict(x)
	}
	return nil, fmt.Errorf("unsupported type: %s", v.Type())
}

func (c *toGo) enter(container starlark.Value) error {
	if c.path[container] {
		return fmt.Errorf("unsupported value: cycle via %s", container.Type())
	}
	c.path[container] = true
	return nil
}

func (c *toGo) dict(d *starlark.Dict) (any, error) {
	allStrings := true
	for k := range d.Entries() {
		if _, ok := k.(starlark.String); !ok {
			allStrings = false
			break
		}
	}
	if allStrings || c.stringKeys {
		out := make(map[string]any, d.Len())
		for k, v := range d.Entries() {
			key, err := c.textKey(k)
			if err != nil {
				return nil, err
			}
			e, err := c.conv(v)
			if err != nil {
				return nil, err
			}
			out[key] = e
		}
		return out, nil
	}
	out := make(map[any]any, d.Len())
	for k, v := range d.Entries() {
		gk, err := c.conv(k)
		if err != nil {
			return nil, err
		}
		if gk != nil && !reflect.TypeOf(gk).Comparable() {
			return nil, fmt.Errorf("unsupported type: %s (as dict key)", k.Type())
		}
		e, err := c.conv(v)
		if err != nil {
			return nil, err
		}
		out[gk] = e
	}
	return out, nil
}

func (c *toGo) textKey(k starlark.Value) (string, error) {
	if s, ok := k.(starlark.String); ok {
		return string(s), nil
	}
	gk, err := c.conv(k)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(gk), nil
}

// FromGoOption tunes FromGo.
type FromGoOption func(*fromGo)

type fromGo struct {
	integralFloats bool
}

// IntegralFloatsAsInts makes FromGo return int for floats with no
// fractional part (2.0 → 2), the JSON-style typing vars uses.
func IntegralFloatsAsInts() FromGoOption { return func(c *fromGo) { c.integralFloats = true } }

// FromGo converts decoded host data to Starlark (builtins.md §13):
//
//	nil → None, bool → bool, every Go integer type and *big.Int → int,
//	float32/float64 → float, encoding/json.Number → int for an integer
//	literal (exact at any size) else float, string → str, []byte → bytes,
//	slices and arrays → list, maps → dict with keys sorted (Go maps have
//	no order), pointers → their target, starlark.Value → itself.
//
// Named types are converted by their kind. Anything else (structs,
// channels, functions) fails with `unsupported Go type <T>`.
func FromGo(v any, opts ...FromGoOption) (starlark.Value, error) {
	c := &fromGo{}
	for _, o := range opts {
		o(c)
	}
	return c.conv(v, 0)
}

const maxDepth = 10000

func (c *fromGo) conv(v any, depth int) (starlark.Value, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("value nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		return starlark.None, nil
	case starlark.Value:
		return x, nil
	case bool:
		return starlark.Bool(x), nil
	case string:
		return starlark.String(x), nil
	case int:
		return starlark.MakeInt(x), nil
	case int64:
		return starlark.MakeInt64(x), nil
	case uint64:
		return starlark.MakeUint64(x), nil
	case float64:
		return c.float(x), nil
	case float32:
		return c.float(float64(x)), nil
	case gojson.Number:
		n, err := NumberValue(string(x))
		if err != nil {
			return nil, err
		}
		if f, ok := n.(starlark.Float); ok {
			return c.float(float64(f)), nil
		}
		return n, nil
	case *big.Int:
		if x == nil {
			return starlark.None, nil
		}
		return starlark.MakeBigInt(x), nil
	case []byte:
		return starlark.Bytes(x), nil
	case []any:
		elems := make([]starlark.Value, len(x))
		for i, e := range x {
			sv, err := c.conv(e, depth+1)
			if err != nil {
				return nil, err
			}
			elems[i] = sv
		}
		return starlark.NewList(elems), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := starlark.NewDict(len(x))
		for _, k := range keys {
			sv, err := c.conv(x[k], depth+1)
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(starlark.String(k), sv); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	return c.reflect(reflect.ValueOf(v), depth)
}

// reflect handles named and less common Go types by kind.
func (c *fromGo) reflect(rv reflect.Value, depth int) (starlark.Value, error) {
	switch rv.Kind() {
	case reflect.Bool:
		return starlark.Bool(rv.Bool()), nil
	case reflect.String:
		return starlark.String(rv.String()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return starlark.MakeInt64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return starlark.MakeUint64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return c.float(rv.Float()), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return starlark.None, nil
		}
		return c.conv(rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return starlark.NewList(nil), nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return starlark.Bytes(b), nil
		}
		elems := make([]starlark.Value, rv.Len())
		for i := range elems {
			sv, err := c.conv(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			elems[i] = sv
		}
		return starlark.NewList(elems), nil
	case reflect.Map:
		type entry struct{ k, v starlark.Value }
		entries := make([]entry, 0, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k, err := c.conv(it.Key().Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			val, err := c.conv(it.Value().Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			entries = append(entries, entry{k, val})
		}
		sort.SliceStable(entries, func(i, j int) bool { return keyLess(entries[i].k, entries[j].k) })
		d := starlark.NewDict(len(entries))
		for _, e := range entries {
			if err := d.SetKey(e.k, e.v); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	if !rv.IsValid() {
		return starlark.None, nil
	}
	return nil, fmt.Errorf("unsupported Go type %s", rv.Type())
}

func (c *fromGo) float(f float64) starlark.Value {
	if c.integralFloats && f == math.Trunc(f) && !math.IsInf(f, 0) {
		if i, err := starlark.NumberToInt(starlark.Float(f)); err == nil {
			return i
		}
	}
	return starlark.Float(f)
}

// keyLess orders dict keys of mixed types: same-type values by Starlark
// comparison, otherwise by type name, then by str().
func keyLess(a, b starlark.Value) bool {
	if a.Type() != b.Type() {
		_, an := a.(starlark.Int)
		_, bn := b.(starlark.Int)
		_, af := a.(starlark.Float)
		_, bf := b.(starlark.Float)
		if !((an || af) && (bn || bf)) {
			return a.Type() < b.Type()
		}
	}
	if lt, err := starlark.Compare(syntax.LT, a, b); err == nil {
		return lt
	}
	return a.String() < b.String()
}

// NumberValue converts a JSON number literal following json.md: numbers
// decode to float, except integer literals (no '.', 'e' or 'E') whose
// value float64 cannot hold exactly, which stay exact ints (kite: no
// silent precision loss above 2^53). A literal outside float64 range
// fails like Go's decoder: `json: cannot unmarshal number 1e400 into Go
// value of type float64`.
func NumberValue(lit string) (starlark.Value, error) {
	if !strings.ContainsAny(lit, ".eE") {
		digits := strings.TrimPrefix(lit, "-")
		if len(digits) > 15 { // 10^15 < 2^53: shorter literals are exact floats
			bi, ok := new(big.Int).SetString(lit, 10)
			if !ok {
				return nil, fmt.Errorf("json: invalid number literal %q", lit)
			}
			if f, acc := new(big.Float).SetInt(bi).Float64(); acc != big.Exact || math.IsInf(f, 0) {
				return starlark.MakeBigInt(bi), nil
			}
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return nil, fmt.Errorf("json: cannot unmarshal number %s into Go value of type float64", lit)
	}
	return starlark.Float(f), nil
}
