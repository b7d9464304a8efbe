package vars_test

import (
	"context"
	"errors"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/vars"
)

// store mimics what the CLI's tiers put in a variable store: raw strings
// from --var, typed scalars and maps from YAML files.
var store = libkite.MapVarStore{
	"s":             "hello",
	"n":             3,
	"i64":           int64(-9),
	"u8":            uint8(7),
	"f":             2.5,
	"neg":           -2.7,
	"f32":           float32(1.5),
	"t":             true,
	"numstr":        "42",
	"floatstr":      "1.5",
	"spacestr":      " 4",
	"bigstr":        "123456789012345678901234567890",
	"yes":           "yes",
	"T":             "T",
	"FALSE":         "FALSE",
	"one":           "1",
	"list":          []any{"a", 1},
	"listf":         []any{1.0, 2.5, "x", map[string]any{"b": 1, "a": 2}},
	"strs":          []string{"a", "b"},
	"raw":           []byte("xy"),
	"map":           map[string]any{"k": "v", "n": 2},
	"anymap":        map[any]any{2: "two", 1: "one"},
	"jsonlist":      `[1, "x", 2.0, {"b": 1, "a": [true, null]}, 12345678901234567890123]`,
	"jsonobj":       `{"z": 1, "a": {"y": 2, "x": 3}}`,
	"badjson":       "[1,",
	"nil":           nil,
	"database.host": "db1",
}

func newRuntime(t *testing.T, vs libkite.VarStore) *libkite.Runtime {
	t.Helper()
	reg := libkite.NewRegistry(nil)
	reg.Register(vars.New())
	rt, err := libkite.New(&libkite.Config{Registry: reg, VarStore: vs, NoSignals: true,
		Print: func(*starlark.Thread, string) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// eval returns repr(expr) or the error message the script would see.
func eval(t *testing.T, rt *libkite.Runtime, expr string) (string, string) {
	t.Helper()
	v, err := rt.Eval(context.Background(), expr)
	if err != nil {
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			return "", ee.Msg
		}
		return "", err.Error()
	}
	return v.String(), ""
}

type evalCase struct {
	expr, want, err string
}

func runCases(t *testing.T, rt *libkite.Runtime, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			got, err := eval(t, rt, c.expr)
			if err != c.err {
				t.Fatalf("error = %q, want %q", err, c.err)
			}
			if got != c.want {
				t.Fatalf("= %s, want %s", got, c.want)
			}
		})
	}
}

func TestVarStr(t *testing.T) {
	runCases(t, newRuntime(t, store), []evalCase{
		{`var_str("s")`, `"hello"`, ""},
		{`var_str(name="s", default="d")`, `"hello"`, ""},
		{`var_str("n")`, `"3"`, ""},
		{`var_str("f")`, `"2.5"`, ""},
		{`var_str("t")`, `"true"`, ""},
		{`var_str("list")`, `"[a 1]"`, ""},
		{`var_str("map")`, `"map[k:v n:2]"`, ""},
		{`var_str("nil")`, `"<nil>"`, ""},
		{`var_str("database.host")`, `"db1"`, ""},
		{`var_str("missing", "fallback")`, `"fallback"`, ""},
		{`var_str("missing")`, `""`, ""},
		{`var_str()`, "", "var_str: missing required argument: name"},
		{`var_str("a", "b", "c")`, "", "var_str: unexpected positional argument at index 2"},
		{`var_str("a", x=1)`, "", "var_str: unknown keyword argument: x"},
		{`var_str(1)`, "", "var_str: for parameter name: got int, want string"},
		{`var_str("missing", None)`, "", "var_str: for parameter default: got NoneType, want string"},
		{`var_str("missing", b"x")`, "", "var_str: for parameter default: got bytes, want string"},
	})
}

