// Package sql is kite's sql module (work in progress: issue 5).
package sql

import (
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the sql module.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:    "sql",
		Doc:   "sql (in progress)",
		Try:   true,
		Build: func() starlark.StringDict { return starlark.StringDict{} },
	}
}
