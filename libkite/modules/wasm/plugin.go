package wasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// pageSize is the WebAssembly page size.
const pageSize = 64 << 10

// Option tunes Open.
type Option func(*options)

type options struct {
	memLimit int64 // bytes; 0: the manifest's memory_limit_mb
	timeout  time.Duration
	cacheDir *string // nil: the default cache directory
}

// WithMemoryLimit caps each instance's linear memory at bytes (rounded up
// to whole 64 KiB pages, at most 4 GiB), overriding memory_limit_mb.
func WithMemoryLimit(bytes int64) Option { return func(o *options) { o.memLimit = bytes } }

// WithTimeout overrides the manifest's per-call timeout.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithCacheDir keeps compiled code under dir instead of
// os.UserCacheDir()/kite/wasm; "" keeps it in memory only.
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = &dir } }

// Plugin is one WebAssembly plugin as a libkite.Module. Opening it reads
// only the manifest; the code is compiled on the first call. Instances are
// pooled: a call takes an idle one (or instantiates one), and one that
// failed, trapped or timed out is discarded. Safe for concurrent use.
type Plugin struct {
	man      *Manifest
	pages    uint32 // memory cap per instance
	timeout  time.Duration
	cacheDir string // "" = in-memory only

	initMu sync.Mutex
	eng    atomic.Pointer[engine]
	engErr error

	mu     sync.Mutex
	idle   []*instance
	closed bool
}

var _ libkite.Module = (*Plugin)(nil)

// errClosed is the error of a call to a closed plugin.
var errClosed = errors.New("plugin is closed")

// Open reads dir's manifest and checks the wasm file exists; compiling
// waits for the first call.
func Open(dir string, opts ...Option) (*Plugin, error) {
	man, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	p := &Plugin{man: man, pages: uint32(man.MemoryLimitMB) * (1 << 20 / pageSize), timeout: man.Timeout}
	if o.memLimit != 0 {
		if o.memLimit < 0 || o.memLimit > MaxMemoryLimitMB<<20 {
			return nil, fmt.Errorf("%s: memory limit %d bytes out of range (1 to 4 GiB)", man.Name, o.memLimit)
		}
		p.pages = uint32((o.memLimit + pageSize - 1) / pageSize)
	}
	if o.timeout != 0 {
		p.timeout = o.timeout
	}
	if o.cacheDir != nil {
		p.cacheDir = *o.cacheDir
	} else if d, err := os.UserCacheDir(); err == nil {
		p.cacheDir = filepath.Join(d, "kite", "wasm")
	}
	fi, err := os.Stat(man.WasmPath())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", man.Name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %s is not a regular file", man.Name, man.WasmPath())
	}
	return p, nil
}

// Manifest returns the plugin's manifest (do not modify it).
func (p *Plugin) Manifest() *Manifest { return p.man }

// Name is the module name scripts use.
func (p *Plugin) Name() libkite.ModuleName { return libkite.ModuleName(p.man.Name) }

// Description is the manifest's description.
func (p *Plugin) Description() string { return p.man.Description }

// Aliases: a plugin adds no globals.
func (p *Plugin) Aliases() starlark.StringDict { return nil }

// FactoryMethod: none.
func (p *Plugin) FactoryMethod() string { return "" }

// Load returns one builtin per manifest function; the registry wraps them
// into the try-enabled module value. It does not compile the plugin.
func (p *Plugin) Load(*libkite.ModuleConfig) (starlark.StringDict, error) {
	members := make(starlark.StringDict, len(p.man.Functions))
	for i := range p.man.Functions {
		f := &p.man.Functions[i]
		members[f.Name] = starlark.NewBuiltin(p.man.Name+"."+f.Name,
			func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
				return p.call(thread, b.Name(), f, args, kwargs)
			})
	}
	return members, nil
}

// Close releases the compiled code and every instance; later calls fail.
func (p *Plugin) Close() error {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	ctx := context.Background()
	for _, inst := range idle {
		inst.close()
	}
	p.initMu.Lock()
	defer p.initMu.Unlock()
	eng := p.eng.Load()
	if eng == nil {
		p.engErr = errClosed
		return nil
	}
	eng.code.Close(ctx)
	return eng.rt.Close(ctx)
}

// Compile compiles the plugin now instead of on the first call (kite
// module install, benchmarks). It returns the error every call would.
func (p *Plugin) Compile() error {
	_, err := p.engine()
	return err
}

// engine is a compiled plugin: its runtime (one per plugin: the memory
// cap is per runtime) and code, and what the module check found.
type engine struct {
	rt    wazero.Runtime
	code  wazero.CompiledModule
	fnErr map[string]error // per manifest function: why it cannot be called
}

// engine compiles the plugin once; a compile error is remembered.
func (p *Plugin) engine() (*engine, error) {
	if eng := p.eng.Load(); eng != nil {
		return eng, nil
	}
	p.initMu.Lock()
	defer p.initMu.Unlock()
	if eng := p.eng.Load(); eng != nil || p.engErr != nil {
		return eng, p.engErr
	}
	eng, err := p.compile(context.Background())
	if err != nil {
		p.engErr = err
		return nil, err
	}
	p.eng.Store(eng)
	return eng, nil
}

