// Package ssh is kite's ssh module (spec/ssh.md): run commands on, and
// copy single files to and from, one or many hosts over SSH, built on
// golang.org/x/crypto/ssh. Host keys are verified against known_hosts by
// default (host_key_check=False is the explicit opt-out).
//
// Under the test runner (ModuleConfig.TestMode) the module also offers
// ssh.test_server, an in-process SSH server scripts start for their own
// tests (TestServer in Go), and ssh.test_key.
package ssh

import (
	"os"
	"sync"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the ssh module.
func New() libkite.Module { return &module{servers: map[*TestServer]struct{}{}} }

// module implements libkite.Module directly: its member set depends on
// ModuleConfig.TestMode. It remembers the test servers and key
// directories scripts created so Close (the registry's) can release any a
// runtime cleanup did not.
type module struct {
	mu      sync.Mutex
	servers map[*TestServer]struct{}
	dirs    map[string]struct{}
}

func (m *module) Name() libkite.ModuleName     { return "ssh" }
func (m *module) Description() string          { return "SSH remote execution and SCP file transfer" }
func (m *module) Aliases() starlark.StringDict { return nil }
func (m *module) FactoryMethod() string        { return "config" }

// Load builds the module value: config (and its try_ twin), plus
// test_server and test_key in test mode.
func (m *module) Load(cfg *libkite.ModuleConfig) (starlark.StringDict, error) {
	members := starlark.StringDict{
		"config": starlark.NewBuiltin("ssh.config", configBuiltin),
	}
	if cfg != nil && cfg.TestMode {
		members["test_server"] = starlark.NewBuiltin("ssh.test_server", m.testServerBuiltin)
		members["test_key"] = starlark.NewBuiltin("ssh.test_key", m.testKeyBuiltin)
	}
	return starlark.StringDict{"ssh": libkite.NewTryModule("ssh", members)}, nil
}

// Close shuts down the test servers and removes the test key directories
// still alive (normally runtime cleanups have done so already).
func (m *module) Close() error {
	m.mu.Lock()
	servers := make([]*TestServer, 0, len(m.servers))
	for s := range m.servers {
		servers = append(servers, s)
	}
	dirs := m.dirs
	m.servers, m.dirs = map[*TestServer]struct{}{}, nil
	m.mu.Unlock()
	for _, s := range servers {
		s.Shutdown()
	}
	for d := range dirs {
		os.RemoveAll(d)
	}
	return nil
}

// track registers release to run at the runtime's Close (when thread
// belongs to one) and, in any case, at the module's Close.
func (m *module) trackServer(thread *starlark.Thread, s *TestServer) {
	m.mu.Lock()
	m.servers[s] = struct{}{}
	m.mu.Unlock()
	s.onShutdown = func() {
		m.mu.Lock()
		delete(m.servers, s)
		m.mu.Unlock()
	}
	if rt := libkite.GetRuntime(thread); rt != nil {
		rt.AddCleanup(s.Shutdown)
	}
}

func (m *module) trackDir(thread *starlark.Thread, dir string) {
	m.mu.Lock()
	if m.dirs == nil {
		m.dirs = map[string]struct{}{}
	}
	m.dirs[dir] = struct{}{}
	m.mu.Unlock()
	if rt := libkite.GetRuntime(thread); rt != nil {
		rt.AddCleanup(func() {
			os.RemoveAll(dir)
			m.mu.Lock()
			delete(m.dirs, dir)
			m.mu.Unlock()
		})
	}
}
