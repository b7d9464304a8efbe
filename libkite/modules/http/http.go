// Package http is kite's http module (work in progress: issue 5).
package http

import (
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the http module.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:    "http",
		Doc:   "http (in progress)",
		Try:   true,
		Build: func() starlark.StringDict { return starlark.StringDict{} },
	}
}
