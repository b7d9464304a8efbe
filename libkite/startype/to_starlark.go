// Package startype is kite's Go ⇄ Starlark value bridge.
//
// Go → Starlark (dynamic, used for globals and Call arguments):
//
//	nil, nil pointer/interface     → None
//	bool                           → Bool
//	int, int8..int64, uint..uint64 → Int
//	float32                        → Float
//	float64                        → Int when integral, finite and within int64
//	                                 range (JSON-number semantics: 3.0 → 3),
//	                                 else Float (NaN, ±Inf, 1.5, 1e300 stay Float)
//	string                         → String
//	[]byte                         → Bytes
//	other slices, arrays           → *List (recursive; a nil slice is [])
//	maps                           → *Dict (recursive; keys converted too and
//	                                 inserted in sorted order; a nil map is {})
//	starlark.Value                 → passed through unchanged
//	non-nil pointer                → the value it points to
//	struct, func, chan, complex,
//	unsafe.Pointer                 → error "unsupported Go type <T> for dynamic conversion"
//
// Starlark → Go is provided by [Starlark]; see to_go.go.
package startype

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"

	"go.starlark.net/starlark"
)

// maxDepth bounds recursion in both directions so that self-referencing
// values (a map or list that contains itself) fail with an error instead of
// overflowing the goroutine stack.
const maxDepth = 10000

var (
	valueType = reflect.TypeOf((*starlark.Value)(nil)).Elem()
	errDepth  = fmt.Errorf("value nested more than %d levels deep (cyclic value?)", maxDepth)
)

// GoValue wraps a Go value for conversion to Starlark. Create one with [Go].
type GoValue struct {
	v any
}

// Go wraps v for conversion to a Starlark value.
func Go(v any) *GoValue { return &GoValue{v: v} }

// ToStarlarkValue converts the wrapped value using the dynamic rules in the
// package documentation. Errors inside containers are prefixed with their
// location, e.g. `index 2: ` or `key "a": `.
func (g *GoValue) ToStarlarkValue() (starlark.Value, error) {
	return toStarlark(g.v, 0)
}

// ToStarlark is shorthand for Go(v).ToStarlarkValue().
func ToStarlark(v any) (starlark.Value, error) {
	return toStarlark(v, 0)
}

// Tuple converts positional call arguments. Errors are prefixed `arg <i>: `.
func Tuple(args []any) (starlark.Tuple, error) {
	if len(args) == 0 {
		return nil, nil
	}
	t := make(starlark.Tuple, len(args))
	for i, a := range args {
		v, err := toStarlark(a, 0)
		if err != nil {
			return nil, wrapf(err, "arg %d", i)
		}
		t[i] = v
	}
	return t, nil
}

// Kwargs converts keyword call arguments into the (name, value) pairs
// expected by starlark.Call, sorted by name. Errors are prefixed
// `kwarg "<k>": `.
func Kwargs(kw map[string]any) ([]starlark.Tuple, error) {
	if len(kw) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(kw))
	for k := range kw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]starlark.Tuple, len(keys))
	for i, k := range keys {
		v, err := toStarlark(kw[k], 0)
		if err != nil {
			return nil, wrapf(err, "kwarg %q", k)
		}
		out[i] = starlark.Tuple{starlark.String(k), v}
	}
	return out, nil
}

// toStarlark handles the common concrete types without reflection and
// defers everything else to fromReflect.
func toStarlark(v any, depth int) (starlark.Value, error) {
	switch x := v.(type) {
	case nil:
		return starlark.None, nil
	case starlark.Value:
		return passThrough(x), nil
	case bool:
		return starlark.Bool(x), nil
	case int:
		return starlark.MakeInt(x), nil
	case int64:
		return starlark.MakeInt64(x), nil
	case float64:
		return fromFloat64(x), nil
	case string:
		return starlark.String(x), nil
	case []byte:
		return starlark.Bytes(x), nil
	case []any:
		if depth >= maxDepth {
			return nil, errDepth
		}
		elems := make([]starlark.Value, len(x))
		for i, e := range x {
			ev, err := toStarlark(e, depth+1)
			if err != nil {
				return nil, wrapf(err, "index %d", i)
			}
			elems[i] = ev
		}
		return starlark.NewList(elems), nil
	case map[string]any:
		if depth >= maxDepth {
			return nil, errDepth
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := starlark.NewDict(len(x))
		for _, k := range keys {
			ev, err := toStarlark(x[k], depth+1)
			if err != nil {
				return nil, wrapf(err, "key %q", k)
			}
			if err := d.SetKey(starlark.String(k), ev); err != nil {
				return nil, wrapf(err, "key %q", k)
			}
		}
		return d, nil
	}
	return fromReflect(reflect.ValueOf(v), depth)
}

// passThrough returns a Starlark value unchanged, except that a typed nil
// pointer (e.g. (*starlark.List)(nil)) becomes None rather than a value that
// would crash the interpreter when used.
func passThrough(v starlark.Value) starlark.Value {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return starlark.None
	}
	return v
}

