// Package builder holds what the codec modules (json, yaml, csv, base64,
// hash, gzip, zip) share: their object types (object.go) and the
// factories that wrap input data or a file path into those objects, whose
// methods then do the work.
package builder

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Factories returns the three factories of module m:
//
//	m.text(s)       s must be a str
//	m.bytes(data)   data is bytes or str
//	m.file(path)    no I/O until a method of the file object runs
//
// text and bytes make a source object, file a file object.
func Factories(m string, source *DataType[starlark.Bytes], file *PathType) starlark.StringDict {
	text := func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s string
		if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "s", &s); err != nil {
			return nil, err
		}
		return source.New(starlark.Bytes(s)), nil
	}
	bytes := func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var v starlark.Value
		if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "data", &v); err != nil {
			return nil, err
		}
		data, ok := libkite.StringOrBytes(v)
		if !ok {
			return nil, fmt.Errorf("%s: argument must be bytes or string, got %s", fn.Name(), v.Type())
		}
		return source.New(starlark.Bytes(data)), nil
	}
	return starlark.StringDict{
		"text":  starlark.NewBuiltin(m+".text", text),
		"bytes": starlark.NewBuiltin(m+".bytes", bytes),
		"file":  PathFactory(m+".file", file),
	}
}

// PathFactory returns the builtin name(path) → an object of type t; path
// must be a str (strict binding). It does no I/O.
func PathFactory(name string, t *PathType) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var path string
		if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "path", &path); err != nil {
			return nil, err
		}
		return t.New(path), nil
	})
}

// FileAndSource returns the reader/writer factories of a data-format
// module (json, yaml):
//
//	m.file(path, /)    a reader object; path must be a str; no I/O yet
//	m.source(data, /)  a writer object wrapping any value
//
// Both are loose: keywords are ignored, the positional count is not.
func FileAndSource(m string, file *PathType, writer *DataType[starlark.Value]) starlark.StringDict {
	newFile := func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		v, err := libkite.OnePositional(fn, args, " (path)")
		if err != nil {
			return nil, err
		}
		path, ok := v.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: path must be a string, got %s", fn.Name(), v.Type())
		}
		return file.New(string(path)), nil
	}
	source := func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		v, err := libkite.OnePositional(fn, args, " (data)")
		if err != nil {
			return nil, err
		}
		return writer.New(v), nil
	}
	return starlark.StringDict{
		"file":   starlark.NewBuiltin(m+".file", newFile),
		"source": starlark.NewBuiltin(m+".source", source),
	}
}

// TextArg reads the single str or bytes positional of a decoder:
// `<fn>: argument must be string or bytes, got T`.
func TextArg(fn *starlark.Builtin, args starlark.Tuple) ([]byte, error) {
	v, err := libkite.OnePositional(fn, args, "")
	if err != nil {
		return nil, err
	}
	s, ok := libkite.StringOrBytes(v)
	if !ok {
		return nil, fmt.Errorf("%s: argument must be string or bytes, got %s", fn.Name(), v.Type())
	}
	return []byte(s), nil
}

// NoArgs is the argument check of a method that takes none:
// `<fn>: takes no arguments`.
func NoArgs(fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) error {
	if len(args) > 0 || len(kwargs) > 0 {
		return fmt.Errorf("%s: takes no arguments", fn.Name())
	}
	return nil
}
