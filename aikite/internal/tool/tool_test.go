package tool

import (
	"encoding/json"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

const defs = `
def plain(a, b):
    pass

def defaults(s1="", s2="x", t=True, f=False, i=3, fl=1.5, l=[1], tu=(1,), d={}, n=None):
    """Line one.

    Line three, indented."""
    pass

def kwonly(a, *, k, m=7):
    "One-line doc."
    pass

def varargs(a, *rest):
    pass

def kwargs(a, **kw):
    pass

def nothing():
    pass

def sum2(a, b=1):
    return a + b
`

// globals compiles defs with kite's dialect and returns its globals.
func globals(t *testing.T) starlark.StringDict {
	t.Helper()
	g, err := starlark.ExecFileOptions(libkite.FileOptions(), &starlark.Thread{Name: "test"}, "defs.star", defs, starlark.StringDict{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestInfer(t *testing.T) {
	g := globals(t)
	cases := []struct {
		fn, schema, doc, err string
	}{
		{"plain", `{"properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a","b"],"type":"object"}`, "", ""},
		{"defaults", `{"properties":{"d":{"type":"object"},"f":{"default":false,"type":"boolean"},"fl":{"default":1.5,"type":"number"},"i":{"default":3,"type":"integer"},"l":{"type":"array"},"n":{"type":"string"},"s1":{"type":"string"},"s2":{"default":"x","type":"string"},"t":{"default":true,"type":"boolean"},"tu":{"type":"array"}},"type":"object"}`,
			"Line one.\n\n    Line three, indented.", ""},
		{"kwonly", `{"properties":{"a":{"type":"string"},"k":{"type":"string"},"m":{"default":7,"type":"integer"}},"required":["a","k"],"type":"object"}`, "One-line doc.", ""},
		{"nothing", `{"properties":{},"type":"object"}`, "", ""},
		{"varargs", "", "", "function varargs uses *args/**kwargs"},
		{"kwargs", "", "", "function kwargs uses *args/**kwargs"},
	}
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			schema, doc, err := Infer(g[c.fn].(*starlark.Function))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonOf(schema); got != c.schema {
				t.Fatalf("schema\n%s\nwant\n%s", got, c.schema)
			}
			if doc != c.doc {
				t.Fatalf("doc %q, want %q", doc, c.doc)
			}
		})
	}
	// Params skips *args/**kwargs and reports required flags in order.
	names, req := Params(g["kwonly"].(*starlark.Function))
	if jsonOf(names) != `["a","k","m"]` || jsonOf(req) != `[true,true,false]` {
		t.Fatalf("Params(kwonly) = %v %v", names, req)
	}
	names, req = Params(g["varargs"].(*starlark.Function))
	if jsonOf(names) != `["a"]` || jsonOf(req) != `[true]` {
		t.Fatalf("Params(varargs) = %v %v", names, req)
	}
}

func TestNew(t *testing.T) {
	g := globals(t)
	str := func(s string) *string { return &s }
	obj := starlark.NewDict(1)
	_ = obj.SetKey(starlark.String("type"), starlark.String("object"))
	length := starlark.Universe["len"]
	cases := []struct {
		name              string
		fn                starlark.Value
		desc              *string
		params            starlark.Value
		wantName, wantDoc string
		wantSchema        string
		err               string
	}{
		{name: "inferred", fn: g["kwonly"], wantName: "kwonly", wantDoc: "One-line doc.",
			wantSchema: `{"properties":{"a":{"type":"string"},"k":{"type":"string"},"m":{"default":7,"type":"integer"}},"required":["a","k"],"type":"object"}`},
		{name: "description replaces docstring", fn: g["kwonly"], desc: str("Mine."), wantName: "kwonly", wantDoc: "Mine.",
			wantSchema: `{"properties":{"a":{"type":"string"},"k":{"type":"string"},"m":{"default":7,"type":"integer"}},"required":["a","k"],"type":"object"}`},
		{name: "empty description still replaces", fn: g["kwonly"], desc: str(""), wantName: "kwonly", wantDoc: ""},
		{name: "params replace schema, docstring kept", fn: g["kwonly"], params: obj, wantName: "kwonly", wantDoc: "One-line doc.", wantSchema: `{"type":"object"}`},
		{name: "params None is absent", fn: g["plain"], params: starlark.None, wantName: "plain", wantSchema: `{"properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a","b"],"type":"object"}`},
		{name: "*args rejected without params", fn: g["varargs"], err: "function varargs uses *args/**kwargs, which cannot be described as tool parameters; pass params= explicitly"},
		{name: "*args accepted with params", fn: g["varargs"], params: obj, wantName: "varargs", wantSchema: `{"type":"object"}`},
		{name: "**kwargs accepted with params", fn: g["kwargs"], params: obj, desc: str("K"), wantName: "kwargs", wantDoc: "K", wantSchema: `{"type":"object"}`},
		{name: "builtin with both", fn: length, desc: str("Length."), params: obj, wantName: "len", wantDoc: "Length.", wantSchema: `{"type":"object"}`},
		{name: "builtin without params", fn: length, desc: str("Length."), err: "len is a builtin_function_or_method, which cannot be introspected: pass both description= and params="},
		{name: "builtin without description", fn: length, params: obj, err: "len is a builtin_function_or_method, which cannot be introspected"},
		{name: "builtin with neither", fn: length, err: "cannot be introspected"},
		{name: "not callable", fn: starlark.MakeInt(1), err: "expected a callable, got int"},
		{name: "params not a dict", fn: g["plain"], params: starlark.NewList(nil), err: "params must be a dict (JSON Schema), got list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tl, err := New(c.fn, c.desc, c.params)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tl.Name != c.wantName || tl.Description != c.wantDoc {
				t.Fatalf("name %q doc %q", tl.Name, tl.Description)
			}
			if c.wantSchema != "" && jsonOf(tl.Schema) != c.wantSchema {
				t.Fatalf("schema %s, want %s", jsonOf(tl.Schema), c.wantSchema)
			}
		})
	}
}

