package concur_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/concur"
	"github.com/project-starkite/starkite/libkite/modules/inventory"
)

var kit = kitetest.Modules{concur.New, inventory.New}

// sleepBuiltin is sleep(ms): a Go-side wait that ends early when the
// thread's context ends (then it raises the context's error).
var sleepBuiltin = starlark.NewBuiltin("sleep", func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ms int
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "ms", &ms); err != nil {
		return nil, err
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return starlark.None, nil
	case <-libkite.Context(thread).Done():
		return nil, libkite.Context(thread).Err()
	}
})

// withGlobals is a config exposing extra Go builtins to scripts.
func withGlobals(g map[string]any) *libkite.Config { return &libkite.Config{Globals: g} }

func TestMap(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "doubled ints", Expr: `concur.map([1, 2, 3], lambda x: x * 2)`, Want: `[2, 4, 6]`},
		{Name: "tuple items", Expr: `concur.map(("a", "b"), lambda s: s.upper())`, Want: `["A", "B"]`},
		{Name: "dict results", Expr: `concur.map([1, 2], lambda n: {"n": n})`, Want: `[{"n": 1}, {"n": 2}]`},
		{Name: "range, workers", Expr: `concur.map(range(4), lambda n: n * n, workers=2)`, Want: `[0, 1, 4, 9]`},
		{Name: "dict iterates keys", Expr: `concur.map({"a": 1, "b": 2}, lambda k: k + k)`, Want: `["aa", "bb"]`},
		{Name: "empty", Expr: `concur.map([], lambda x: x)`, Want: `[]`},
		{Name: "single", Expr: `concur.map([7], lambda x: x + 1)`, Want: `[8]`},
		{Name: "order of 10 with 3 workers", Expr: `concur.map(list(range(10)), lambda x: x * 10, workers=3)`,
			Want: `[0, 10, 20, 30, 40, 50, 60, 70, 80, 90]`},
		{Name: "more workers than items", Expr: `concur.map([1, 2], lambda x: x, workers=64)`, Want: `[1, 2]`},
		{Name: "timeout accepted", Expr: `concur.map([1, 2], lambda x: -x, timeout="5s")`, Want: `[-1, -2]`},
		{Name: "keywords", Expr: `concur.map(items=[1], func=str)`, Want: `["1"]`},
		{Name: "builtin func", Expr: `concur.map([[1, 2], [3]], len)`, Want: `[2, 1]`},
		{Name: "None results", Expr: `concur.map([1, 2], lambda x: None)`, Want: `[None, None]`},
		{Name: "abort message", Pre: "def f(x):\n    if x == 1:\n        fail(\"bad 1\")\n    return x",
			Expr: `concur.map([0, 1, 2], f)`, Err: `concur.map: item 1: bad 1`},
		{Name: "lowest index failure", Pre: "def f(x):\n    if x > 1:\n        fail(\"bad %d\" % x)\n    return x",
			Expr: `concur.map([0, 1, 2, 3, 4], f, workers=2)`, Err: `concur.map: item 2: bad 2`},
		{Name: "arity", Expr: `concur.map([1], lambda x, y: x)`, Err: `concur.map: item 0: function lambda missing 1 argument (y)`},
		{Name: "continue", Pre: "def f(x):\n    if x == \"bad\":\n        fail(\"nope: \" + x)\n    return x.upper()",
			Expr: `[(r.ok, r.value, r.error) for r in concur.map(["ok", "bad", "fine"], f, on_error="continue")]`,
			Want: `[(True, "OK", ""), (False, None, "nope: bad"), (True, "FINE", "")]`},
		{Name: "continue all ok", Expr: `[type(r) for r in concur.map([1, 2], lambda x: x, on_error="continue")]`,
			Want: `["Result", "Result"]`},
		{Name: "empty on_error means abort", Expr: `concur.map([1], lambda x: x, on_error="")`, Want: `[1]`},
		{Name: "abort spelled out", Expr: `concur.map([1], lambda x: x, on_error="abort")`, Want: `[1]`},
	})
}

