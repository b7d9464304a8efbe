package runtime_test

import (
	"context"
	"errors"
	"os"
	goruntime "runtime"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/runtime"
)

func newRuntime(t *testing.T) *libkite.Runtime {
	t.Helper()
	rt, _ := kitetest.New(t, nil, runtime.New())
	return rt
}

func eval(t *testing.T, rt *libkite.Runtime, expr string) (starlark.Value, string) {
	t.Helper()
	v, err := rt.Eval(context.Background(), expr)
	if err != nil {
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			return nil, ee.Msg
		}
		return nil, err.Error()
	}
	return v, ""
}

func TestFunctions(t *testing.T) {
	libkite.SetAppVersion("")
	host, _ := os.Hostname()
	rt := newRuntime(t)
	cases := []struct {
		expr string
		want string // repr
	}{
		{`runtime.platform()`, `"` + goruntime.GOOS + `"`},
		{`runtime.arch()`, `"` + goruntime.GOARCH + `"`},
		{`runtime.cpu_count()`, starlark.MakeInt(goruntime.NumCPU()).String()},
		{`runtime.cpu_count() > 0`, `True`},
		{`runtime.version()`, `"dev"`},
		{`runtime.go_version()`, `"` + goruntime.Version() + `"`},
		{`list(runtime.uname().keys())`, `["system", "node", "release", "version", "machine"]`},
		{`[type(v) for v in runtime.uname().values()]`, `["string", "string", "string", "string", "string"]`},
		{`runtime.uname()["system"] != ""`, `True`},
		{`runtime.uname()["node"]`, `"` + host + `"`},
		{`type(runtime)`, `"module"`},
		{`dir(runtime)`, `["arch", "cpu_count", "go_version", "platform", "uname", "version"]`},
		{`hasattr(runtime, "try_arch")`, `False`},
		{`type(runtime.platform)`, `"builtin_function_or_method"`},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			v, err := eval(t, rt, c.expr)
			if err != "" {
				t.Fatal(err)
			}
			if v.String() != c.want {
				t.Fatalf("= %s, want %s", v, c.want)
			}
		})
	}
}

func TestUnameMatchesPlatform(t *testing.T) {
	v, err := eval(t, newRuntime(t), `runtime.uname()`)
	if err != "" {
		t.Fatal(err)
	}
	get := func(k string) string {
		x, _, _ := v.(*starlark.Dict).Get(starlark.String(k))
		return string(x.(starlark.String))
	}
	switch goruntime.GOOS {
	case "linux":
		if get("system") != "Linux" || get("release") == "" || get("version") == "" || get("machine") == "" {
			t.Fatalf("uname = %s", v)
		}
	case "darwin":
		if get("system") != "Darwin" || get("machine") == "" {
			t.Fatalf("uname = %s", v)
		}
	default:
		if get("system") != goruntime.GOOS || get("machine") != goruntime.GOARCH {
			t.Fatalf("uname = %s", v)
		}
	}
}

func TestVersionFollowsApp(t *testing.T) {
	libkite.SetAppVersion("1.2.3")
	t.Cleanup(func() { libkite.SetAppVersion("") })
	v, err := eval(t, newRuntime(t), `runtime.version()`)
	if err != "" || v.String() != `"1.2.3"` {
		t.Fatalf("version() = %v, %s", v, err)
	}
}

func TestNoArgs(t *testing.T) {
	rt := newRuntime(t)
	for _, name := range []string{"platform", "arch", "cpu_count", "version", "go_version", "uname"} {
		for _, call := range []string{"runtime." + name + "(1)", "runtime." + name + "(x=1)"} {
			t.Run(call, func(t *testing.T) {
				_, err := eval(t, rt, call)
				if want := name + " takes no arguments"; err != want {
					t.Fatalf("error = %q, want %q", err, want)
				}
			})
		}
	}
	if _, err := eval(t, rt, `runtime.try_arch()`); !strings.Contains(err, "has no .try_arch field or method") {
		t.Fatalf("try_arch: %q", err)
	}
}

func TestModule(t *testing.T) {
	m := runtime.New()
	if m.Name() != "runtime" || m.FactoryMethod() != "" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestConformance(t *testing.T) {
	kitetest.RunConformance(t, newRuntime(t), "../../../tests/runtime_test.star", 1)
}