// fromFloat64 applies the JSON-number rule: integral finite values that fit
// in an int64 become Int, everything else stays Float.
func fromFloat64(f float64) starlark.Value {
	// -2^63 and 2^63 are exactly representable; the valid range is [-2^63, 2^63).
	if f == math.Trunc(f) && f >= -(1<<63) && f < (1<<63) {
		return starlark.MakeInt64(int64(f))
	}
	return starlark.Float(f)
}

func fromReflect(rv reflect.Value, depth int) (starlark.Value, error) {
	if depth >= maxDepth {
		return nil, errDepth
	}
	if !rv.IsValid() {
		return starlark.None, nil
	}
	t := rv.Type()
	if t.Implements(valueType) && rv.CanInterface() {
		if rv.Kind() == reflect.Interface && rv.IsNil() {
			return starlark.None, nil
		}
		return passThrough(rv.Interface().(starlark.Value)), nil
	}
	switch rv.Kind() {
	case reflect.Bool:
		return starlark.Bool(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return starlark.MakeInt64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return starlark.MakeUint64(rv.Uint()), nil
	case reflect.Float32:
		return starlark.Float(rv.Float()), nil
	case reflect.Float64:
		return fromFloat64(rv.Float()), nil
	case reflect.String:
		return starlark.String(rv.String()), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return starlark.None, nil
		}
		return fromReflect(rv.Elem(), depth+1)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return starlark.Bytes(rv.Bytes()), nil
		}
		return listFromReflect(rv, depth)
	case reflect.Array:
		return listFromReflect(rv, depth)
	case reflect.Map:
		return dictFromReflect(rv, depth)
	}
	return nil, fmt.Errorf("unsupported Go type %s for dynamic conversion", t)
}

func listFromReflect(rv reflect.Value, depth int) (starlark.Value, error) {
	n := rv.Len()
	elems := make([]starlark.Value, n)
	for i := 0; i < n; i++ {
		ev, err := fromReflect(rv.Index(i), depth+1)
		if err != nil {
			return nil, wrapf(err, "index %d", i)
		}
		elems[i] = ev
	}
	return starlark.NewList(elems), nil
}

// dictFromReflect converts a map, inserting keys in sorted order: string
// keys by value, other keys by fmt.Sprint (ties broken by dynamic type
// name so the order is deterministic even for keys like 1 and "1" in a
// map[any]any).
func dictFromReflect(rv reflect.Value, depth int) (starlark.Value, error) {
	type entry struct {
		key      reflect.Value
		sortKey  string
		typeName string
	}
	entries := make([]entry, 0, rv.Len())
	stringKeys := rv.Type().Key().Kind() == reflect.String
	iter := rv.MapRange()
	for iter.Next() {
		k := iter.Key()
		e := entry{key: k}
		if stringKeys {
			e.sortKey = k.String()
		} else {
			e.sortKey = fmt.Sprint(k.Interface())
			e.typeName = fmt.Sprintf("%T", k.Interface())
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].sortKey != entries[j].sortKey {
			return entries[i].sortKey < entries[j].sortKey
		}
		return entries[i].typeName < entries[j].typeName
	})
	d := starlark.NewDict(len(entries))
	for _, e := range entries {
		loc := goKeyString(e.key)
		kv, err := fromReflect(e.key, depth+1)
		if err != nil {
			return nil, wrapf(err, "key %s", loc)
		}
		vv, err := fromReflect(rv.MapIndex(e.key), depth+1)
		if err != nil {
			return nil, wrapf(err, "key %s", loc)
		}
		if err := d.SetKey(kv, vv); err != nil {
			return nil, wrapf(err, "key %s", loc)
		}
	}
	return d, nil
}

// goKeyString renders a Go map key for error messages: quoted if it is a
// string, fmt.Sprint otherwise.
func goKeyString(k reflect.Value) string {
	for k.Kind() == reflect.Interface && !k.IsNil() {
		k = k.Elem()
	}
	if k.Kind() == reflect.String {
		return strconv.Quote(k.String())
	}
	return fmt.Sprint(k.Interface())
}

// wrapf prefixes err with its location inside a container. The nesting
// error is returned as is: its path would only repeat the cycle.
func wrapf(err error, format string, args ...any) error {
	if err == errDepth {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