func TestEach(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "returns None", Expr: `concur.each([1, 2, 3], func=lambda x: x)`, Want: `None`},
		{Name: "empty list", Expr: `concur.each([], lambda x: x)`, Want: `None`},
		{Name: "tuple", Expr: `concur.each((1, 2), lambda x: x, workers=1)`, Want: `None`},
		{Name: "abort", Expr: `concur.each([1, 2], lambda x: 1 // (x - 2))`, Err: `concur.each: item 1: floored division by zero`},
		{Name: "continue is a list of Results", Expr: `concur.each([1, 2], lambda x: 1 // (x - 2), on_error="continue")`,
			Want: `[Result(ok=True, value=None), Result(ok=False, error="floored division by zero")]`},
	})
}

func TestExec(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "three", Expr: `concur.exec(lambda: "x", lambda: 2, lambda: [3])`, Want: `("x", 2, [3])`},
		{Name: "one", Expr: `concur.exec(lambda: 1)`, Want: `(1,)`},
		{Name: "none", Expr: `concur.exec()`, Want: `()`},
		{Name: "unpack", Pre: `a, b = concur.exec(lambda: "x", lambda: 2, timeout="10s")`, Expr: `(a, b)`, Want: `("x", 2)`},
		{Name: "abort", Expr: `concur.exec(lambda: 1, lambda: fail("boom"))`, Err: `concur.exec: function 1: boom`},
		{Name: "continue", Expr: `concur.exec(lambda: 1, lambda: fail("boom"), on_error="continue")`,
			Want: `(Result(ok=True, value=1), Result(ok=False, error="boom"))`},
		{Name: "arity", Expr: `concur.exec(lambda x: x)`, Err: `concur.exec: function 0: function lambda missing 1 argument (x)`},
	})
}

func TestValidation(t *testing.T) {
	f := `lambda x: x`
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "on_error", Expr: `concur.map([1], ` + f + `, on_error="bogus")`, Err: `concur.map: on_error must be "abort" or "continue", got "bogus"`},
		{Name: "workers", Expr: `concur.map([1], ` + f + `, workers=-1)`, Err: `concur.map: workers must be non-negative, got -1`},
		{Name: "string items", Expr: `concur.map("abc", ` + f + `)`, Err: `concur.map: expected iterable, got string`},
		{Name: "int items", Expr: `concur.each(5, ` + f + `)`, Err: `concur.each: expected iterable, got int`},
		{Name: "bytes items", Expr: `concur.map(b"ab", ` + f + `)`, Err: `concur.map: expected iterable, got bytes`},
		{Name: "invalid timeout", Expr: `concur.map([1], ` + f + `, timeout="abc")`, Err: `concur.map: invalid timeout: time: invalid duration "abc"`},
		{Name: "zero timeout", Expr: `concur.map([1], ` + f + `, timeout="0s")`, Err: `concur.map: timeout must be positive, got 0s`},
		{Name: "negative timeout", Expr: `concur.map([1], ` + f + `, timeout="-2s")`, Err: `concur.map: timeout must be positive, got -2s`},
		// validation order: on_error, workers, items, timeout
		{Name: "on_error before workers", Expr: `concur.map("s", ` + f + `, workers=-1, on_error="x", timeout="y")`,
			Err: `concur.map: on_error must be "abort" or "continue", got "x"`},
		{Name: "workers before items", Expr: `concur.map("s", ` + f + `, workers=-1, timeout="y")`, Err: `concur.map: workers must be non-negative, got -1`},
		{Name: "items before timeout", Expr: `concur.map("s", ` + f + `, timeout="y")`, Err: `concur.map: expected iterable, got string`},
		// binding
		{Name: "third positional", Expr: `concur.map([1], ` + f + `, 2)`, Err: `concur.map: unexpected positional argument at index 2`},
		{Name: "unknown keyword", Expr: `concur.map([1], ` + f + `, bogus=1)`, Err: `concur.map: unknown keyword argument: bogus`},
		{Name: "missing func", Expr: `concur.map([1])`, Err: `concur.map: missing required argument: func`},
		{Name: "func not callable", Expr: `concur.map([1], 1)`, Err: `concur.map: positional arg 1: value is not callable: got int`},
		{Name: "func kw not callable", Expr: `concur.each([1], func=1)`, Err: `concur.each: keyword arg 'func': value is not callable: got int`},
		{Name: "workers type", Expr: `concur.map([1], ` + f + `, workers="2")`, Err: `concur.map: keyword arg 'workers': got string, want int`},
		{Name: "workers bool", Expr: `concur.map([1], ` + f + `, workers=True)`, Err: `concur.map: keyword arg 'workers': got bool, want int`},
		{Name: "timeout type", Expr: `concur.map([1], ` + f + `, timeout=5)`, Err: `concur.map: keyword arg 'timeout': got int, want string`},
		{Name: "on_error None", Expr: `concur.map([1], ` + f + `, on_error=None)`, Err: `concur.map: keyword arg 'on_error': got NoneType, want string`},
		// exec
		{Name: "exec unknown kw", Expr: `concur.exec(lambda: 1, foo=1)`, Err: `concur.exec: unexpected keyword argument "foo"`},
		{Name: "exec workers is unknown", Expr: `concur.exec(lambda: 1, workers=1)`, Err: `concur.exec: unexpected keyword argument "workers"`},
		{Name: "exec timeout type", Expr: `concur.exec(lambda: 1, timeout=5)`, Err: `concur.exec: keyword arg 'timeout': got int, want string`},
		{Name: "exec on_error type", Expr: `concur.exec(lambda: 1, on_error=True)`, Err: `concur.exec: keyword arg 'on_error': got bool, want string`},
		{Name: "exec not callable", Expr: `concur.exec(lambda: 1, 2)`, Err: `concur.exec: argument 1 is not callable, got int`},
		{Name: "exec on_error", Expr: `concur.exec(lambda: 1, on_error="bogus")`, Err: `concur.exec: on_error must be "abort" or "continue", got "bogus"`},
		{Name: "exec on_error before callables", Expr: `concur.exec(1, on_error="bogus")`, Err: `concur.exec: on_error must be "abort" or "continue", got "bogus"`},
		{Name: "exec timeout", Expr: `concur.exec(lambda: 1, timeout="abc")`, Err: `concur.exec: invalid timeout: time: invalid duration "abc"`},
		{Name: "exec zero timeout", Expr: `concur.exec(timeout="0s")`, Err: `concur.exec: timeout must be positive, got 0s`},
	})
}

