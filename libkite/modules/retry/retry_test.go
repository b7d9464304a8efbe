package retry_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/retry"
)

var kit = kitetest.Modules{retry.New}

// flaky(n, v) is a zero-argument function failing (fail("attempt i")) on
// its first n calls, then returning Result(ok=True, value=v). Starlark
// has no mutable closures over ints, so it counts in a list.
const flaky = `
def flaky(n, v):
    calls = []
    def f():
        calls.append(1)
        if len(calls) <= n:
            fail("attempt %d" % len(calls))
        return Result(ok=True, value=v)
    return f
`

// seq(values) returns the values one per call (the last one repeats).
const seq = `
def seq(values):
    calls = []
    def f():
        calls.append(1)
        return values[min(len(calls), len(values)) - 1]
    return f
`

func TestDo(t *testing.T) {
	pre := flaky + seq
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "immediate Result", Expr: `(lambda r: (r.ok, r.attempts, r.value, r.error, r.errors))(retry.do(lambda: Result(ok=True, value="done")))`,
			Want: `(True, 1, "done", "", [])`},
		{Name: "fails twice then succeeds", Pre: pre, Expr: `(lambda r: (r.ok, r.attempts, r.value, r.errors))(retry.do(flaky(2, "up"), max_attempts=5, delay="1ms"))`,
			Want: `(True, 3, "up", ["attempt 1", "attempt 2"])`},
		{Name: "always failing", Pre: pre, Expr: `(lambda r: (r.ok, r.attempts, r.value, r.error, r.errors))(retry.do(flaky(99, 0), delay="0s"))`,
			Want: `(False, 3, None, "attempt 3", ["attempt 1", "attempt 2", "attempt 3"])`},
		{Name: "always failing Result", Expr: `(lambda r: (r.ok, r.attempts, r.error, len(r.errors)))(retry.do(lambda: Result(ok=False, error="nope"), max_attempts=5, delay="0s"))`,
			Want: `(False, 5, "nope", 5)`},
		{Name: "None is success", Expr: `(lambda r: (r.ok, r.attempts, r.value))(retry.do(lambda: None))`, Want: `(True, 1, None)`},
		{Name: "True is success", Expr: `(lambda r: (r.ok, r.attempts, r.value))(retry.do(lambda: True))`, Want: `(True, 1, True)`},
		{Name: "False is retried", Pre: pre, Expr: `(lambda r: (r.ok, r.attempts, r.errors))(retry.do(seq([False, False, True]), delay="0s"))`,
			Want: `(True, 3, ["returned False", "returned False"])`},
		{Name: "False exhausts", Expr: `(lambda r: (r.ok, r.error))(retry.do(lambda: False, max_attempts=2, delay="0s"))`, Want: `(False, "returned False")`},
		{Name: "other values returned at once", Expr: `(lambda r: (r.ok, r.attempts, r.value, r.errors))(retry.do(lambda: "hello"))`,
			Want: `(True, 1, "hello", [])`},
		{Name: "zero is a value", Expr: `retry.do(lambda: 0).value`, Want: `0`},
		{Name: "list is a value", Expr: `retry.do(lambda: [1, 2]).value`, Want: `[1, 2]`},
		{Name: "value quirk: attempts=1 after failures", Pre: pre, Expr: `(lambda r: (r.ok, r.attempts, r.errors))(retry.do(seq([False, False, "v"]), delay="0s"))`,
			Want: `(True, 1, [])`},
		{Name: "failed Result value is None", Pre: pre, Expr: `retry.do(seq([Result(ok=False, value=1, error="e"), Result(ok=True, value=2)]), delay="0s").value`,
			Want: `2`},
		{Name: "nested RetryResult", Expr: `(lambda r: (r.ok, r.value, r.attempts))(retry.do(lambda: retry.do(lambda: Result(ok=True, value=7))))`,
			Want: `(True, 7, 1)`},
		{Name: "nested failed RetryResult", Expr: `retry.do(lambda: retry.do(lambda: False, max_attempts=1), max_attempts=2, delay="0s").errors`,
			Want: `["returned False", "returned False"]`},
		{Name: "raising callee captured", Expr: `(lambda r: (r.ok, r.errors))(retry.do(lambda: fail("down"), max_attempts=2, delay="0s"))`,
			Want: `(False, ["down", "down"])`},
		{Name: "runtime error captured", Expr: `retry.do(lambda: 1 // 0, max_attempts=1).errors`, Want: `["floored division by zero"]`},
		{Name: "max_attempts 0", Expr: `(lambda r: (r.ok, r.error, r.attempts, r.errors))(retry.do(lambda: fail("never"), max_attempts=0))`,
			Want: `(False, "all attempts failed", 0, [])`},
		{Name: "max_attempts negative", Expr: `retry.do(lambda: True, max_attempts=-2).attempts`, Want: `-2`},
		{Name: "jitter", Pre: pre, Expr: `retry.do(flaky(1, "j"), delay="1ms", jitter=True).value`, Want: `j`},
		{Name: "func keyword", Expr: `retry.do(func=lambda: True).ok`, Want: `True`},
	})
}

