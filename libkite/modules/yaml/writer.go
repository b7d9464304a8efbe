package yaml

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// writerType is yaml.writer (from yaml.source(data)).
var writerType = builder.WriterType("yaml.writer", libkite.Methods{
	"write_file": writerWriteFile,
})

// Writer is a yaml.writer; its Data is the wrapped value.
type Writer = builder.DataObject[starlark.Value]

// NewWriter wraps data (nil becomes None).
func NewWriter(data starlark.Value) *Writer { return builder.NewWriter(writerType, data) }

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
	data := fn.Receiver().(*Writer).Data()
	if l, isList := data.(*starlark.List); isList {
		text, err = EncodeAll(listElems(l))
	} else {
		text, err = Encode(data)
	}
	if err != nil {
		return nil, prefixed(fn.Name(), err)
	}
	if err := libkite.WriteFile(thread, string(path), []byte(text), 0o644); err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}
