package fmt_test

import (
	"context"
	"path/filepath"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitefmt "github.com/project-starkite/starkite/libkite/modules/fmt"
)

var kit = kitetest.Modules{kitefmt.New}

type C = kitetest.Case

func TestModule(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `type(fmt)`, Want: "module"},
		{Expr: `dir(fmt)`, Want: `["printf", "println", "sprintf", "try_printf", "try_println", "try_sprintf"]`},
		{Expr: `(type(printf), type(println), type(sprintf))`, Want: `("builtin_function_or_method", "builtin_function_or_method", "builtin_function_or_method")`},
		{Expr: `(sprintf == fmt.sprintf, println == fmt.println)`, Want: `(True, True)`},
		{Name: "try_ forms are not globals", Expr: `try_sprintf`, ErrContains: true, Err: "undefined: try_sprintf"},
	})
}

// TestAliases checks the module's global aliases directly (the runtime
// predeclares its own printf until the fmt module replaces it).
func TestAliases(t *testing.T) {
	m := kitefmt.New()
	d, err := m.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	members := d["fmt"].(*libkite.ModuleValue).Members()
	aliases := m.Aliases()
	if len(aliases) != 3 {
		t.Fatalf("aliases = %v", aliases)
	}
	for _, name := range []string{"printf", "println", "sprintf"} {
		if aliases[name] != members[name] {
			t.Errorf("alias %s is not the module's %s", name, name)
		}
	}
}

func TestSprintf(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `sprintf("%s=%d", "n", 3)`, Want: "n=3"},
		{Expr: `sprintf("Hello, %s!", "World")`, Want: "Hello, World!"},
		{Expr: `sprintf("%s is %d years", "Al", 30)`, Want: "Al is 30 years"},
		{Expr: `sprintf("%.2f", 3.14159)`, Want: "3.14"},
		{Expr: `sprintf("%5.1f", 2.25)`, Want: "  2.2"},
		{Expr: `sprintf("%05.1f%%", 9.87)`, Want: "009.9%"},
		{Expr: `sprintf("%s has %d items (%.1f%%)", "cart", 3, 12.5)`, Want: "cart has 3 items (12.5%)"},
		{Expr: `sprintf("%v", [1, "x"])`, Want: "[1 x]"},
		{Expr: `sprintf("%v", (1, 2.5, True))`, Want: "[1 2.5 true]"},
		{Expr: `sprintf("%v", {"b": [2], "a": 1})`, Want: "map[a:1 b:[2]]"},
		{Expr: `sprintf("%v", {2: "x", 1: "y"})`, Want: "map[1:y 2:x]"},
		{Expr: `sprintf("%q", "hi")`, Want: `"hi"`},
		{Expr: `sprintf("%v %v %v", None, True, False)`, Want: "<nil> true false"},
		{Expr: `sprintf("%s", None)`, Want: "%!s(<nil>)"},
		{Expr: `sprintf("%v|%v|%v", 1.5, 2.0, 1e20)`, Want: "1.5|2|1e+20"},
		{Expr: `sprintf("%v", b"ab")`, Want: "[97 98]"},
		{Expr: `sprintf("%s", b"ab")`, Want: "ab"},
		{Expr: `sprintf("%x", 255)`, Want: "ff"},
		{Expr: `sprintf("%08b", 5)`, Want: "00000101"},
		{Expr: `sprintf("%-5s|", "ab")`, Want: "ab   |"},
		{Expr: `sprintf("%T", 1)`, Want: "int64"},
		{Expr: `sprintf("%T %T %T", "s", 1.0, True)`, Want: "string float64 bool"},
		{Expr: `sprintf("%d")`, Want: "%d"},
		{Expr: `sprintf("%d %d", 1)`, Want: "1 %!d(MISSING)"},
		{Expr: `sprintf("%d", 1, 2)`, Want: "1%!(EXTRA int64=2)"},
		{Expr: `sprintf("%s", 1)`, Want: "%!s(int64=1)"},
		{Expr: `sprintf("%d", True)`, Want: "%!d(bool=true)"},
		{Expr: `sprintf("%v", 9223372036854775807)`, Want: "9223372036854775807"},
		{Expr: `sprintf("%v", 123456789012345678901234567890)`, Want: "123456789012345678901234567890"},
		{Name: "other values use str()", Expr: `sprintf("%v|%s", fmt, len)`, Want: `<module "fmt">|<built-in function len>`},
		{Name: "format-only is verbatim", Expr: `sprintf("100%%")`, Want: "100%%"},
		{Expr: `sprintf("plain string")`, Want: "plain string"},
		{Expr: `sprintf()`, Want: ""},
		{Expr: `sprintf("")`, Want: ""},
		{Name: "keywords ignored", Expr: `sprintf("%d", 1, sep="x")`, Want: "1"},
		{Name: "keywords only", Expr: `sprintf(format="x")`, Want: ""},
		{Expr: `fmt.sprintf("%s-%s", "a", "b")`, Want: "a-b"},
		{Expr: `sprintf(1)`, Err: "format must be a string"},
		{Expr: `sprintf(b"%s", 1)`, Err: "format must be a string"},
		{Expr: `sprintf(None)`, Err: "format must be a string"},
		// kite fixes: values Go formatting would crash on
		{Pre: `l = [1]`, Expr: `l.append(l) or sprintf("%v", l)`, Err: "cannot format a list that contains itself"},
		{Pre: `d = {}`, Expr: `d.update(x=d) or sprintf("%v", [d])`, Err: "cannot format a dict that contains itself"},
		{Expr: `sprintf("%v", {(1, 2): 3})`, Err: "cannot format a dict with a tuple key ((1, 2))"},
		{Name: "shared, not cyclic", Pre: `l = [1]`, Expr: `sprintf("%v", [l, l, (l, l)])`, Want: "[[1] [1] [[1] [1]]]"},
	})
}

