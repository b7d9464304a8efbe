package libkite_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// testModule is a configurable Module for registry tests.
type testModule struct {
	name    string
	members starlark.StringDict
	aliases starlark.StringDict
	wrapped bool // return {name: module} instead of bare members
	err     error
	loads   *int
	closed  *bool
}

func (m *testModule) Name() libkite.ModuleName     { return libkite.ModuleName(m.name) }
func (m *testModule) Description() string          { return "test module " + m.name }
func (m *testModule) Aliases() starlark.StringDict { return m.aliases }
func (m *testModule) FactoryMethod() string        { return "" }
func (m *testModule) Close() error {
	if m.closed != nil {
		*m.closed = true
	}
	return nil
}
func (m *testModule) Load(cfg *libkite.ModuleConfig) (starlark.StringDict, error) {
	if m.loads != nil {
		*m.loads++
	}
	if m.err != nil {
		return nil, m.err
	}
	if m.wrapped {
		return starlark.StringDict{m.name: libkite.NewTryModule(m.name, m.members)}, nil
	}
	return m.members, nil
}

func constFn(name, result string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.String(result), nil
	})
}

func failFn(name, msg string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return nil, errors.New(msg)
	})
}

func run(t *testing.T, reg *libkite.Registry, src string) (string, error) {
	t.Helper()
	rt, out := capture(t, &libkite.Config{Registry: reg})
	err := rt.Execute(context.Background(), src)
	return out.String(), err
}

