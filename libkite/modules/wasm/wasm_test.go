package wasm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/wasm"
)

// TestTypes: every ABI type crosses both ways.
func TestTypes(t *testing.T) {
	kitetest.RunCases(t, with(textplug(t), nil), []kitetest.Case{
		{Expr: `textplug.add(2, 3)`, Want: "5"},
		{Expr: `textplug.add(a=2, b=-7)`, Want: "-5"},
		{Expr: `textplug.add(2, b=40)`, Want: "42"},
		{Expr: `textplug.add(9223372036854775807, -9223372036854775807)`, Want: "0"},
		{Expr: `textplug.add(-9223372036854775808, 0)`, Want: "-9223372036854775808"},
		{Expr: `textplug.scale(2.0)`, Want: "5.0"},
		{Expr: `textplug.scale(-4)`, Want: "-10.0"},
		{Expr: `textplug.neg(True)`, Want: "False"},
		{Expr: `textplug.neg(False)`, Want: "True"},
		{Expr: `textplug.upper("héllo wörld")`, Want: "HÉLLO WÖRLD"},
		{Expr: `textplug.upper("")`, Want: ""},
		{Expr: `textplug.upper(s="x" * 100000) == "X" * 100000`, Want: "True"},
		{Expr: `textplug.rev(b"abc\x00\xff")`, Want: `b"\xff\x00cba"`},
		{Expr: `textplug.rev("abc")`, Want: `b"cba"`},
		{Expr: `textplug.rev(b"")`, Want: `b""`},
		{Expr: `textplug.sum([1, 2, 3.5])`, Want: "6.5"},
		{Expr: `textplug.sum([])`, Want: "0.0"},
		{Expr: `textplug.sum({"b": [1, "x"], "a": None, "c": True})`, Want: `{"echo": {"a": None, "b": [1.0, "x"], "c": True}}`},
		{Expr: `textplug.sum("text")`, Want: `{"echo": "text"}`},
		{Expr: `textplug.crash`, Want: `<built-in function textplug.crash>`},
		{Expr: `type(textplug)`, Want: "module"},
		{Expr: `dir(textplug)[:4]`, Want: `["add", "crash", "fail", "fetch"]`},
	})
}

// TestArgumentErrors: count, type, range and keyword errors name the
// function and the argument.
func TestArgumentErrors(t *testing.T) {
	kitetest.RunCases(t, with(textplug(t), nil), []kitetest.Case{
		{Expr: `textplug.add(1)`, Err: "textplug.add: missing argument b (int)"},
		{Expr: `textplug.add()`, Err: "textplug.add: missing argument a (int)"},
		{Expr: `textplug.add(1, 2, 3)`, Err: "textplug.add: takes 2 arguments, got 3"},
		{Expr: `textplug.crash(1)`, Err: "textplug.crash: takes 0 arguments, got 1"},
		{Expr: `textplug.add("1", 2)`, Err: "textplug.add: argument a must be int, got string"},
		{Expr: `textplug.add(1, 2.0)`, Err: "textplug.add: argument b must be int, got float"},
		{Expr: `textplug.add(1, True)`, Err: "textplug.add: argument b must be int, got bool"},
		{Expr: `textplug.add(1 << 63, 0)`, Err: "textplug.add: argument a: 9223372036854775808 is out of int64 range"},
		{Expr: `textplug.add(1, c=2)`, Err: "textplug.add: unknown keyword argument: c"},
		{Expr: `textplug.add(1, a=2)`, Err: "textplug.add: got multiple values for argument a"},
		{Expr: `textplug.scale("x")`, Err: "textplug.scale: argument 1 must be float, got string"},
		{Expr: `textplug.scale(x=1.0)`, Err: "textplug.scale: unknown keyword argument: x"},
		{Expr: `textplug.neg(1)`, Err: "textplug.neg: argument 1 must be bool, got int"},
		{Expr: `textplug.upper(b"x")`, Err: "textplug.upper: argument s must be string, got bytes"},
		{Expr: `textplug.rev(1)`, Err: "textplug.rev: argument 1 must be bytes, got int"},
		{Expr: `textplug.sum(len)`, Err: "textplug.sum: argument 1: cannot encode as JSON: unsupported type: builtin_function_or_method"},
		{Expr: `textplug.sum([1, "x"])`, Err: "textplug.sum: sum: x is not a number"},
		{Expr: `textplug.nothere()`, Err: "module has no .nothere field or method", ErrContains: true},
	})
}