func TestTry(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "dir", Expr: `dir(concur)`, Want: `["each", "exec", "map", "try_each", "try_exec", "try_map"]`},
		{Name: "try_map bogus", Expr: `concur.try_map([1], lambda x: x, on_error="bogus")`,
			Want: `Result(ok=False, error="concur.map: on_error must be \"abort\" or \"continue\", got \"bogus\"")`},
		{Name: "try_map failing", Expr: `concur.try_map([1, 2], lambda x: fail("bad %d" % x))`, Want: `Result(ok=False, error="concur.map: item 0: bad 1")`},
		{Name: "try_map ok", Expr: `concur.try_map([1, 2, 3], lambda x: x)`, Want: `Result(ok=True, value=[1, 2, 3])`},
		{Name: "try_each failing", Expr: `concur.try_each([1], lambda x: fail("e"))`, Want: `Result(ok=False, error="concur.each: item 0: e")`},
		{Name: "try_each ok", Expr: `concur.try_each([1], lambda x: x)`, Want: `Result(ok=True, value=None)`},
		{Name: "try_exec failing", Expr: `concur.try_exec(lambda: fail("x"))`, Want: `Result(ok=False, error="concur.exec: function 0: x")`},
		{Name: "try_exec ok", Expr: `concur.try_exec(lambda: 1)`, Want: `Result(ok=True, value=(1,))`},
		{Name: "try binding error", Expr: `concur.try_map([1])`, Want: `Result(ok=False, error="concur.map: missing required argument: func")`},
	})
}

