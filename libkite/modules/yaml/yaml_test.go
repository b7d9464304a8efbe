package yaml_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/yaml"
)

func TestEncode(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "spec example", Expr: `yaml.encode({"name": "svc", "ports": [80, 443]})`, Want: "name: svc\nports:\n    - 80\n    - 443\n"},
		{Name: "keys sorted", Expr: `yaml.encode({"z": 1, "a": {"y": 2, "b": 3}})`, Want: "a:\n    b: 3\n    \"y\": 2\nz: 1\n"},
		{Name: "map in sequence", Expr: `yaml.encode({"k": [{"a": 1, "b": [2]}]})`, Want: "k:\n    - a: 1\n      b:\n        - 2\n"},
		{Name: "scalar doc", Expr: `yaml.encode("hello")`, Want: "hello\n"},
		{Name: "empty list", Expr: `yaml.encode([])`, Want: "[]\n"},
		{Name: "empty dict", Expr: `yaml.encode({})`, Want: "{}\n"},
		{Expr: `yaml.encode(1.0)`, Want: "1\n"},
		{Expr: `yaml.encode(0.5)`, Want: "0.5\n"},
		{Expr: `yaml.encode(1e21)`, Want: "1e+21\n"},
		{Expr: `yaml.encode(True)`, Want: "true\n"},
		{Expr: `yaml.encode(None)`, Want: "null\n"},
		{Expr: `yaml.encode(18446744073709551615)`, Want: "18446744073709551615\n"},
		{Name: "ambiguous strings double-quoted", Expr: `yaml.encode(["yes", "123", "true", "null", ""])`,
			Want: "- \"yes\"\n- \"123\"\n- \"true\"\n- \"null\"\n- \"\"\n"},
		{Name: "1.1 bool keys quoted", Expr: `yaml.encode({"y": "n"})`, Want: "\"y\": \"n\"\n"},
		{Name: "structure chars single-quoted", Expr: `yaml.encode(["a: b", " x"])`, Want: "- 'a: b'\n- ' x'\n"},
		{Name: "multi-line literal", Expr: `yaml.encode({"m": "a\nb"})`, Want: "m: |-\n    a\n    b\n"},
		{Name: "tuple as sequence", Expr: `yaml.encode((1, "a"))`, Want: "- 1\n- a\n"},
		{Name: "bytes as byte values", Expr: `yaml.encode(b"hi")`, Want: "- 104\n- 105\n"},
		{Name: "int keys", Expr: `yaml.encode({2: "b", 1: "a"})`, Want: "1: a\n2: b\n"},
		{Name: "arity 0", Expr: `yaml.encode()`, Err: `yaml.encode: expected 1 argument, got 0`},
		{Name: "arity 2", Expr: `yaml.encode(1, 2)`, Err: `yaml.encode: expected 1 argument, got 2`},
		{Name: "unsupported unprefixed", Expr: `yaml.encode({"f": yaml.file("x")})`, Err: `unsupported type: yaml.file`},
		{Name: "function", Pre: "def f(): pass", Expr: `yaml.encode(f)`, Err: `unsupported type: function`},
		{Name: "beyond uint64", Expr: `yaml.encode(18446744073709551616)`, Err: `unsupported starlark.Int type`},
		{Name: "cycle", Pre: "l = []\nl.append(l)", Expr: `yaml.encode(l)`, Err: `unsupported value: cycle via list`},
		{Name: "try_encode", Expr: `yaml.try_encode({"key": "value"})`, Want: `Result(ok=True, value="key: value\n")`},
		{Name: "try_encode error", Expr: `yaml.try_encode(yaml)`, Want: `Result(ok=False, error="unsupported type: module")`},
	})
}

