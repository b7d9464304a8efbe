package wasm_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/wasm"
	"github.com/project-starkite/starkite/libkite/modules/wasm/wasmtest"
)

// The test plugin comes from wasmtest (built once per content of its
// sources, cached with its compiled code).
var (
	compiledCache = wasmtest.CompiledCache
	pluginWasm    = wasmtest.Wasm
	manifest      = wasmtest.Manifest
	pluginDir     = wasmtest.PluginDir
)

// open opens a plugin made by pluginDir(t, edits...) with the tests'
// compilation cache (and opts); it is closed when the test ends.
func open(t testing.TB, opts []wasm.Option, edits ...string) *wasm.Plugin {
	t.Helper()
	p, err := wasm.Open(pluginDir(t, edits...), append([]wasm.Option{wasm.WithCacheDir(compiledCache())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// shared is the unmodified test plugin, opened once for the whole run.
var (
	sharedOnce sync.Once
	sharedP    *wasm.Plugin
)

func textplug(t testing.TB) *wasm.Plugin {
	t.Helper()
	wasmPath := pluginWasm(t)
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "textplug")
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "module.yaml"), []byte(manifest(t)), 0o644)
		}
		if err == nil {
			err = os.Symlink(wasmPath, filepath.Join(dir, "textplug.wasm"))
		}
		if err == nil {
			sharedP, err = wasm.Open(dir, wasm.WithCacheDir(compiledCache()))
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	if sharedP == nil {
		t.Fatal("the shared test plugin failed to open")
	}
	return sharedP
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedP != nil {
		sharedP.Close()
		os.RemoveAll(sharedP.Manifest().Dir)
	}
	os.Exit(code)
}

// rt is a runtime under cfg whose registry holds plugins.
func rt(t testing.TB, cfg *libkite.Config, plugins ...*wasm.Plugin) *libkite.Runtime {
	t.Helper()
	mods := make([]libkite.Module, len(plugins))
	for i, p := range plugins {
		mods[i] = p
	}
	r, _ := kitetest.New(t, cfg, mods...)
	return r
}

// with is a maker of runtimes under cfg holding p (kitetest.RunCases).
func with(p *wasm.Plugin, cfg *libkite.Config) func(testing.TB) *libkite.Runtime {
	return func(t testing.TB) *libkite.Runtime { return rt(t, cfg, p) }
}

// eval evaluates expr on a fresh runtime under cfg holding p.
func eval(t testing.TB, p *wasm.Plugin, cfg *libkite.Config, expr string) (got, msg string, err error) {
	t.Helper()
	return kitetest.Eval(rt(t, cfg, p), "", expr)
}

var lit = kitetest.Lit

// callBuiltin calls fn(args...) on a bare thread and renders the result.
func callBuiltin(fn starlark.Value, args ...int) (string, error) {
	tup := make(starlark.Tuple, len(args))
	for i, a := range args {
		tup[i] = starlark.MakeInt(a)
	}
	v, err := starlark.Call(&starlark.Thread{Name: "test"}, fn, tup, nil)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}
