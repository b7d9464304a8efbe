// Package csv is kite's csv module (spec/csv.md): the csv.file reader and
// the csv.writer object, built on encoding/csv. There are no in-memory
// encode/decode functions.
package csv

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// New returns the csv module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "csv",
		Doc: "CSV file reader and writer objects",
		Try: true,
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"file":   builder.PathFactory("csv.file", fileType),
				"source": starlark.NewBuiltin("csv.source", source),
			}
		},
	}
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