func TestEncodeAll(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "joined", Expr: `yaml.encode_all([{"kind": "A"}, {"kind": "B"}])`, Want: "kind: A\n---\nkind: B\n"},
		{Name: "one", Expr: `yaml.encode_all([1])`, Want: "1\n"},
		{Name: "empty", Expr: `yaml.encode_all([])`, Want: ""},
		{Name: "mixed", Expr: `yaml.encode_all([[], {}, "x"])`, Want: "[]\n---\n{}\n---\nx\n"},
		{Name: "tuple refused", Expr: `yaml.encode_all(({"a": 1},))`, Err: `yaml.encode_all: expected list, got tuple`},
		{Name: "dict refused", Expr: `yaml.encode_all({})`, Err: `yaml.encode_all: expected list, got dict`},
		{Name: "arity", Expr: `yaml.encode_all()`, Err: `yaml.encode_all: expected 1 argument, got 0`},
		{Name: "item error", Expr: `yaml.encode_all([1, yaml])`, Err: `yaml.encode_all[1]: unsupported type: module`},
		{Name: "try_encode_all", Expr: `yaml.try_encode_all([{"a": 1}, {"b": 2}])`, Want: `Result(ok=True, value="a: 1\n---\nb: 2\n")`},
		{Name: "try_encode_all error", Expr: `yaml.try_encode_all("x")`, Want: `Result(ok=False, error="yaml.encode_all: expected list, got string")`},
		{Name: "round trip", Pre: `docs = [{"a": [1, 2]}, None, "s", {"b": {"c": True}}]`,
			Expr: `yaml.decode_all(yaml.encode_all(docs)) == docs`, Want: "True"},
	})
}

