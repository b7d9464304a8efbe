// Package mcp is the Starlark mcp module (mcp spec): a Model Context
// Protocol client (mcp.connect over stdio, streamable HTTP or SSE) and
// server (mcp.serve exposing Starlark functions as tools, resources and
// prompts), both built on github.com/mark3labs/mcp-go.
package mcp

import (
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the mcp module.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:    "mcp",
		Doc:   "Model Context Protocol: connect to MCP servers, serve Starlark functions as MCP tools",
		Try:   true,
		Build: members,
	}
}

func members() starlark.StringDict {
	return starlark.StringDict{
		"connect": starlark.NewBuiltin("mcp.connect", connect),
		"serve":   starlark.NewBuiltin("mcp.serve", serve),
	}
}