func TestHooks(t *testing.T) {
	pre := flaky + seq + `
log = []
def on_retry(attempt, message):
    log.append((attempt, message))
`
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "retry_on keeps going until ready", Pre: pre,
			Expr: `(lambda r: (r.ok, r.attempts, r.value, r.errors))(retry.do(seq(["not ready", "not ready", "ready"]), retry_on=lambda v: v == "not ready", delay="0s"))`,
			Want: `(True, 1, "not ready", [])`},
		{Name: "retry_on gets the raw Result", Pre: pre,
			Expr: `(lambda r: (r.ok, r.attempts, r.value, r.errors))(retry.do(seq([Result(ok=True, value="not ready"), Result(ok=True, value="ready")]), retry_on=lambda r: r.value == "not ready", delay="0s"))`,
			Want: `(True, 2, "ready", ["retry_on predicate triggered"])`},
		{Name: "retry_on with True", Pre: pre,
			Expr: `retry.do(lambda: True, retry_on=lambda v: v, max_attempts=2, delay="0s").errors`,
			Want: `["retry_on predicate triggered", "retry_on predicate triggered"]`},
		{Name: "retry_on only exact True", Pre: pre,
			Expr: `retry.do(lambda: True, retry_on=lambda v: 1).attempts`, Want: `1`},
		{Name: "retry_on error means success", Pre: pre,
			Expr: `(lambda r: (r.ok, r.attempts))(retry.do(lambda: True, retry_on=lambda v: fail("x")))`, Want: `(True, 1)`},
		{Name: "retry_on exhausts", Pre: pre,
			Expr: `(lambda r: (r.ok, r.error))(retry.do(lambda: None, retry_on=lambda v: True, max_attempts=2, delay="0s"))`,
			Want: `(False, "retry_on predicate triggered")`},
		{Name: "on_retry twice for 3 attempts", Pre: pre + "r = retry.do(flaky(9, 0), on_retry=on_retry, delay=\"0s\")",
			Expr: `log`, Want: `[(1, "attempt 1"), (2, "attempt 2")]`},
		{Name: "on_retry errors ignored", Pre: pre,
			Expr: `retry.do(flaky(1, "ok"), on_retry=lambda a, m: fail("hook"), delay="0s").value`, Want: `ok`},
		{Name: "on_retry not called on success", Pre: pre + "r = retry.do(lambda: True, on_retry=on_retry)",
			Expr: `log`, Want: `[]`},
		{Name: "hooks None", Expr: `retry.do(lambda: True, retry_on=None, on_retry=None).ok`, Want: `True`},
	})
}