func TestDecode(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "mapping", Expr: `yaml.decode("name: svc\nversion: 1\n")`, Want: `{"name": "svc", "version": 1}`},
		{Name: "document order", Expr: `list(yaml.decode("b: 1\na: 2\nc: 3\n").keys())`, Want: `["b", "a", "c"]`},
		{Name: "sequence", Expr: `yaml.decode("- a\n- b\n- c\n")`, Want: `["a", "b", "c"]`},
		{Name: "nested", Expr: `yaml.decode("a:\n  b:\n    c: [1, {d: e}]\n")["a"]["b"]["c"][1]["d"]`, Want: `e`},
		{Name: "int keys stay ints", Expr: `yaml.decode("1: one\n2: two\n")`, Want: `{1: "one", 2: "two"}`},
		{Name: "hex int", Expr: `yaml.decode("0x1F")`, Want: `31`},
		{Name: "octal", Expr: `yaml.decode("[0o17, 017, 1_000]")`, Want: `[15, 15, 1000]`},
		{Name: "floats", Expr: `yaml.decode("[1.5, 1e3, .inf, -.Inf]")`, Want: `[1.5, 1000.0, +inf, -inf]`},
		{Name: "nan", Expr: `str(yaml.decode(".nan"))`, Want: `nan`},
		{Name: "only true/false are bools", Expr: `yaml.decode("[true, false, True, yes, on, no, off]")`, Want: `[True, False, True, "yes", "on", "no", "off"]`},
		{Name: "nulls", Expr: `yaml.decode("[null, ~, ]")`, Want: `[None, None]`},
		{Name: "empty value", Expr: `yaml.decode("a:\nb: 1")`, Want: `{"a": None, "b": 1}`},
		{Name: "quoted scalars are str", Expr: `yaml.decode("['1', \"true\", 'null']")`, Want: `["1", "true", "null"]`},
		{Name: "timestamp kept as text", Expr: `yaml.decode("d: 2024-01-01\nt: 2024-01-01T10:00:00Z\ne: !!timestamp 2001-12-14")`,
			Want: `{"d": "2024-01-01", "t": "2024-01-01T10:00:00Z", "e": "2001-12-14"}`},
		{Name: "explicit tags", Expr: `yaml.decode("[!!str 12, !!float 1, !!binary aGk=, !custom x]")`, Want: `["12", 1.0, "hi", "x"]`},
		{Name: "uint64", Expr: `yaml.decode("18446744073709551615")`, Want: `18446744073709551615`},
		{Name: "beyond uint64 is float", Expr: `yaml.decode("99999999999999999999")`, Want: `1e+20`},
		{Name: "anchors and aliases", Expr: `yaml.decode("a: &x [1, 2]\nb: *x\n")`, Want: `{"a": [1, 2], "b": [1, 2]}`},
		{Name: "aliases are copies", Pre: `d = yaml.decode("a: &x [1]\nb: *x\n")`, Expr: `d["a"].append(2) or d`, Want: `{"a": [1, 2], "b": [1]}`},
		{Name: "merge keys", Expr: `yaml.decode("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n  z: 4\n")["d"]`, Want: `{"y": 3, "z": 4, "x": 1}`},
		{Name: "merge sequence earlier wins", Expr: `yaml.decode("a: &a {k: 1, p: 1}\nb: &b {k: 2, q: 2}\nc:\n  <<: [*a, *b]\n")["c"]`, Want: `{"k": 1, "p": 1, "q": 2}`},
		{Name: "bad merge", Expr: `yaml.decode("a: &a [1]\nb:\n  <<: *a\n")`, Err: `yaml: map merge requires map or sequence of maps as the value`},
		{Name: "flow style", Expr: `yaml.decode("{a: [1, 2], b: {c: d}}")`, Want: `{"a": [1, 2], "b": {"c": "d"}}`},
		{Name: "bool and null keys", Expr: `yaml.decode("true: a\n~: b\n1.5: c")`, Want: `{True: "a", None: "b", 1.5: "c"}`},
		{Name: "first document only", Expr: `yaml.decode("a: 1\n---\nb: [unclosed")`, Want: `{"a": 1}`},
		{Name: "empty", Expr: `yaml.decode("")`, Want: `None`},
		{Name: "lone separator", Expr: `yaml.decode("---")`, Want: `None`},
		{Name: "comment only", Expr: `yaml.decode("# nothing\n")`, Want: `None`},
		{Name: "scalar", Expr: `yaml.decode("hello")`, Want: `hello`},
		{Name: "bytes input", Expr: `yaml.decode(b"name: demo\nversion: 1")`, Want: `{"name": "demo", "version": 1}`},
		{Name: "syntax error unprefixed", Expr: `yaml.decode("key: [unclosed")`, Err: `yaml: line 1: did not find expected ',' or ']'`},
		{Name: "duplicate keys", Expr: `yaml.decode("a: 1\na: 2")`, Err: "yaml: unmarshal errors:\n  line 2: mapping key \"a\" already defined at line 1"},
		{Name: "several duplicate keys", Expr: `yaml.decode("a: 1\na: 2\nb: {c: 1, c: 2}")`,
			Err: "yaml: unmarshal errors:\n  line 2: mapping key \"a\" already defined at line 1"},
		{Name: "nested duplicate keys reported together", Expr: `yaml.decode("x: {a: 1, a: 2}\ny: {b: 1, b: 2}")`,
			Err: "yaml: unmarshal errors:\n  line 1: mapping key \"a\" already defined at line 1\n  line 2: mapping key \"b\" already defined at line 2"},
		{Name: "self-referencing anchor", Expr: `yaml.decode("a: &a [*a]")`, Err: `yaml: anchor 'a' value contains itself`},
		{Name: "unknown anchor", Expr: `yaml.decode("a: *nope")`, Err: `yaml: unknown anchor 'nope' referenced`},
		{Name: "unhashable key", Expr: `yaml.decode("? [1, 2]\n: x")`, Err: `yaml: invalid map key: []interface {}{1, 2}`},
		{Name: "bad explicit tag", Expr: `yaml.decode("!!int abc")`, Err: "yaml: cannot decode !!str `abc` as a !!int"},
		{Name: "bad explicit null", Expr: `yaml.decode("!!null abc")`, Err: "yaml: cannot decode !!str `abc` as a !!null"},
		{Name: "bad explicit timestamp", Expr: `yaml.decode("!!timestamp abc")`, Err: "yaml: cannot decode !!str `abc` as a !!timestamp"},
		{Name: "explicit good tags", Expr: `yaml.decode("[!!null ~, !!bool true, !!int 7, !!timestamp 2001-12-14]")`, Want: `[None, True, 7, "2001-12-14"]`},
		{Name: "too deep", Expr: `yaml.decode("[" * 20000 + "]" * 20000)`, Err: `yaml: exceeded max depth of 10000`},
		{Name: "encode too deep", Pre: "v = None\ndef nest():\n    x = None\n    for _ in range(20000):\n        x = [x]\n    return x", Expr: `yaml.encode(nest())`,
			Err: `value nested more than 10000 levels deep (cyclic value?)`},
		{Name: "bad arg type", Expr: `yaml.decode(1)`, Err: `yaml.decode: argument must be string or bytes, got int`},
		{Name: "arity", Expr: `yaml.decode("a", "b")`, Err: `yaml.decode: expected 1 argument, got 2`},
		{Name: "try_decode ok", Expr: `yaml.try_decode(b"a: 1")`, Want: `Result(ok=True, value={"a": 1})`},
		{Name: "try_decode syntax", Expr: `yaml.try_decode("key: [unclosed")`, Want: `Result(ok=False, error="yaml: line 1: did not find expected ',' or ']'")`},
		{Name: "try_decode type", Expr: `yaml.try_decode(42)`, Want: `Result(ok=False, error="yaml.decode: argument must be string or bytes, got int")`},
	})
}