func TestVarInt(t *testing.T) {
	runCases(t, newRuntime(t, store), []evalCase{
		{`var_int("n")`, `3`, ""},
		{`var_int("i64")`, `-9`, ""},
		{`var_int("u8")`, `7`, ""},
		{`var_int("f")`, `2`, ""},
		{`var_int("neg")`, `-2`, ""},
		{`var_int("numstr")`, `42`, ""},
		{`var_int("bigstr")`, `123456789012345678901234567890`, ""},
		{`var_int("missing", 42)`, `42`, ""},
		{`var_int("missing")`, `0`, ""},
		{`var_int("floatstr")`, "", `var_int: cannot convert "1.5" to int for variable "floatstr"`},
		{`var_int("spacestr")`, "", `var_int: cannot convert " 4" to int for variable "spacestr"`},
		{`var_int("t")`, "", `var_int: unsupported type bool for variable "t"`},
		{`var_int("list")`, "", `var_int: unsupported type []interface {} for variable "list"`},
		{`var_int("missing", True)`, "", "var_int: for parameter default: got bool, want int"},
		{`var_int("missing", 1.5)`, "", "var_int: for parameter default: got float, want int"},
	})
}

func TestVarBool(t *testing.T) {
	runCases(t, newRuntime(t, store), []evalCase{
		{`var_bool("t")`, `True`, ""},
		{`var_bool("T")`, `True`, ""},
		{`var_bool("one")`, `True`, ""},
		{`var_bool("FALSE")`, `False`, ""},
		{`var_bool("missing")`, `False`, ""},
		{`var_bool("missing", True)`, `True`, ""},
		{`var_bool("yes")`, "", `var_bool: cannot convert "yes" to bool for variable "yes"`},
		{`var_bool("n")`, "", `var_bool: unsupported type int for variable "n"`},
		{`var_bool("missing", 1)`, "", "var_bool: for parameter default: got int, want bool"},
	})
}

func TestVarFloat(t *testing.T) {
	runCases(t, newRuntime(t, store), []evalCase{
		{`var_float("n")`, `3.0`, ""},
		{`var_float("f")`, `2.5`, ""},
		{`var_float("f32")`, `1.5`, ""},
		{`var_float("floatstr")`, `1.5`, ""},
		{`var_float("numstr")`, `42.0`, ""},
		{`var_float("missing")`, `0.0`, ""},
		{`var_float("missing", 2.5)`, `2.5`, ""},
		{`var_float("missing", 1)`, `1.0`, ""}, // kite: int defaults accepted
		{`var_float("s")`, "", `var_float: cannot convert "hello" to float for variable "s"`},
		{`var_float("t")`, "", `var_float: unsupported type bool for variable "t"`},
		{`var_float("missing", "x")`, "", "var_float: for parameter default: got string, want float"},
		{`var_float("missing", None)`, "", "var_float: for parameter default: got NoneType, want float"},
	})
}

func TestVarList(t *testing.T) {
	runCases(t, newRuntime(t, store), []evalCase{
		{`var_list("list")`, `["a", 1]`, ""},
		{`var_list("listf")`, `[1, 2.5, "x", {"a": 2, "b": 1}]`, ""},
		{`var_list("strs")`, `["a", "b"]`, ""},
		{`var_list("jsonlist")`, `[1, "x", 2, {"a": [True, None], "b": 1}, 12345678901234567890123]`, ""},
		{`var_list("missing")`, `[]`, ""},
		{`var_list("missing", [1, 2, 3])`, `[1, 2, 3]`, ""},
		{`var_list("missing", None)`, `None`, ""},
		{`var_list("missing", "any")`, `"any"`, ""},
		{`vars.var_list("missing", [42])`, `[42]`, ""},
		{`var_list("badjson")`, "", `var_list: cannot parse "[1," as list for variable "badjson"`},
		{`var_list("s")`, "", `var_list: cannot parse "hello" as list for variable "s"`},
		{`var_list("numstr")`, "", `var_list: value for "numstr" is not a list`},
		{`var_list("jsonobj")`, "", `var_list: value for "jsonobj" is not a list`},
		{`var_list("map")`, "", `var_list: unsupported type map[string]interface {} for variable "map"`},
		{`var_list("raw")`, "", `var_list: unsupported type []uint8 for variable "raw"`},
		{`var_list("n")`, "", `var_list: unsupported type int for variable "n"`},
		{`var_list()`, "", "var_list: missing required argument: name"},
	})
}