// TestEveryItemAttempted: abort does not cancel siblings — every item
// runs even though item 0 fails.
func TestEveryItemAttempted(t *testing.T) {
	for _, workers := range []int{0, 1, 3} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			rt, out := kit.New(t, nil)
			src := fmt.Sprintf("def f(x):\n    print(x)\n    if x == 0:\n        fail(\"first\")\n"+
				"r = concur.try_map(list(range(20)), f, workers=%d)\nprint(r.error)", workers)
			if err := rt.Execute(context.Background(), src); err != nil {
				t.Fatal(err)
			}
			lines := out.Lines()
			if last := lines[len(lines)-1]; last != "concur.map: item 0: first" {
				t.Fatalf("error = %q", last)
			}
			got := append([]string(nil), lines[:len(lines)-1]...)
			sort.Slice(got, func(i, j int) bool { return len(got[i]) < len(got[j]) || len(got[i]) == len(got[j]) && got[i] < got[j] })
			if len(got) != 20 || got[0] != "0" || got[19] != "19" {
				t.Fatalf("printed %v, want every item 0..19", got)
			}
		})
	}
}

// TestWorkerBound: never more than `workers` calls in flight.
func TestWorkerBound(t *testing.T) {
	var inFlight, peak atomic.Int32
	track := starlark.NewBuiltin("track", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		inFlight.Add(-1)
		return starlark.None, nil
	})
	for _, c := range []struct{ workers, items, maxPeak int }{{1, 10, 1}, {3, 30, 3}, {8, 5, 5}} {
		inFlight.Store(0)
		peak.Store(0)
		_, msg, _ := kit.Eval(t, withGlobals(map[string]any{"track": track}), "",
			fmt.Sprintf(`concur.each(range(%d), lambda x: track(), workers=%d)`, c.items, c.workers))
		if msg != "" {
			t.Fatal(msg)
		}
		if p := int(peak.Load()); p < 1 || p > c.maxPeak {
			t.Errorf("workers=%d items=%d: peak concurrency %d, want 1..%d", c.workers, c.items, p, c.maxPeak)
		}
	}
}

// TestStartTimeout: items still waiting for a slot when the start
// deadline passes fail with "timeout exceeded"; the running one finishes.
func TestStartTimeout(t *testing.T) {
	cfg := withGlobals(map[string]any{"sleep": sleepBuiltin})
	pre := "def f(x):\n    if x == 0:\n        sleep(100)\n    return x"
	kit.RunCases(t, cfg, []kitetest.Case{
		{Name: "continue", Pre: pre, Expr: `[(r.ok, r.value, r.error) for r in concur.map([0, 1, 2], f, workers=1, timeout="20ms", on_error="continue")]`,
			Want: `[(True, 0, ""), (False, None, "timeout exceeded"), (False, None, "timeout exceeded")]`},
		{Name: "abort", Pre: pre, Expr: `concur.map([0, 1, 2], f, workers=1, timeout="20ms")`, Err: `concur.map: item 1: timeout exceeded`},
		{Name: "exec", Expr: `concur.exec(lambda: sleep(50), lambda: 1, timeout="5s")`, Want: `(None, 1)`},
	})
}