func TestDecodeAll(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "two docs", Expr: `yaml.decode_all("name: first\n---\nname: second\n")`, Want: `[{"name": "first"}, {"name": "second"}]`},
		{Name: "one doc", Expr: `yaml.decode_all("a: 1")`, Want: `[{"a": 1}]`},
		{Name: "empty", Expr: `yaml.decode_all("")`, Want: `[]`},
		{Name: "leading separator", Expr: `yaml.decode_all("---\na: 1\n")`, Want: `[{"a": 1}]`},
		{Name: "empty doc between", Expr: `yaml.decode_all("a: 1\n---\n---\nb: 2\n")`, Want: `[{"a": 1}, None, {"b": 2}]`},
		{Name: "end markers", Expr: `yaml.decode_all("a: 1\n...\n---\nb: 2\n...\n")`, Want: `[{"a": 1}, {"b": 2}]`},
		{Name: "list docs", Expr: `yaml.decode_all("- a\n- b\n---\n- c\n- d\n")[1][0]`, Want: `c`},
		{Name: "type", Expr: `type(yaml.decode_all("a: 1"))`, Want: `list`},
		{Name: "bytes input", Expr: `yaml.decode_all(b"a: 1\n---\nb: 2")`, Want: `[{"a": 1}, {"b": 2}]`},
		{Name: "bad doc fails the call", Expr: `yaml.decode_all("valid: doc\n---\nkey: [unclosed")`, Err: `yaml.decode_all: yaml: line 2: did not find expected ',' or ']'`},
		{Name: "duplicate key in second doc", Expr: `yaml.decode_all("a: 1\n---\nb: 1\nb: 2\n")`,
			Err: "yaml.decode_all: yaml: unmarshal errors:\n  line 4: mapping key \"b\" already defined at line 3"},
		{Name: "anchors carry over documents (yaml.v3)", Expr: `yaml.decode_all("a: &x 1\n---\nb: *x\n")`, Want: `[{"a": 1}, {"b": 1}]`},
		{Name: "bad arg", Expr: `yaml.decode_all([1, 2])`, Err: `yaml.decode_all: argument must be string or bytes, got list`},
		{Name: "try_decode_all bad arg", Expr: `yaml.try_decode_all([1, 2])`, Want: `Result(ok=False, error="yaml.decode_all: argument must be string or bytes, got list")`},
		{Name: "try_decode_all", Expr: `yaml.try_decode_all("a: 1\n---\nb: 2")`, Want: `Result(ok=True, value=[{"a": 1}, {"b": 2}])`},
	})
}

