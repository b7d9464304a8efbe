package libkite_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitefmt "github.com/project-starkite/starkite/libkite/modules/fmt"
)

// capture returns a runtime whose print output is collected. Unlike
// kitetest.New it keeps OS signal handling on (the signal tests need it).
func capture(t *testing.T, cfg *libkite.Config, opts ...libkite.ConfigOption) (*libkite.Runtime, *output) {
	t.Helper()
	out := &output{}
	if cfg == nil {
		// the fmt module provides printf, whose output joins print()'s
		reg := libkite.NewRegistry(nil)
		reg.Register(kitefmt.New())
		cfg = &libkite.Config{Registry: reg}
	}
	cfg.Print = out.Print
	rt, err := libkite.New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt, out
}

// output is the shared print capture.
type output = kitetest.Output

func TestExecute(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    string // printed output
		wantErr string // substring of the error ("" = success)
		exit    int    // expected ExitError code (0 = none)
	}{
		{name: "print and printf", src: `print("a", 1)` + "\n" + `printf("%s=%d\n", "x", 3)`, want: "a 1\nx=3"},
		{name: "printf partial lines joined", src: `printf("a"); printf("b\n"); printf("c")`, want: "ab\nc"},
		{name: "printf go verbs", src: `printf("%v %v %.1f %q %v\n", None, [1, "a"], 2.25, "s", True)`, want: `<nil> [1 a] 2.2 "s" true`},
		{name: "printf without args is verbatim", src: `printf("100%%\n")`, want: "100%%"},
		{name: "top-level for/if/while", src: "x = 0\nfor i in range(3):\n  x += i\nif x == 3:\n  print('ok')\nwhile x > 0:\n  x -= 1\nprint(x)", want: "ok\n0"},
		{name: "global reassignment", src: "a = 1\na = 2\nprint(a)", want: "2"},
		{name: "recursion", src: "def f(n):\n  return 1 if n <= 1 else n * f(n-1)\nprint(f(5))", want: "120"},
		{name: "sets", src: "s = set([1, 2, 2])\nprint(len(s))", want: "2"},
		{name: "fail message is exact", src: `fail("boom")`, wantErr: "script error: boom"},
		{name: "fail default", src: `fail()`, wantErr: "script error: script failed"},
		{name: "fail too many args", src: `fail("a", "b")`, wantErr: "fail: got 2 arguments, want at most 1"},
		{name: "runtime error", src: `x = 1 // 0`, wantErr: "floored division by zero"},
		{name: "exit zero is success", src: "print('before')\nexit(0)\nprint('after')", want: "before"},
		{name: "exit code", src: "exit(3)", exit: 3},
		{name: "exit inside function", src: "def f():\n  exit(7)\nf()", exit: 7},
		{name: "exit needs int", src: `exit("x")`, wantErr: "exit: for parameter code: got string, want int"},
		{name: "Result ok", src: `r = Result(True, 5)` + "\nprint(r, r.ok, r.value, r.error == '', bool(r), type(r))", want: "Result(ok=True, value=5) True 5 True True Result"},
		{name: "Result failure", src: `r = Result(False, 5, "bad")` + "\nprint(r, r.value, bool(r), dir(r))", want: `Result(ok=False, error="bad") None False ["error", "ok", "value"]`},
		{name: "Result ok must be bool", src: `Result(1)`, wantErr: `Result: for parameter "ok": got int, want bool`},
		{name: "Result unhashable", src: `{Result(True): 1}`, wantErr: "unhashable type: Result"},
		{name: "on_signal unknown name", src: `on_signal("SIGFOO", print)`, wantErr: `unknown signal "SIGFOO"`},
		{name: "defer needs callable", src: `defer(1)`, wantErr: "got int, want callable"},
		{name: "on_signal accepts spellings", src: "on_signal('SIGINT', print)\non_signal('terminated', print)\non_signal('HUP', print)\nprint('ok')", want: "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, out := capture(t, nil)
			err := rt.Execute(context.Background(), tt.src)
			switch {
			case tt.exit != 0:
				var xe *libkite.ExitError
				if !errors.As(err, &xe) || xe.Code != tt.exit {
					t.Fatalf("err = %v, want ExitError{%d}", err, tt.exit)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("Execute: %v", err)
			}
			if tt.want != "" && out.String() != tt.want {
				t.Errorf("output = %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestExecuteErrorTypes(t *testing.T) {
	rt, _ := capture(t, nil)
	err := rt.Execute(context.Background(), "def f():\n  fail('deep')\nf()")
	var se *libkite.ScriptError
	if !errors.As(err, &se) || se.ExitCode != libkite.ExitScriptError || !libkite.IsScriptError(err) {
		t.Fatalf("want *ScriptError, got %T %v", err, err)
	}
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		t.Fatalf("EvalError not reachable through %v", err)
	}
	if bt := ee.Backtrace(); !strings.Contains(bt, "<script>:2:7: in f") {
		t.Errorf("backtrace lacks frame: %s", bt)
	}

	err = rt.Execute(context.Background(), "x = (")
	var se2 syntax.Error
	if !errors.As(err, &se2) || libkite.IsScriptError(err) {
		t.Fatalf("syntax error should be returned unwrapped, got %T %v", err, err)
	}
	if se2.Pos.Line != 1 {
		t.Errorf("syntax error line = %d", se2.Pos.Line)
	}
}

func TestScriptPathInErrors(t *testing.T) {
	rt, _ := capture(t, &libkite.Config{ScriptPath: "deploy.star"})
	err := rt.Execute(context.Background(), "\nundefined_name")
	if err == nil || !strings.Contains(err.Error(), "deploy.star:2:1") {
		t.Fatalf("err = %v, want position deploy.star:2:1", err)
	}
}

func TestDefersRunLIFOOnEveryOutcome(t *testing.T) {
	for _, tail := range []string{"", "fail('x')", "exit(4)", "1 // 0"} {
		rt, out := capture(t, nil)
		src := "defer(lambda: print('first'))\ndefer(lambda: print('second'))\ndefer(lambda: fail('ignored'))\n" + tail
		_ = rt.Execute(context.Background(), src)
		if got := out.String(); got != "second\nfirst" {
			t.Errorf("tail %q: defers printed %q, want LIFO second,first", tail, got)
		}
		// Defers run once: a second execution does not rerun them.
		out.Reset()
		_ = rt.Execute(context.Background(), "print('again')")
		if out.String() != "again" {
			t.Errorf("defers ran twice: %q", out.String())
		}
	}
}

func TestCancellation(t *testing.T) {
	rt, _ := capture(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := rt.Execute(ctx, "while True:\n  pass")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "Starlark computation cancelled: context deadline exceeded") {
		t.Errorf("message = %q", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}

	// The runtime stays usable after a cancelled execution.
	if err := rt.Execute(context.Background(), "x = 1"); err != nil {
		t.Fatalf("after cancel: %v", err)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel2() }()
	if err := rt.ExecuteRepl(ctx2, "while True:\n  pass"); !errors.Is(err, context.Canceled) {
		t.Fatalf("repl err = %v, want Canceled", err)
	}

	// Call honours cancellation of a tight loop too.
	if err := rt.ExecuteRepl(context.Background(), "def spin():\n  while True:\n    pass"); err != nil {
		t.Fatal(err)
	}
	ctx3, cancel3 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel3()
	if _, err := rt.Call(ctx3, "spin", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call err = %v", err)
	}
	// An already-cancelled context never starts the call.
	if _, err := rt.Call(ctx3, "spin", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call on done ctx err = %v", err)
	}
}

func TestReplEvalCall(t *testing.T) {
	rt, out := capture(t, nil)
	ctx := context.Background()
	if err := rt.ExecuteRepl(ctx, "x = 10\ndef add(a, b=1):\n  return a + b + x"); err != nil {
		t.Fatal(err)
	}
	if err := rt.ExecuteRepl(ctx, "y = x * 2\nprint(y)"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "20" {
		t.Errorf("repl output %q", out.String())
	}
	v, err := rt.Eval(ctx, "add(1, b=2) + y")
	if err != nil || v.String() != "33" {
		t.Fatalf("Eval = %v, %v", v, err)
	}
	if _, err := rt.Eval(ctx, "z = 1"); err == nil {
		t.Error("Eval accepted a statement")
	}
	v, err = rt.Call(ctx, "add", []any{5}, map[string]any{"b": 5})
	if err != nil || v.String() != "20" {
		t.Fatalf("Call = %v, %v", v, err)
	}
	if _, err := rt.Call(ctx, "nope", nil, nil); err == nil || err.Error() != `libkite: global "nope" not defined` {
		t.Errorf("undefined: %v", err)
	}
	if _, err := rt.Call(ctx, "x", nil, nil); err == nil || err.Error() != `libkite: global "x" is not callable (type int)` {
		t.Errorf("not callable: %v", err)
	}
	if _, err := rt.Call(ctx, "add", []any{struct{}{}}, nil); err == nil || !strings.HasPrefix(err.Error(), "libkite: arg 0: ") {
		t.Errorf("bad arg: %v", err)
	}
	if _, err := rt.CallFn(ctx, nil, nil, nil); err == nil || err.Error() != "libkite: CallFn: fn is nil" {
		t.Errorf("nil fn: %v", err)
	}
	fn, _ := rt.GetGlobalVal("add")
	v, err = rt.CallFn(ctx, fn.(starlark.Callable), []any{1}, nil)
	if err != nil || v.String() != "12" {
		t.Fatalf("CallFn = %v, %v", v, err)
	}
}

func TestExecuteRetainsBindings(t *testing.T) {
	rt, _ := capture(t, nil)
	ctx := context.Background()
	if err := rt.Execute(ctx, "greeting = 'hi'\ndef greet(n):\n  return greeting + ' ' + n"); err != nil {
		t.Fatal(err)
	}
	v, err := rt.Call(ctx, "greet", []any{"bob"}, nil)
	if err != nil || v.(starlark.String) != "hi bob" {
		t.Fatalf("Call after Execute = %v, %v", v, err)
	}
	if v, err := rt.Eval(ctx, "greeting"); err != nil || v.(starlark.String) != "hi" {
		t.Fatalf("Eval after Execute = %v, %v", v, err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	rt, _ := capture(t, nil)
	ctx := context.Background()
	if err := rt.Execute(ctx, "def sq(n):\n  return n * n"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := rt.Call(ctx, "sq", []any{i}, nil)
			if err != nil {
				errs <- err
				return
			}
			if n, _ := starlark.AsInt32(v); n != i*i {
				errs <- errors.New("wrong result " + v.String())
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestGlobalsAndEntryPoint(t *testing.T) {
	rt, out := capture(t, &libkite.Config{
		Globals:    map[string]interface{}{"env": "prod", "replicas": 3, "tags": []any{"a", "b"}, "print2": nil},
		EntryPoint: "main",
	})
	if err := rt.Execute(context.Background(), "def main():\n  print(env, replicas, tags)\nprint('top')"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "top\nprod 3 [\"a\", \"b\"]" {
		t.Errorf("output %q", out.String())
	}

	// A script that calls main() itself is not run twice.
	rt2, out2 := capture(t, &libkite.Config{EntryPoint: "main"})
	if err := rt2.Execute(context.Background(), "def main():\n  print('once')\nmain()"); err != nil {
		t.Fatal(err)
	}
	if out2.String() != "once" {
		t.Errorf("entry point ran twice: %q", out2.String())
	}

	_, err := libkite.New(&libkite.Config{Globals: map[string]interface{}{"bad": struct{}{}}})
	if err == nil || !strings.Contains(err.Error(), `invalid global "bad"`) {
		t.Errorf("bad global: %v", err)
	}
	rt3, _ := capture(t, &libkite.Config{EntryPoint: "main", RequireEntryPoint: true, ScriptPath: "lib.star"})
	if err := rt3.Execute(context.Background(), "x = 1"); err == nil || !strings.Contains(err.Error(), "entry point main() not defined") {
		t.Errorf("require entry point: %v", err)
	}
}

func TestConfigNotMutated(t *testing.T) {
	cfg := &libkite.Config{Debug: true}
	rt, err := libkite.NewTrusted(cfg, libkite.WithDryRun(true))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if cfg.Permissions != nil || cfg.DryRun {
		t.Error("constructor mutated the caller's config")
	}
	if rt.Permissions() == nil || !rt.Config().DryRun {
		t.Error("options not applied to the runtime")
	}
	rt2, _ := libkite.New(nil)
	defer rt2.Close()
	if rt2.Permissions() != nil {
		t.Error("New(nil) should be trust mode (nil checker)")
	}
	if rt2.Config().OutputFormat != "text" || libkite.NewConfig().OutputFormat != "text" {
		t.Error("OutputFormat default")
	}
	if _, err := libkite.New(&libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"nodot"}}}); err == nil ||
		!strings.Contains(err.Error(), `invalid permission config: invalid allow rule "nodot"`) {
		t.Errorf("bad rule: %v", err)
	}
}

func TestPrintVariables(t *testing.T) {
	rt, _ := capture(t, &libkite.Config{VarStore: libkite.MapVarStore{"b": 2, "a": "x"}})
	if got := libkite.FormatVariablesForTest(rt); got != "Variables:\n  a = x\n  b = 2\n" {
		t.Errorf("got %q", got)
	}
	rt2, _ := capture(t, nil)
	if got := libkite.FormatVariablesForTest(rt2); got != "No variables loaded\n" {
		t.Errorf("got %q", got)
	}
}

func TestPanicInBuiltinBecomesError(t *testing.T) {
	rt, _ := capture(t, &libkite.Config{Globals: map[string]interface{}{
		"boom": starlark.NewBuiltin("boom", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			panic("kaboom")
		}),
	}})
	err := rt.Execute(context.Background(), "boom()")
	if err == nil || !strings.Contains(err.Error(), "panic: kaboom") {
		t.Fatalf("err = %v", err)
	}
	if err := rt.Execute(context.Background(), "x = 1"); err != nil {
		t.Fatalf("runtime unusable after panic: %v", err)
	}
}

func TestClosedRuntime(t *testing.T) {
	rt, err := libkite.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	rt.Close()
	rt.Close() // idempotent
	if err := rt.Execute(context.Background(), "x = 1"); err == nil {
		t.Error("Execute after Close succeeded")
	}
}

func TestDryRunAndContextPlumbing(t *testing.T) {
	probe := starlark.NewBuiltin("probe", func(th *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		_, hasDeadline := libkite.Context(th).Deadline()
		return starlark.Tuple{starlark.Bool(libkite.DryRun(th)), starlark.Bool(hasDeadline), starlark.Bool(libkite.GetRuntime(th) != nil)}, nil
	})
	globals := map[string]interface{}{"probe": probe}
	tests := []struct {
		name string
		cfg  *libkite.Config
		want string
	}{
		{"off", &libkite.Config{Globals: globals}, "(False, True, True)"},
		{"Config.DryRun", &libkite.Config{Globals: globals, DryRun: true}, "(True, True, True)"},
		{"registry ModuleConfig.DryRun", &libkite.Config{Globals: globals, Registry: libkite.NewRegistry(&libkite.ModuleConfig{DryRun: true})}, "(True, True, True)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, out := capture(t, tt.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := rt.Execute(ctx, "print(probe())"); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got %s, want %s", out.String(), tt.want)
			}
		})
	}
	// Threads made by NewThread for host-driven work carry the same state.
	rt, _ := capture(t, &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()})
	th := rt.NewThread("host")
	if !libkite.DryRun(th) || libkite.GetPermissions(th) == nil || libkite.GetRuntime(th) != rt {
		t.Error("NewThread lacks runtime state")
	}
	if err := libkite.Check(th, "fs", "read", "read_file", "/etc/hosts"); !libkite.IsPermissionError(err) {
		t.Errorf("NewThread checker not applied: %v", err)
	}
}

// TestExecuteReplChunks: REPL inputs share one unfrozen global scope, so
// a binding can be reassigned and augmented in later inputs, and load()
// bindings persist.
func TestExecuteReplChunks(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lib.star"), []byte("def twice(x):\n  return 2 * x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rt, out := capture(t, &libkite.Config{ScriptPath: filepath.Join(dir, "main.star")})
	for _, src := range []string{
		"x = 1",
		"x += 1",
		"items = []",
		"items.append(x)", // not frozen between inputs
		`load("./lib.star", "lib")`,
		"print(x, items, lib.twice(x))",
		"print = 5", // shadowing a builtin is a binding of its own
	} {
		if err := rt.ExecuteRepl(context.Background(), src); err != nil {
			t.Fatalf("%q: %v", src, err)
		}
	}
	if out.String() != "2 [2] 4" {
		t.Fatalf("output %q", out.String())
	}
	if v, ok := rt.GetGlobalVal("print"); !ok || v.String() != "5" {
		t.Fatalf("shadowed print = %v", v)
	}
	if _, ok := rt.GetGlobalVal("json"); ok {
		t.Fatal("a predeclared name was retained as a binding")
	}
}

// A blocking builtin that returns because the run's context ended (a
// server's serve, a controller) leaves the run cancelled even when no
// interpreter step follows: Execute reports the cancellation, never nil.
func TestExecuteReportsCancellationAfterBlockingBuiltin(t *testing.T) {
	block := starlark.NewBuiltin("block", func(thread *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		<-libkite.Context(thread).Done()
		return starlark.None, nil
	})
	for i := 0; i < 100; i++ {
		rt, err := libkite.New(&libkite.Config{Globals: map[string]any{"block": block}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Millisecond, cancel)
		err = rt.Execute(ctx, "block()")
		rt.Close()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: Execute = %v, want a cancellation", i, err)
		}
	}
}

func TestRedirectStdout(t *testing.T) {
	var buf bytes.Buffer
	restore := libkite.RedirectStdout(&buf)
	rt, err := libkite.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Execute(context.Background(), `print("to-w"); print("frag")`); err != nil {
		t.Fatal(err)
	}
	inner := libkite.RedirectStdout(io.Discard)
	if err := rt.Execute(context.Background(), `print("dropped")`); err != nil {
		t.Fatal(err)
	}
	inner()
	inner() // idempotent
	if err := rt.Execute(context.Background(), `print("again")`); err != nil {
		t.Fatal(err)
	}
	restore()
	if got, want := buf.String(), "to-w\nfrag\nagain\n"; got != want {
		t.Fatalf("redirected output = %q, want %q", got, want)
	}
}
