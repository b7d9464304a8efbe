package k8s

import (
	"errors"

	"go.starlark.net/starlark"
)

// webhook is k8s.webhook(path, ...) (spec §14).
func webhook(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return nil, errors.New("k8s.webhook: not implemented yet")
}