func TestObjects(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `yaml.file("/some/config.yaml").path`, Want: `/some/config.yaml`},
		{Expr: `type(yaml.file("x"))`, Want: `yaml.file`},
		{Expr: `str(yaml.file("/a b"))`, Want: `yaml.file("/a b")`},
		{Expr: `dir(yaml.file("x"))`, Want: `["decode", "decode_all", "path", "try_decode", "try_decode_all"]`},
		{Expr: `bool(yaml.file(""))`, Want: `False`},
		{Expr: `bool(yaml.file("x"))`, Want: `True`},
		{Expr: `{yaml.file("x"): 1}`, Err: `unhashable type: yaml.file`},
		{Expr: `yaml.file("x").try_path`, Err: `yaml.file has no .try_path field or method (did you mean .path?)`},
		{Expr: `yaml.file()`, Err: `yaml.file: expected 1 argument (path), got 0`},
		{Expr: `yaml.file("a", "b")`, Err: `yaml.file: expected 1 argument (path), got 2`},
		{Expr: `yaml.file(1)`, Err: `yaml.file: path must be a string, got int`},
		{Expr: `yaml.try_file("/p.yaml").value.path`, Want: `/p.yaml`},
		{Expr: `yaml.try_file(1)`, Want: `Result(ok=False, error="yaml.file: path must be a string, got int")`},
		{Expr: `yaml.file("x").decode(1)`, Err: `yaml.file.decode: takes no arguments`},
		{Expr: `yaml.file("x").decode_all(k=1)`, Err: `yaml.file.decode_all: takes no arguments`},
		{Expr: `yaml.file("x").try_decode(1)`, Want: `Result(ok=False, error="yaml.file.decode: takes no arguments")`},

		{Name: "data is the same object", Pre: `d = {"a": [1]}`, Expr: `yaml.source(d).data.update(b=2) or d`, Want: `{"a": [1], "b": 2}`},
		{Pre: `d = {"a": [1]}`, Expr: `yaml.source(d).data == d`, Want: `True`},
		{Expr: `type(yaml.source(1))`, Want: `yaml.writer`},
		{Expr: `str(yaml.source({}))`, Want: `yaml.writer(dict)`},
		{Expr: `str(yaml.source(None))`, Want: `yaml.writer(NoneType)`},
		{Expr: `dir(yaml.source(1))`, Want: `["data", "try_write_file", "write_file"]`},
		{Expr: `bool(yaml.source(None))`, Want: `False`},
		{Expr: `bool(yaml.source([]))`, Want: `True`},
		{Expr: `{yaml.source(1): 1}`, Err: `unhashable type: yaml.writer`},
		{Expr: `yaml.source(1).encode`, Err: `yaml.writer has no .encode field or method`},
		{Expr: `yaml.source()`, Err: `yaml.source: expected 1 argument (data), got 0`},
		{Expr: `yaml.try_source({"a": 1}).value.data`, Want: `{"a": 1}`},
		{Expr: `yaml.source(1).write_file()`, Err: `yaml.writer.write_file: expected 1 argument (path), got 0`},
		{Expr: `yaml.source(1).write_file("a", "b")`, Err: `yaml.writer.write_file: expected 1 argument (path), got 2`},
		{Expr: `yaml.source(1).write_file(1)`, Err: `yaml.writer.write_file: path must be a string, got int`},
		{Expr: `yaml.source(1).try_write_file()`, Want: `Result(ok=False, error="yaml.writer.write_file: expected 1 argument (path), got 0")`},

		{Name: "namespace", Expr: `dir(yaml)`, Want: `["decode", "decode_all", "encode", "encode_all", "file", "source", "try_decode", "try_decode_all", "try_encode", "try_encode_all", "try_file", "try_source"]`},
		{Expr: `type(yaml)`, Want: `module`},
		{Expr: `type(yaml.decode)`, Want: `builtin_function_or_method`},
		{Expr: `yaml.try_nope`, Err: `module has no .try_nope field or method (did you mean .try_encode?)`},
	})
}

