// Package obj is k8s.obj (spec k8s.md §12): offline, typed constructors of
// Kubernetes objects.
//
// Every constructor but crd is one row of the schema table (schema.go)
// run by one generic constructor (object.go): ctor(seed=None, **fields).
// Values are immutable; type names are "k8s.obj." + the lowercased Kind,
// which is the constructor name without underscores
// (k8s.obj.persistentvolumeclaim, k8s.obj.containerport).
package obj

import (
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Namespace returns the k8s.obj namespace value: the 37 table-driven
// constructors and crd.
func Namespace() starlark.Value {
	members := starlark.StringDict{"crd": starlark.NewBuiltin("k8s.obj.crd", newCRD)}
	for _, s := range schemas {
		members[s.ctor] = starlark.NewBuiltin("k8s.obj."+s.ctor, s.construct)
	}
	return &starlarkstruct.Module{Name: "k8s.obj", Members: members}
}
