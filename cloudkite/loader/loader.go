// Package loader assembles the cloud edition's module set: the base
// modules plus k8s.
package loader

import (
	"github.com/project-starkite/starkite/cloudkite/modules/k8s"
	"github.com/project-starkite/starkite/libkite"
	baseloader "github.com/project-starkite/starkite/libkite/loader"
)

// RegisterCloudModules adds the cloud edition's own modules to r.
func RegisterCloudModules(r *libkite.Registry) {
	r.Register(k8s.New())
}

// NewCloudRegistry returns the cloud edition's registry: base + k8s.
func NewCloudRegistry(cfg *libkite.ModuleConfig) *libkite.Registry {
	r := baseloader.NewDefaultRegistry(cfg)
	RegisterCloudModules(r)
	return r
}
