package wasm_test

import (
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/wasm"
)

// engines runs b once per wazero engine: the compiler (the default on
// amd64 and arm64) and the interpreter.
func engines(b *testing.B, run func(b *testing.B)) {
	b.Run("compiler", run)
	b.Run("interpreter", func(b *testing.B) {
		defer wasm.UseInterpreter()()
		run(b)
	})
}

// member returns plugin function name as a builtin, compiled and with
// one warm instance.
func member(b *testing.B, p *wasm.Plugin, name string, args ...starlark.Value) (*starlark.Builtin, starlark.Tuple) {
	b.Helper()
	members, err := p.Load(nil)
	if err != nil {
		b.Fatal(err)
	}
	fn := members[name].(*starlark.Builtin)
	if _, err := starlark.Call(&starlark.Thread{}, fn, args, nil); err != nil {
		b.Fatal(err)
	}
	return fn, args
}

// BenchmarkCall: one call of a warm plugin function from Go, through the
// builtin (permission check, conversion, pool, wasm call).
func BenchmarkCall(b *testing.B) {
	engines(b, func(b *testing.B) {
		for _, c := range []struct {
			name string
			args starlark.Tuple
		}{
			{"add", starlark.Tuple{starlark.MakeInt(1), starlark.MakeInt(2)}},
			{"upper", starlark.Tuple{starlark.String("hello, world")}},
			{"sum", starlark.Tuple{starlark.NewList([]starlark.Value{starlark.MakeInt(1), starlark.Float(2.5)})}},
		} {
			b.Run(c.name, func(b *testing.B) {
				p := open(b, []wasm.Option{wasm.WithCacheDir("")})
				fn, args := member(b, p, c.name, c.args...)
				thread := &starlark.Thread{}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := starlark.Call(thread, fn, args, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
}

// BenchmarkCallScript: textplug.add(1, 2) evaluated by a script.
func BenchmarkCallScript(b *testing.B) {
	r := rt(b, nil, textplug(b))
	if _, msg, _ := kitetest.Eval(r, "", `textplug.add(1, 2)`); msg != "" {
		b.Fatal(msg)
	}
	for b.Loop() {
		kitetest.Eval(r, "", `textplug.add(1, 2)`)
	}
}

// BenchmarkFirstCall: Open, the first call (compile or cache load, then
// instantiate with the Go runtime's _initialize) and Close.
func BenchmarkFirstCall(b *testing.B) {
	engines(b, func(b *testing.B) {
		dir := pluginDir(b)
		for _, c := range []struct{ name, cache string }{
			{"nocache", ""},
			{"cache", b.TempDir()},
		} {
			b.Run(c.name, func(b *testing.B) {
				first := func() {
					p, err := wasm.Open(dir, wasm.WithCacheDir(c.cache))
					if err != nil {
						b.Fatal(err)
					}
					member(b, p, "add", starlark.MakeInt(1), starlark.MakeInt(2))
					p.Close()
				}
				first() // fills the cache
				for b.Loop() {
					first()
				}
			})
		}
	})
}

// BenchmarkInstantiate: a call that needs a fresh instance (the previous
// one was discarded after a guest crash) — the Go runtime's start-up.
func BenchmarkInstantiate(b *testing.B) {
	p := open(b, []wasm.Option{wasm.WithCacheDir("")})
	add, args := member(b, p, "add", starlark.MakeInt(1), starlark.MakeInt(2))
	members, _ := p.Load(nil)
	thread := &starlark.Thread{}
	for b.Loop() {
		starlark.Call(thread, members["crash"], nil, nil) // discards the only instance
		if _, err := starlark.Call(thread, add, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}