func TestWithBackoff(t *testing.T) {
	pre := flaky
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "success after retries", Pre: pre, Expr: `(lambda r: (r.ok, r.attempts, r.value))(retry.with_backoff(flaky(2, "up"), delay="1ms"))`,
			Want: `(True, 3, "up")`},
		{Name: "exhaustion", Pre: pre, Expr: `(lambda r: (r.ok, r.attempts, len(r.errors)))(retry.with_backoff(flaky(99, 0), max_attempts=4, delay="1ms", max_delay="2ms"))`,
			Want: `(False, 4, 4)`},
		{Name: "custom parameters", Pre: pre,
			Expr: `retry.with_backoff(flaky(1, 1), max_attempts=2, delay="1ms", max_delay="1ms", jitter=False, timeout="10s").attempts`, Want: `2`},
		{Name: "default jitter", Pre: pre, Expr: `retry.with_backoff(flaky(1, "j"), delay="1ms").value`, Want: `j`},
		{Name: "hooks", Pre: pre + "log = []",
			Expr: `(retry.with_backoff(flaky(2, 0), delay="0s", on_retry=lambda a, m: log.append(a), retry_on=lambda v: False).attempts, log)`,
			Want: `(3, [1, 2])`},
	})
}

func TestTimeout(t *testing.T) {
	pre := flaky
	kit.RunCases(t, nil, []kitetest.Case{
		// the 1h wait is cut short at the deadline, then the attempt check fails
		{Name: "deadline cuts the wait", Pre: pre,
			Expr: `(lambda r: (r.ok, r.error, r.attempts, r.errors))(retry.do(flaky(9, 0), delay="1h", timeout="50ms"))`,
			Want: `(False, "timeout exceeded", 1, ["attempt 1"])`},
		{Name: "backoff deadline", Pre: pre,
			Expr: `(lambda r: (r.error, r.attempts))(retry.with_backoff(flaky(9, 0), delay="1h", timeout="50ms"))`,
			Want: `("timeout exceeded", 1)`},
		{Name: "expired before the first attempt", Expr: `(lambda r: (r.ok, r.error, r.attempts, r.errors))(retry.do(lambda: fail("never"), timeout="0s"))`,
			Want: `(False, "timeout exceeded", 0, ["timeout exceeded"])`},
		{Name: "success within timeout", Expr: `retry.do(lambda: True, timeout="10s").ok`, Want: `True`},
	})
}

func TestRetryResult(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "type", Expr: `type(retry.do(lambda: True))`, Want: `RetryResult`},
		{Name: "dir", Expr: `dir(retry.do(lambda: True))`, Want: `["attempts", "elapsed", "error", "errors", "ok", "value"]`},
		{Name: "attr types", Expr: `(lambda r: (type(r.elapsed), type(r.errors), type(r.attempts), type(r.error)))(retry.do(lambda: True))`,
			Want: `("string", "list", "int", "string")`},
		{Name: "truthy", Expr: `"yes" if retry.do(lambda: True) else "no"`, Want: `yes`},
		{Name: "falsy", Expr: `bool(retry.do(lambda: False, max_attempts=1))`, Want: `False`},
		{Name: "str ok", Expr: `str(retry.do(lambda: True)).startswith("RetryResult(ok=True, attempts=1, elapsed=\"")`, Want: `True`},
		{Name: "str failure", Expr: `str(retry.do(lambda: Result(ok=False, error="nope"), max_attempts=1)).endswith("\", error=\"nope\")")`, Want: `True`},
		{Name: "unhashable", Expr: `{retry.do(lambda: True): 1}`, Err: `unhashable type: RetryResult`},
		{Name: "unknown attr", Expr: `retry.do(lambda: True).nope`, Err: `RetryResult has no .nope field or method`},
		{Name: "dir(retry)", Expr: `dir(retry)`, Want: `["do", "with_backoff"]`},
		{Name: "no try_", Expr: `hasattr(retry, "try_do")`, Want: `False`},
		{Name: "Result builtin", Expr: `(lambda r: (r.ok, r.value, r.error, bool(r)))(Result(ok=True, value=3))`, Want: `(True, 3, "", True)`},
	})
}