func TestRegistryWrapsBareMembers(t *testing.T) {
	reg := libkite.NewRegistry(nil)
	reg.Register(&testModule{name: "mymod", members: starlark.StringDict{"hello": constFn("mymod.hello", "hello from mymod")}})
	got, err := run(t, reg, "print(mymod.hello())\nprint(type(mymod), mymod)\nprint(mymod.try_hello())")
	if err != nil {
		t.Fatal(err)
	}
	want := "hello from mymod\nmodule <module \"mymod\">\nResult(ok=True, value=\"hello from mymod\")"
	if got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestRegistryAliasesAndOverride(t *testing.T) {
	reg := libkite.NewRegistry(nil)
	reg.Register(&testModule{name: "m", wrapped: true, members: starlark.StringDict{"f": constFn("m.f", "f")},
		aliases: starlark.StringDict{"ff": constFn("ff", "alias"), "exit": constFn("exit", "shadowed")}})
	got, err := run(t, reg, "print(m.f(), ff())\nexit(0)")
	if err != nil || got != "f alias" {
		t.Fatalf("got %q, %v (runtime exit must shadow the alias)", got, err)
	}
}

func TestRegistryLoadsOnceAndSeesLaterRegistrations(t *testing.T) {
	loads := 0
	reg := libkite.NewRegistry(nil)
	reg.Register(&testModule{name: "a", members: starlark.StringDict{"f": constFn("a.f", "a")}, loads: &loads})
	rt1, _ := capture(t, &libkite.Config{Registry: reg})
	_, _ = capture(t, &libkite.Config{Registry: reg})
	if loads != 1 {
		t.Errorf("module loaded %d times for two runtimes, want 1", loads)
	}
	reg.Register(&testModule{name: "b", members: starlark.StringDict{"f": constFn("b.f", "b")}})
	rt3, out3 := capture(t, &libkite.Config{Registry: reg})
	if err := rt3.Execute(context.Background(), "print(a.f(), b.f())"); err != nil || out3.String() != "a b" {
		t.Fatalf("new runtime must see module b: %q %v", out3.String(), err)
	}
	if err := rt1.Execute(context.Background(), "b.f()"); err == nil || !strings.Contains(err.Error(), "undefined: b") {
		t.Errorf("runtime built before Register must not see b: %v", err)
	}
	if loads != 1 {
		t.Errorf("registering b reloaded a (%d loads)", loads)
	}
	if names := reg.Names(); strings.Join(names, ",") != "a,b" {
		t.Errorf("Names = %v", names)
	}
	if _, ok := reg.GetLoaded("a"); !ok {
		t.Error("GetLoaded(a)")
	}
	if m, ok := reg.Get("b"); !ok || m.Description() != "test module b" {
		t.Error("Get(b)")
	}
}

func TestRegistryNonStrictReplaces(t *testing.T) {
	reg := libkite.NewRegistry(nil)
	reg.Register(&testModule{name: "m", members: starlark.StringDict{"f": constFn("m.f", "old")}})
	reg.Register(&testModule{name: "m", members: starlark.StringDict{"f": constFn("m.f", "new")}})
	got, err := run(t, reg, "print(m.f())")
	if err != nil || got != "new" {
		t.Fatalf("got %q %v", got, err)
	}
}

func TestRegistryStrict(t *testing.T) {
	t.Run("duplicate name panics", func(t *testing.T) {
		reg := libkite.NewRegistry(nil)
		reg.SetStrict(true)
		reg.Register(&testModule{name: "m"})
		defer func() {
			p := recover()
			if p == nil || !strings.Contains(p.(string), `libkite: duplicate module registration: "m"`) {
				t.Fatalf("panic = %v", p)
			}
		}()
		reg.Register(&testModule{name: "m"})
	})
	t.Run("duplicate export fails LoadAll", func(t *testing.T) {
		reg := libkite.NewRegistry(nil)
		reg.SetStrict(true)
		reg.Register(&testModule{name: "a", members: starlark.StringDict{"a": starlark.None, "shared": starlark.None}})
		reg.Register(&testModule{name: "b", members: starlark.StringDict{"b": starlark.None, "shared": starlark.None}})
		_, err := reg.LoadAll()
		if err == nil || !strings.Contains(err.Error(), `libkite: duplicate export "shared" from module b`) {
			t.Fatalf("LoadAll err = %v", err)
		}
		if _, err := libkite.New(&libkite.Config{Registry: reg}); err == nil || !strings.HasPrefix(err.Error(), "failed to load modules: module loading errors: [") {
			t.Errorf("New err = %v", err)
		}
	})
	t.Run("duplicate alias fails LoadAll", func(t *testing.T) {
		reg := libkite.NewRegistry(nil)
		reg.SetStrict(true)
		reg.Register(&testModule{name: "a", aliases: starlark.StringDict{"x": starlark.None}})
		reg.Register(&testModule{name: "b", aliases: starlark.StringDict{"x": starlark.None}})
		if _, err := reg.LoadAll(); err == nil || !strings.Contains(err.Error(), `libkite: duplicate global alias "x" from module b`) {
			t.Fatalf("LoadAll err = %v", err)
		}
	})
	t.Run("load error is reported", func(t *testing.T) {
		reg := libkite.NewRegistry(nil)
		reg.Register(&testModule{name: "bad", err: errors.New("no config")})
		if _, err := reg.LoadAll(); err == nil || !strings.Contains(err.Error(), "failed to load module bad: no config") {
			t.Fatalf("LoadAll err = %v", err)
		}
	})
}

func TestRegistryClose(t *testing.T) {
	closed := false
	reg := libkite.NewRegistry(nil)
	reg.Register(&testModule{name: "c", closed: &closed})
	rt, _ := libkite.New(&libkite.Config{Registry: reg})
	rt.Close()
	if closed {
		t.Error("Runtime.Close closed the shared registry")
	}
	reg.Close()
	if !closed {
		t.Error("Registry.Close did not close the module")
	}
}

func TestModulesFilter(t *testing.T) {
	reg := libkite.NewRegistry(nil)
	reg.Register(&testModule{name: "a", members: starlark.StringDict{"f": constFn("a.f", "a")}, aliases: starlark.StringDict{"af": constFn("af", "a")}})
	reg.Register(&testModule{name: "b", members: starlark.StringDict{"f": constFn("b.f", "b")}, aliases: starlark.StringDict{"bf": constFn("bf", "b")}})
	rt, out := capture(t, &libkite.Config{Registry: reg, Modules: []string{"a"}})
	if err := rt.Execute(context.Background(), "print(a.f(), af())"); err != nil || out.String() != "a a" {
		t.Fatalf("%q %v", out.String(), err)
	}
	for _, src := range []string{"b.f()", "bf()"} {
		if err := rt.Execute(context.Background(), src); err == nil {
			t.Errorf("%s visible despite Modules filter", src)
		}
	}
}

func TestTryForms(t *testing.T) {
	reg := libkite.NewRegistry(nil)
	reg.Register(&testModule{name: "m", members: starlark.StringDict{
		"ok":   constFn("m.ok", "fine"),
		"bad":  failFn("m.bad", "open /no/such: no such file or directory"),
		"data": starlark.MakeInt(1),
	}})
	got, err := run(t, reg, `
r = m.try_bad()
print(r.ok, r.value, r.error)
print(m.try_ok())
print(hasattr(m, "try_data"), hasattr(m, "try_nope"))
print(dir(m))
r2 = m.try_bad(1, 2) if False else None
`)
	if err != nil {
		t.Fatal(err)
	}
	want := "False None open /no/such: no such file or directory\n" +
		"Result(ok=True, value=\"fine\")\n" +
		"False False\n" +
		`["bad", "data", "ok", "try_bad", "try_ok"]`
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, err := run(t, reg, "m.try_nope()"); err == nil || !strings.Contains(err.Error(), "has no .try_nope field or method") {
		t.Errorf("unknown try_: %v", err)
	}
	// exit() passes through a try_ wrapper instead of becoming a Result.
	reg.Register(&testModule{name: "x", members: starlark.StringDict{"call": starlark.NewBuiltin("x.call",
		func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return starlark.Call(th, args[0], nil, nil)
		})}})
	_, err = run(t, reg, "x.try_call(lambda: exit(9))")
	var xe *libkite.ExitError
	if !errors.As(err, &xe) || xe.Code != 9 {
		t.Errorf("exit inside try_: %v", err)
	}
}

