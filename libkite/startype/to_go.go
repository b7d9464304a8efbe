package startype

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"unicode"

	"go.starlark.net/starlark"
)

// StarlarkValue wraps a Starlark value for conversion to Go. Create one with
// [Starlark].
type StarlarkValue struct {
	v starlark.Value
}

// Starlark wraps v for conversion to Go. A nil v is treated as None.
func Starlark(v starlark.Value) *StarlarkValue {
	if v == nil {
		v = starlark.None
	}
	return &StarlarkValue{v: v}
}

// FromStarlark is shorthand for Starlark(v).Value().
func FromStarlark(v starlark.Value) (any, error) {
	return Starlark(v).Value()
}

// Value converts the wrapped value dynamically:
//
//	None          → nil
//	Bool          → bool
//	Int           → int64, or its decimal string if it does not fit
//	Float         → float64
//	String        → string
//	Bytes         → []byte
//	List, Tuple   → []any (recursive)
//	Set           → []any in iteration (insertion) order
//	Dict          → map[string]any (a non-string key is an error
//	                "dict key must be string, got <type>")
//	anything else → its String() representation
func (s *StarlarkValue) Value() (any, error) {
	return bridgeToGo.value(s.v, 0)
}

// ToGoValue stores the wrapped value into the variable out points to.
//
// out must be a non-nil pointer. If it is a *any the dynamic conversion of
// [StarlarkValue.Value] is used. Otherwise the value is decoded according to
// the target's type:
//
//   - bool from Bool.
//   - any int/uint width from Int, range-checked.
//   - float32/float64 from Float or Int.
//   - string from String.
//   - []byte from Bytes or String.
//   - slices from List, Tuple or Set; arrays from List or Tuple of equal length.
//   - maps from Dict, keys and values decoded into the map's key/element types.
//   - structs from Dict (string keys) or from any other starlark.HasAttrs
//     value (e.g. starlarkstruct.Struct). A field's name is its
//     `starlark:"name"` tag, else its `name:"name"` tag, else the
//     snake_case, lowercase or exact field name (first present wins); a tag
//     of "-" skips the field. Unexported fields are skipped, untagged
//     embedded structs are flattened, and missing attributes/keys leave the
//     field as it was. Unknown attributes/keys are ignored.
//   - pointers are allocated as needed; an existing pointee is copied, never
//     modified.
//   - an empty interface (any) nested in a typed target receives the dynamic
//     conversion, except that a Dict whose keys are not all strings becomes a
//     map[any]any instead of failing.
//   - a target whose type the Starlark value is assignable to
//     (starlark.Value, starlark.Callable, starlark.Bytes, *starlark.List, ...)
//     receives the value unchanged; for a non-empty interface target such as
//     starlark.Callable the value must implement it. Any other Starlark-typed
//     target is an error, except starlark.Tuple, which is decoded like a
//     slice.
//   - None yields the zero value for pointer, interface, slice and map
//     targets, and an error for every other target.
//
// Conversion errors name the Starlark type and the Go target type
// ("cannot convert string to int"), are prefixed with their location inside
// containers (`index 2: `, `key "a": `, `field Name: `), and leave *out
// unchanged: the result is assigned only when decoding succeeds.
func (s *StarlarkValue) ToGoValue(out any) error {
	if p, ok := out.(*any); ok && p != nil {
		v, err := bridgeToGo.value(s.v, 0)
		if err != nil {
			return err
		}
		*p = v
		return nil
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		if out == nil {
			return errors.New("startype: ToGoValue requires a non-nil pointer, got nil")
		}
		return fmt.Errorf("startype: ToGoValue requires a non-nil pointer, got %T", out)
	}
	tmp := reflect.New(rv.Type().Elem()).Elem()
	tmp.Set(rv.Elem()) // keep existing struct fields as defaults
	if err := decode(tmp, s.v, 0); err != nil {
		return err
	}
	rv.Elem().Set(tmp)
	return nil
}

