package json

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// writerType is json.writer (from json.source(data)): encodes data as
// text or into a file.
var writerType = builder.WriterType("json.writer", libkite.Methods{
	"encode":     writerEncode,
	"write_file": writerWriteFile,
})

// Writer is a json.writer; its Data is the wrapped value.
type Writer = builder.DataObject[starlark.Value]

// NewWriter wraps data (nil becomes None).
func NewWriter(data starlark.Value) *Writer { return builder.NewWriter(writerType, data) }

// writerEncode: json.writer.encode(*, indent="", prefix="") → str.
func writerEncode(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: unexpected positional argument at index 0", fn.Name())
	}
	prefix, indent, err := layout(fn, kwargs)
	if err != nil {
		return nil, err
	}
	s, err := Encode(fn.Receiver().(*Writer).Data(), prefix, indent)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.String(s), nil
}

// writerWriteFile: json.writer.write_file(path, /, *, indent="", prefix="")
// writes encode()'s text (plus "\n" when indented), mode 0644.
// perm fs.write:write(path); dry: nothing written.
func writerWriteFile(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	switch {
	case len(args) == 0:
		return nil, fmt.Errorf("%s: missing required argument: path", fn.Name())
	case len(args) > 1:
		return nil, fmt.Errorf("%s: expected 1 positional argument (path), got %d", fn.Name(), len(args))
	}
	path, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: path must be a string, got %s", fn.Name(), args[0].Type())
	}
	prefix, indent, err := layout(fn, kwargs)
	if err != nil {
		return nil, err
	}
	text, err := Encode(fn.Receiver().(*Writer).Data(), prefix, indent)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	if indent != "" {
		text += "\n"
	}
	if err := libkite.WriteFile(thread, string(path), []byte(text), 0o644); err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}

// layout reads the indent/prefix keywords: non-str values are ignored
// (json.md), any other keyword is an error.
func layout(fn *starlark.Builtin, kwargs []starlark.Tuple) (prefix, indent string, err error) {
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		s, isStr := kv[1].(starlark.String)
		switch name {
		case "indent":
			if isStr {
				indent = string(s)
			}
		case "prefix":
			if isStr {
				prefix = string(s)
			}
		default:
			return "", "", fmt.Errorf("%s: unexpected keyword argument %q", fn.Name(), name)
		}
	}
	return prefix, indent, nil
}