// TestWorkersUseRuntime: worker threads carry the runtime's permission
// checker, dry-run flag and print routing.
func TestWorkersUseRuntime(t *testing.T) {
	t.Run("permission denied inside a worker", func(t *testing.T) {
		rt := kit.Runtime(t, &libkite.Config{Permissions: libkite.DenyAllPermissions()})
		_, msg, err := kitetest.Eval(rt, "", `concur.map(["inv.yaml"], inventory.file)`)
		want := `concur.map: item 0: permission denied: fs.read read_file(`
		if !strings.HasPrefix(msg, want) || !libkite.IsPermissionError(err) {
			t.Fatalf("error = %q (%T), want a permission error starting %q", msg, err, want)
		}
		_, msg, _ = kitetest.Eval(rt, "", `[r.error for r in concur.map(["inv.yaml"], inventory.file, on_error="continue")]`)
		if msg != "" {
			t.Fatal(msg)
		}
		got, _, _ := kitetest.Eval(rt, "", `concur.try_exec(lambda: inventory.file("x.yaml")).error`)
		if !strings.HasPrefix(got, `concur.exec: function 0: permission denied: fs.read read_file(`) {
			t.Fatalf("try_exec error = %q", got)
		}
	})
	t.Run("allowed inside a worker", func(t *testing.T) {
		path := kitetest.WriteFile(t, filepath.Join(kitetest.TempDir(t), "inv.yaml"), "- name: a\n- name: b\n")
		rt := kit.Runtime(t, &libkite.Config{Permissions: libkite.AllowAllPermissions()})
		got, msg, _ := kitetest.Eval(rt, "", `concur.map([`+kitetest.Lit(path)+`], lambda p: inventory.file(p).count)`)
		if msg != "" || got != "[2]" {
			t.Fatalf("= %s (%s)", got, msg)
		}
	})
	t.Run("dry run inside a worker", func(t *testing.T) {
		isDry := starlark.NewBuiltin("is_dry", func(thread *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return starlark.Bool(libkite.DryRun(thread)), nil
		})
		for _, dry := range []bool{false, true} {
			cfg := &libkite.Config{DryRun: dry, Globals: map[string]any{"is_dry": isDry}}
			got, msg, _ := kit.Eval(t, cfg, "", `concur.map([1, 2, 3], lambda x: is_dry(), workers=2) + list(concur.exec(is_dry))`)
			want := strings.Repeat(fmt.Sprint(starlark.Bool(dry))+", ", 4)
			if msg != "" || got != "["+want[:len(want)-2]+"]" {
				t.Fatalf("dry=%v: %s (%s)", dry, got, msg)
			}
		}
	})
	t.Run("print reaches the runtime's hook", func(t *testing.T) {
		// write(s) is printf's output path: text with partial lines
		write := starlark.NewBuiltin("write", func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			libkite.WriteText(thread, string(args[0].(starlark.String)))
			return starlark.None, nil
		})
		rt, out := kit.New(t, withGlobals(map[string]any{"write": write}))
		src := "def f(x):\n    print(\"item\", x)\n    write(\"partial %d\" % x)\n" +
			"concur.each(range(8), f, workers=3)\nconcur.exec(lambda: print(\"exec\"))"
		if err := rt.Execute(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		got := out.Lines()
		sort.Strings(got)
		want := []string{"exec"}
		for i := range 8 {
			want = append(want, fmt.Sprint("item ", i), fmt.Sprint("partial ", i))
		}
		sort.Strings(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("printed %q\nwant    %q", got, want)
		}
	})
	t.Run("exit inside a worker stops the script", func(t *testing.T) {
		rt, out := kit.New(t, nil)
		err := rt.Execute(context.Background(), "concur.try_map([1, 2], lambda x: exit(3))\nprint(\"after\")")
		if !libkite.IsExitError(err) || err.(*libkite.ExitError).Code != 3 {
			t.Fatalf("err = %v (%T)", err, err)
		}
		err = rt.Execute(context.Background(), "concur.map([1], lambda x: exit(0), on_error=\"continue\")\nprint(\"after\")")
		if err != nil || strings.Contains(out.String(), "after") {
			t.Fatalf("exit(0): err = %v, output %q", err, out.String())
		}
	})
}

// TestNested: a worker can run concur itself.
func TestNested(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `concur.map([[1, 2], [3]], lambda xs: concur.map(xs, lambda x: x * 2, workers=2), workers=2)`, Want: `[[2, 4], [6]]`},
	})
}