// toGo converts Starlark values to Go data under its Options.
type toGo struct {
	Options
	path map[starlark.Value]struct{} // Data: lists and dicts being converted
}

// Without Data a toGo keeps no state, so these are shared.
var (
	bridgeToGo  = &toGo{Options: bridge}
	lenientToGo = &toGo{Options: lenient}
)

func (c *toGo) value(v starlark.Value, depth int) (any, error) {
	switch x := v.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(x), nil
	case starlark.Int:
		if i, ok := x.Int64(); ok {
			return i, nil
		}
		if !c.Data {
			return x.String(), nil
		}
		if u, ok := x.Uint64(); ok {
			return u, nil
		}
		return nil, errors.New("unsupported starlark.Int type")
	case starlark.Float:
		return float64(x), nil
	case starlark.String:
		return string(x), nil
	case starlark.Bytes:
		return []byte(x), nil
	case *starlark.List:
		if err := c.enter(x, depth); err != nil {
			return nil, err
		}
		out := make([]any, x.Len())
		for i := range out {
			e, err := c.value(x.Index(i), depth+1)
			if err != nil {
				return nil, c.wrap(err, "index %d", i)
			}
			out[i] = e
		}
		c.leave(x)
		return out, nil
	case starlark.Tuple:
		if depth >= maxDepth {
			return nil, errDepth
		}
		out := make([]any, len(x))
		for i, ev := range x {
			e, err := c.value(ev, depth+1)
			if err != nil {
				return nil, c.wrap(err, "index %d", i)
			}
			out[i] = e
		}
		return out, nil
	case *starlark.Set:
		if depth >= maxDepth {
			return nil, errDepth
		}
		out := make([]any, 0, x.Len())
		i := 0
		for ev := range x.Elements() {
			e, err := c.value(ev, depth+1)
			if err != nil {
				return nil, c.wrap(err, "index %d", i)
			}
			out = append(out, e)
			i++
		}
		return out, nil
	case *starlark.Dict:
		if err := c.enter(x, depth); err != nil {
			return nil, err
		}
		out, err := c.dict(x, depth)
		c.leave(x)
		return out, err
	}
	if d, ok := v.(Data); ok {
		return d.ToData()
	}
	if c.Data {
		return nil, fmt.Errorf("unsupported type: %s", v.Type())
	}
	return v.String(), nil
}

// enter guards a list or dict: the depth limit, and under Data the cycle
// check. leave undoes it.
func (c *toGo) enter(x starlark.Value, depth int) error {
	if depth >= maxDepth {
		return errDepth
	}
	if c.Data {
		if _, ok := c.path[x]; ok {
			return fmt.Errorf("unsupported value: cycle via %s", x.Type())
		}
		if c.path == nil {
			c.path = make(map[starlark.Value]struct{})
		}
		c.path[x] = struct{}{}
	}
	return nil
}

func (c *toGo) leave(x starlark.Value) {
	if c.Data {
		delete(c.path, x)
	}
}

func (c *toGo) dict(d *starlark.Dict, depth int) (any, error) {
	if c.Keys != KeysText {
		if k := firstNonString(d); k != nil {
			if c.Keys == KeysString {
				return nil, fmt.Errorf("dict key must be string, got %s", k.Type())
			}
			return c.anyKeyDict(d, depth)
		}
	}
	out := make(map[string]any, d.Len())
	for k, v := range d.Entries() {
		key, err := c.textKey(k, depth)
		if err != nil {
			return nil, c.wrap(err, "key %s", k)
		}
		e, err := c.value(v, depth+1)
		if err != nil {
			return nil, c.wrap(err, "key %s", k)
		}
		out[key] = e
	}
	return out, nil
}