// TestTry: the registry makes try_ twins of every function.
func TestTry(t *testing.T) {
	kitetest.RunCases(t, with(textplug(t), nil), []kitetest.Case{
		{Expr: `textplug.try_add(1, 2)`, Want: `Result(ok=True, value=3)`},
		{Expr: `textplug.try_add(1, "2")`, Want: `Result(ok=False, error="textplug.add: argument b must be int, got string")`},
		{Expr: `textplug.try_fail("nope")`, Want: `Result(ok=False, error="textplug.fail: nope")`},
		{Name: "try_crash", Expr: `[textplug.try_crash().ok, "panic: boom" in textplug.try_crash().error, textplug.add(1, 1)]`, Want: `[False, True, 2]`},
	})
}

// TestFail: kite.error fails the call with the guest's message, and the
// instance stays usable.
func TestFail(t *testing.T) {
	p := textplug(t)
	_, msg, _ := eval(t, p, nil, `textplug.fail("bad input: 42")`)
	if msg != "textplug.fail: bad input: 42" {
		t.Fatalf("error = %q", msg)
	}
	if got, msg, _ := eval(t, p, nil, `textplug.upper("ok")`); got != "OK" {
		t.Fatal(got, msg)
	}
}

// TestCrash: a guest panic is a Starlark error carrying the guest's
// stderr; the next call gets a fresh instance.
func TestCrash(t *testing.T) {
	p := textplug(t)
	r := rt(t, nil, p)
	for range 2 {
		_, msg, err := kitetest.Eval(r, "", `textplug.crash()`)
		if !strings.HasPrefix(msg, "textplug.crash: wasm trap: unreachable") || !strings.Contains(msg, "plugin output:\npanic: boom") {
			t.Fatalf("error = %q (%v)", msg, err)
		}
		if got, msg, _ := kitetest.Eval(r, "", `textplug.add(20, 22)`); got != "42" {
			t.Fatalf("after a crash: %s %s", got, msg)
		}
	}
}

// TestExit: proc_exit ends the call with the exit code and the guest's
// stdout; the next call gets a fresh instance.
func TestExit(t *testing.T) {
	p := textplug(t)
	r := rt(t, nil, p)
	for _, code := range []string{"3", "0"} {
		_, msg, _ := kitetest.Eval(r, "", `textplug.quit(`+code+`)`)
		if want := "textplug.quit: exited with code " + code + "\nplugin output:\nbye"; msg != want {
			t.Fatalf("error = %q\nwant    %q", msg, want)
		}
		if got, msg, _ := kitetest.Eval(r, "", `textplug.add(1, 2)`); got != "3" {
			t.Fatalf("after exit: %s %s", got, msg)
		}
	}
}

// TestMemoryLimit: a guest growing past its cap dies with a recognisable
// error, the host is unharmed and the plugin keeps working; the cap comes
// from the manifest or WithMemoryLimit.
func TestMemoryLimit(t *testing.T) {
	t.Run("default 64 MiB", func(t *testing.T) {
		p := textplug(t)
		_, msg, _ := eval(t, p, nil, `textplug.grow(200)`)
		if !strings.HasPrefix(msg, "textplug.grow: memory limit of 64 MiB exceeded") || !strings.Contains(msg, "out of memory") {
			t.Fatalf("error = %.300q", msg)
		}
		if got, msg, _ := eval(t, p, nil, `textplug.grow(8)`); got != "8" {
			t.Fatal(got, msg)
		}
	})
	t.Run("manifest memory_limit_mb", func(t *testing.T) {
		p := open(t, nil, "memory_limit_mb: 64", "memory_limit_mb: 24")
		_, msg, _ := eval(t, p, nil, `textplug.grow(30)`)
		if !strings.HasPrefix(msg, "textplug.grow: memory limit of 24 MiB exceeded") {
			t.Fatalf("error = %.300q", msg)
		}
		if got, msg, _ := eval(t, p, nil, `textplug.grow(4)`); got != "4" {
			t.Fatal(got, msg)
		}
	})
	t.Run("WithMemoryLimit", func(t *testing.T) {
		p := open(t, []wasm.Option{wasm.WithMemoryLimit(16 << 20)})
		_, msg, _ := eval(t, p, nil, `textplug.grow(20)`)
		if !strings.HasPrefix(msg, "textplug.grow: memory limit of 16 MiB exceeded") {
			t.Fatalf("error = %.300q", msg)
		}
		if got, msg, _ := eval(t, p, nil, `textplug.add(1, 2)`); got != "3" {
			t.Fatal(got, msg)
		}
	})
	t.Run("below the initial memory", func(t *testing.T) {
		p := open(t, []wasm.Option{wasm.WithMemoryLimit(1 << 20)})
		_, msg, _ := eval(t, p, nil, `textplug.add(1, 2)`)
		if !strings.HasPrefix(msg, "textplug.add: memory limit of 1 MiB is below what textplug.wasm needs") {
			t.Fatalf("error = %q", msg)
		}
	})
}

