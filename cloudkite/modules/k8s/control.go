package k8s

import (
	"errors"

	"go.starlark.net/starlark"
)

// control is k8s.control(kind, ...) (spec §13).
func (m *module) control(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return nil, errors.New("k8s.control: not implemented yet")
}
