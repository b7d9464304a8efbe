package json

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// writerMethods are the methods of json.writer, each with a try_ twin.
var writerMethods = libkite.Methods{
	"encode":     writerEncode,
	"write_file": writerWriteFile,
}

// Writer is a json.writer (from json.source(data)): encodes data as text
// or into a file.
type Writer struct{ data starlark.Value }

var _ starlark.HasAttrs = (*Writer)(nil)

// NewWriter wraps data (nil becomes None).
func NewWriter(data starlark.Value) *Writer {
	if data == nil {
		data = starlark.None
	}
	return &Writer{data: data}
}

// Data is the wrapped value.
func (w *Writer) Data() starlark.Value { return w.data }

func (w *Writer) String() string        { return "json.writer(" + w.data.Type() + ")" }
func (w *Writer) Type() string          { return "json.writer" }
func (w *Writer) Freeze()               { w.data.Freeze() }
func (w *Writer) Truth() starlark.Bool  { return w.data != starlark.None }
func (w *Writer) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: json.writer") }

func (w *Writer) Attr(name string) (starlark.Value, error) {
	if name == "data" {
		return w.data, nil
	}
	return writerMethods.Attr(w, "json.writer", name), nil
}

func (w *Writer) AttrNames() []string {
	return writerMethods.Names("data")
}

// writerEncode: json.writer.encode(*, indent="", prefix="") → str.
func writerEncode(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: unexpected positional argument at index 0", fn.Name())
	}
	prefix, indent, err := layout(fn, kwargs)
	if err != nil {
		return nil, err
	}
	s, err := Encode(fn.Receiver().(*Writer).data, prefix, indent)
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
	text, err := Encode(fn.Receiver().(*Writer).data, prefix, indent)
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
