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
//
// [Options] selects other policies (the builtins.md §13 data rules used by
// the codec modules, float and dict-key handling); the package-level
// functions use the zero Options.
package startype

import (
	gojson "encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// maxDepth bounds container and pointer nesting in both directions so that
// self-referencing values (a map or list that contains itself) fail with an
// error instead of overflowing the goroutine stack.
const maxDepth = 10000

var (
	valueType  = reflect.TypeOf((*starlark.Value)(nil)).Elem()
	numberType = reflect.TypeOf(gojson.Number(""))
	errDepth   = fmt.Errorf("value nested more than %d levels deep (cyclic value?)", maxDepth)

	bridge  Options                  // the package's dynamic rules
	lenient = Options{Keys: KeysAny} // interface values nested in typed targets
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
	return bridge.fromGo(g.v, 0)
}

// ToStarlark is shorthand for Go(v).ToStarlarkValue().
func ToStarlark(v any) (starlark.Value, error) {
	return bridge.fromGo(v, 0)
}

// Tuple converts positional call arguments. Errors are prefixed `arg <i>: `.
func Tuple(args []any) (starlark.Tuple, error) {
	if len(args) == 0 {
		return nil, nil
	}
	t := make(starlark.Tuple, len(args))
	for i, a := range args {
		switch x := a.(type) { // fast path for the common scalars
		case int:
			t[i] = starlark.MakeInt(x)
			continue
		case string:
			t[i] = starlark.String(x)
			continue
		case bool:
			t[i] = starlark.Bool(x)
			continue
		}
		v, err := bridge.fromGo(a, 0)
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
		v, err := bridge.fromGo(kw[k], 0)
		if err != nil {
			return nil, wrapf(err, "kwarg %q", k)
		}
		out[i] = starlark.Tuple{starlark.String(k), v}
	}
	return out, nil
}

// fromGo handles the common concrete types without reflection and
// defers everything else to fromReflect.
func (o *Options) fromGo(v any, depth int) (starlark.Value, error) {
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
	case uint64:
		return starlark.MakeUint64(x), nil
	case float64:
		return o.float(x, false), nil
	case float32:
		return o.float(float64(x), true), nil
	case string:
		return starlark.String(x), nil
	case []byte:
		return starlark.Bytes(x), nil
	case gojson.Number:
		if o.Number != nil {
			return o.number(string(x))
		}
		return starlark.String(x), nil
	case *big.Int:
		if o.Data && x != nil {
			return starlark.MakeBigInt(x), nil
		}
	case []any:
		if depth >= maxDepth {
			return nil, errDepth
		}
		elems := make([]starlark.Value, len(x))
		for i, e := range x {
			ev, err := o.fromGo(e, depth+1)
			if err != nil {
				return nil, o.wrap(err, "index %d", i)
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
			ev, err := o.fromGo(x[k], depth+1)
			if err != nil {
				return nil, o.wrap(err, "key %q", k)
			}
			if err := d.SetKey(starlark.String(k), ev); err != nil {
				return nil, o.wrap(err, "key %q", k)
			}
		}
		return d, nil
	}
	return o.fromReflect(reflect.ValueOf(v), depth)
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

// float applies o.Floats to a float64 or (is32) float32 value.
func (o *Options) float(f float64, is32 bool) starlark.Value {
	switch o.Floats {
	case FloatsInt64:
		// -2^63 and 2^63 are exactly representable; the valid range is [-2^63, 2^63).
		if !is32 && f == math.Trunc(f) && f >= -(1<<63) && f < (1<<63) {
			return starlark.MakeInt64(int64(f))
		}
	case FloatsIntegral:
		if f == math.Trunc(f) && !math.IsInf(f, 0) {
			if i, err := starlark.NumberToInt(starlark.Float(f)); err == nil {
				return i
			}
		}
	}
	return starlark.Float(f)
}

// number converts a json.Number literal with o.Number.
func (o *Options) number(lit string) (starlark.Value, error) {
	n, err := o.Number(lit)
	if err != nil {
		return nil, err
	}
	if f, ok := n.(starlark.Float); ok {
		return o.float(float64(f), false), nil
	}
	return n, nil
}

func (o *Options) fromReflect(rv reflect.Value, depth int) (starlark.Value, error) {
	if !rv.IsValid() {
		return starlark.None, nil
	}
	t := rv.Type()
	switch rv.Kind() {
	case reflect.Bool:
		return starlark.Bool(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return starlark.MakeInt64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return starlark.MakeUint64(rv.Uint()), nil
	case reflect.Float32:
		return o.float(rv.Float(), true), nil
	case reflect.Float64:
		return o.float(rv.Float(), false), nil
	case reflect.String:
		return starlark.String(rv.String()), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return starlark.None, nil
		}
		if depth >= maxDepth {
			return nil, errDepth
		}
		return o.elem(rv.Elem(), depth+1)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return starlark.Bytes(rv.Bytes()), nil
		}
		return o.listFromReflect(rv, depth)
	case reflect.Array:
		if o.Data && t.Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			for i := range b {
				b[i] = byte(rv.Index(i).Uint())
			}
			return starlark.Bytes(b), nil
		}
		return o.listFromReflect(rv, depth)
	case reflect.Map:
		return o.dictFromReflect(rv, depth)
	}
	if o.Data {
		return nil, fmt.Errorf("unsupported Go type %s", t)
	}
	return nil, fmt.Errorf("unsupported Go type %s for dynamic conversion", t)
}

