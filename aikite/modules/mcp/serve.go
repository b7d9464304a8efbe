package mcp

import (
	"fmt"

	"go.starlark.net/starlark"
)

// serve is mcp.serve(**kw) (spec §3).
func serve(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return nil, fmt.Errorf("%s: not implemented yet", fn.Name())
}