func TestFileIO(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string { return kitetest.WriteFile(t, filepath.Join(dir, name), content) }
	missing := filepath.Join(dir, "missing.yaml")
	cfgFile := write("cfg.yaml", "name: svc\nversion: 1\nnested:\n  a: [1, 2]\n")
	listFile := write("list.yaml", "- a\n- b\n- c\n")
	multi := write("multi.yaml", "name: first\n---\nname: second\n")
	bad := write("bad.yaml", "a: 1\n---\nkey: [unclosed\n")
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "decode", Expr: `yaml.file(` + quote(cfgFile) + `).decode()`, Want: `{"name": "svc", "version": 1, "nested": {"a": [1, 2]}}`},
		{Name: "decode list", Expr: `len(yaml.file(` + quote(listFile) + `).decode())`, Want: `3`},
		{Name: "decode first doc", Expr: `yaml.file(` + quote(multi) + `).decode()`, Want: `{"name": "first"}`},
		{Name: "decode_all", Expr: `yaml.file(` + quote(multi) + `).decode_all()`, Want: `[{"name": "first"}, {"name": "second"}]`},
		{Name: "decode first of bad", Expr: `yaml.file(` + quote(bad) + `).decode()`, Want: `{"a": 1}`},
		{Name: "decode_all bad", Expr: `yaml.file(` + quote(bad) + `).decode_all()`, Err: `yaml.file.decode_all: yaml: line 2: did not find expected ',' or ']'`},
		{Name: "decode syntax error", Expr: `yaml.file(` + quote(write("bad1.yaml", "a: [")) + `).decode()`,
			Err: `yaml.file.decode: yaml: line 1: did not find expected node content`},
		{Name: "decode missing", Expr: `yaml.file(` + quote(missing) + `).decode()`, Err: `yaml.file.decode: open ` + missing + `: no such file or directory`},
		{Name: "decode_all missing", Expr: `yaml.file(` + quote(missing) + `).decode_all()`, Err: `yaml.file.decode_all: open ` + missing + `: no such file or directory`},
		{Name: "try_decode missing", Expr: `yaml.file(` + quote(missing) + `).try_decode()`,
			Want: `Result(ok=False, error="yaml.file.decode: open ` + missing + `: no such file or directory")`},
		{Name: "try_decode_all ok", Expr: `yaml.file(` + quote(multi) + `).try_decode_all()`, Want: `Result(ok=True, value=[{"name": "first"}, {"name": "second"}])`},
		{Name: "decode directory", Expr: `yaml.file(` + quote(dir) + `).decode()`, Err: `yaml.file.decode: read ` + dir + `: is a directory`},
		{Name: "decode empty path", Expr: `yaml.file("").decode()`, Err: `yaml.file.decode: open : no such file or directory`},
		{Name: "empty file", Expr: `[yaml.file(` + quote(write("empty.yaml", "")) + `).decode(), yaml.file(` + quote(dir+"/empty.yaml") + `).decode_all()]`, Want: `[None, []]`},
		{Name: "write into missing dir", Expr: `yaml.source(1).write_file(` + quote(filepath.Join(dir, "no", "x.yaml")) + `)`,
			Err: `yaml.writer.write_file: open ` + filepath.Join(dir, "no", "x.yaml") + `: no such file or directory`},
		{Name: "write encode error", Expr: `yaml.source({"f": yaml}).write_file(` + quote(filepath.Join(dir, "e.yaml")) + `)`,
			Err: `yaml.writer.write_file: unsupported type: module`},
		{Name: "write item error", Expr: `yaml.source([1, yaml]).write_file(` + quote(filepath.Join(dir, "e.yaml")) + `)`,
			Err: `yaml.writer.write_file[1]: unsupported type: module`},
	})
	kitetest.NoFile(t, filepath.Join(dir, "e.yaml")) // a failed write creates no file

	writes := []struct{ name, data, want string }{
		{"dict", `{"key": "value"}`, "key: value\n"},
		{"list is multi-doc", `[{"name": "first"}, {"name": "second"}]`, "name: first\n---\nname: second\n"},
		{"empty list", `[]`, ""},
		{"tuple is one doc", `(1, 2)`, "- 1\n- 2\n"},
		{"scalar", `"x"`, "x\n"},
		{"keywords ignored", `{"a": 1}`, "a: 1\n"},
	}
	for _, c := range writes {
		t.Run("write "+c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".yaml")
			got, msg, _ := kit.Eval(t, nil, "", `yaml.source(`+c.data+`).write_file(`+quote(p)+`, indent=2)`)
			if msg != "" || got != "None" {
				t.Fatalf("= %s (%s)", got, msg)
			}
			kitetest.WantFile(t, p, c.want)
		})
	}

	t.Run("write truncates", func(t *testing.T) {
		p := write("trunc.yaml", strings.Repeat("x", 100))
		if _, msg, _ := kit.Eval(t, nil, "", `yaml.source(1).write_file(`+quote(p)+`)`); msg != "" {
			t.Fatal(msg)
		}
		if b, _ := os.ReadFile(p); string(b) != "1\n" {
			t.Fatalf("file = %q", b)
		}
	})

	t.Run("failed write keeps old content", func(t *testing.T) {
		p := write("keep.yaml", "old: 1\n")
		_, msg, _ := kit.Eval(t, nil, "", `yaml.source([1, yaml]).write_file(`+quote(p)+`)`)
		if msg == "" {
			t.Fatal("no error")
		}
		if b, _ := os.ReadFile(p); string(b) != "old: 1\n" {
			t.Fatalf("file = %q", b)
		}
	})

	t.Run("round trips", func(t *testing.T) {
		p := filepath.Join(dir, "rt.yaml")
		pre := `data = {"items": ["a", "b"], "nested": {"deep": [1, {"x": True}]}, "flag": False, "n": 7, "f": 2.5, "s": "yes", "none": None}
yaml.source(data).write_file(` + quote(p) + `)
one = yaml.file(` + quote(p) + `).decode()
docs = [{"name": "first"}, {"name": "second"}]
yaml.source(docs).write_file(` + quote(p) + `)
many = yaml.file(` + quote(p) + `).decode_all()`
		got, msg, _ := kit.Eval(t, nil, pre, `one == data and many == docs`)
		if msg != "" || got != "True" {
			t.Fatalf("= %s (%s)", got, msg)
		}
	})

	t.Run("relative path reported as given", func(t *testing.T) {
		t.Chdir(dir)
		got, msg, _ := kit.Eval(t, nil, `yaml.source({"r": 1}).write_file("rel.yaml")`, `yaml.file("rel.yaml").decode()`)
		if msg != "" || got != `{"r": 1}` {
			t.Fatalf("= %s (%s)", got, msg)
		}
		_, msg, _ = kit.Eval(t, nil, "", `yaml.file("nope.yaml").decode()`)
		if msg != "yaml.file.decode: open nope.yaml: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
	})
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	existing := kitetest.WriteFile(t, filepath.Join(dir, "existing.yaml"), "a: 1\n")
	target := filepath.Join(dir, "out.yaml")
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	cases := []kitetest.PermCase{
		{Name: "write denied", Cfg: deny, Expr: `yaml.source({"a": 1}).write_file(` + quote(target) + `)`,
			ErrHas: []string{"permission denied: fs.write write(" + quote(target) + ")"}},
		{Name: "list write denied", Cfg: deny, Expr: `yaml.source([1, 2]).write_file(` + quote(target) + `)`,
			ErrHas: []string{"permission denied: fs.write write("}},
		{Name: "write denied in dry run", Cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions(), DryRun: true},
			Expr: `yaml.source(1).write_file(` + quote(target) + `)`, ErrHas: []string{"permission denied: fs.write write("}},
		{Name: "try_write_file denied", Cfg: deny, Expr: `yaml.source(1).try_write_file(` + quote(target) + `)`,
			Want: `Result(ok=False, error="permission denied: fs.write write(`},
		{Name: "decode denied", Cfg: deny, Expr: `yaml.file(` + quote(existing) + `).decode()`,
			ErrHas: []string{"permission denied: fs.read read_file(" + quote(existing) + ")"}},
		{Name: "decode_all denied", Cfg: deny, Expr: `yaml.file(` + quote(existing) + `).decode_all()`,
			ErrHas: []string{"permission denied: fs.read read_file("}},
		{Name: "decode denied in dry run", Cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions(), DryRun: true},
			Expr: `yaml.file(` + quote(existing) + `).decode()`, ErrHas: []string{"permission denied: fs.read read_file("}},
		{Name: "try_decode denied", Cfg: deny, Expr: `yaml.file(` + quote(existing) + `).try_decode()`,
			Want: `Result(ok=False, error="permission denied: fs.read read_file(`},
		{Name: "try_decode_all denied", Cfg: deny, Expr: `yaml.file(` + quote(existing) + `).try_decode_all()`,
			Want: `Result(ok=False, error="permission denied: fs.read read_file(`},
		{Name: "deny rule on writes", Cfg: &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")},
			Expr: `yaml.source(1).write_file(` + quote(target) + `)`, ErrHas: []string{"blocked by deny rule: fs.write"}},
		{Name: "deny rule leaves reads", Cfg: &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")},
			Expr: `yaml.file(` + quote(existing) + `).decode()`, Want: `{"a": 1}`},
		{Name: "in-memory codec ungated", Cfg: deny, Expr: `yaml.decode(yaml.encode_all([{"a": [1]}]))`, Want: `{"a": [1]}`},
		{Name: "factories ungated", Cfg: deny, Expr: `[yaml.file("x").path, yaml.source(1).data]`, Want: `["x", 1]`},
	}
	for i := range cases {
		if cases[i].ErrHas != nil {
			cases[i].ErrPrefix = "permission denied" // unprefixed by the module
		}
	}
	kitetest.RunPermCases(t, kit.Runtime, cases, func(t *testing.T) { kitetest.NoFile(t, target) })
}