// elem converts a reflected element, key or pointee. Values that may hold
// a type fromGo handles specially (starlark.Value, *big.Int, json.Number)
// go through fromGo; the rest are converted by kind.
func (o *Options) elem(rv reflect.Value, depth int) (starlark.Value, error) {
	switch rv.Kind() {
	case reflect.Interface, reflect.Pointer:
		return o.fromGo(rv.Interface(), depth)
	}
	if t := rv.Type(); t == numberType || t.Implements(valueType) {
		return o.fromGo(rv.Interface(), depth)
	}
	return o.fromReflect(rv, depth)
}

func (o *Options) listFromReflect(rv reflect.Value, depth int) (starlark.Value, error) {
	if depth >= maxDepth {
		return nil, errDepth
	}
	n := rv.Len()
	elems := make([]starlark.Value, n)
	for i := 0; i < n; i++ {
		ev, err := o.elem(rv.Index(i), depth+1)
		if err != nil {
			return nil, o.wrap(err, "index %d", i)
		}
		elems[i] = ev
	}
	return starlark.NewList(elems), nil
}

// dictFromReflect converts a map, inserting keys in sorted order. Under
// Data keys are converted first and ordered by keyLess; otherwise string
// keys sort by value, other keys by fmt.Sprint (ties broken by dynamic
// type name so the order is deterministic even for keys like 1 and "1" in
// a map[any]any).
func (o *Options) dictFromReflect(rv reflect.Value, depth int) (starlark.Value, error) {
	if depth >= maxDepth {
		return nil, errDepth
	}
	type entry struct {
		key, val reflect.Value
		sk       starlark.Value // converted key (Data only)
		sortKey  string
		typeName string
	}
	entries := make([]entry, 0, rv.Len())
	for iter := rv.MapRange(); iter.Next(); {
		entries = append(entries, entry{key: iter.Key(), val: iter.Value()})
	}
	if o.Data {
		for i := range entries {
			sk, err := o.elem(entries[i].key, depth+1)
			if err != nil {
				return nil, err
			}
			entries[i].sk = sk
		}
		sort.SliceStable(entries, func(i, j int) bool { return keyLess(entries[i].sk, entries[j].sk) })
	} else {
		stringKeys := rv.Type().Key().Kind() == reflect.String
		for i := range entries {
			e := &entries[i]
			if stringKeys {
				e.sortKey = e.key.String()
			} else {
				e.sortKey = fmt.Sprint(e.key.Interface())
				e.typeName = fmt.Sprintf("%T", e.key.Interface())
			}
		}
		sort.Slice(entries, func(i, j int) bool {
			if entries[i].sortKey != entries[j].sortKey {
				return entries[i].sortKey < entries[j].sortKey
			}
			return entries[i].typeName < entries[j].typeName
		})
	}
	d := starlark.NewDict(len(entries))
	for _, e := range entries {
		kv := e.sk
		if kv == nil {
			var err error
			if kv, err = o.elem(e.key, depth+1); err != nil {
				return nil, o.wrap(err, "key %s", goKeyString(e.key))
			}
		}
		vv, err := o.elem(e.val, depth+1)
		if err != nil {
			return nil, o.wrap(err, "key %s", goKeyString(e.key))
		}
		if err := d.SetKey(kv, vv); err != nil {
			return nil, o.wrap(err, "key %s", goKeyString(e.key))
		}
	}
	return d, nil
}

// keyLess orders dict keys of mixed types: same-type values (and numbers)
// by Starlark comparison, otherwise by type name, then by str().
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

// wrap is wrapf, except under Data, whose errors carry no location.
func (o *Options) wrap(err error, format string, args ...any) error {
	if o.Data {
		return err
	}
	return wrapf(err, format, args...)
}

// wrapf prefixes err with its location inside a container. The nesting
// error is returned as is: its path would only repeat the cycle.
func wrapf(err error, format string, args ...any) error {
	if err == errDepth {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