func TestVarDict(t *testing.T) {
	runCases(t, newRuntime(t, store), []evalCase{
		{`var_dict("map")`, `{"k": "v", "n": 2}`, ""},
		{`var_dict("anymap")`, `{1: "one", 2: "two"}`, ""},
		{`var_dict("jsonobj")`, `{"a": {"x": 3, "y": 2}, "z": 1}`, ""},
		{`var_dict("missing")`, `{}`, ""},
		{`var_dict("missing", {"a": "b"})`, `{"a": "b"}`, ""},
		{`vars.var_dict("missing", {"k": "v"})`, `{"k": "v"}`, ""},
		{`var_dict("missing", None)`, `None`, ""},
		{`var_dict("badjson")`, "", `var_dict: cannot parse "[1," as dict for variable "badjson"`},
		{`var_dict("jsonlist")`, "", `var_dict: value for "jsonlist" is not a dict`},
		{`var_dict("list")`, "", `var_dict: unsupported type []interface {} for variable "list"`},
	})
}

func TestVarNames(t *testing.T) {
	small := libkite.MapVarStore{"b": 1, "a.x": "y", "c": true}
	runCases(t, newRuntime(t, small), []evalCase{
		{`var_names()`, `["a.x", "b", "c"]`, ""},
		{`var_names(1, x=2)`, `["a.x", "b", "c"]`, ""}, // ignores-args
		{`type(var_names())`, `"list"`, ""},
	})
	// a store whose Keys() is neither sorted nor unique still yields a clean list
	runCases(t, newRuntime(t, messyStore{small}), []evalCase{
		{`var_names()`, `["a.x", "b", "c"]`, ""},
	})
}

type messyStore struct{ libkite.MapVarStore }

func (m messyStore) Keys() []string { return []string{"c", "b", "c", "a.x"} }

func TestNoStore(t *testing.T) {
	runCases(t, newRuntime(t, nil), []evalCase{
		{`var_str("s", "d")`, `"d"`, ""},
		{`var_int("n")`, `0`, ""},
		{`var_bool("t")`, `False`, ""},
		{`var_float("f")`, `0.0`, ""},
		{`var_list("list")`, `[]`, ""},
		{`var_dict("map")`, `{}`, ""},
		{`var_names()`, `[]`, ""},
	})
}

func TestNoRuntime(t *testing.T) {
	// A bare thread (no libkite runtime) behaves like an empty store.
	m, err := vars.New().Load(&libkite.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := starlark.Eval(&starlark.Thread{}, "x", `vars.var_str("s", "d") + str(vars.var_names())`, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(v.(starlark.String)); got != "d[]" {
		t.Fatalf("got %q", got)
	}
}

func TestNamespace(t *testing.T) {
	runCases(t, newRuntime(t, store), []evalCase{
		{`type(vars)`, `"module"`, ""},
		{`dir(vars)`, `["var_bool", "var_dict", "var_float", "var_int", "var_list", "var_names", "var_str"]`, ""},
		{`hasattr(vars, "try_var_str")`, `False`, ""},
		{`[type(f) for f in (var_str, var_names, var_list, var_dict)]`,
			`["builtin_function_or_method", "builtin_function_or_method", "builtin_function_or_method", "builtin_function_or_method"]`, ""},
		{`var_str == vars.var_str and var_names == vars.var_names`, `True`, ""},
		{`vars.var_str("s")`, `"hello"`, ""},
		{`vars.try_var_str`, "", "module has no .try_var_str field or method (did you mean .var_str?)"},
	})
	m := vars.New()
	if m.Name() != "vars" || m.FactoryMethod() != "" || m.Description() == "" {
		t.Fatalf("module metadata: %q %q %q", m.Name(), m.FactoryMethod(), m.Description())
	}
	if got := len(m.Aliases()); got != 7 {
		t.Fatalf("aliases = %d, want 7", got)
	}
}

// TestConformance runs tests/vars_test.star with the variables its
// header documents.
func TestConformance(t *testing.T) {
	rt := newRuntime(t, libkite.MapVarStore{
		"vars_test.str":   "hello",
		"vars_test.int":   "42",
		"vars_test.bool":  "true",
		"vars_test.float": "1.5",
		"vars_test.list":  []any{1.0, "x"},
		"vars_test.dict":  `{"k": "v", "n": 2}`,
	})
	kitetest.RunConformance(t, rt, "../../../tests/vars_test.star", 1)
}
