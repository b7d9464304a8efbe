package ai

import (
	"fmt"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite"
)

// module is one ai module instance: the ai.config settings and the cached
// provider clients built from them (§2.2), both guarded by mu.
type module struct {
	build func(endpoint) (Provider, error) // provider factory (test seam)

	mu    sync.Mutex
	cfg   settings
	cache map[string]Provider // provider name → client; dropped by ai.config
}

// New returns the ai module.
func New() libkite.Module { return newModule(newProvider) }

// NewWithProviderFactory returns the ai module building its provider
// clients with factory (e.g. scripted fakes).
func NewWithProviderFactory(factory func(provider, apiKey, baseURL string) (Provider, error)) libkite.Module {
	return newModule(func(e endpoint) (Provider, error) { return factory(e.info.name, e.apiKey, e.baseURL) })
}

func newModule(build func(endpoint) (Provider, error)) libkite.Module {
	m := &module{build: build}
	return &libkite.StaticModule{
		ID:    "ai",
		Doc:   "LLM calls: OpenAI-compatible providers, Anthropic, Gemini, Ollama",
		Try:   true,
		Build: m.members,
	}
}

func (m *module) members() starlark.StringDict {
	return starlark.StringDict{
		"config":    starlark.NewBuiltin("ai.config", m.config),
		"generate":  starlark.NewBuiltin("ai.generate", m.generate),
		"chat":      starlark.NewBuiltin("ai.chat", m.chat),
		"tool":      starlark.NewBuiltin("ai.tool", newTool),
		"run_until": starlark.NewBuiltin("ai.run_until", m.runUntil),
	}
}

// newTool is ai.tool(fn, description=<unset>, params=None) -> ai.Tool
// (§5.1). Unchecked.
func newTool(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := fn.Name()
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 positional argument (a function), got %d", name, len(args))
	}
	var desc, params starlark.Value
	if err := libkite.UnpackArgs(name, nil, kwargs, "*", nil, "description?", &desc, "params??", &params); err != nil {
		return nil, err
	}
	var description *string
	if desc != nil {
		s, ok := desc.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: description must be a str, got %s", name, desc.Type())
		}
		description = (*string)(&s)
	}
	t, err := tool.New(args[0], description, params)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return &tool.Value{Tool: t}, nil
}

// snapshot returns the current settings.
func (m *module) snapshot() settings {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

// client returns the provider client for e: the cached one built from the
// ai.config snapshot, or, with a per-call override, a fresh uncached one.
// Availability is checked here (request time).
func (m *module) client(e endpoint, override bool) (Provider, error) {
	if err := e.available(); err != nil {
		return nil, err
	}
	if override {
		return m.build(e)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.cache[e.info.name]; ok {
		return p, nil
	}
	p, err := m.build(e)
	if err != nil {
		return nil, err
	}
	if m.cache == nil {
		m.cache = map[string]Provider{}
	}
	m.cache[e.info.name] = p
	return p, nil
}

// config is ai.config(default_model="", api_keys={}, base_urls={},
// timeout="") -> None: keyword-only, replaces all four settings and drops
// the client cache. Unchecked.
func (m *module) config(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: takes only keyword arguments", fn.Name())
	}
	var model, timeout string
	var keys, bases *starlark.Dict
	if err := libkite.UnpackArgs(fn.Name(), nil, kwargs, "*", nil, "default_model?", &model, "api_keys?", &keys, "base_urls?", &bases, "timeout?", &timeout); err != nil {
		return nil, err
	}
	cfg := settings{defaultModel: model}
	var err error
	if cfg.apiKeys, err = stringDict(fn.Name(), "api_keys", keys); err != nil {
		return nil, err
	}
	if cfg.baseURLs, err = stringDict(fn.Name(), "base_urls", bases); err != nil {
		return nil, err
	}
	if timeout != "" {
		d, err := time.ParseDuration(timeout)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid timeout %q: %v", fn.Name(), timeout, err)
		}
		if d < 0 {
			return nil, fmt.Errorf("%s: timeout must not be negative, got %q", fn.Name(), timeout)
		}
		cfg.timeout = d
	}
	m.mu.Lock()
	m.cfg, m.cache = cfg, nil
	m.mu.Unlock()
	return starlark.None, nil
}

// stringDict converts a {provider: str} dict; nil → empty.
func stringDict(fnname, what string, d *starlark.Dict) (map[string]string, error) {
	out := map[string]string{}
	if d == nil {
		return out, nil
	}
	for _, item := range d.Items() {
		k, ok := item[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: %s keys must be provider names (str), got %s", fnname, what, item[0].Type())
		}
		v, ok := item[1].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: %s[%q] must be a str, got %s", fnname, what, string(k), item[1].Type())
		}
		out[string(k)] = string(v)
	}
	return out, nil
}