func TestTry(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `fmt.try_sprintf(1)`, Want: `Result(ok=False, error="format must be a string")`},
		{Expr: `fmt.try_sprintf("%d!", 3)`, Want: `Result(ok=True, value="3!")`},
		{Expr: `fmt.try_printf(None)`, Want: `Result(ok=False, error="format must be a string")`},
		{Expr: `fmt.try_printf("")`, Want: `Result(ok=True, value=None)`},
		{Expr: `fmt.try_println()`, Want: `Result(ok=True, value=None)`},
		{Pre: `l = []`, Expr: `l.append(l) or fmt.try_println(l)`, Want: `Result(ok=False, error="cannot format a list that contains itself")`},
	})
}

// TestOutput checks what printf and println write: through the host's
// print hook when one is set (line-buffered), as kitetest installs one.
func TestOutput(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"printf no newline added", `fmt.printf("%s ok", "build")`, "build ok"},
		{"printf lines", `fmt.printf("%s ok\n", "build"); fmt.printf("a\nb\n")`, "build ok\na\nb"},
		{"printf joins fragments", `fmt.printf("a"); fmt.printf("%d", 1); fmt.printf("\n")`, "a1"},
		{"printf format-only verbatim", `fmt.printf("100%%\n")`, "100%%"},
		{"printf no args", `fmt.printf()`, ""},
		{"printf keywords ignored", `fmt.printf("%d\n", 7, end="")`, "7"},
		{"println empty", `println()`, ""},
		{"println one", `println("hi")`, "hi"},
		{"println mixed", `println("a", 1, True, None)`, "a 1 true <nil>"},
		{"println containers", `fmt.println([1, "a"], {"k": 2.5}, b"x")`, "[1 a] map[k:2.5] [120]"},
		{"println keywords ignored", `println("x", sep="-")`, "x"},
		{"println then print", `println("a", "b"); print("c")`, "a b\nc"},
		{"printf fragment joins print", `fmt.printf("x="); print(1)`, "x=1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, out := kit.New(t, nil)
			if err := rt.Execute(context.Background(), c.src); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != c.want {
				t.Fatalf("output = %q, want %q", got, c.want)
			}
		})
	}
}

func TestFormatGo(t *testing.T) {
	for _, c := range []struct {
		args starlark.Tuple
		want string
		err  string
	}{
		{nil, "", ""},
		{starlark.Tuple{starlark.String("%d%%")}, "%d%%", ""},
		{starlark.Tuple{starlark.String("%d%%"), starlark.MakeInt(5)}, "5%", ""},
		{starlark.Tuple{starlark.MakeInt(5)}, "", "format must be a string"},
	} {
		got, err := kitefmt.Format(c.args)
		if (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) || got != c.want {
			t.Errorf("Format(%v) = %q, %v; want %q, %q", c.args, got, err, c.want, c.err)
		}
	}
}

func TestConformance(t *testing.T) {
	file := filepath.Join("..", "..", "..", "tests", "fmt_test.star")
	kitetest.RunConformance(t, kit.Runtime(t, nil), file, 6)
}

// BenchmarkSprintf is the hot path: sprintf with mixed scalar arguments.
func BenchmarkSprintf(b *testing.B) {
	args := starlark.Tuple{starlark.String("%s has %d items (%.1f%%) %v"), starlark.String("cart"),
		starlark.MakeInt(3), starlark.Float(12.5), starlark.True}
	for b.Loop() {
		if _, err := kitefmt.Format(args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSprintfContainers: sprintf("%v") of a 100-element list of
// dicts (conversion and the cycle check dominate).
func BenchmarkSprintfContainers(b *testing.B) {
	elems := make([]starlark.Value, 100)
	for i := range elems {
		d := starlark.NewDict(2)
		_ = d.SetKey(starlark.String("id"), starlark.MakeInt(i))
		_ = d.SetKey(starlark.String("tags"), starlark.NewList([]starlark.Value{starlark.String("a"), starlark.String("b")}))
		elems[i] = d
	}
	args := starlark.Tuple{starlark.String("%v"), starlark.NewList(elems)}
	for b.Loop() {
		if _, err := kitefmt.Format(args); err != nil {
			b.Fatal(err)
		}
	}
}
