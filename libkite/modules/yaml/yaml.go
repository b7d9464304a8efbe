// Package yaml is kite's yaml module (spec/yaml.md): single- and
// multi-document encode/decode plus the yaml.file reader and yaml.writer
// objects, built on gopkg.in/yaml.v3.
package yaml

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// New returns the yaml module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "yaml",
		Doc: "YAML encoding and decoding (multi-document), file reader and writer objects",
		Try: true,
		Build: func() starlark.StringDict {
			members := builder.FileAndSource("yaml", fileType, writerType)
			members["encode"] = starlark.NewBuiltin("yaml.encode", encode)
			members["encode_all"] = starlark.NewBuiltin("yaml.encode_all", encodeAll)
			members["decode"] = starlark.NewBuiltin("yaml.decode", decode)
			members["decode_all"] = starlark.NewBuiltin("yaml.decode_all", decodeAll)
			return members
		},
	}
}

// encode(value, /) → str. Errors are unprefixed (yaml.md).
func encode(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	v, err := libkite.OnePositional(fn, args, "")
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
	v, err := libkite.OnePositional(fn, args, "")
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
	data, err := builder.TextArg(fn, args)
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

// decode_all(s, /) → list of every document.
func decodeAll(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	data, err := builder.TextArg(fn, args)
	if err != nil {
		return nil, err
	}
	docs, err := DecodeAll(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.NewList(docs), nil
}

func listElems(l *starlark.List) []starlark.Value {
	elems := make([]starlark.Value, l.Len())
	for i := range elems {
		elems[i] = l.Index(i)
	}
	return elems
}
