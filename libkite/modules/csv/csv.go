// Package csv is kite's csv module (spec/csv.md): the csv.file reader and
// the csv.writer object, built on encoding/csv. There are no in-memory
// encode/decode functions.
package csv

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the csv module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "csv",
		Doc: "CSV file reader and writer objects",
		Try: true,
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"file":   starlark.NewBuiltin("csv.file", file),
				"source": starlark.NewBuiltin("csv.source", source),
			}
		},
	}
}

// file(path) → csv.file (strict binding). No I/O.
func file(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	return NewFile(path), nil
}

// source(data, /) → csv.writer; data must be a list. Keywords are ignored
// (so data passed by keyword counts as missing).
func source(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	switch {
	case len(args) == 0:
		return nil, fmt.Errorf("%s: missing required argument: data", fn.Name())
	case len(args) > 1:
		return nil, fmt.Errorf("%s: expected 1 argument, got %d", fn.Name(), len(args))
	}
	l, ok := args[0].(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("%s: data must be a list, got %s", fn.Name(), args[0].Type())
	}
	return NewWriter(l), nil
}