// point is an object type using libkite.Methods for its method table.
type point struct{ x, y int }

var pointMethods = libkite.Methods{
	"sum": func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
			return nil, err
		}
		p := fn.Receiver().(*point)
		return starlark.MakeInt(p.x + p.y), nil
	},
}

func (p *point) String() string        { return "point" }
func (p *point) Type() string          { return "point" }
func (p *point) Freeze()               {}
func (p *point) Truth() starlark.Bool  { return true }
func (p *point) Hash() (uint32, error) { return 0, errors.New("unhashable") }
func (p *point) Attr(name string) (starlark.Value, error) {
	if name == "x" {
		return starlark.MakeInt(p.x), nil
	}
	return pointMethods.Attr(p, "point", name), nil
}
func (p *point) AttrNames() []string { return append([]string{"x"}, pointMethods.Names()...) }

func TestMethodsTryTwins(t *testing.T) {
	rt, out := capture(t, &libkite.Config{Globals: map[string]interface{}{"p": &point{2, 3}}})
	err := rt.Execute(context.Background(), `
print(p.sum(), p.try_sum(), p.try_sum(1))
print(hasattr(p, "try_x"), dir(p))
`)
	if err != nil {
		t.Fatal(err)
	}
	want := "5 Result(ok=True, value=5) Result(ok=False, error=\"point.sum takes no arguments\")\n" +
		`False ["sum", "try_sum", "x"]`
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
}

func TestUnpackArgs(t *testing.T) {
	fn := starlark.NewBuiltin("m.f", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var path string
		mode := 420
		var timeout starlark.Value = starlark.None
		if err := libkite.UnpackArgs(b.Name(), args, kwargs, "path", &path, "mode?", &mode, "*", nil, "timeout?", &timeout); err != nil {
			return nil, err
		}
		return starlark.String(path + " " + starlark.MakeInt(mode).String() + " " + timeout.String()), nil
	})
	tests := []struct{ call, want string }{
		{`f("a")`, "a 420 None"},
		{`f("a", 1, timeout=5)`, "a 1 5"},
		{`f(path="a", mode=2)`, "a 2 None"},
		{`f("a", 1, 2)`, "m.f: unexpected positional argument at index 2"},
		{`f("a", nope=1)`, "m.f: unknown keyword argument: nope"},
		{`f(mode=1)`, "m.f: missing required argument: path"},
		{`f(None)`, "m.f: for parameter path: got NoneType, want string"},
		{`f("a", True)`, "m.f: for parameter mode: got bool, want int"},
	}
	for _, tt := range tests {
		t.Run(tt.call, func(t *testing.T) {
			rt, _ := capture(t, &libkite.Config{Globals: map[string]interface{}{"f": fn}})
			v, err := rt.Eval(context.Background(), tt.call)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = string(v.(starlark.String))
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStaticModule(t *testing.T) {
	builds := 0
	m := &libkite.StaticModule{
		ID: "greet", Doc: "greetings", Factory: "make", Try: true,
		Build: func() starlark.StringDict {
			builds++
			return starlark.StringDict{"hi": constFn("greet.hi", "hi"), "bad": failFn("greet.bad", "nope")}
		},
		GlobalAliases: libkite.AliasAllMembers,
	}
	if m.Name() != "greet" || m.Description() != "greetings" || m.FactoryMethod() != "make" {
		t.Fatal("metadata")
	}
	reg := libkite.NewRegistry(nil)
	reg.Register(m)
	got, err := run(t, reg, "print(greet.hi(), hi(), greet.try_bad().error, type(greet))")
	if err != nil || got != "hi hi nope module" {
		t.Fatalf("got %q, %v", got, err)
	}
	m.Aliases()
	if builds != 1 {
		t.Errorf("members built %d times, want once", builds)
	}
	plain := &libkite.StaticModule{ID: "p", Build: func() starlark.StringDict { return starlark.StringDict{"f": constFn("p.f", "f")} }}
	reg2 := libkite.NewRegistry(nil)
	reg2.Register(plain)
	if got, _ := run(t, reg2, "print(hasattr(p, 'try_f'), p.f())"); got != "False f" {
		t.Errorf("plain module: %q", got)
	}
	if plain.Aliases() != nil {
		t.Error("no GlobalAliases must mean no aliases")
	}
}