// TestTimeout: spin() is stopped by the plugin's timeout, by a deadline
// on the run's context and by the runtime's Limits.Timeout; the plugin
// keeps working after each.
func TestTimeout(t *testing.T) {
	const limit = 300 * time.Millisecond
	check := func(t *testing.T, start time.Time, p *wasm.Plugin) {
		t.Helper()
		if d := time.Since(start); d > 10*limit {
			t.Errorf("took %v to stop", d)
		}
		if got, msg, _ := eval(t, p, nil, `textplug.add(1, 2)`); got != "3" {
			t.Fatalf("after the timeout: %s %s", got, msg)
		}
	}
	t.Run("manifest timeout", func(t *testing.T) {
		p := open(t, nil, "timeout: 10s", "timeout: 300ms")
		start := time.Now()
		_, msg, _ := eval(t, p, nil, `textplug.spin()`)
		if msg != "textplug.spin: plugin call timed out after 300ms" {
			t.Fatalf("error = %q", msg)
		}
		check(t, start, p)
	})
	t.Run("WithTimeout", func(t *testing.T) {
		p := open(t, []wasm.Option{wasm.WithTimeout(limit)})
		start := time.Now()
		got, msg, _ := eval(t, p, nil, `textplug.try_spin().error`)
		if got != "textplug.spin: plugin call timed out after 300ms" {
			t.Fatalf("try_spin().error = %q (%s)", got, msg)
		}
		check(t, start, p)
	})
	t.Run("run context deadline", func(t *testing.T) {
		p := textplug(t)
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		start := time.Now()
		err := rt(t, nil, p).Execute(ctx, `textplug.spin()`)
		if msg := kitetest.ErrMsg(err); !strings.HasPrefix(msg, "textplug.spin: plugin call timed out after ") ||
			!strings.HasSuffix(msg, ": context deadline exceeded") {
			t.Fatalf("error = %q", msg)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("errors.Is(err, context.DeadlineExceeded) = false: %v", err)
		}
		check(t, start, p)
	})
	t.Run("run cancelled", func(t *testing.T) {
		p := textplug(t)
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(limit, func() { cancel(errors.New("operator gave up")) })
		start := time.Now()
		err := rt(t, nil, p).Execute(ctx, `textplug.spin()`)
		if msg := kitetest.ErrMsg(err); !strings.HasPrefix(msg, "textplug.spin: plugin call cancelled after ") ||
			!strings.HasSuffix(msg, ": operator gave up") {
			t.Fatalf("error = %q", msg)
		}
		check(t, start, p)
	})
	t.Run("Limits.Timeout", func(t *testing.T) {
		p := textplug(t)
		start := time.Now()
		err := rt(t, &libkite.Config{Limits: libkite.Limits{Timeout: limit}}, p).Execute(context.Background(), `textplug.spin()`)
		var le *libkite.LimitError
		if !errors.As(err, &le) || le.Limit != libkite.LimitTimeout {
			t.Fatalf("error = %v, want the run's timeout LimitError", err)
		}
		check(t, start, p)
	})
}