func TestArgumentErrors(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "second positional", Expr: `retry.do(lambda: True, 3)`, Err: `retry.do: unexpected positional argument at index 1`},
		{Name: "unknown keyword", Expr: `retry.do(lambda: True, tries=3)`, Err: `retry.do: unknown keyword argument: tries`},
		{Name: "max_delay unknown to do", Expr: `retry.do(lambda: True, max_delay="1s")`, Err: `retry.do: unknown keyword argument: max_delay`},
		{Name: "missing func", Expr: `retry.do()`, Err: `retry.do: missing required argument: func`},
		{Name: "max_attempts type", Expr: `retry.do(lambda: True, max_attempts="3")`, Err: `retry.do: keyword arg 'max_attempts': got string, want int`},
		{Name: "jitter type", Expr: `retry.with_backoff(lambda: True, jitter=1)`, Err: `retry.with_backoff: keyword arg 'jitter': got int, want bool`},
		{Name: "delay None", Expr: `retry.do(lambda: True, delay=None)`, Err: `retry.do: keyword arg 'delay': got NoneType, want string`},
		{Name: "func not callable", Expr: `retry.do(1)`, Err: `func: expected callable, got int`},
		{Name: "func None", Expr: `retry.do(None)`, Err: `func: expected callable, got NoneType`},
		{Name: "retry_on not callable", Expr: `retry.do(lambda: True, retry_on=1)`, Err: `retry_on: expected callable, got int`},
		{Name: "on_retry not callable", Expr: `retry.with_backoff(lambda: True, on_retry="x")`, Err: `on_retry: expected callable, got string`},
		{Name: "invalid delay", Expr: `retry.do(lambda: True, delay="x")`, Err: `invalid delay: time: invalid duration "x"`},
		{Name: "invalid max_delay", Expr: `retry.with_backoff(lambda: True, max_delay="y")`, Err: `invalid max_delay: time: invalid duration "y"`},
		{Name: "invalid timeout", Expr: `retry.do(lambda: True, timeout="z")`, Err: `invalid timeout: time: invalid duration "z"`},
		{Name: "callables before durations", Expr: `retry.do(1, delay="x")`, Err: `func: expected callable, got int`},
	})
}