func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	existing := kitetest.WriteFile(t, filepath.Join(dir, "existing.yaml"), "a: 1\n---\nb: 2\n")
	target := filepath.Join(dir, "out.yaml")
	kit.RunCases(t, &libkite.Config{DryRun: true}, []kitetest.Case{
		{Name: "write skipped", Expr: `yaml.source({"a": 1}).write_file(` + quote(target) + `)`, Want: `None`},
		{Name: "list write skipped", Expr: `yaml.source([1, 2]).write_file(` + quote(target) + `)`, Want: `None`},
		{Name: "try_write skipped", Expr: `yaml.source({"a": 1}).try_write_file(` + quote(target) + `)`, Want: `Result(ok=True, value=None)`},
		{Name: "encode error still raised", Expr: `yaml.source(yaml).write_file(` + quote(target) + `)`, Err: `yaml.writer.write_file: unsupported type: module`},
		{Name: "decode returns None", Expr: `yaml.file(` + quote(existing) + `).decode()`, Want: `None`},
		{Name: "decode_all returns []", Expr: `yaml.file(` + quote(existing) + `).decode_all()`, Want: `[]`},
		{Name: "missing file is not read", Expr: `yaml.file(` + quote(filepath.Join(dir, "nope")) + `).try_decode_all()`, Want: `Result(ok=True, value=[])`},
		{Name: "in-memory unaffected", Expr: `yaml.decode("[1]")`, Want: `[1]`},
	})
	kitetest.NoFile(t, target)
}

