package json_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/json"
	"github.com/project-starkite/starkite/libkite/modules/vars"
)

type options struct {
	dryRun    bool
	sandboxed bool
	perms     *libkite.PermissionConfig
	store     libkite.VarStore
}

func newRuntime(t testing.TB, o options) *libkite.Runtime {
	t.Helper()
	reg := libkite.NewRegistry(nil)
	reg.Register(vars.New())
	reg.Register(json.New())
	cfg := &libkite.Config{Registry: reg, DryRun: o.dryRun, Permissions: o.perms, VarStore: o.store,
		NoSignals: true, Print: func(*starlark.Thread, string) {}}
	var rt *libkite.Runtime
	var err error
	if o.sandboxed {
		rt, err = libkite.NewSandboxed(cfg)
	} else {
		rt, err = libkite.New(cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// run is kitetest.Eval on a fresh runtime built from o.
func run(t testing.TB, o options, pre, expr string) (string, string, error) {
	t.Helper()
	return kitetest.Eval(newRuntime(t, o), pre, expr)
}

// runCases is kitetest.RunCases with fresh runtimes built from o.
func runCases(t *testing.T, o options, cases []kitetest.Case) {
	t.Helper()
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime { return newRuntime(t, o) }, cases)
}

func TestEncode(t *testing.T) {
	runCases(t, options{}, []kitetest.Case{
		{Name: "spec example", Expr: `json.encode({"b": 1, "a": [1, 2.5, None, "x<y"]})`, Want: `{"a":[1,2.5,null,"x\u003cy"],"b":1}`},
		{Name: "keys sorted", Expr: `json.encode({"z": 1, "a": {"y": 2, "b": 3}})`, Want: `{"a":{"b":3,"y":2},"z":1}`},
		{Expr: `json.encode({"name": "test", "value": 42})`, Want: `{"name":"test","value":42}`},
		{Expr: `json.encode([None, True, False])`, Want: `[null,true,false]`},
		{Expr: `json.encode(1.0)`, Want: `1`},
		{Expr: `json.encode(-0.0)`, Want: `-0`},
		{Expr: `json.encode(1e20)`, Want: `100000000000000000000`},
		{Expr: `json.encode(1e21)`, Want: `1e+21`},
		{Expr: `json.encode(0.000001)`, Want: `0.000001`},
		{Expr: `json.encode(1e-7)`, Want: `1e-7`},
		{Expr: `json.encode(0.1)`, Want: `0.1`},
		{Expr: `json.encode("a&b>c")`, Want: `"a\u0026b\u003ec"`},
		{Expr: `json.encode("\u2028\u2029é")`, Want: `"\u2028\u2029é"`},
		{Name: "bytes as base64", Expr: `json.encode(b"hi")`, Want: `"aGk="`},
		{Expr: `json.encode((1, "a"))`, Want: `[1,"a"]`},
		{Name: "non-string keys as text", Expr: `json.encode({2: "a", True: "b", None: "c", "k": 1})`, Want: `{"2":"a","\u003cnil\u003e":"c","k":1,"true":"b"}`},
		{Name: "int64 max", Expr: `json.encode(9223372036854775807)`, Want: `9223372036854775807`},
		{Name: "int64 min", Expr: `json.encode(-9223372036854775808)`, Want: `-9223372036854775808`},
		{Name: "uint64 range", Expr: `json.encode(18446744073709551615)`, Want: `18446744073709551615`},
		{Name: "beyond uint64", Expr: `json.encode(18446744073709551616)`, Err: `json.encode: unsupported starlark.Int type`},
		{Name: "NaN", Expr: `json.encode(float("nan"))`, Err: `json.encode: json: unsupported value: NaN`},
		{Name: "Inf", Expr: `json.encode([float("inf")])`, Err: `json.encode: json: unsupported value: +Inf`},
		{Name: "unsupported type", Expr: `json.encode({"f": json.file("x")})`, Err: `json.encode: unsupported type: json.file`},
		{Name: "function", Pre: "def f(): pass", Expr: `json.encode(f)`, Err: `json.encode: unsupported type: function`},
		{Name: "cycle", Pre: "l = []\nl.append(l)", Expr: `json.encode(l)`, Err: `json.encode: unsupported value: cycle via list`},
		{Name: "shared not cyclic", Pre: "x = [1]", Expr: `json.encode([x, x, {"a": x}])`, Want: `[[1],[1],{"a":[1]}]`},
		{Name: "set as array (kite)", Expr: `json.encode(set([3, 1]))`, Want: `[3,1]`},
		{Name: "keywords ignored", Expr: `json.encode(1, indent="  ")`, Want: `1`},
		{Name: "no args", Expr: `json.encode()`, Err: `json.encode: expected 1 argument, got 0`},
		{Name: "two args", Expr: `json.encode(1, 2)`, Err: `json.encode: expected 1 argument, got 2`},
		{Name: "try ok", Expr: `json.try_encode({"key": "value"})`, Want: `Result(ok=True, value="{\"key\":\"value\"}")`},
		{Name: "try error", Expr: `json.try_encode(float("nan"))`, Want: `Result(ok=False, error="json.encode: json: unsupported value: NaN")`},
		{Name: "try binding error", Expr: `json.try_encode()`, Want: `Result(ok=False, error="json.encode: expected 1 argument, got 0")`},
	})
}

func TestDecode(t *testing.T) {
	runCases(t, options{}, []kitetest.Case{
		{Expr: `json.decode('{"a": 1}')["a"] == 1`, Want: `True`},
		{Name: "numbers are floats", Expr: `json.decode("42")`, Want: `42.0`},
		{Expr: `json.decode("-0")`, Want: `-0.0`},
		{Expr: `json.decode("1.5e3")`, Want: `1500.0`},
		{Name: "2^53 exact as float", Expr: `json.decode("9007199254740992")`, Want: `9.007199254740992e+15`},
		{Name: "2^53+1 stays int", Expr: `json.decode("9007199254740993")`, Want: `9007199254740993`},
		{Name: "big int exact", Expr: `json.decode("12345678901234567890")`, Want: `12345678901234567890`},
		{Name: "huge int exact", Expr: `json.decode("-1" + "0" * 400)`, Want: "-1" + strings.Repeat("0", 400)},
		{Name: "float text >= 2^53 decodes to the literal's exact int", Expr: `json.decode(json.encode(1.0000000000000001e18))`, Want: `1000000000000000100`},
		{Name: "float overflow", Expr: `json.decode("1e400")`, Err: `json.decode: json: cannot unmarshal number 1e400 into Go value of type float64`},
		{Name: "document key order", Expr: `json.decode('{"b": 1, "a": {"d": 2, "c": 3}}')`, Want: `{"b": 1.0, "a": {"d": 2.0, "c": 3.0}}`},
		{Name: "duplicate keys last wins", Expr: `json.decode('{"a": 1, "b": 2, "a": 3}')`, Want: `{"a": 3.0, "b": 2.0}`},
		{Expr: `json.decode(' [1, "x", true, false, null, [], {}] ')`, Want: `[1.0, "x", True, False, None, [], {}]`},
		{Expr: `json.decode('"\\u00e9\\n"')`, Want: "é\n"},
		{Name: "bytes input", Expr: `json.decode(b'{"k": "v"}')`, Want: `{"k": "v"}`},
		{Name: "result mutable", Expr: `json.decode("[1]") + [2]`, Want: `[1.0, 2]`},
		{Name: "round trip", Expr: `json.decode(json.encode({"name": "test", "value": 42, "l": [True, None]})) == {"name": "test", "value": 42, "l": [True, None]}`, Want: `True`},
		{Name: "trailing data", Expr: `json.decode("1 2")`, Err: `json.decode: invalid character '2' after top-level value`},
		{Name: "empty", Expr: `json.decode("")`, Err: `json.decode: unexpected end of JSON input`},
		{Name: "syntax", Expr: `json.decode("{'a': 1}")`, Err: `json.decode: invalid character '\'' looking for beginning of object key string`},
		{Name: "wrong type", Expr: `json.decode(42)`, Err: `json.decode: argument must be string or bytes, got int`},
		{Name: "no args", Expr: `json.decode()`, Err: `json.decode: expected 1 argument, got 0`},
		{Name: "try ok", Expr: `json.try_decode('{"a": [1]}')`, Want: `Result(ok=True, value={"a": [1.0]})`},
		{Name: "try error", Expr: `json.try_decode("{")`, Want: `Result(ok=False, error="json.decode: unexpected end of JSON input")`},
		{Name: "try wrong type", Expr: `json.try_decode([1])`, Want: `Result(ok=False, error="json.decode: argument must be string or bytes, got list")`},
	})
}

func TestObjects(t *testing.T) {
	runCases(t, options{}, []kitetest.Case{
		{Expr: `json.file("/some/config.json").path`, Want: `/some/config.json`},
		{Expr: `type(json.file("x"))`, Want: `json.file`},
		{Expr: `str(json.file("a\"b"))`, Want: `json.file("a\"b")`},
		{Expr: `bool(json.file("x")), bool(json.file(""))`, Want: `(True, False)`},
		{Expr: `dir(json.file("x"))`, Want: `["decode", "path", "try_decode"]`},
		{Expr: `{json.file("x"): 1}`, Err: `unhashable type: json.file`},
		{Expr: `json.file("x").try_path`, Err: `json.file has no .try_path field or method (did you mean .path?)`},
		{Expr: `json.file("x").decode(1)`, Err: `json.file.decode: takes no arguments`},
		{Expr: `json.file("x").decode(k=1)`, Err: `json.file.decode: takes no arguments`},
		{Expr: `json.file()`, Err: `json.file: expected 1 argument (path), got 0`},
		{Expr: `json.file("a", "b")`, Err: `json.file: expected 1 argument (path), got 2`},
		{Expr: `json.file(1)`, Err: `json.file: path must be a string, got int`},
		{Expr: `json.try_file("/some/path.json").value.path`, Want: `/some/path.json`},
		{Expr: `json.try_file(1)`, Want: `Result(ok=False, error="json.file: path must be a string, got int")`},

		{Pre: `d = {"a": [1]}`, Expr: `json.source(d).data == d`, Want: `True`},
		{Name: "data same object", Pre: "d = {}\nw = json.source(d)\nd[\"k\"] = 1", Expr: `w.data`, Want: `{"k": 1}`},
		{Expr: `type(json.source(1))`, Want: `json.writer`},
		{Expr: `str(json.source({}))`, Want: `json.writer(dict)`},
		{Expr: `str(json.source(None))`, Want: `json.writer(NoneType)`},
		{Expr: `bool(json.source(None)), bool(json.source(0))`, Want: `(False, True)`},
		{Expr: `dir(json.source(1))`, Want: `["data", "encode", "try_encode", "try_write_file", "write_file"]`},
		{Expr: `{json.source(1): 1}`, Err: `unhashable type: json.writer`},
		{Expr: `json.source()`, Err: `json.source: expected 1 argument (data), got 0`},
		{Expr: `json.source(1, 2)`, Err: `json.source: expected 1 argument (data), got 2`},
		{Expr: `json.source(1, k=2).data`, Want: `1`},
		{Expr: `json.try_source({"a": 1}).value.data`, Want: `{"a": 1}`},

		{Name: "encode compact", Expr: `json.source({"k": [1, 2]}).encode()`, Want: `{"k":[1,2]}`},
		{Name: "encode indent", Expr: `json.source({"k": [1, 2]}).encode(indent="  ")`, Want: "{\n  \"k\": [\n    1,\n    2\n  ]\n}"},
		{Name: "encode prefix", Expr: `json.source([1]).encode(indent="\t", prefix="> ")`, Want: "[\n> \t1\n> ]"},
		{Name: "prefix without indent", Expr: `json.source([1]).encode(prefix="> ")`, Want: `[1]`},
		{Name: "non-str keyword ignored", Expr: `json.source([1]).encode(indent=4)`, Want: `[1]`},
		{Name: "encode unknown keyword", Expr: `json.source(1).encode(x=1)`, Err: `json.writer.encode: unexpected keyword argument "x"`},
		{Name: "encode positional", Expr: `json.source(1).encode("  ")`, Err: `json.writer.encode: unexpected positional argument at index 0`},
		{Name: "encode error", Expr: `json.source(float("nan")).encode()`, Err: `json.writer.encode: json: unsupported value: NaN`},
		{Name: "try_encode", Expr: `json.source([1]).try_encode()`, Want: `Result(ok=True, value="[1]")`},
		{Name: "try_encode error", Expr: `json.source(json).try_encode()`, Want: `Result(ok=False, error="json.writer.encode: unsupported type: module")`},

		{Name: "write_file no path", Expr: `json.source(1).write_file()`, Err: `json.writer.write_file: missing required argument: path`},
		{Name: "write_file two paths", Expr: `json.source(1).write_file("a", "b")`, Err: `json.writer.write_file: expected 1 positional argument (path), got 2`},
		{Name: "write_file bad path", Expr: `json.source(1).write_file(1)`, Err: `json.writer.write_file: path must be a string, got int`},
		{Name: "write_file bad keyword", Expr: `json.source(1).write_file("p", mode=1)`, Err: `json.writer.write_file: unexpected keyword argument "mode"`},
		{Name: "try_write_file binding", Expr: `json.source(1).try_write_file()`, Want: `Result(ok=False, error="json.writer.write_file: missing required argument: path")`},

		{Name: "namespace", Expr: `dir(json)`, Want: `["decode", "encode", "file", "source", "try_decode", "try_encode", "try_file", "try_source"]`},
		{Expr: `type(json)`, Want: `module`},
		{Expr: `json.try_nope`, Err: `module has no .try_nope field or method (did you mean .try_encode?)`},
	})
}

func TestFileIO(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return kitetest.WriteFile(t, filepath.Join(dir, name), content) }
	missing := filepath.Join(dir, "missing.json")
	for _, c := range []struct {
		name, content, want string
	}{
		{"object", `{"name":"svc","count":5}`, `{"name": "svc", "count": 5.0}`},
		{"list", `[1,2,3]`, `[1.0, 2.0, 3.0]`},
		{"string", `"hello"`, `"hello"`},
		{"number", ` 42 `, `42.0`},
		{"true", `true`, `True`},
		{"null", "null\n", `None`},
	} {
		t.Run("decode "+c.name, func(t *testing.T) {
			p := write(c.name+".json", c.content)
			got, msg, _ := run(t, options{}, "", `repr(json.file(`+quote(p)+`).decode())`)
			if msg != "" || got != c.want {
				t.Fatalf("= %s (%s), want %s", got, msg, c.want)
			}
		})
	}

	runCases(t, options{}, []kitetest.Case{
		{Name: "decode missing", Expr: `json.file(` + quote(missing) + `).decode()`,
			Err: `json.file.decode: open ` + missing + `: no such file or directory`},
		{Name: "try_decode missing", Expr: `json.file(` + quote(missing) + `).try_decode()`,
			Want: `Result(ok=False, error="json.file.decode: open ` + missing + `: no such file or directory")`},
		{Name: "decode invalid", Expr: `json.file(` + quote(write("bad.json", "{\"a\": }")) + `).decode()`,
			Err: `json.file.decode: invalid character '}' looking for beginning of value`},
		{Name: "try_decode ok", Expr: `json.file(` + quote(write("ok.json", `{"a": [1]}`)) + `).try_decode()`,
			Want: `Result(ok=True, value={"a": [1.0]})`},
		{Name: "decode directory", Expr: `json.file(` + quote(dir) + `).decode()`,
			Err: `json.file.decode: read ` + dir + `: is a directory`},
		{Name: "decode empty path", Expr: `json.file("").decode()`,
			Err: `json.file.decode: open : no such file or directory`},
		{Name: "write into missing dir", Expr: `json.source(1).write_file(` + quote(filepath.Join(dir, "no", "x.json")) + `)`,
			Err: `json.writer.write_file: open ` + filepath.Join(dir, "no", "x.json") + `: no such file or directory`},
		{Name: "write encode error", Expr: `json.source(float("nan")).write_file(` + quote(filepath.Join(dir, "nan.json")) + `)`,
			Err: `json.writer.write_file: json: unsupported value: NaN`},
	})

	writes := []struct {
		name, data, kw, want string
	}{
		{"compact", `{"name": "svc"}`, ``, `{"name":"svc"}`},
		{"list compact", `[1, 2, 3]`, ``, `[1,2,3]`},
		{"indented has trailing newline", `{"k": [1, 2]}`, `, indent="  "`, "{\n  \"k\": [\n    1,\n    2\n  ]\n}\n"},
		{"prefix only", `[1]`, `, prefix="#"`, `[1]`},
	}
	for _, c := range writes {
		t.Run("write "+c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".json")
			got, msg, _ := run(t, options{}, "", `json.source(`+c.data+`).write_file(`+quote(p)+c.kw+`)`)
			if msg != "" || got != "None" {
				t.Fatalf("= %s (%s)", got, msg)
			}
			kitetest.WantFile(t, p, c.want)
		})
	}

	t.Run("write truncates", func(t *testing.T) {
		p := write("trunc.json", strings.Repeat("x", 100))
		if _, msg, _ := run(t, options{}, "", `json.source(1).write_file(`+quote(p)+`)`); msg != "" {
			t.Fatal(msg)
		}
		if b, _ := os.ReadFile(p); string(b) != "1" {
			t.Fatalf("file = %q", b)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		p := filepath.Join(dir, "rt.json")
		pre := `data = {"items": ["a", "b"], "nested": {"deep": [1, {"x": True}]}, "flag": False, "n": 7, "s": "str", "big": 12345678901234567890}
json.source(data).write_file(` + quote(p) + `, indent="  ")
back = json.file(` + quote(p) + `).decode()`
		got, msg, _ := run(t, options{}, pre, `back == data and type(back["big"]) == "int"`)
		if msg != "" || got != "True" {
			t.Fatalf("= %s (%s)", got, msg)
		}
	})

	t.Run("relative path reported as given", func(t *testing.T) {
		t.Chdir(dir)
		got, msg, _ := run(t, options{}, `json.source({"r": 1}).write_file("rel.json")`, `json.file("rel.json").decode()`)
		if msg != "" || got != `{"r": 1.0}` {
			t.Fatalf("= %s (%s)", got, msg)
		}
		_, msg, _ = run(t, options{}, "", `json.file("nope.json").decode()`)
		if msg != "json.file.decode: open nope.json: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
	})
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	existing := kitetest.WriteFile(t, filepath.Join(dir, "existing.json"), `{"a": 1}`)
	target := filepath.Join(dir, "out.json")
	cases := []struct {
		name    string
		o       options
		expr    string
		wantErr []string // substrings of the raised error
		want    string   // for try_ forms: prefix of the Result repr
	}{
		{name: "sandbox denies write", o: options{sandboxed: true},
			expr:    `json.source({"a": 1}).write_file(` + quote(target) + `)`,
			wantErr: []string{"permission denied", "fs.write", "write", target}},
		{name: "sandbox denies write in dry run", o: options{sandboxed: true, dryRun: true},
			expr:    `json.source({"a": 1}).write_file(` + quote(target) + `)`,
			wantErr: []string{"permission denied", "fs.write"}},
		{name: "sandbox try_write_file", o: options{sandboxed: true},
			expr: `json.source({"a": 1}).try_write_file(` + quote(target) + `)`,
			want: `Result(ok=False, error="permission denied`},
		{name: "sandbox denies read", o: options{sandboxed: true},
			expr:    `json.file(` + quote(existing) + `).decode()`,
			wantErr: []string{"permission denied", "fs.read", "read_file", existing}},
		{name: "sandbox try_decode", o: options{sandboxed: true},
			expr: `json.file(` + quote(existing) + `).try_decode()`,
			want: `Result(ok=False, error="permission denied`},
		{name: "deny rule on writes", o: options{perms: libkite.AllowPermissions("fs.write")},
			expr:    `json.source(1).write_file(` + quote(target) + `)`,
			wantErr: []string{"permission denied", "blocked by deny rule: fs.write"}},
		{name: "deny rule leaves reads", o: options{perms: libkite.AllowPermissions("fs.write")},
			expr: `json.file(` + quote(existing) + `).decode()`,
			want: `{"a": 1.0}`},
		{name: "allow-fs: write outside cwd denied", o: options{perms: libkite.AllowFSPermissions()},
			expr:    `json.source(1).write_file(` + quote(target) + `)`,
			wantErr: []string{"permission denied", "no matching allow rule"}},
		{name: "sandbox: in-memory codec allowed", o: options{sandboxed: true},
			expr: `json.decode(json.source({"a": [1]}).encode())`,
			want: `{"a": [1.0]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, msg, err := run(t, c.o, "", c.expr)
			if c.wantErr != nil {
				for _, s := range c.wantErr {
					if !strings.Contains(msg, s) {
						t.Fatalf("error %q lacks %q", msg, s)
					}
				}
				if !libkite.IsPermissionError(err) {
					t.Fatalf("error is not a *PermissionError: %T %v", err, err)
				}
			} else if msg != "" || !strings.HasPrefix(got, c.want) {
				t.Fatalf("= %s (%s), want prefix %s", got, msg, c.want)
			}
			kitetest.NoFile(t, target)
		})
	}
}

func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	existing := kitetest.WriteFile(t, filepath.Join(dir, "existing.json"), `{"a": 1}`)
	target := filepath.Join(dir, "out.json")
	runCases(t, options{dryRun: true}, []kitetest.Case{
		{Name: "write skipped", Expr: `json.source({"a": 1}).write_file(` + quote(target) + `, indent="  ")`, Want: `None`},
		{Name: "try_write skipped", Expr: `json.source({"a": 1}).try_write_file(` + quote(target) + `)`, Want: `Result(ok=True, value=None)`},
		{Name: "encode error still raised", Expr: `json.source(float("nan")).write_file(` + quote(target) + `)`,
			Err: `json.writer.write_file: json: unsupported value: NaN`},
		{Name: "decode returns None", Expr: `json.file(` + quote(existing) + `).decode()`, Want: `None`},
		{Name: "decode missing returns None", Expr: `json.file(` + quote(filepath.Join(dir, "nope")) + `).decode()`, Want: `None`},
		{Name: "in-memory unaffected", Expr: `json.decode("[1]")`, Want: `[1.0]`},
	})
	kitetest.NoFile(t, target)
}

func TestConcurrentRuntimes(t *testing.T) {
	dir := t.TempDir()
	kitetest.EvalConcurrently(t, 8, func(t testing.TB) *libkite.Runtime { return newRuntime(t, options{}) }, func(i int) (string, string) {
		p := filepath.Join(dir, "c"+string(rune('a'+i))+".json")
		return `json.source({"i": ` + string(rune('0'+i)) + `}).write_file(` + quote(p) + `)`,
			`json.file(` + quote(p) + `).decode()["i"] == ` + string(rune('0'+i)) + ` and json.decode(json.encode([1, "x"])) == [1, "x"]`
	})
}

func TestModule(t *testing.T) {
	m := json.New()
	if m.Name() != "json" || m.FactoryMethod() != "" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestConformance(t *testing.T) {
	rt := newRuntime(t, options{store: libkite.MapVarStore{"json_test_dir": t.TempDir()}})
	kitetest.RunConformance(t, rt, "../../../tests/json_test.star", 1)
}

// quote renders s as a Starlark string literal.
var quote = kitetest.Lit