// source is a stand-in for mcp.Tool.
type source struct{ t *Tool }

func (source) String() string        { return "<src>" }
func (source) Type() string          { return "mcp.Tool" }
func (source) Freeze()               {}
func (source) Truth() starlark.Bool  { return true }
func (source) Hash() (uint32, error) { return 0, nil }
func (s source) KiteTool() *Tool     { return s.t }

func TestCoerce(t *testing.T) {
	g := globals(t)
	wrapped := &Value{Tool: &Tool{Name: "w", Fn: g["plain"].(starlark.Callable)}}
	remote := source{&Tool{Name: "remote", Description: "From a server."}}
	ts, err := Coerce(starlark.NewList([]starlark.Value{g["plain"], wrapped, remote}))
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 || ts[0].Name != "plain" || ts[1] != wrapped.Tool || ts[2].Name != "remote" {
		t.Fatalf("coerced %+v", ts)
	}
	if ts, err := Coerce(starlark.Tuple{g["nothing"]}); err != nil || len(ts) != 1 {
		t.Fatalf("tuple: %v %v", ts, err)
	}
	if ts, err := Coerce(starlark.None); err != nil || ts != nil {
		t.Fatalf("None: %v %v", ts, err)
	}
	for _, c := range []struct {
		v   starlark.Value
		err string
	}{
		{starlark.MakeInt(3), "tools must be a list of functions or ai.Tool values, got int"},
		{starlark.NewList([]starlark.Value{g["plain"], starlark.String("x")}), "tools[1]: expected function or ai.Tool, got string"},
		{starlark.NewList([]starlark.Value{starlark.Universe["len"]}), "tools[0]: len (builtin_function_or_method) cannot be auto-inferred; wrap it with ai.tool(fn, description=, params=)"},
		{starlark.NewList([]starlark.Value{g["plain"], g["varargs"]}), "tools[1]: function varargs uses *args/**kwargs"},
	} {
		if _, err := Coerce(c.v); err == nil || !strings.HasPrefix(err.Error(), c.err) {
			t.Errorf("Coerce(%s): %v, want %q", c.v, err, c.err)
		}
	}
}

func TestDecodeArgsAndCall(t *testing.T) {
	g := globals(t)
	sum := &Tool{Name: "sum2", Fn: g["sum2"].(starlark.Callable)}
	for _, c := range []struct{ args, want, err string }{
		{`{"a": 2, "b": 3}`, "5", ""},
		{`{"a": 2.5}`, "3.5", ""},
		{`{"a": 1e2}`, "101", ""}, // integral float literal → int
		{`  `, "", "missing 1 argument (a)"},
		{`[1]`, "", "invalid tool arguments: expected a JSON object, got an array"},
		{`{"a": 1} {}`, "", "invalid tool arguments: trailing data after the JSON object"},
		{`{"a":`, "", "invalid tool arguments: unexpected EOF"},
	} {
		args, err := DecodeArgs(c.args)
		var v starlark.Value
		if err == nil {
			v, err = sum.Call(&starlark.Thread{}, args)
		}
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || v.String() != c.want {
			t.Errorf("%s: %v %v, want %s", c.args, v, err, c.want)
		}
	}
	args, _ := DecodeArgs(`{"n": 3, "f": 0.5, "l": [1, {"x": 2}]}`)
	if got := jsonOf(Normalize(args)); got != `{"f":0.5,"l":[1,{"x":2}],"n":3}` {
		t.Fatalf("Normalize: %s", got)
	}
	if _, ok := Normalize(args).(map[string]any)["n"].(int64); !ok {
		t.Fatal("Normalize: integral number is not int64")
	}
	if txt, isErr := ResultText(starlark.String("plain")); txt != "plain" || isErr {
		t.Fatalf("ResultText(str) = %q %v", txt, isErr)
	}
	d := starlark.NewDict(1)
	_ = d.SetKey(starlark.String("a<b"), starlark.NewList([]starlark.Value{starlark.MakeInt(1), starlark.None}))
	if txt, _ := ResultText(d); txt != `{"a<b":[1,null]}` {
		t.Fatalf("ResultText(dict) = %q", txt)
	}
	if txt, _ := ResultText(g["plain"]); txt != `"<function plain>"` {
		t.Fatalf("ResultText(function) = %q", txt)
	}
	if ErrorJSON(`bad "x"`) != `{"error":"bad \"x\""}` {
		t.Fatalf("ErrorJSON = %s", ErrorJSON(`bad "x"`))
	}
}