// TestCancellation: ending the script's context reaches every running
// worker (Starlark loops at their next step, blocking builtins through
// libkite.Context), unstarted items never run, and no goroutine outlives
// the call.
func TestCancellation(t *testing.T) {
	for _, c := range []struct {
		name    string
		workers int
		body    string // the worker function's body; started() is called first
	}{
		{"blocking builtin, bounded", 4, "    wait()\n"},
		{"blocking builtin, unbounded", 0, "    wait()\n"},
		{"starlark loop, bounded", 3, "    for i in range(1000000000):\n        pass\n"},
		{"starlark loop, unbounded", 0, "    for i in range(1000000000):\n        pass\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			items := 50
			running := c.workers
			if running == 0 {
				running = items
			}
			var started atomic.Int32
			allStarted := make(chan struct{})
			startedFn := starlark.NewBuiltin("started", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
				if int(started.Add(1)) == running {
					close(allStarted)
				}
				return starlark.None, nil
			})
			waitFn := starlark.NewBuiltin("wait", func(thread *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
				ctx := libkite.Context(thread)
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(time.Minute):
					return nil, errors.New("worker did not see the cancellation")
				}
			})
			func() {
				rt := kit.Runtime(t, withGlobals(map[string]any{"started": startedFn, "wait": waitFn}))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := make(chan error, 1)
				src := "def f(x):\n    started()\n" + c.body +
					fmt.Sprintf("concur.try_each(range(%d), f, workers=%d, on_error=\"continue\")\n", items, c.workers)
				go func() { done <- rt.Execute(ctx, src) }()
				select {
				case <-allStarted:
				case err := <-done:
					t.Fatalf("script ended before the workers started: %v", err)
				}
				cancel()
				err := <-done
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
				if n := int(started.Load()); n != running {
					t.Fatalf("%d items started, want only the %d running ones", n, running)
				}
			}()
			settle(t, before)
		})
	}
}

// TestNoGoroutineLeak: successful, failing and timed-out calls leave no
// goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		rt := kit.Runtime(t, withGlobals(map[string]any{"sleep": sleepBuiltin}))
		src := `
concur.map(range(200), lambda x: x, workers=8)
concur.map(range(200), lambda x: x)
concur.try_map(range(50), lambda x: fail("x"), workers=4)
concur.map(range(50), lambda x: 1 // 0, on_error="continue")
concur.map(range(5), lambda x: sleep(30), workers=1, timeout="1ms", on_error="continue")
concur.exec(lambda: 1, lambda: 2)
`
		if err := rt.Execute(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		rt.Close()
	}()
	settle(t, before)
}

// settle waits (briefly, polling) for the goroutine count to fall back to
// before; runtime bookkeeping goroutines may take a moment to exit.
func settle(t *testing.T, before int) {
	t.Helper()
	var now int
	for range 500 {
		if now = runtime.NumGoroutine(); now <= before {
			return
		}
		runtime.Gosched()
		time.Sleep(2 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Fatalf("goroutines: %d before, %d after\n%s", before, now, buf[:runtime.Stack(buf, true)])
}

// TestDetachedThread: concur on a thread no runtime made (embedders
// calling builtins directly) still works, with the caller's print hook.
func TestDetachedThread(t *testing.T) {
	var printed atomic.Int32
	thread := &starlark.Thread{Print: func(*starlark.Thread, string) { printed.Add(1) }}
	mod, err := concur.New().Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := starlark.ExecFileOptions(libkite.FileOptions(), thread, "x.star",
		"def f(x):\n    print(x)\n    return x + 1\nout = concur.map([1, 2, 3], f, workers=2)\n", mod)
	if err != nil {
		t.Fatal(err)
	}
	if got := v["out"].String(); got != "[2, 3, 4]" || printed.Load() != 3 {
		t.Fatalf("out = %s, printed %d", got, printed.Load())
	}
}

func TestModule(t *testing.T) {
	m := concur.New()
	if m.Name() != "concur" || m.Description() == "" || len(m.Aliases()) != 0 {
		t.Fatal("module metadata")
	}
}

func TestConformance(t *testing.T) {
	kitetest.RunSuite(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return kit.Runtime(t, cfg) },
		filepath.Join("..", "..", "..", "tests", "concur_test.star"), 10)
}

// TestDeadline: a run timeout (context deadline) reaches blocked workers
// and the script ends with context.DeadlineExceeded.
func TestDeadline(t *testing.T) {
	before := runtime.NumGoroutine()
	var started atomic.Int32
	waitFn := starlark.NewBuiltin("wait", func(thread *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		started.Add(1)
		<-libkite.Context(thread).Done()
		return nil, libkite.Context(thread).Err()
	})
	func() {
		rt := kit.Runtime(t, withGlobals(map[string]any{"wait": waitFn}))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := rt.Execute(ctx, `concur.map(range(10), lambda x: wait(), workers=2, on_error="continue")`)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if n := started.Load(); n > 2 {
			t.Fatalf("%d items started, want at most the 2 running", n)
		}
	}()
	settle(t, before)
}
