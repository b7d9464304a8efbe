// Package http is kite's http module (spec/http.md, kite extensions in
// docs/modules/http.md): an HTTP client built on URL objects with one
// method per verb, and an embeddable HTTP server with Go 1.22 routing
// patterns, middleware and Starlark handlers.
//
// Files: client options and http.config (options.go), the URL object and
// its builders (url.go), sending requests (client.go), the response object
// (response.go), the server object and its lifecycle (server.go), request
// dispatch to Starlark (handler.go) and the request object (request.go).
//
// Client defaults (timeout, headers, limits, TLS material) and the shared
// connection pools are per runtime: runtimes using one registry never see
// each other's http.config, and a runtime's pools close with it.
package http

import (
	"sync"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the http module: try-enabled, no global aliases.
func New() libkite.Module {
	m := &module{clients: map[*libkite.Runtime]*clientState{}}
	return &libkite.StaticModule{
		ID:    "http",
		Doc:   "HTTP client (URL objects with verb methods) and embeddable HTTP server",
		Try:   true,
		Build: m.members,
	}
}

// members is the module's whole API.
func (m *module) members() starlark.StringDict {
	return starlark.StringDict{
		"url":    starlark.NewBuiltin("http.url", m.newURL),
		"config": starlark.NewBuiltin("http.config", m.config),
		"server": starlark.NewBuiltin("http.server", newServer),
		"serve":  starlark.NewBuiltin("http.serve", serve),
	}
}

// module is one http module instance: the client state of each runtime
// using it (and one for threads that belong to no runtime).
type module struct {
	mu       sync.Mutex
	clients  map[*libkite.Runtime]*clientState
	fallback *clientState
}

// client returns the client state of thread's runtime, creating it on
// first use; it is dropped, and its idle connections closed, when the
// runtime closes.
func (m *module) client(thread *starlark.Thread) *clientState {
	rt := libkite.GetRuntime(thread)
	m.mu.Lock()
	defer m.mu.Unlock()
	if rt == nil {
		if m.fallback == nil {
			m.fallback = newClientState()
		}
		return m.fallback
	}
	cs, ok := m.clients[rt]
	if !ok {
		cs = newClientState()
		m.clients[rt] = cs
		rt.AddCleanup(func() {
			m.mu.Lock()
			delete(m.clients, rt)
			m.mu.Unlock()
			cs.closeIdle()
		})
	}
	return cs
}

// kwarg returns the value of keyword name, or nil when absent.
func kwarg(kwargs []starlark.Tuple, name string) starlark.Value {
	for _, kv := range kwargs {
		if string(kv[0].(starlark.String)) == name {
			return kv[1]
		}
	}
	return nil
}

// unhashable is the Hash error of the module's object types.
type unhashable string

func (u unhashable) Error() string { return "unhashable type: " + string(u) }
