package json_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

func newRuntime(t *testing.T, o options) *libkite.Runtime {
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

// run executes pre (statements) then evaluates expr in a fresh runtime.
// It returns the text of a str result (repr of anything else) or the
// error message the script would see, and the raw error.
func run(t *testing.T, o options, pre, expr string) (string, string, error) {
	t.Helper()
	rt := newRuntime(t, o)
	err := rt.Execute(context.Background(), pre+"\nout = "+expr+"\n")
	if err != nil {
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			return "", ee.Msg, err
		}
		return "", err.Error(), err
	}
	v, _ := rt.GetGlobalVal("out")
	if s, ok := v.(starlark.String); ok {
		return string(s), "", nil
	}
	return v.String(), "", nil
}

type evalCase struct {
	name, pre, expr string
	want            string // text of a str result, repr otherwise
	err             string // exact error message
}

func runCases(t *testing.T, o options, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = c.expr
		}
		t.Run(name, func(t *testing.T) {
			got, msg, _ := run(t, o, c.pre, c.expr)
			if msg != c.err {
				t.Fatalf("error = %q, want %q", msg, c.err)
			}
			if got != c.want {
				t.Fatalf("=\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	runCases(t, options{}, []evalCase{
		{name: "spec example", expr: `json.encode({"b": 1, "a": [1, 2.5, None, "x<y"]})`, want: `{"a":[1,2.5,null,"x\u003cy"],"b":1}`},
		{name: "keys sorted", expr: `json.encode({"z": 1, "a": {"y": 2, "b": 3}})`, want: `{"a":{"b":3,"y":2},"z":1}`},
		{expr: `json.encode({"name": "test", "value": 42})`, want: `{"name":"test","value":42}`},
		{expr: `json.encode([None, True, False])`, want: `[null,true,false]`},
		{expr: `json.encode(1.0)`, want: `1`},
		{expr: `json.encode(-0.0)`, want: `-0`},
		{expr: `json.encode(1e20)`, want: `100000000000000000000`},
		{expr: `json.encode(1e21)`, want: `1e+21`},
		{expr: `json.encode(0.000001)`, want: `0.000001`},
		{expr: `json.encode(1e-7)`, want: `1e-7`},
		{expr: `json.encode(0.1)`, want: `0.1`},
		{expr: `json.encode("a&b>c")`, want: `"a\u0026b\u003ec"`},
		{expr: `json.encode("\u2028\u2029é")`, want: `"\u2028\u2029é"`},
		{name: "bytes as base64", expr: `json.encode(b"hi")`, want: `"aGk="`},
		{expr: `json.encode((1, "a"))`, want: `[1,"a"]`},
		{name: "non-string keys as text", expr: `json.encode({2: "a", True: "b", None: "c", "k": 1})`, want: `{"2":"a","\u003cnil\u003e":"c","k":1,"true":"b"}`},
		{name: "int64 max", expr: `json.encode(9223372036854775807)`, want: `9223372036854775807`},
		{name: "int64 min", expr: `json.encode(-9223372036854775808)`, want: `-9223372036854775808`},
		{name: "uint64 range", expr: `json.encode(18446744073709551615)`, want: `18446744073709551615`},
		{name: "beyond uint64", expr: `json.encode(18446744073709551616)`, err: `json.encode: unsupported starlark.Int type`},
		{name: "NaN", expr: `json.encode(float("nan"))`, err: `json.encode: json: unsupported value: NaN`},
		{name: "Inf", expr: `json.encode([float("inf")])`, err: `json.encode: json: unsupported value: +Inf`},
		{name: "unsupported type", expr: `json.encode({"f": json.file("x")})`, err: `json.encode: unsupported type: json.file`},
		{name: "function", pre: "def f(): pass", expr: `json.encode(f)`, err: `json.encode: unsupported type: function`},
		{name: "cycle", pre: "l = []\nl.append(l)", expr: `json.encode(l)`, err: `json.encode: unsupported value: cycle via list`},
		{name: "shared not cyclic", pre: "x = [1]", expr: `json.encode([x, x, {"a": x}])`, want: `[[1],[1],{"a":[1]}]`},
		{name: "set as array (kite)", expr: `json.encode(set([3, 1]))`, want: `[3,1]`},
		{name: "keywords ignored", expr: `json.encode(1, indent="  ")`, want: `1`},
		{name: "no args", expr: `json.encode()`, err: `json.encode: expected 1 argument, got 0`},
		{name: "two args", expr: `json.encode(1, 2)`, err: `json.encode: expected 1 argument, got 2`},
		{name: "try ok", expr: `json.try_encode({"key": "value"})`, want: `Result(ok=True, value="{\"key\":\"value\"}")`},
		{name: "try error", expr: `json.try_encode(float("nan"))`, want: `Result(ok=False, error="json.encode: json: unsupported value: NaN")`},
		{name: "try binding error", expr: `json.try_encode()`, want: `Result(ok=False, error="json.encode: expected 1 argument, got 0")`},
	})
}

func TestDecode(t *testing.T) {
	runCases(t, options{}, []evalCase{
		{expr: `json.decode('{"a": 1}')["a"] == 1`, want: `True`},
		{name: "numbers are floats", expr: `json.decode("42")`, want: `42.0`},
		{expr: `json.decode("-0")`, want: `-0.0`},
		{expr: `json.decode("1.5e3")`, want: `1500.0`},
		{name: "2^53 exact as float", expr: `json.decode("9007199254740992")`, want: `9.007199254740992e+15`},
		{name: "2^53+1 stays int", expr: `json.decode("9007199254740993")`, want: `9007199254740993`},
		{name: "big int exact", expr: `json.decode("12345678901234567890")`, want: `12345678901234567890`},
		{name: "huge int exact", expr: `json.decode("-1" + "0" * 400)`, want: "-1" + strings.Repeat("0", 400)},
		{name: "float text >= 2^53 decodes to the literal's exact int", expr: `json.decode(json.encode(1.0000000000000001e18))`, want: `1000000000000000100`},
		{name: "float overflow", expr: `json.decode("1e400")`, err: `json.decode: json: cannot unmarshal number 1e400 into Go value of type float64`},
		{name: "document key order", expr: `json.decode('{"b": 1, "a": {"d": 2, "c": 3}}')`, want: `{"b": 1.0, "a": {"d": 2.0, "c": 3.0}}`},
		{name: "duplicate keys last wins", expr: `json.decode('{"a": 1, "b": 2, "a": 3}')`, want: `{"a": 3.0, "b": 2.0}`},
		{expr: `json.decode(' [1, "x", true, false, null, [], {}] ')`, want: `[1.0, "x", True, False, None, [], {}]`},
		{expr: `json.decode('"\\u00e9\\n"')`, want: "é\n"},
		{name: "bytes input", expr: `json.decode(b'{"k": "v"}')`, want: `{"k": "v"}`},
		{name: "result mutable", expr: `json.decode("[1]") + [2]`, want: `[1.0, 2]`},
		{name: "round trip", expr: `json.decode(json.encode({"name": "test", "value": 42, "l": [True, None]})) == {"name": "test", "value": 42, "l": [True, None]}`, want: `True`},
		{name: "trailing data", expr: `json.decode("1 2")`, err: `json.decode: invalid character '2' after top-level value`},
		{name: "empty", expr: `json.decode("")`, err: `json.decode: unexpected end of JSON input`},
		{name: "syntax", expr: `json.decode("{'a': 1}")`, err: `json.decode: invalid character '\'' looking for beginning of object key string`},
		{name: "wrong type", expr: `json.decode(42)`, err: `json.decode: argument must be string or bytes, got int`},
		{name: "no args", expr: `json.decode()`, err: `json.decode: expected 1 argument, got 0`},
		{name: "try ok", expr: `json.try_decode('{"a": [1]}')`, want: `Result(ok=True, value={"a": [1.0]})`},
		{name: "try error", expr: `json.try_decode("{")`, want: `Result(ok=False, error="json.decode: unexpected end of JSON input")`},
		{name: "try wrong type", expr: `json.try_decode([1])`, want: `Result(ok=False, error="json.decode: argument must be string or bytes, got list")`},
	})
}

func TestObjects(t *testing.T) {
	runCases(t, options{}, []evalCase{
		{expr: `json.file("/some/config.json").path`, want: `/some/config.json`},
		{expr: `type(json.file("x"))`, want: `json.file`},
		{expr: `str(json.file("a\"b"))`, want: `json.file("a\"b")`},
		{expr: `bool(json.file("x")), bool(json.file(""))`, want: `(True, False)`},
		{expr: `dir(json.file("x"))`, want: `["decode", "path", "try_decode"]`},
		{expr: `{json.file("x"): 1}`, err: `unhashable type: json.file`},
		{expr: `json.file("x").try_path`, err: `json.file has no .try_path field or method (did you mean .path?)`},
		{expr: `json.file("x").decode(1)`, err: `json.file.decode: takes no arguments`},
		{expr: `json.file("x").decode(k=1)`, err: `json.file.decode: takes no arguments`},
		{expr: `json.file()`, err: `json.file: expected 1 argument (path), got 0`},
		{expr: `json.file("a", "b")`, err: `json.file: expected 1 argument (path), got 2`},
		{expr: `json.file(1)`, err: `json.file: path must be a string, got int`},
		{expr: `json.try_file("/some/path.json").value.path`, want: `/some/path.json`},
		{expr: `json.try_file(1)`, want: `Result(ok=False, error="json.file: path must be a string, got int")`},

		{pre: `d = {"a": [1]}`, expr: `json.source(d).data == d`, want: `True`},
		{name: "data same object", pre: "d = {}\nw = json.source(d)\nd[\"k\"] = 1", expr: `w.data`, want: `{"k": 1}`},
		{expr: `type(json.source(1))`, want: `json.writer`},
		{expr: `str(json.source({}))`, want: `json.writer(dict)`},
		{expr: `str(json.source(None))`, want: `json.writer(NoneType)`},
		{expr: `bool(json.source(None)), bool(json.source(0))`, want: `(False, True)`},
		{expr: `dir(json.source(1))`, want: `["data", "encode", "try_encode", "try_write_file", "write_file"]`},
		{expr: `{json.source(1): 1}`, err: `unhashable type: json.writer`},
		{expr: `json.source()`, err: `json.source: expected 1 argument (data), got 0`},
		{expr: `json.source(1, 2)`, err: `json.source: expected 1 argument (data), got 2`},
		{expr: `json.source(1, k=2).data`, want: `1`},
		{expr: `json.try_source({"a": 1}).value.data`, want: `{"a": 1}`},

		{name: "encode compact", expr: `json.source({"k": [1, 2]}).encode()`, want: `{"k":[1,2]}`},
		{name: "encode indent", expr: `json.source({"k": [1, 2]}).encode(indent="  ")`, want: "{\n  \"k\": [\n    1,\n    2\n  ]\n}"},
		{name: "encode prefix", expr: `json.source([1]).encode(indent="\t", prefix="> ")`, want: "[\n> \t1\n> ]"},
		{name: "prefix without indent", expr: `json.source([1]).encode(prefix="> ")`, want: `[1]`},
		{name: "non-str keyword ignored", expr: `json.source([1]).encode(indent=4)`, want: `[1]`},
		{name: "encode unknown keyword", expr: `json.source(1).encode(x=1)`, err: `json.writer.encode: unexpected keyword argument "x"`},
		{name: "encode positional", expr: `json.source(1).encode("  ")`, err: `json.writer.encode: unexpected positional argument at index 0`},
		{name: "encode error", expr: `json.source(float("nan")).encode()`, err: `json.writer.encode: json: unsupported value: NaN`},
		{name: "try_encode", expr: `json.source([1]).try_encode()`, want: `Result(ok=True, value="[1]")`},
		{name: "try_encode error", expr: `json.source(json).try_encode()`, want: `Result(ok=False, error="json.writer.encode: unsupported type: module")`},

		{name: "write_file no path", expr: `json.source(1).write_file()`, err: `json.writer.write_file: missing required argument: path`},
		{name: "write_file two paths", expr: `json.source(1).write_file("a", "b")`, err: `json.writer.write_file: expected 1 positional argument (path), got 2`},
		{name: "write_file bad path", expr: `json.source(1).write_file(1)`, err: `json.writer.write_file: path must be a string, got int`},
		{name: "write_file bad keyword", expr: `json.source(1).write_file("p", mode=1)`, err: `json.writer.write_file: unexpected keyword argument "mode"`},
		{name: "try_write_file binding", expr: `json.source(1).try_write_file()`, want: `Result(ok=False, error="json.writer.write_file: missing required argument: path")`},

		{name: "namespace", expr: `dir(json)`, want: `["decode", "encode", "file", "source", "try_decode", "try_encode", "try_file", "try_source"]`},
		{expr: `type(json)`, want: `module`},
		{expr: `json.try_nope`, err: `module has no .try_nope field or method (did you mean .try_encode?)`},
	})
}

func TestFileIO(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
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

	runCases(t, options{}, []evalCase{
		{name: "decode missing", expr: `json.file(` + quote(missing) + `).decode()`,
			err: `json.file.decode: open ` + missing + `: no such file or directory`},
		{name: "try_decode missing", expr: `json.file(` + quote(missing) + `).try_decode()`,
			want: `Result(ok=False, error="json.file.decode: open ` + missing + `: no such file or directory")`},
		{name: "decode invalid", expr: `json.file(` + quote(write("bad.json", "{\"a\": }")) + `).decode()`,
			err: `json.file.decode: invalid character '}' looking for beginning of value`},
		{name: "try_decode ok", expr: `json.file(` + quote(write("ok.json", `{"a": [1]}`)) + `).try_decode()`,
			want: `Result(ok=True, value={"a": [1.0]})`},
		{name: "decode directory", expr: `json.file(` + quote(dir) + `).decode()`,
			err: `json.file.decode: read ` + dir + `: is a directory`},
		{name: "decode empty path", expr: `json.file("").decode()`,
			err: `json.file.decode: open : no such file or directory`},
		{name: "write into missing dir", expr: `json.source(1).write_file(` + quote(filepath.Join(dir, "no", "x.json")) + `)`,
			err: `json.writer.write_file: open ` + filepath.Join(dir, "no", "x.json") + `: no such file or directory`},
		{name: "write encode error", expr: `json.source(float("nan")).write_file(` + quote(filepath.Join(dir, "nan.json")) + `)`,
			err: `json.writer.write_file: json: unsupported value: NaN`},
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
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != c.want {
				t.Fatalf("file = %q, want %q", b, c.want)
			}
			fi, _ := os.Stat(p)
			if fi.Mode().Perm()&^0o644 != 0 {
				t.Fatalf("mode = %v, want at most 0644", fi.Mode().Perm())
			}
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
	existing := filepath.Join(dir, "existing.json")
	if err := os.WriteFile(existing, []byte(`{"a": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
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
			if _, err := os.Stat(target); !os.IsNotExist(err) {
				t.Fatalf("%s exists after a denied or simulated write", target)
			}
		})
	}
}

func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.json")
	if err := os.WriteFile(existing, []byte(`{"a": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "out.json")
	runCases(t, options{dryRun: true}, []evalCase{
		{name: "write skipped", expr: `json.source({"a": 1}).write_file(` + quote(target) + `, indent="  ")`, want: `None`},
		{name: "try_write skipped", expr: `json.source({"a": 1}).try_write_file(` + quote(target) + `)`, want: `Result(ok=True, value=None)`},
		{name: "encode error still raised", expr: `json.source(float("nan")).write_file(` + quote(target) + `)`,
			err: `json.writer.write_file: json: unsupported value: NaN`},
		{name: "decode returns None", expr: `json.file(` + quote(existing) + `).decode()`, want: `None`},
		{name: "decode missing returns None", expr: `json.file(` + quote(filepath.Join(dir, "nope")) + `).decode()`, want: `None`},
		{name: "in-memory unaffected", expr: `json.decode("[1]")`, want: `[1.0]`},
	})
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("dry run wrote %s", target)
	}
}

func TestConcurrentRuntimes(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := filepath.Join(dir, "c"+string(rune('a'+i))+".json")
			got, msg, _ := run(t, options{}, `json.source({"i": `+string(rune('0'+i))+`}).write_file(`+quote(p)+`)`,
				`json.file(`+quote(p)+`).decode()["i"] == `+string(rune('0'+i))+` and json.decode(json.encode([1, "x"])) == [1, "x"]`)
			if msg != "" || got != "True" {
				t.Errorf("goroutine %d: %s (%s)", i, got, msg)
			}
		}()
	}
	wg.Wait()
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
func quote(s string) string { return starlark.String(s).String() }
