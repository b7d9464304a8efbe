// Package obj is k8s.obj (spec k8s.md §12): offline, typed constructors of
// Kubernetes objects.
package obj

import (
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Namespace returns the k8s.obj namespace value.
func Namespace() starlark.Value {
	return &starlarkstruct.Module{Name: "k8s.obj", Members: starlark.StringDict{}}
}
