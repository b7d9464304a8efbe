// Package ssh is kite's ssh module (work in progress: issue 5).
package ssh

import (
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the ssh module.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:    "ssh",
		Doc:   "ssh (in progress)",
		Try:   true,
		Build: func() starlark.StringDict { return starlark.StringDict{} },
	}
}
