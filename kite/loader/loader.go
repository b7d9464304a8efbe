// Package loader assembles the module set of the all-in-one kite binary.
package loader

import (
	ailoader "github.com/project-starkite/starkite/aikite/loader"
	cloudloader "github.com/project-starkite/starkite/cloudkite/loader"
	"github.com/project-starkite/starkite/libkite"
	baseloader "github.com/project-starkite/starkite/libkite/loader"
)

// NewAllRegistry returns a strict registry holding every module the
// all-in-one edition ships: the base set, then the cloud (k8s) and AI (ai,
// mcp) add-ons. Strict mode turns any duplicate module name into
// a panic and any duplicate export or global alias into a LoadAll error
// (editions.md §4), so collisions between the editions' module sets are
// caught by TestAllRegistryStrict.
func NewAllRegistry(cfg *libkite.ModuleConfig) *libkite.Registry {
	r := libkite.NewRegistry(cfg)
	r.SetStrict(true)
	baseloader.RegisterAll(r)
	cloudloader.RegisterCloudModules(r)
	ailoader.RegisterAIModules(r)
	return r
}