// anyKeyDict converts a Dict with a non-string key to map[any]any (KeysAny).
func (c *toGo) anyKeyDict(d *starlark.Dict, depth int) (any, error) {
	out := make(map[any]any, d.Len())
	for k, v := range d.Entries() {
		gk, err := c.value(k, depth+1)
		if err != nil {
			return nil, c.wrap(err, "key %s", k)
		}
		if gk != nil && !reflect.TypeOf(gk).Comparable() {
			if c.Data {
				return nil, fmt.Errorf("unsupported type: %s (as dict key)", k.Type())
			}
			return nil, fmt.Errorf("key %s: %s key cannot be a Go map key", k, k.Type())
		}
		e, err := c.value(v, depth+1)
		if err != nil {
			return nil, c.wrap(err, "key %s", k)
		}
		out[gk] = e
	}
	return out, nil
}

// firstNonString returns the first key of d that is not a String, or nil.
func firstNonString(d *starlark.Dict) starlark.Value {
	for k := range d.Entries() {
		if _, ok := k.(starlark.String); !ok {
			return k
		}
	}
	return nil
}

// textKey returns a String key as is and renders any other key (KeysText)
// with fmt.Sprint of its conversion.
func (c *toGo) textKey(k starlark.Value, depth int) (string, error) {
	if s, ok := k.(starlark.String); ok {
		return string(s), nil
	}
	gk, err := c.value(k, depth+1)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(gk), nil
}

func convErr(v starlark.Value, t reflect.Type) error {
	return fmt.Errorf("cannot convert %s to %s", v.Type(), t)
}

// decode stores v into dst (a settable value) following the typed rules of
// ToGoValue.
func decode(dst reflect.Value, v starlark.Value, depth int) error {
	if depth >= maxDepth {
		return errDepth
	}
	t := dst.Type()
	vt := reflect.TypeOf(v)

	if t.Kind() == reflect.Interface {
		if t.NumMethod() > 0 {
			// starlark.Value, starlark.Callable, ...: the value unchanged.
			if !vt.Implements(t) {
				return convErr(v, t)
			}
			dst.Set(reflect.ValueOf(v))
			return nil
		}
		g, err := lenientToGo.value(v, depth)
		if err != nil {
			return err
		}
		if g == nil {
			dst.SetZero()
		} else {
			dst.Set(reflect.ValueOf(g))
		}
		return nil
	}
	// Starlark-typed targets (starlark.Bytes, *starlark.List, ...) receive
	// the value unchanged.
	if vt.AssignableTo(t) {
		dst.Set(reflect.ValueOf(v))
		return nil
	}

	if v == starlark.None {
		switch t.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			dst.SetZero()
			return nil
		}
		return convErr(v, t)
	}

	if t.Kind() != reflect.Slice && (t.Implements(valueType) || reflect.PointerTo(t).Implements(valueType)) {
		// A Starlark type (other than starlark.Tuple, which is decoded
		// element-wise) the value is not assignable to.
		return convErr(v, t)
	}

	switch t.Kind() {
	case reflect.Bool:
		b, ok := v.(starlark.Bool)
		if !ok {
			return convErr(v, t)
		}
		dst.SetBool(bool(b))
		return nil

	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := v.(starlark.Int)
		if !ok {
			return convErr(v, t)
		}
		n, ok := i.Int64()
		if !ok || dst.OverflowInt(n) {
			return fmt.Errorf("value %s out of range for %s", i, t)
		}
		dst.SetInt(n)
		return nil

	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		i, ok := v.(starlark.Int)
		if !ok {
			return convErr(v, t)
		}
		n, ok := i.Uint64()
		if !ok || dst.OverflowUint(n) {
			return fmt.Errorf("value %s out of range for %s", i, t)
		}
		dst.SetUint(n)
		return nil

	case reflect.Float32, reflect.Float64:
		var f float64
		switch x := v.(type) {
		case starlark.Float:
			f = float64(x)
		case starlark.Int:
			f = float64(x.Float())
			if math.IsInf(f, 0) {
				return fmt.Errorf("value %s out of range for %s", x, t)
			}
		default:
			return convErr(v, t)
		}
		if dst.OverflowFloat(f) {
			return fmt.Errorf("value %s out of range for %s", v, t)
		}
		dst.SetFloat(f)
		return nil

	case reflect.String:
		s, ok := v.(starlark.String)
		if !ok {
			return convErr(v, t)
		}
		dst.SetString(string(s))
		return nil

	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if !dst.IsNil() {
			p.Elem().Set(dst.Elem()) // copy, never mutate the caller's pointee
		}
		if err := decode(p.Elem(), v, depth+1); err != nil {
			return err
		}
		dst.Set(p)
		return nil

	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			switch x := v.(type) {
			case starlark.Bytes:
				dst.SetBytes([]byte(x))
				return nil
			case starlark.String:
				dst.SetBytes([]byte(x))
				return nil
			}
		}
		elems, ok := sequence(v)
		if !ok {
			return convErr(v, t)
		}
		s := reflect.MakeSlice(t, len(elems), len(elems))
		for i, e := range elems {
			if err := decode(s.Index(i), e, depth+1); err != nil {
				return wrapf(err, "index %d", i)
			}
		}
		dst.Set(s)
		return nil

	case reflect.Array:
		var elems []starlark.Value
		switch x := v.(type) {
		case *starlark.List:
			elems = slicesCollect(x)
		case starlark.Tuple:
			elems = x
		default:
			return convErr(v, t)
		}
		if len(elems) != t.Len() {
			return fmt.Errorf("cannot convert %s of length %d to %s", v.Type(), len(elems), t)
		}
		a := reflect.New(t).Elem()
		for i, e := range elems {
			if err := decode(a.Index(i), e, depth+1); err != nil {
				return wrapf(err, "index %d", i)
			}
		}
		dst.Set(a)
		return nil

	case reflect.Map:
		d, ok := v.(*starlark.Dict)
		if !ok {
			return convErr(v, t)
		}
		m := reflect.MakeMapWithSize(t, d.Len())
		for k, ev := range d.Entries() {
			gk := reflect.New(t.Key()).Elem()
			if err := decode(gk, k, depth+1); err != nil {
				return wrapf(err, "key %s", k)
			}
			if !gk.Comparable() {
				return fmt.Errorf("key %s: %s key cannot be a Go map key", k, k.Type())
			}
			ge := reflect.New(t.Elem()).Elem()
			if err := decode(ge, ev, depth+1); err != nil {
				return wrapf(err, "key %s", k)
			}
			m.SetMapIndex(gk, ge)
		}
		dst.Set(m)
		return nil

	case reflect.Struct:
		return decodeStruct(dst, v, depth)
	}
	return fmt.Errorf("cannot convert %s to %s: unsupported Go target type", v.Type(), t)
}

