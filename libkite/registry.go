package libkite

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
)

// Registry holds the modules a runtime can offer to scripts. It is safe
// for concurrent use. Each module is loaded at most once per registry
// (re-registering a name loads the new module); runtimes snapshot the
// loaded set when they are built, so later registrations reach only
// runtimes built afterwards.
type Registry struct {
	mu      sync.Mutex
	cfg     *ModuleConfig
	strict  bool
	order   []ModuleName
	modules map[ModuleName]Module
	loaded  map[ModuleName]starlark.StringDict // per-module Load results
	aliases map[ModuleName]starlark.StringDict
	cache   *loadSet // merged result; nil when stale
}

type loadSet struct {
	exports     starlark.StringDict
	aliases     starlark.StringDict
	predeclared starlark.StringDict
	exportOwner map[string]ModuleName
	aliasOwner  map[string]ModuleName
	err         error
}

// NewRegistry returns an empty registry whose modules will be loaded with
// cfg (nil = zero ModuleConfig).
func NewRegistry(cfg *ModuleConfig) *Registry {
	if cfg == nil {
		cfg = &ModuleConfig{}
	}
	return &Registry{cfg: cfg, modules: map[ModuleName]Module{},
		loaded: map[ModuleName]starlark.StringDict{}, aliases: map[ModuleName]starlark.StringDict{}}
}

// Config returns the ModuleConfig modules are loaded with.
func (r *Registry) Config() *ModuleConfig { return r.cfg }

// SetStrict turns on strict mode: duplicate names panic in Register and
// duplicate export keys or aliases make LoadAll fail.
func (r *Registry) SetStrict(strict bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.strict = strict
	r.cache = nil
}

// Register adds m. Outside strict mode a module of the same name is
// replaced; in strict mode that panics.
func (r *Registry) Register(m Module) {
	name := m.Name()
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, dup := r.modules[name]; dup {
		if r.strict {
			panic(fmt.Sprintf("libkite: duplicate module registration: %q (existing: %T, new: %T)", name, old, m))
		}
	} else {
		r.order = append(r.order, name)
	}
	r.modules[name] = m
	delete(r.loaded, name)
	delete(r.aliases, name)
	r.cache = nil
}

// LoadAll loads every module not yet loaded and returns the merged
// top-level exports. Errors from all modules are collected.
func (r *Registry) LoadAll() (starlark.StringDict, error) {
	ls := r.load()
	return copyDict(ls.exports), ls.err
}

// Predeclared returns exports then aliases (an alias overrides an export
// of the same name).
func (r *Registry) Predeclared() (starlark.StringDict, error) {
	ls := r.load()
	return copyDict(ls.predeclared), ls.err
}

// predeclared is Predeclared without the defensive copy.
func (r *Registry) predeclared() (starlark.StringDict, error) {
	ls := r.load()
	return ls.predeclared, ls.err
}

// GetAliases returns the merged global aliases of all loaded modules.
func (r *Registry) GetAliases() starlark.StringDict { return copyDict(r.load().aliases) }

func (r *Registry) load() *loadSet {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cache != nil {
		return r.cache
	}
	ls := &loadSet{exports: starlark.StringDict{}, aliases: starlark.StringDict{}}
	exportFrom := map[string]ModuleName{}
	aliasFrom := map[string]ModuleName{}
	var errs []string
	for _, name := range r.order {
		m := r.modules[name]
		dict, ok := r.loaded[name]
		if !ok {
			var err error
			dict, err = loadModule(m, r.cfg)
			if err != nil {
				errs = append(errs, fmt.Sprintf("failed to load module %s: %v", name, err))
				continue
			}
			r.loaded[name] = dict
			al := m.Aliases()
			al.Freeze()
			r.aliases[name] = al
		}
		for k, v := range dict {
			if prev, dup := exportFrom[k]; dup && r.strict {
				errs = append(errs, fmt.Sprintf("libkite: duplicate export %q from module %s (already exported by %s)", k, name, prev))
				continue
			}
			exportFrom[k] = name
			ls.exports[k] = v
		}
		for k, v := range r.aliases[name] {
			if prev, dup := aliasFrom[k]; dup && r.strict {
				errs = append(errs, fmt.Sprintf("libkite: duplicate global alias %q from module %s (already defined by %s)", k, name, prev))
				continue
			}
			aliasFrom[k] = name
			ls.aliases[k] = v
		}
	}
	ls.exportOwner, ls.aliasOwner = exportFrom, aliasFrom
	ls.predeclared = make(starlark.StringDict, len(ls.exports)+len(ls.aliases))
	for k, v := range ls.exports {
		ls.predeclared[k] = v
	}
	for k, v := range ls.aliases {
		ls.predeclared[k] = v
	}
	if len(errs) > 0 {
		ls.err = fmt.Errorf("module loading errors: [%s]", strings.Join(errs, "; "))
	}
	r.cache = ls
	return ls
}

// loadModule runs m.Load and applies the wrapping rule: a result without a
// key named after the module is wrapped into one module value.
func loadModule(m Module, cfg *ModuleConfig) (dict starlark.StringDict, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in Load: %v", p)
		}
	}()
	dict, err = m.Load(cfg)
	if err != nil {
		return nil, err
	}
	name := string(m.Name())
	if _, ok := dict[name]; !ok {
		dict = starlark.StringDict{name: NewTryModule(name, dict)}
	}
	dict.Freeze() // shared by every runtime built from this registry
	return dict, nil
}

// Get returns the registered module called name.
func (r *Registry) Get(name ModuleName) (Module, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.modules[name]
	return m, ok
}

// GetLoaded returns the loaded value bound to the module's name.
func (r *Registry) GetLoaded(name string) (starlark.Value, bool) {
	ls := r.load()
	if _, ok := r.Get(ModuleName(name)); !ok {
		return nil, false
	}
	v, ok := ls.exports[name]
	return v, ok
}

// All returns a copy of the registered modules.
func (r *Registry) All() map[ModuleName]Module {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[ModuleName]Module, len(r.modules))
	for k, v := range r.modules {
		out[k] = v
	}
	return out
}

// Names returns the registered module names, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.order))
	for _, n := range r.order {
		names = append(names, string(n))
	}
	sort.Strings(names)
	return names
}

// Close closes every module that implements io.Closer.
func (r *Registry) Close() error {
	var first error
	for _, m := range r.All() {
		if c, ok := m.(io.Closer); ok {
			if err := c.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

func copyDict(d starlark.StringDict) starlark.StringDict {
	out := make(starlark.StringDict, len(d))
	for k, v := range d {
		out[k] = v
	}
	return out
}
