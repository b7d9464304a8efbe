// Package json is kite's json module (spec/json.md): in-memory
// encode/decode plus the json.file reader and json.writer objects. It
// also exports the shared Starlark ⇄ Go data conversion (ToGo, FromGo)
// and the codec (Encode, Decode) for other modules to reuse.
package json

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// New returns the json module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "json",
		Doc: "JSON encoding, decoding and file reader/writer objects",
		Try: true,
		Build: func() starlark.StringDict {
			members := builder.FileAndSource("json", fileType, writerType)
			members["encode"] = starlark.NewBuiltin("json.encode", encode)
			members["decode"] = starlark.NewBuiltin("json.decode", decode)
			return members
		},
	}
}

// encode(value, /) → str. Loose: exactly one positional, keywords ignored.
func encode(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	v, err := libkite.OnePositional(fn, args, "")
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
	data, err := builder.TextArg(fn, args)
	if err != nil {
		return nil, err
	}
	out, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return out, nil
}