// sequence returns the elements of a List, Tuple or Set.
func sequence(v starlark.Value) ([]starlark.Value, bool) {
	switch x := v.(type) {
	case *starlark.List:
		return slicesCollect(x), true
	case starlark.Tuple:
		return x, true
	case *starlark.Set:
		out := make([]starlark.Value, 0, x.Len())
		for e := range x.Elements() {
			out = append(out, e)
		}
		return out, true
	}
	return nil, false
}

func slicesCollect(l *starlark.List) []starlark.Value {
	out := make([]starlark.Value, l.Len())
	for i := range out {
		out[i] = l.Index(i)
	}
	return out
}

// attrSource abstracts the two struct sources: a string-keyed Dict and a
// HasAttrs value.
type attrSource interface {
	lookup(name string) (starlark.Value, bool, error)
}

type dictSource map[string]starlark.Value

func (d dictSource) lookup(name string) (starlark.Value, bool, error) {
	v, ok := d[name]
	return v, ok, nil
}

type attrsSource struct {
	v     starlark.HasAttrs
	names map[string]bool
}

func (a attrsSource) lookup(name string) (starlark.Value, bool, error) {
	if !a.names[name] {
		return nil, false, nil
	}
	v, err := a.v.Attr(name)
	if err != nil {
		return nil, false, err
	}
	return v, v != nil, nil
}