// TestCapabilities: a callback works when declared and permitted; is
// refused, ending the call, when undeclared or denied.
func TestCapabilities(t *testing.T) {
	dir := kitetest.TempDir(t)
	file := kitetest.WriteFile(t, filepath.Join(dir, "in.txt"), "file content")
	t.Setenv("KITE_WASM_TEST", "env value")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", r.Method)
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	}))
	defer srv.Close()
	p := textplug(t)
	allow := func(rules ...string) *libkite.Config {
		return &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: rules, Default: libkite.DefaultDeny}}
	}

	t.Run("trusted", func(t *testing.T) {
		kitetest.RunCases(t, with(p, nil), []kitetest.Case{
			{Expr: `textplug.read(` + lit(file) + `)`, Want: "file content"},
			{Expr: `textplug.getenv("KITE_WASM_TEST")`, Want: "env value"},
			{Expr: `textplug.getenv("KITE_WASM_TEST_UNSET")`, Want: ""},
			{Expr: `textplug.fetch(` + lit(srv.URL+"/x") + `)`, Want: "GET:hello /x"},
			{Expr: `textplug.read(` + lit(dir+"/missing") + `)`, Err: "textplug.read: read_file: open " + dir + "/missing: no such file or directory"},
			{Expr: `textplug.fetch("ftp://example.com/")`, Err: `textplug.fetch: http_request: unsupported URL scheme "ftp" (want http or https)`},
			{Expr: `textplug.fetch("http://127.0.0.1:1/")`, Err: "textplug.fetch: http_request: Get \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: connection refused"},
		})
	})
	t.Run("write", func(t *testing.T) {
		out := filepath.Join(dir, "out.bin")
		if _, msg, _ := eval(t, p, nil, `textplug.write(`+lit(out)+`, b"\x00written")`); msg != "" {
			t.Fatal(msg)
		}
		kitetest.WantFile(t, out, "\x00written")
		dry := filepath.Join(dir, "dry.bin")
		if _, msg, _ := eval(t, p, &libkite.Config{DryRun: true}, `textplug.write(`+lit(dry)+`, b"x")`); msg != "" {
			t.Fatal(msg)
		}
		kitetest.NoFile(t, dry)
	})
	t.Run("granted", func(t *testing.T) {
		cfg := allow("textplug.wasm(read,read_file:"+dir+"/**)", "textplug.wasm(fetch,http_request:"+srv.URL+"/ok/**)")
		kitetest.RunCases(t, with(p, cfg), []kitetest.Case{
			{Expr: `textplug.read(` + lit(file) + `)`, Want: "file content"},
			{Expr: `textplug.read(` + lit(dir+"/../"+filepath.Base(dir)+"/in.txt") + `)`, Want: "file content"},
			{Expr: `textplug.fetch(` + lit(srv.URL+"/ok/1") + `)`, Want: "GET:hello /ok/1"},
		})
	})
	denied := []kitetest.PermCase{
		{Name: "call denied", Cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions()}, Expr: `textplug.add(1, 2)`,
			ErrPrefix: "permission denied: textplug.wasm add - no matching allow rule"},
		{Name: "read_file denied", Cfg: allow("textplug.wasm(read:)"), Expr: `textplug.read(` + lit(file) + `)`,
			ErrPrefix: kitetest.Denied("textplug.wasm", "read_file", file)},
		{Name: "read_file outside the grant", Cfg: allow("textplug.wasm(read,read_file:" + dir + "/sub/**)"), Expr: `textplug.read(` + lit(file) + `)`,
			ErrPrefix: kitetest.Denied("textplug.wasm", "read_file", file)},
		{Name: "env denied", Cfg: allow("textplug.wasm(getenv:)"), Expr: `textplug.getenv("KITE_WASM_TEST")`,
			ErrPrefix: kitetest.Denied("textplug.wasm", "env", "KITE_WASM_TEST")},
		{Name: "write_file denied", Cfg: allow("textplug.wasm(write:)"), Expr: `textplug.write(` + lit(dir+"/w") + `, b"x")`,
			ErrPrefix: kitetest.Denied("textplug.wasm", "write_file", dir+"/w")},
		{Name: "http_request denied", Cfg: allow("textplug.wasm(fetch,http_request:" + srv.URL + "/ok/**)"), Expr: `textplug.fetch(` + lit(srv.URL+"/no") + `)`,
			ErrPrefix: kitetest.Denied("textplug.wasm", "http_request", srv.URL+"/no")},
		{Name: "deny rule", Cfg: &libkite.Config{Permissions: libkite.AllowPermissions("textplug.wasm(read_file:" + dir + "/**)")}, Expr: `textplug.read(` + lit(file) + `)`,
			ErrPrefix: "permission denied: textplug.wasm read_file(" + fmt.Sprintf("%q", file) + ") - blocked by deny rule"},
		{Name: "try_ twin", Cfg: allow("textplug.wasm(read:)"), Expr: `textplug.try_read(` + lit(file) + `)`,
			Want: `Result(ok=False, error="permission denied: textplug.wasm read_file(`},
	}
	kitetest.RunPermCases(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return rt(t, cfg, p) }, denied, nil)
	kitetest.NoFile(t, dir+"/w")

	t.Run("not declared", func(t *testing.T) {
		q := open(t, nil, "capabilities: [read_file, env, http_request, write_file]", "capabilities: [env]")
		_, msg, err := eval(t, q, nil, `textplug.read(`+lit(file)+`)`)
		want := `permission denied: textplug.wasm read_file("` + file + `") - capability "read_file" is not declared in the plugin's module.yaml`
		if msg != want || !libkite.IsPermissionError(err) {
			t.Fatalf("error = %q (%T)\nwant    %q", msg, err, want)
		}
		if got, _, _ := eval(t, q, nil, `textplug.getenv("KITE_WASM_TEST")`); got != "env value" {
			t.Fatalf("declared env = %q", got)
		}
	})
	t.Run("the plugin keeps working", func(t *testing.T) {
		if got, msg, _ := eval(t, p, nil, `textplug.add(1, 2)`); got != "3" {
			t.Fatal(got, msg)
		}
	})
}

