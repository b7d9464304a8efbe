package libkite_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/loader"
)

const benchFn = "def add(a, b):\n  return a + b\n"

// BenchmarkCall measures rt.Call of a trivial function (Go args converted).
func BenchmarkCall(b *testing.B) {
	rt, err := libkite.New(nil, libkite.WithoutSignalHandlers())
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Execute(context.Background(), benchFn); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	args := []any{1, 2}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := rt.Call(ctx, "add", args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallFn calls a function value directly (no lookup by name).
func BenchmarkCallFn(b *testing.B) {
	rt, _ := libkite.New(nil, libkite.WithoutSignalHandlers())
	defer rt.Close()
	_ = rt.Execute(context.Background(), benchFn)
	fn, _ := rt.GetGlobalVal("add")
	ctx := context.Background()
	args := []any{1, 2}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := rt.CallFn(ctx, fn.(starlark.Callable), args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallWithDeadline adds a cancellable context per call.
func BenchmarkCallWithDeadline(b *testing.B) {
	rt, _ := libkite.New(nil, libkite.WithoutSignalHandlers())
	defer rt.Close()
	_ = rt.Execute(context.Background(), benchFn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := []any{1, 2}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := rt.Call(ctx, "add", args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawStarlarkCall is the baseline: starlark.Call on a reused
// thread with arguments converted by hand.
func BenchmarkRawStarlarkCall(b *testing.B) {
	thread := &starlark.Thread{}
	globals, err := starlark.ExecFileOptions(libkite.FileOptions(), thread, "bench", benchFn, nil)
	if err != nil {
		b.Fatal(err)
	}
	fn := globals["add"]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		args := starlark.Tuple{starlark.MakeInt(1), starlark.MakeInt(2)}
		if _, err := starlark.Call(thread, fn, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewRuntime measures New + Close with the default registry.
func BenchmarkNewRuntime(b *testing.B) {
	reg := loader.NewDefaultRegistry(nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rt, err := libkite.New(&libkite.Config{Registry: reg})
		if err != nil {
			b.Fatal(err)
		}
		rt.Close()
	}
}

// BenchmarkNewRuntimeFreshRegistry includes building and loading the
// default registry each time (a host that does not reuse registries).
func BenchmarkNewRuntimeFreshRegistry(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rt, err := libkite.New(&libkite.Config{Registry: loader.NewDefaultRegistry(nil)})
		if err != nil {
			b.Fatal(err)
		}
		rt.Close()
	}
}

// BenchmarkExecuteHello runs a small script end to end on a fresh runtime.
func BenchmarkExecuteHello(b *testing.B) {
	reg := loader.NewDefaultRegistry(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rt, _ := libkite.New(&libkite.Config{Registry: reg, Print: func(*starlark.Thread, string) {}})
		if err := rt.Execute(ctx, `print("hello", 1 + 2)`); err != nil {
			b.Fatal(err)
		}
		rt.Close()
	}
}

// BenchmarkExecuteTests1000 runs a file of 1,000 test_* functions (each
// with an assertion) through the test runner, as `kite test` does.
func BenchmarkExecuteTests1000(b *testing.B) {
	var src strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&src, "def test_%04d():\n    assert_equal(%d + 1, %d)\n", i, i, i+1)
	}
	reg := loader.NewDefaultRegistry(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rt, err := libkite.New(&libkite.Config{Registry: reg, NoSignals: true})
		if err != nil {
			b.Fatal(err)
		}
		results, err := rt.ExecuteTests(ctx, src.String())
		if err != nil || len(results) != 1000 || !results[999].Passed {
			b.Fatalf("%d results, err %v", len(results), err)
		}
		rt.Close()
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "tests/s")
}