func decodeStruct(dst reflect.Value, v starlark.Value, depth int) error {
	var src attrSource
	switch x := v.(type) {
	case *starlark.Dict:
		m := make(dictSource, x.Len())
		for k, ev := range x.Entries() {
			ks, ok := k.(starlark.String)
			if !ok {
				return fmt.Errorf("dict key must be string, got %s", k.Type())
			}
			m[string(ks)] = ev
		}
		src = m
	case starlark.String, starlark.Bytes, *starlark.List, *starlark.Set:
		// Built-in types expose methods as attributes; they are not records.
		return convErr(v, dst.Type())
	case starlark.HasAttrs:
		names := make(map[string]bool)
		for _, n := range x.AttrNames() {
			names[n] = true
		}
		src = attrsSource{v: x, names: names}
	default:
		return convErr(v, dst.Type())
	}
	_, err := fillStruct(dst, src, depth)
	return err
}

// fillStruct assigns the fields of dst found in src and reports whether
// any was assigned. An embedded *struct is allocated only if one of its
// fields is assigned.
func fillStruct(dst reflect.Value, src attrSource, depth int) (bool, error) {
	if depth >= maxDepth {
		return false, errDepth
	}
	assigned := false
	for _, f := range structFields(dst.Type()) {
		fv := dst.Field(f.index)
		if f.embedded {
			target := fv
			if fv.Kind() == reflect.Pointer {
				target = reflect.New(fv.Type().Elem()).Elem()
				if !fv.IsNil() {
					target.Set(fv.Elem())
				}
			}
			set, err := fillStruct(target, src, depth+1)
			if err != nil {
				return false, err
			}
			if set && fv.Kind() == reflect.Pointer {
				fv.Set(target.Addr())
			}
			assigned = assigned || set
			continue
		}
		for _, name := range f.names {
			ev, ok, err := src.lookup(name)
			if err != nil {
				return false, wrapf(err, "field %s", f.goName)
			}
			if !ok {
				continue
			}
			if err := decode(fv, ev, depth+1); err != nil {
				return false, wrapf(err, "field %s", f.goName)
			}
			assigned = true
			break
		}
	}
	return assigned, nil
}

type fieldInfo struct {
	index    int
	goName   string
	names    []string // candidate Starlark names, in priority order
	embedded bool     // untagged embedded struct (or *struct): flatten
}

var fieldCache sync.Map // reflect.Type → []fieldInfo

func structFields(t reflect.Type) []fieldInfo {
	if fi, ok := fieldCache.Load(t); ok {
		return fi.([]fieldInfo)
	}
	var fields []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, tagged := fieldTag(sf)
		if tag == "-" {
			continue
		}
		if sf.Anonymous && !tagged {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && (sf.IsExported() || sf.Type.Kind() != reflect.Pointer) {
				fields = append(fields, fieldInfo{index: i, goName: sf.Name, embedded: true})
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		var names []string
		if tagged {
			names = []string{tag}
		} else {
			names = uniq(snakeCase(sf.Name), strings.ToLower(sf.Name), sf.Name)
		}
		fields = append(fields, fieldInfo{index: i, goName: sf.Name, names: names})
	}
	fi, _ := fieldCache.LoadOrStore(t, fields)
	return fi.([]fieldInfo)
}

// fieldTag returns the field's Starlark name from its `starlark` tag, else
// its `name` tag (options after a comma are ignored).
func fieldTag(sf reflect.StructField) (string, bool) {
	for _, key := range []string{"starlark", "name"} {
		if tag, ok := sf.Tag.Lookup(key); ok {
			tag, _, _ = strings.Cut(tag, ",")
			if tag != "" {
				return tag, true
			}
		}
	}
	return "", false
}

func uniq(names ...string) []string {
	out := names[:0]
	for _, n := range names {
		dup := false
		for _, o := range out {
			dup = dup || o == n
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}

// snakeCase converts a Go identifier to snake_case: "UserID" → "user_id",
// "HTTPServer" → "http_server", "Name" → "name".
func snakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			if i > 0 {
				prev := r[i-1]
				nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					b.WriteByte('_')
				}
			}
			b.WriteRune(unicode.ToLower(c))
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}
