// Package json is kite's json module (spec/json.md): in-memory
// encode/decode plus the json.file reader and json.writer objects. It
// also exports the shared Starlark ⇄ Go data conversion (ToGo, FromGo)
// and the codec (Encode, Decode) for other modules to reuse.
package json

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the json module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "json",
		Doc: "JSON encoding, decoding and file reader/writer objects",
		Try: true,
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"encode": starlark.NewBuiltin("json.encode", encode),
				"decode": starlark.NewBuiltin("json.decode", decode),
				"file":   starlark.NewBuiltin("json.file", file),
				"source": starlark.NewBuiltin("json.source", source),
			}
		},
	}
}

// encode(value, /) → str. Loose: exactly one positional, keywords ignored.
func encode(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	v, err := onePositional(fn, args, "")
	if err != nil {
		return nil, err
	}
	s, err := Encode(v, "", "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.String(s), nil
}

// decode(s, /) → any. s is str or bytes; exactly one JSON value.
func decode(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	v, err := onePositional(fn, args, "")
	if err != nil {
		return nil, err
	}
	var data []byte
	switch s := v.(type) {
	case starlark.String:
		data = []byte(s)
	case starlark.Bytes:
		data = []byte(s)
	default:
		return nil, fmt.Errorf("%s: argument must be string or bytes, got %s", fn.Name(), v.Type())
	}
	out, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return out, nil
}

// file(path, /) → json.file. No I/O until a method is called.
func file(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	v, err := onePositional(fn, args, " (path)")
	if err != nil {
		return nil, err
	}
	path, ok := v.(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: path must be a string, got %s", fn.Name(), v.Type())
	}
	return NewFile(string(path)), nil
}

// source(data, /) → json.writer wrapping data (any type).
func source(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	v, err := onePositional(fn, args, " (data)")
	if err != nil {
		return nil, err
	}
	return NewWriter(v), nil
}

// onePositional returns the single positional argument of a loose
// builtin (json.md: keywords are ignored, the count is not).
func onePositional(fn *starlark.Builtin, args starlark.Tuple, what string) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 argument%s, got %d", fn.Name(), what, len(args))
	}
	return args[0], nil
}
