package yaml

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// writerMethods are the methods of yaml.writer, each with a try_ twin.
var writerMethods = libkite.Methods{
	"write_file": writerWriteFile,
}

// Writer is a yaml.writer (from yaml.source(data)).
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

func (w *Writer) String() string        { return "yaml.writer(" + w.data.Type() + ")" }
func (w *Writer) Type() string          { return "yaml.writer" }
func (w *Writer) Freeze()               { w.data.Freeze() }
func (w *Writer) Truth() starlark.Bool  { return w.data != starlark.None }
func (w *Writer) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: yaml.writer") }

func (w *Writer) Attr(name string) (starlark.Value, error) {
	if name == "data" {
		return w.data, nil
	}
	return writerMethods.Attr(w, "yaml.writer", name), nil
}

func (w *Writer) AttrNames() []string { return writerMethods.Names("data") }

// writerWriteFile: yaml.writer.write_file(path, /) writes data as YAML,
// mode 0644: a list as one document per element (like encode_all), any
// other value as one document. Keywords are ignored. The text is encoded
// in full before the file is touched. perm fs.write:write(path); dry:
// nothing written.
func writerWriteFile(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 argument (path), got %d", fn.Name(), len(args))
	}
	path, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: path must be a string, got %s", fn.Name(), args[0].Type())
	}
	var text string
	var err error
	if l, isList := fn.Receiver().(*Writer).data.(*starlark.List); isList {
		text, err = EncodeAll(listElems(l))
	} else {
		text, err = Encode(fn.Receiver().(*Writer).data)
	}
	if err != nil {
		return nil, prefixed(fn.Name(), err)
	}
	if err := libkite.WriteFile(thread, string(path), []byte(text), 0o644); err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}