func (p *Plugin) compile(ctx context.Context) (*engine, error) {
	rt, code, hosts, err := compileModule(ctx, p.man, p.pages, p.cacheDir)
	if err != nil {
		return nil, err
	}
	rep := checkModule(p.man, code, hosts)
	if err := errors.Join(rep.module...); err != nil {
		code.Close(ctx)
		rt.Close(ctx)
		return nil, err
	}
	return &engine{rt: rt, code: code, fnErr: rep.functions}, nil
}

// compileModule builds a runtime capped at pages with the WASI and kite
// host modules instantiated, and compiles man's wasm file into it. hosts
// are the host modules' compiled forms, for checking imports.
func compileModule(ctx context.Context, man *Manifest, pages uint32, cacheDir string) (wazero.Runtime, wazero.CompiledModule, map[string]wazero.CompiledModule, error) {
	bin, err := os.ReadFile(man.WasmPath())
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := runtimeConfig().WithMemoryLimitPages(pages).WithCloseOnContextDone(true)
	if cache := compilationCache(cacheDir); cache != nil {
		cfg = cfg.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	fail := func(err error) (wazero.Runtime, wazero.CompiledModule, map[string]wazero.CompiledModule, error) {
		rt.Close(ctx)
		return nil, nil, nil, err
	}
	hosts := map[string]wazero.CompiledModule{}
	for name, b := range map[string]wazero.HostModuleBuilder{
		wasi_snapshot_preview1.ModuleName: wasiBuilder(rt),
		hostModuleName:                    kiteHostModule(rt),
	} {
		c, err := b.Compile(ctx)
		if err != nil {
			return fail(fmt.Errorf("host module %s: %w", name, err))
		}
		if _, err := rt.InstantiateModule(ctx, c, wazero.NewModuleConfig()); err != nil {
			return fail(fmt.Errorf("host module %s: %w", name, err))
		}
		hosts[name] = c
	}
	code, err := rt.CompileModule(ctx, bin)
	if err != nil {
		if strings.Contains(err.Error(), "over limit of") {
			return fail(fmt.Errorf("memory limit of %s is below what %s needs: %w", pagesText(pages), man.Wasm, err))
		}
		return fail(fmt.Errorf("compiling %s: %w", man.Wasm, err))
	}
	return rt, code, hosts, nil
}

// wasiBuilder is wasi_snapshot_preview1 as a host module builder (the
// package exposes Compile and Instantiate; the runtime needs both).
func wasiBuilder(rt wazero.Runtime) wazero.HostModuleBuilder {
	b := rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	return b
}

// runtimeConfig picks the engine: the optimizing compiler where wazero
// has one (amd64, arm64), else the interpreter. See the package doc.
var runtimeConfig = wazero.NewRuntimeConfig

var caches sync.Map // dir → wazero.CompilationCache (nil when the dir is unusable)

// compilationCache is the process-wide compilation cache kept in dir
// (nil for "" or a directory that cannot be used).
func compilationCache(dir string) wazero.CompilationCache {
	if dir == "" {
		return nil
	}
	if c, ok := caches.Load(dir); ok {
		cc, _ := c.(wazero.CompilationCache)
		return cc
	}
	var cc wazero.CompilationCache
	if err := os.MkdirAll(dir, 0o700); err == nil {
		if c, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
			cc = c
		}
	}
	actual, loaded := caches.LoadOrStore(dir, cc)
	if loaded && cc != nil {
		cc.Close(context.Background())
	}
	c, _ := actual.(wazero.CompilationCache)
	return c
}

// maxIdle is how many idle instances a plugin keeps.
var maxIdle = min(runtime.GOMAXPROCS(0), 8)

// get takes an idle instance or instantiates one.
func (p *Plugin) get(ctx context.Context, eng *engine, c *call) (*instance, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errClosed
	}
	if n := len(p.idle); n > 0 {
		inst := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return inst, nil
	}
	p.mu.Unlock()
	return newInstance(ctx, eng, c)
}

// put returns a healthy instance to the pool.
func (p *Plugin) put(inst *instance) {
	p.mu.Lock()
	if p.closed || len(p.idle) >= maxIdle {
		p.mu.Unlock()
		inst.close()
		return
	}
	p.idle = append(p.idle, inst)
	p.mu.Unlock()
}

// pagesText renders a page count as MiB (or KiB when not whole MiB).
func pagesText(pages uint32) string {
	if pages%16 == 0 {
		return fmt.Sprintf("%d MiB", pages/16)
	}
	return fmt.Sprintf("%d KiB", pages*64)
}

// apiTypes renders wasm value types as a signature list.
func apiTypes(ts []api.ValueType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = api.ValueTypeName(t)
	}
	return "(" + strings.Join(names, ", ") + ")"
}
