// Package loader assembles the AI edition's module set: the base modules
// plus ai and mcp.
package loader

import (
	"github.com/project-starkite/starkite/aikite/modules/ai"
	"github.com/project-starkite/starkite/aikite/modules/mcp"
	"github.com/project-starkite/starkite/libkite"
	baseloader "github.com/project-starkite/starkite/libkite/loader"
)

// RegisterAIModules adds the AI edition's own modules to r: ai and mcp.
func RegisterAIModules(r *libkite.Registry) {
	r.Register(ai.New())
	r.Register(mcp.New())
}

// NewAIRegistry returns the AI edition's registry: base + ai + mcp.
func NewAIRegistry(cfg *libkite.ModuleConfig) *libkite.Registry {
	r := baseloader.NewDefaultRegistry(cfg)
	RegisterAIModules(r)
	return r
}