func TestConcurrentRuntimes(t *testing.T) {
	dir := t.TempDir()
	kitetest.EvalConcurrently(t, 8, kit.With(nil), func(i int) (string, string) {
		n := string(rune('0' + i))
		p := filepath.Join(dir, "c"+n+".yaml")
		return `yaml.source([{"i": ` + n + `}, {"j": 1}]).write_file(` + quote(p) + `)`,
			`yaml.file(` + quote(p) + `).decode_all()[0]["i"] == ` + n + ` and yaml.decode(yaml.encode([1, "x"])) == [1, "x"]`
	})
}

func TestExcessiveAliasing(t *testing.T) {
	// billion laughs: each level doubles the expansion
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	_, err := yaml.Decode([]byte(b.String()))
	if err == nil || err.Error() != "yaml: document contains excessive aliasing" {
		t.Fatalf("error = %v", err)
	}
	// moderate sharing is fine
	v, err := yaml.Decode([]byte("a: &a [1, 2]\nb: [*a, *a, *a]\n"))
	if err != nil || v.String() != `{"a": [1, 2], "b": [[1, 2], [1, 2], [1, 2]]}` {
		t.Fatalf("= %v, %v", v, err)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestModule(t *testing.T) {
	m := yaml.New()
	if m.Name() != "yaml" || m.FactoryMethod() != "" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestConformance(t *testing.T) {
	path := filepath.Join("..", "..", "..", "tests", "yaml_test.star")
	rt := kit.Runtime(t, &libkite.Config{ScriptPath: path})
	kitetest.RunConformance(t, rt, path, 10)
}
