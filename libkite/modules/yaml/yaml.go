// Package yaml is kite's yaml module (spec/yaml.md): single- and
// multi-document encode/decode plus the yaml.file reader and yaml.writer
// objects, built on gopkg.in/yaml.v3.
package yaml

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the yaml module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "yaml",
		Doc: "YAML encoding and decoding (multi-document), file reader and writer objects",
		Try: true,
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"encode":     starlark.NewBuiltin("yaml.encode", encode),
				"encode_all": starlark.NewBuiltin("yaml.encode_all", encodeAll),
				"decode":     starlark.NewBuiltin("yaml.decode", decode),
				"decode_all": starlark.NewBuiltin("yaml.decode_all", decodeAll),
				"file":       starlark.NewBuiltin("yaml.file", file),
				"source":     starlark.NewBuiltin("yaml.source", source),
			}
		},
	}
}

// encode(value, /) → str. Errors are unprefixed (yaml.md).
func encode(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	v, err := onePositional(fn, args, "")
	if err != nil {
		return nil, err
	}
	s, err := Encode(v)
	if err != nil {
		return nil, err
	}
	return starlark.String(s), nil
}

// encode_all(docs, /) → str; docs must be a list.
func encodeAll(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	v, err := onePositional(fn, args, "")
	if err != nil {
		return nil, err
	}
	l, ok := v.(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("%s: expected list, got %s", fn.Name(), v.Type())
	}
	s, err := EncodeAll(listElems(l))
	if err != nil {
		return nil, prefixed(fn.Name(), err)
	}
	return starlark.String(s), nil
}

// decode(s, /) → any: the first document. Errors are unprefixed.
func decode(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	data, err := textArg(fn, args)
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

// decode_all(s, /) → list of every document.
func decodeAll(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	data, err := textArg(fn, args)
	if err != nil {
		return nil, err
	}
	docs, err := DecodeAll(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.NewList(docs), nil
}

// file(path, /) → yaml.file. No I/O until a method is called.
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

// source(data, /) → yaml.writer wrapping data (any type).
func source(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	v, err := onePositional(fn, args, " (data)")
	if err != nil {
		return nil, err
	}
	return NewWriter(v), nil
}

// onePositional returns the single positional argument (keywords are
// ignored, the count is not).
func onePositional(fn *starlark.Builtin, args starlark.Tuple, what string) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 argument%s, got %d", fn.Name(), what, len(args))
	}
	return args[0], nil
}

// textArg reads the single str or bytes argument of decode/decode_all.
func textArg(fn *starlark.Builtin, args starlark.Tuple) ([]byte, error) {
	v, err := onePositional(fn, args, "")
	if err != nil {
		return nil, err
	}
	switch s := v.(type) {
	case starlark.String:
		return []byte(s), nil
	case starlark.Bytes:
		return []byte(s), nil
	}
	return nil, fmt.Errorf("%s: argument must be string or bytes, got %s", fn.Name(), v.Type())
}

func listElems(l *starlark.List) []starlark.Value {
	elems := make([]starlark.Value, l.Len())
	for i := range elems {
		elems[i] = l.Index(i)
	}
	return elems
}