// TestPermissionErrorReachable: a callback denial is the checker's
// *PermissionError, through errors.As.
func TestPermissionErrorReachable(t *testing.T) {
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"textplug.wasm(getenv:)"}, Default: libkite.DefaultDeny}}
	err := rt(t, cfg, textplug(t)).Execute(context.Background(), `textplug.getenv("HOME")`)
	var pe *libkite.PermissionError
	if !errors.As(err, &pe) || pe.Module != "textplug" || pe.Category != "wasm" || pe.Function != "env" || pe.Resource != "HOME" {
		t.Fatalf("err = %v (%+v)", err, pe)
	}
}

// TestConcurrent: calls from many goroutines share the pool.
func TestConcurrent(t *testing.T) {
	p := textplug(t)
	kitetest.EvalConcurrently(t, 8, with(p, nil), func(i int) (string, string) {
		return "", fmt.Sprintf(`all([textplug.add(j, %d) == j + %d and textplug.upper("g%d-%%d" %% j) == "G%d-%%d" %% j for j in range(40)])`, i, i, i, i)
	})
	// one runtime, concurrent Starlark threads would need concur; plain Go
	// goroutines calling one builtin also work:
	members, err := p.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			for j := range 20 {
				v, err := callBuiltin(members["add"], i, j)
				if err == nil && v != fmt.Sprint(i+j) {
					err = fmt.Errorf("add(%d, %d) = %s", i, j, v)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestLazy: opening reads only the manifest; a plugin whose code does not
// compile fails on its first call, with the same error on every call.
func TestLazy(t *testing.T) {
	dir := kitetest.TempDir(t)
	kitetest.WriteFile(t, filepath.Join(dir, "module.yaml"), manifest(t))
	kitetest.WriteFile(t, filepath.Join(dir, "textplug.wasm"), "not wasm")
	p, err := wasm.Open(dir, wasm.WithCacheDir(""))
	if err != nil {
		t.Fatalf("Open compiled eagerly: %v", err)
	}
	defer p.Close()
	r := rt(t, nil, p)
	for range 2 {
		_, msg, _ := kitetest.Eval(r, "", `textplug.add(1, 2)`)
		if !strings.HasPrefix(msg, "textplug.add: compiling textplug.wasm: invalid magic number") {
			t.Fatalf("error = %q", msg)
		}
	}
	t.Run("missing wasm file", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		kitetest.WriteFile(t, filepath.Join(dir, "module.yaml"), manifest(t))
		_, err := wasm.Open(dir)
		if err == nil || !strings.Contains(err.Error(), "textplug: stat "+dir+"/textplug.wasm: no such file or directory") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		q := open(t, nil)
		r := rt(t, nil, q)
		if got, msg, _ := kitetest.Eval(r, "", `textplug.add(1, 2)`); got != "3" {
			t.Fatal(got, msg)
		}
		q.Close()
		if _, msg, _ := kitetest.Eval(r, "", `textplug.add(1, 2)`); msg != "textplug.add: plugin is closed" {
			t.Fatalf("error = %q", msg)
		}
	})
}
