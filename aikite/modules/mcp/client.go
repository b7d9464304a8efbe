package mcp

import (
	"fmt"

	"go.starlark.net/starlark"
)

// connect is mcp.connect(target, timeout="30s", **ext) (spec §2).
func connect(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return nil, fmt.Errorf("%s: not implemented yet", fn.Name())
}
