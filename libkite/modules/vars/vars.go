// Package vars is kite's vars module (spec/vars.md): typed read access to
// the host's variable store. A plain namespace (no try_ twins); every
// function is also a global alias.
package vars

import (
	gojson "encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/json"
)

// New returns the vars module: a plain namespace whose functions are also
// global aliases.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:            "vars",
		Doc:           "Typed access to script variables (--var, var files, env)",
		Build:         members,
		GlobalAliases: libkite.AliasAllMembers,
	}
}

func members() starlark.StringDict {
	return starlark.StringDict{
		"var_str":   starlark.NewBuiltin("var_str", varStr),
		"var_int":   starlark.NewBuiltin("var_int", varInt),
		"var_bool":  starlark.NewBuiltin("var_bool", varBool),
		"var_float": starlark.NewBuiltin("var_float", varFloat),
		"var_list":  starlark.NewBuiltin("var_list", varList),
		"var_dict":  starlark.NewBuiltin("var_dict", varDict),
		"var_names": starlark.NewBuiltin("var_names", varNames),
	}
}

// lookup fetches name from the thread's runtime store; no runtime or no
// store means every lookup misses.
func lookup(thread *starlark.Thread, name string) (any, bool) {
	rt := libkite.GetRuntime(thread)
	if rt == nil {
		return nil, false
	}
	vs := rt.VarStore()
	if vs == nil {
		return nil, false
	}
	return vs.Get(name)
}

// var_str(name, default="") → str; stored values are Go-%v formatted.
func varStr(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, def string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "name", &name, "default?", &def); err != nil {
		return nil, err
	}
	v, ok := lookup(thread, name)
	if !ok {
		return starlark.String(def), nil
	}
	return starlark.String(fmt.Sprintf("%v", v)), nil
}

// var_int(name, default=0) → int; floats truncate, strings parse base 10.
func varInt(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	def := starlark.MakeInt(0)
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "name", &name, "default?", &def); err != nil {
		return nil, err
	}
	v, ok := lookup(thread, name)
	if !ok {
		return def, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return starlark.MakeInt64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return starlark.MakeUint64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		i, err := starlark.NumberToInt(starlark.Float(rv.Float())) // truncates toward zero
		if err != nil {
			return nil, fmt.Errorf("%s: cannot convert %v to int for variable %q", fn.Name(), v, name)
		}
		return i, nil
	case reflect.String:
		s := rv.String()
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return starlark.MakeInt64(i), nil
		} else if ne, _ := err.(*strconv.NumError); ne != nil && ne.Err == strconv.ErrRange {
			if bi, ok := new(big.Int).SetString(s, 10); ok {
				return starlark.MakeBigInt(bi), nil
			}
		}
		return nil, fmt.Errorf("%s: cannot convert %q to int for variable %q", fn.Name(), s, name)
	}
	return nil, unsupported(fn, v, name)
}

// var_bool(name, default=False) → bool; strings as strconv.ParseBool.
func varBool(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var def bool
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "name", &name, "default?", &def); err != nil {
		return nil, err
	}
	v, ok := lookup(thread, name)
	if !ok {
		return starlark.Bool(def), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return starlark.Bool(rv.Bool()), nil
	case reflect.String:
		b, err := strconv.ParseBool(rv.String())
		if err != nil {
			return nil, fmt.Errorf("%s: cannot convert %q to bool for variable %q", fn.Name(), rv.String(), name)
		}
		return starlark.Bool(b), nil
	}
	return nil, unsupported(fn, v, name)
}

// var_float(name, default=0.0) → float. kite: an int default is accepted.
func varFloat(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var def starlark.Value = starlark.Float(0)
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "name", &name, "default?", &def); err != nil {
		return nil, err
	}
	switch d := def.(type) {
	case starlark.Float:
	case starlark.Int:
		def = starlark.Float(d.Float())
	default:
		return nil, fmt.Errorf("%s: for parameter default: got %s, want float", fn.Name(), def.Type())
	}
	v, ok := lookup(thread, name)
	if !ok {
		return def, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return starlark.Float(float64(rv.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return starlark.Float(float64(rv.Uint())), nil
	case reflect.Float32, reflect.Float64:
		return starlark.Float(rv.Float()), nil
	case reflect.String:
		f, err := strconv.ParseFloat(rv.String(), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot convert %q to float for variable %q", fn.Name(), rv.String(), name)
		}
		return starlark.Float(f), nil
	}
	return nil, unsupported(fn, v, name)
}

// var_list(name, default=[]) → list; the default is returned as given.
// Stored lists convert JSON-style; stored strings must be a JSON array.
func varList(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return container(thread, fn, args, kwargs, "list", reflect.Slice, reflect.Array)
}

// var_dict(name, default={}) → dict; the default is returned as given.
// Stored maps convert JSON-style; stored strings must be a JSON object.
func varDict(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return container(thread, fn, args, kwargs, "dict", reflect.Map)
}

// container implements var_list and var_dict: want is the Starlark type
// name, kinds the Go kinds stored values may have.
func container(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, want string, kinds ...reflect.Kind) (starlark.Value, error) {
	var name string
	var def starlark.Value
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "name", &name, "default?", &def); err != nil {
		return nil, err
	}
	v, ok := lookup(thread, name)
	if !ok {
		if def != nil {
			return def, nil
		}
		if want == "list" {
			return starlark.NewList(nil), nil
		}
		return starlark.NewDict(0), nil
	}
	s, fromString := v.(string)
	if fromString {
		parsed, err := parseJSON(s)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot parse %q as %s for variable %q", fn.Name(), s, want, name)
		}
		v = parsed
	}
	rv := reflect.ValueOf(v)
	kindOK := false
	for _, k := range kinds {
		kindOK = kindOK || rv.Kind() == k
	}
	if kindOK && rv.Kind() != reflect.Map && rv.Type().Elem().Kind() == reflect.Uint8 {
		kindOK = false // []byte is not a list
	}
	if !kindOK {
		if fromString {
			return nil, fmt.Errorf("%s: value for %q is not a %s", fn.Name(), name, want)
		}
		return nil, unsupported(fn, v, name)
	}
	out, err := json.FromGo(v, json.IntegralFloatsAsInts())
	if err != nil {
		return nil, fmt.Errorf("%s: variable %q: %v", fn.Name(), name, err)
	}
	return out, nil
}

// parseJSON decodes exactly one JSON value, numbers kept exact as
// json.Number (FromGo turns them into int or float).
func parseJSON(s string) (any, error) {
	if !gojson.Valid([]byte(s)) {
		return nil, fmt.Errorf("invalid JSON")
	}
	var v any
	dec := gojson.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// var_names() → sorted, de-duplicated variable names ([] without a
// store). Arguments are ignored.
func varNames(thread *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	var keys []string
	if rt := libkite.GetRuntime(thread); rt != nil && rt.VarStore() != nil {
		keys = append(keys, rt.VarStore().Keys()...)
	}
	sort.Strings(keys)
	elems := make([]starlark.Value, 0, len(keys))
	for i, k := range keys {
		if i > 0 && keys[i-1] == k {
			continue
		}
		elems = append(elems, starlark.String(k))
	}
	return starlark.NewList(elems), nil
}

func unsupported(fn *starlark.Builtin, v any, name string) error {
	return fmt.Errorf("%s: unsupported type %T for variable %q", fn.Name(), v, name)
}