// TestCancellation: a cancelled context stops a wait at once (the delay
// is an hour) and ends the call with the context's error.
func TestCancellation(t *testing.T) {
	for _, fn := range []string{"do", "with_backoff"} {
		t.Run(fn, func(t *testing.T) {
			attempted := make(chan struct{})
			signal := starlark.NewBuiltin("attempted", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
				close(attempted)
				return starlark.False, nil
			})
			rt := kit.Runtime(t, &libkite.Config{Globals: map[string]any{"attempted": signal}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- rt.Execute(ctx, `retry.`+fn+`(attempted, delay="1h", jitter=False)`+"\nfail(\"not reached\")")
			}()
			<-attempted
			cancel()
			err := <-done
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("already cancelled", func(t *testing.T) {
		rt := kit.Runtime(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := rt.Execute(ctx, `retry.do(lambda: False, delay="1h")`); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		rt := kit.Runtime(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		err := rt.Execute(ctx, `retry.do(lambda: False, delay="1h")`)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestExit: exit() in the callee or a hook ends the script, not the attempt.
func TestExit(t *testing.T) {
	for _, src := range []string{
		`retry.do(lambda: exit(4))`,
		`retry.do(lambda: False, on_retry=lambda a, m: exit(4), delay="0s")`,
		`retry.do(lambda: True, retry_on=lambda v: exit(4))`,
	} {
		rt := kit.Runtime(t, nil)
		err := rt.Execute(context.Background(), src+"\nfail(\"not reached\")")
		var ee *libkite.ExitError
		if !errors.As(err, &ee) || ee.Code != 4 {
			t.Errorf("%s: err = %v", src, err)
		}
	}
	rt, out := kit.New(t, nil)
	if err := rt.Execute(context.Background(), "retry.do(lambda: exit(0))\nprint(\"not reached\")"); err != nil || out.String() != "" {
		t.Fatalf("exit(0): %v %q", err, out.String())
	}
}

func TestNewRetryResult(t *testing.T) {
	r := retry.NewRetryResult(false, starlark.MakeInt(1), "e", 2, 1500*time.Microsecond, []string{"a", "e"})
	if got := r.String(); got != `RetryResult(ok=False, attempts=2, elapsed="1.5ms", error="e")` {
		t.Fatal(got)
	}
	if v, _ := r.Attr("value"); v != starlark.None {
		t.Fatalf("failure value = %v", v)
	}
	r = retry.NewRetryResult(true, starlark.String("v"), "", 1, 934, nil)
	if got := r.String(); got != `RetryResult(ok=True, attempts=1, elapsed="934ns")` {
		t.Fatal(got)
	}
	r.Freeze()
	if _, err := r.Hash(); err == nil || !strings.Contains(err.Error(), "unhashable") {
		t.Fatal("hashable")
	}
}

// TestNoGoroutineLeak: waits leave no timer goroutines behind.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	rt := kit.Runtime(t, nil)
	if err := rt.Execute(context.Background(), `retry.with_backoff(lambda: False, max_attempts=4, delay="1ms", timeout="1h")`); err != nil {
		t.Fatal(err)
	}
	rt.Close()
	for range 500 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("goroutines: %d before, %d after", before, runtime.NumGoroutine())
}

func TestModule(t *testing.T) {
	m := retry.New()
	if m.Name() != "retry" || m.Description() == "" || len(m.Aliases()) != 0 {
		t.Fatal("module metadata")
	}
}

func TestConformance(t *testing.T) {
	kitetest.RunSuite(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return kit.Runtime(t, cfg) },
		filepath.Join("..", "..", "..", "tests", "retry_test.star"), 10)
}

// TestWaits checks the waits between attempts (recorded, not slept):
// fixed for do, doubling and capped for with_backoff, none after the last
// attempt, jitter within [0.75, 1.25) of the nominal wait.
func TestWaits(t *testing.T) {
	waits, restore := retry.RecordWaits()
	defer restore()
	ms := time.Millisecond
	for _, c := range []struct {
		expr string
		want []time.Duration
	}{
		{`retry.do(lambda: False, delay="10ms")`, []time.Duration{10 * ms, 10 * ms}},
		{`retry.do(lambda: False, max_attempts=1)`, nil},
		{`retry.do(lambda: True)`, nil},
		{`retry.with_backoff(lambda: False, delay="1ms", max_delay="5ms", jitter=False)`, []time.Duration{1 * ms, 2 * ms, 4 * ms, 5 * ms}},
		{`retry.with_backoff(lambda: False, max_attempts=3, jitter=False)`, []time.Duration{500 * ms, time.Second}},
		{`retry.with_backoff(lambda: False, max_attempts=4, delay="20s", jitter=False)`, []time.Duration{20 * time.Second, 30 * time.Second, 30 * time.Second}},
		{`retry.with_backoff(lambda: False, max_attempts=3, delay="2s", max_delay="1s", jitter=False)`, []time.Duration{2 * time.Second, time.Second}},
	} {
		*waits = nil
		if _, msg, _ := kit.Eval(t, nil, "", c.expr); msg != "" {
			t.Fatalf("%s: %s", c.expr, msg)
		}
		if len(*waits) != len(c.want) {
			t.Fatalf("%s: waits %v, want %v", c.expr, *waits, c.want)
		}
		for i := range c.want {
			if (*waits)[i] != c.want[i] {
				t.Fatalf("%s: waits %v, want %v", c.expr, *waits, c.want)
			}
		}
	}
	// jitter: each wait within [0.75, 1.25) of its nominal value
	*waits = nil
	if _, msg, _ := kit.Eval(t, nil, "", `retry.with_backoff(lambda: False, max_attempts=6, delay="100ms", max_delay="1s")`); msg != "" {
		t.Fatal(msg)
	}
	nominal := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second}
	for i, w := range *waits {
		if lo, hi := nominal[i]*3/4, nominal[i]*5/4; w < lo || w >= hi {
			t.Errorf("wait %d = %v, want in [%v, %v)", i, w, lo, hi)
		}
	}
	for range 1000 {
		if j := retry.Jitter(time.Second); j < 750*ms || j >= 1250*ms {
			t.Fatalf("jitter(1s) = %v", j)
		}
	}
	if d := retry.NextDelay(time.Duration(1<<62), time.Duration(1<<63-1)); d <= 0 {
		t.Fatalf("overflow: %v", d)
	}
}
