package yaml_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/yaml"
)

func TestEncode(t *testing.T) {
	runCases(t, nil, []evalCase{
		{name: "spec example", expr: `yaml.encode({"name": "svc", "ports": [80, 443]})`, want: "name: svc\nports:\n    - 80\n    - 443\n"},
		{name: "keys sorted", expr: `yaml.encode({"z": 1, "a": {"y": 2, "b": 3}})`, want: "a:\n    b: 3\n    \"y\": 2\nz: 1\n"},
		{name: "map in sequence", expr: `yaml.encode({"k": [{"a": 1, "b": [2]}]})`, want: "k:\n    - a: 1\n      b:\n        - 2\n"},
		{name: "scalar doc", expr: `yaml.encode("hello")`, want: "hello\n"},
		{name: "empty list", expr: `yaml.encode([])`, want: "[]\n"},
		{name: "empty dict", expr: `yaml.encode({})`, want: "{}\n"},
		{expr: `yaml.encode(1.0)`, want: "1\n"},
		{expr: `yaml.encode(0.5)`, want: "0.5\n"},
		{expr: `yaml.encode(1e21)`, want: "1e+21\n"},
		{expr: `yaml.encode(True)`, want: "true\n"},
		{expr: `yaml.encode(None)`, want: "null\n"},
		{expr: `yaml.encode(18446744073709551615)`, want: "18446744073709551615\n"},
		{name: "ambiguous strings double-quoted", expr: `yaml.encode(["yes", "123", "true", "null", ""])`,
			want: "- \"yes\"\n- \"123\"\n- \"true\"\n- \"null\"\n- \"\"\n"},
		{name: "1.1 bool keys quoted", expr: `yaml.encode({"y": "n"})`, want: "\"y\": \"n\"\n"},
		{name: "structure chars single-quoted", expr: `yaml.encode(["a: b", " x"])`, want: "- 'a: b'\n- ' x'\n"},
		{name: "multi-line literal", expr: `yaml.encode({"m": "a\nb"})`, want: "m: |-\n    a\n    b\n"},
		{name: "tuple as sequence", expr: `yaml.encode((1, "a"))`, want: "- 1\n- a\n"},
		{name: "bytes as byte values", expr: `yaml.encode(b"hi")`, want: "- 104\n- 105\n"},
		{name: "int keys", expr: `yaml.encode({2: "b", 1: "a"})`, want: "1: a\n2: b\n"},
		{name: "arity 0", expr: `yaml.encode()`, err: `yaml.encode: expected 1 argument, got 0`},
		{name: "arity 2", expr: `yaml.encode(1, 2)`, err: `yaml.encode: expected 1 argument, got 2`},
		{name: "unsupported unprefixed", expr: `yaml.encode({"f": yaml.file("x")})`, err: `unsupported type: yaml.file`},
		{name: "function", pre: "def f(): pass", expr: `yaml.encode(f)`, err: `unsupported type: function`},
		{name: "beyond uint64", expr: `yaml.encode(18446744073709551616)`, err: `unsupported starlark.Int type`},
		{name: "cycle", pre: "l = []\nl.append(l)", expr: `yaml.encode(l)`, err: `unsupported value: cycle via list`},
		{name: "try_encode", expr: `yaml.try_encode({"key": "value"})`, want: `Result(ok=True, value="key: value\n")`},
		{name: "try_encode error", expr: `yaml.try_encode(yaml)`, want: `Result(ok=False, error="unsupported type: module")`},
	})
}

func TestEncodeAll(t *testing.T) {
	runCases(t, nil, []evalCase{
		{name: "joined", expr: `yaml.encode_all([{"kind": "A"}, {"kind": "B"}])`, want: "kind: A\n---\nkind: B\n"},
		{name: "one", expr: `yaml.encode_all([1])`, want: "1\n"},
		{name: "empty", expr: `yaml.encode_all([])`, want: ""},
		{name: "mixed", expr: `yaml.encode_all([[], {}, "x"])`, want: "[]\n---\n{}\n---\nx\n"},
		{name: "tuple refused", expr: `yaml.encode_all(({"a": 1},))`, err: `yaml.encode_all: expected list, got tuple`},
		{name: "dict refused", expr: `yaml.encode_all({})`, err: `yaml.encode_all: expected list, got dict`},
		{name: "arity", expr: `yaml.encode_all()`, err: `yaml.encode_all: expected 1 argument, got 0`},
		{name: "item error", expr: `yaml.encode_all([1, yaml])`, err: `yaml.encode_all[1]: unsupported type: module`},
		{name: "try_encode_all", expr: `yaml.try_encode_all([{"a": 1}, {"b": 2}])`, want: `Result(ok=True, value="a: 1\n---\nb: 2\n")`},
		{name: "try_encode_all error", expr: `yaml.try_encode_all("x")`, want: `Result(ok=False, error="yaml.encode_all: expected list, got string")`},
		{name: "round trip", pre: `docs = [{"a": [1, 2]}, None, "s", {"b": {"c": True}}]`,
			expr: `yaml.decode_all(yaml.encode_all(docs)) == docs`, want: "True"},
	})
}

func TestDecode(t *testing.T) {
	runCases(t, nil, []evalCase{
		{name: "mapping", expr: `yaml.decode("name: svc\nversion: 1\n")`, want: `{"name": "svc", "version": 1}`},
		{name: "document order", expr: `list(yaml.decode("b: 1\na: 2\nc: 3\n").keys())`, want: `["b", "a", "c"]`},
		{name: "sequence", expr: `yaml.decode("- a\n- b\n- c\n")`, want: `["a", "b", "c"]`},
		{name: "nested", expr: `yaml.decode("a:\n  b:\n    c: [1, {d: e}]\n")["a"]["b"]["c"][1]["d"]`, want: `e`},
		{name: "int keys stay ints", expr: `yaml.decode("1: one\n2: two\n")`, want: `{1: "one", 2: "two"}`},
		{name: "hex int", expr: `yaml.decode("0x1F")`, want: `31`},
		{name: "octal", expr: `yaml.decode("[0o17, 017, 1_000]")`, want: `[15, 15, 1000]`},
		{name: "floats", expr: `yaml.decode("[1.5, 1e3, .inf, -.Inf]")`, want: `[1.5, 1000.0, +inf, -inf]`},
		{name: "nan", expr: `str(yaml.decode(".nan"))`, want: `nan`},
		{name: "only true/false are bools", expr: `yaml.decode("[true, false, True, yes, on, no, off]")`, want: `[True, False, True, "yes", "on", "no", "off"]`},
		{name: "nulls", expr: `yaml.decode("[null, ~, ]")`, want: `[None, None]`},
		{name: "empty value", expr: `yaml.decode("a:\nb: 1")`, want: `{"a": None, "b": 1}`},
		{name: "quoted scalars are str", expr: `yaml.decode("['1', \"true\", 'null']")`, want: `["1", "true", "null"]`},
		{name: "timestamp kept as text", expr: `yaml.decode("d: 2024-01-01\nt: 2024-01-01T10:00:00Z\ne: !!timestamp 2001-12-14")`,
			want: `{"d": "2024-01-01", "t": "2024-01-01T10:00:00Z", "e": "2001-12-14"}`},
		{name: "explicit tags", expr: `yaml.decode("[!!str 12, !!float 1, !!binary aGk=, !custom x]")`, want: `["12", 1.0, "hi", "x"]`},
		{name: "uint64", expr: `yaml.decode("18446744073709551615")`, want: `18446744073709551615`},
		{name: "beyond uint64 is float", expr: `yaml.decode("99999999999999999999")`, want: `1e+20`},
		{name: "anchors and aliases", expr: `yaml.decode("a: &x [1, 2]\nb: *x\n")`, want: `{"a": [1, 2], "b": [1, 2]}`},
		{name: "aliases are copies", pre: `d = yaml.decode("a: &x [1]\nb: *x\n")`, expr: `d["a"].append(2) or d`, want: `{"a": [1, 2], "b": [1]}`},
		{name: "merge keys", expr: `yaml.decode("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n  z: 4\n")["d"]`, want: `{"y": 3, "z": 4, "x": 1}`},
		{name: "merge sequence earlier wins", expr: `yaml.decode("a: &a {k: 1, p: 1}\nb: &b {k: 2, q: 2}\nc:\n  <<: [*a, *b]\n")["c"]`, want: `{"k": 1, "p": 1, "q": 2}`},
		{name: "bad merge", expr: `yaml.decode("a: &a [1]\nb:\n  <<: *a\n")`, err: `yaml: map merge requires map or sequence of maps as the value`},
		{name: "flow style", expr: `yaml.decode("{a: [1, 2], b: {c: d}}")`, want: `{"a": [1, 2], "b": {"c": "d"}}`},
		{name: "bool and null keys", expr: `yaml.decode("true: a\n~: b\n1.5: c")`, want: `{True: "a", None: "b", 1.5: "c"}`},
		{name: "first document only", expr: `yaml.decode("a: 1\n---\nb: [unclosed")`, want: `{"a": 1}`},
		{name: "empty", expr: `yaml.decode("")`, want: `None`},
		{name: "lone separator", expr: `yaml.decode("---")`, want: `None`},
		{name: "comment only", expr: `yaml.decode("# nothing\n")`, want: `None`},
		{name: "scalar", expr: `yaml.decode("hello")`, want: `hello`},
		{name: "bytes input", expr: `yaml.decode(b"name: demo\nversion: 1")`, want: `{"name": "demo", "version": 1}`},
		{name: "syntax error unprefixed", expr: `yaml.decode("key: [unclosed")`, err: `yaml: line 1: did not find expected ',' or ']'`},
		{name: "duplicate keys", expr: `yaml.decode("a: 1\na: 2")`, err: "yaml: unmarshal errors:\n  line 2: mapping key \"a\" already defined at line 1"},
		{name: "several duplicate keys", expr: `yaml.decode("a: 1\na: 2\nb: {c: 1, c: 2}")`,
			err: "yaml: unmarshal errors:\n  line 2: mapping key \"a\" already defined at line 1"},
		{name: "nested duplicate keys reported together", expr: `yaml.decode("x: {a: 1, a: 2}\ny: {b: 1, b: 2}")`,
			err: "yaml: unmarshal errors:\n  line 1: mapping key \"a\" already defined at line 1\n  line 2: mapping key \"b\" already defined at line 2"},
		{name: "self-referencing anchor", expr: `yaml.decode("a: &a [*a]")`, err: `yaml: anchor 'a' value contains itself`},
		{name: "unknown anchor", expr: `yaml.decode("a: *nope")`, err: `yaml: unknown anchor 'nope' referenced`},
		{name: "unhashable key", expr: `yaml.decode("? [1, 2]\n: x")`, err: `yaml: invalid map key: []interface {}{1, 2}`},
		{name: "bad explicit tag", expr: `yaml.decode("!!int abc")`, err: "yaml: cannot decode !!str `abc` as a !!int"},
		{name: "bad explicit null", expr: `yaml.decode("!!null abc")`, err: "yaml: cannot decode !!str `abc` as a !!null"},
		{name: "bad explicit timestamp", expr: `yaml.decode("!!timestamp abc")`, err: "yaml: cannot decode !!str `abc` as a !!timestamp"},
		{name: "explicit good tags", expr: `yaml.decode("[!!null ~, !!bool true, !!int 7, !!timestamp 2001-12-14]")`, want: `[None, True, 7, "2001-12-14"]`},
		{name: "too deep", expr: `yaml.decode("[" * 20000 + "]" * 20000)`, err: `yaml: exceeded max depth of 10000`},
		{name: "encode too deep", pre: "v = None\ndef nest():\n    x = None\n    for _ in range(20000):\n        x = [x]\n    return x", expr: `yaml.encode(nest())`,
			err: `value nested more than 10000 levels deep (cyclic value?)`},
		{name: "bad arg type", expr: `yaml.decode(1)`, err: `yaml.decode: argument must be string or bytes, got int`},
		{name: "arity", expr: `yaml.decode("a", "b")`, err: `yaml.decode: expected 1 argument, got 2`},
		{name: "try_decode ok", expr: `yaml.try_decode(b"a: 1")`, want: `Result(ok=True, value={"a": 1})`},
		{name: "try_decode syntax", expr: `yaml.try_decode("key: [unclosed")`, want: `Result(ok=False, error="yaml: line 1: did not find expected ',' or ']'")`},
		{name: "try_decode type", expr: `yaml.try_decode(42)`, want: `Result(ok=False, error="yaml.decode: argument must be string or bytes, got int")`},
	})
}

func TestDecodeAll(t *testing.T) {
	runCases(t, nil, []evalCase{
		{name: "two docs", expr: `yaml.decode_all("name: first\n---\nname: second\n")`, want: `[{"name": "first"}, {"name": "second"}]`},
		{name: "one doc", expr: `yaml.decode_all("a: 1")`, want: `[{"a": 1}]`},
		{name: "empty", expr: `yaml.decode_all("")`, want: `[]`},
		{name: "leading separator", expr: `yaml.decode_all("---\na: 1\n")`, want: `[{"a": 1}]`},
		{name: "empty doc between", expr: `yaml.decode_all("a: 1\n---\n---\nb: 2\n")`, want: `[{"a": 1}, None, {"b": 2}]`},
		{name: "end markers", expr: `yaml.decode_all("a: 1\n...\n---\nb: 2\n...\n")`, want: `[{"a": 1}, {"b": 2}]`},
		{name: "list docs", expr: `yaml.decode_all("- a\n- b\n---\n- c\n- d\n")[1][0]`, want: `c`},
		{name: "type", expr: `type(yaml.decode_all("a: 1"))`, want: `list`},
		{name: "bytes input", expr: `yaml.decode_all(b"a: 1\n---\nb: 2")`, want: `[{"a": 1}, {"b": 2}]`},
		{name: "bad doc fails the call", expr: `yaml.decode_all("valid: doc\n---\nkey: [unclosed")`, err: `yaml.decode_all: yaml: line 2: did not find expected ',' or ']'`},
		{name: "duplicate key in second doc", expr: `yaml.decode_all("a: 1\n---\nb: 1\nb: 2\n")`,
			err: "yaml.decode_all: yaml: unmarshal errors:\n  line 4: mapping key \"b\" already defined at line 3"},
		{name: "anchors carry over documents (yaml.v3)", expr: `yaml.decode_all("a: &x 1\n---\nb: *x\n")`, want: `[{"a": 1}, {"b": 1}]`},
		{name: "bad arg", expr: `yaml.decode_all([1, 2])`, err: `yaml.decode_all: argument must be string or bytes, got list`},
		{name: "try_decode_all bad arg", expr: `yaml.try_decode_all([1, 2])`, want: `Result(ok=False, error="yaml.decode_all: argument must be string or bytes, got list")`},
		{name: "try_decode_all", expr: `yaml.try_decode_all("a: 1\n---\nb: 2")`, want: `Result(ok=True, value=[{"a": 1}, {"b": 2}])`},
	})
}

func TestObjects(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `yaml.file("/some/config.yaml").path`, want: `/some/config.yaml`},
		{expr: `type(yaml.file("x"))`, want: `yaml.file`},
		{expr: `str(yaml.file("/a b"))`, want: `yaml.file("/a b")`},
		{expr: `dir(yaml.file("x"))`, want: `["decode", "decode_all", "path", "try_decode", "try_decode_all"]`},
		{expr: `bool(yaml.file(""))`, want: `False`},
		{expr: `bool(yaml.file("x"))`, want: `True`},
		{expr: `{yaml.file("x"): 1}`, err: `unhashable type: yaml.file`},
		{expr: `yaml.file("x").try_path`, err: `yaml.file has no .try_path field or method (did you mean .path?)`},
		{expr: `yaml.file()`, err: `yaml.file: expected 1 argument (path), got 0`},
		{expr: `yaml.file("a", "b")`, err: `yaml.file: expected 1 argument (path), got 2`},
		{expr: `yaml.file(1)`, err: `yaml.file: path must be a string, got int`},
		{expr: `yaml.try_file("/p.yaml").value.path`, want: `/p.yaml`},
		{expr: `yaml.try_file(1)`, want: `Result(ok=False, error="yaml.file: path must be a string, got int")`},
		{expr: `yaml.file("x").decode(1)`, err: `yaml.file.decode: takes no arguments`},
		{expr: `yaml.file("x").decode_all(k=1)`, err: `yaml.file.decode_all: takes no arguments`},
		{expr: `yaml.file("x").try_decode(1)`, want: `Result(ok=False, error="yaml.file.decode: takes no arguments")`},

		{name: "data is the same object", pre: `d = {"a": [1]}`, expr: `yaml.source(d).data.update(b=2) or d`, want: `{"a": [1], "b": 2}`},
		{pre: `d = {"a": [1]}`, expr: `yaml.source(d).data == d`, want: `True`},
		{expr: `type(yaml.source(1))`, want: `yaml.writer`},
		{expr: `str(yaml.source({}))`, want: `yaml.writer(dict)`},
		{expr: `str(yaml.source(None))`, want: `yaml.writer(NoneType)`},
		{expr: `dir(yaml.source(1))`, want: `["data", "try_write_file", "write_file"]`},
		{expr: `bool(yaml.source(None))`, want: `False`},
		{expr: `bool(yaml.source([]))`, want: `True`},
		{expr: `{yaml.source(1): 1}`, err: `unhashable type: yaml.writer`},
		{expr: `yaml.source(1).encode`, err: `yaml.writer has no .encode field or method`},
		{expr: `yaml.source()`, err: `yaml.source: expected 1 argument (data), got 0`},
		{expr: `yaml.try_source({"a": 1}).value.data`, want: `{"a": 1}`},
		{expr: `yaml.source(1).write_file()`, err: `yaml.writer.write_file: expected 1 argument (path), got 0`},
		{expr: `yaml.source(1).write_file("a", "b")`, err: `yaml.writer.write_file: expected 1 argument (path), got 2`},
		{expr: `yaml.source(1).write_file(1)`, err: `yaml.writer.write_file: path must be a string, got int`},
		{expr: `yaml.source(1).try_write_file()`, want: `Result(ok=False, error="yaml.writer.write_file: expected 1 argument (path), got 0")`},

		{name: "namespace", expr: `dir(yaml)`, want: `["decode", "decode_all", "encode", "encode_all", "file", "source", "try_decode", "try_decode_all", "try_encode", "try_encode_all", "try_file", "try_source"]`},
		{expr: `type(yaml)`, want: `module`},
		{expr: `type(yaml.decode)`, want: `builtin_function_or_method`},
		{expr: `yaml.try_nope`, err: `module has no .try_nope field or method (did you mean .try_encode?)`},
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
	missing := filepath.Join(dir, "missing.yaml")
	cfgFile := write("cfg.yaml", "name: svc\nversion: 1\nnested:\n  a: [1, 2]\n")
	listFile := write("list.yaml", "- a\n- b\n- c\n")
	multi := write("multi.yaml", "name: first\n---\nname: second\n")
	bad := write("bad.yaml", "a: 1\n---\nkey: [unclosed\n")
	runCases(t, nil, []evalCase{
		{name: "decode", expr: `yaml.file(` + quote(cfgFile) + `).decode()`, want: `{"name": "svc", "version": 1, "nested": {"a": [1, 2]}}`},
		{name: "decode list", expr: `len(yaml.file(` + quote(listFile) + `).decode())`, want: `3`},
		{name: "decode first doc", expr: `yaml.file(` + quote(multi) + `).decode()`, want: `{"name": "first"}`},
		{name: "decode_all", expr: `yaml.file(` + quote(multi) + `).decode_all()`, want: `[{"name": "first"}, {"name": "second"}]`},
		{name: "decode first of bad", expr: `yaml.file(` + quote(bad) + `).decode()`, want: `{"a": 1}`},
		{name: "decode_all bad", expr: `yaml.file(` + quote(bad) + `).decode_all()`, err: `yaml.file.decode_all: yaml: line 2: did not find expected ',' or ']'`},
		{name: "decode syntax error", expr: `yaml.file(` + quote(write("bad1.yaml", "a: [")) + `).decode()`,
			err: `yaml.file.decode: yaml: line 1: did not find expected node content`},
		{name: "decode missing", expr: `yaml.file(` + quote(missing) + `).decode()`, err: `yaml.file.decode: open ` + missing + `: no such file or directory`},
		{name: "decode_all missing", expr: `yaml.file(` + quote(missing) + `).decode_all()`, err: `yaml.file.decode_all: open ` + missing + `: no such file or directory`},
		{name: "try_decode missing", expr: `yaml.file(` + quote(missing) + `).try_decode()`,
			want: `Result(ok=False, error="yaml.file.decode: open ` + missing + `: no such file or directory")`},
		{name: "try_decode_all ok", expr: `yaml.file(` + quote(multi) + `).try_decode_all()`, want: `Result(ok=True, value=[{"name": "first"}, {"name": "second"}])`},
		{name: "decode directory", expr: `yaml.file(` + quote(dir) + `).decode()`, err: `yaml.file.decode: read ` + dir + `: is a directory`},
		{name: "decode empty path", expr: `yaml.file("").decode()`, err: `yaml.file.decode: open : no such file or directory`},
		{name: "empty file", expr: `[yaml.file(` + quote(write("empty.yaml", "")) + `).decode(), yaml.file(` + quote(dir+"/empty.yaml") + `).decode_all()]`, want: `[None, []]`},
		{name: "write into missing dir", expr: `yaml.source(1).write_file(` + quote(filepath.Join(dir, "no", "x.yaml")) + `)`,
			err: `yaml.writer.write_file: open ` + filepath.Join(dir, "no", "x.yaml") + `: no such file or directory`},
		{name: "write encode error", expr: `yaml.source({"f": yaml}).write_file(` + quote(filepath.Join(dir, "e.yaml")) + `)`,
			err: `yaml.writer.write_file: unsupported type: module`},
		{name: "write item error", expr: `yaml.source([1, yaml]).write_file(` + quote(filepath.Join(dir, "e.yaml")) + `)`,
			err: `yaml.writer.write_file[1]: unsupported type: module`},
	})
	if _, err := os.Stat(filepath.Join(dir, "e.yaml")); !os.IsNotExist(err) {
		t.Fatal("a failed encode created its file")
	}

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
			got, msg, _ := run(t, nil, "", `yaml.source(`+c.data+`).write_file(`+quote(p)+`, indent=2)`)
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
			if fi, _ := os.Stat(p); fi.Mode().Perm()&^0o644 != 0 {
				t.Fatalf("mode = %v, want at most 0644", fi.Mode().Perm())
			}
		})
	}

	t.Run("write truncates", func(t *testing.T) {
		p := write("trunc.yaml", strings.Repeat("x", 100))
		if _, msg, _ := run(t, nil, "", `yaml.source(1).write_file(`+quote(p)+`)`); msg != "" {
			t.Fatal(msg)
		}
		if b, _ := os.ReadFile(p); string(b) != "1\n" {
			t.Fatalf("file = %q", b)
		}
	})

	t.Run("failed write keeps old content", func(t *testing.T) {
		p := write("keep.yaml", "old: 1\n")
		_, msg, _ := run(t, nil, "", `yaml.source([1, yaml]).write_file(`+quote(p)+`)`)
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
		got, msg, _ := run(t, nil, pre, `one == data and many == docs`)
		if msg != "" || got != "True" {
			t.Fatalf("= %s (%s)", got, msg)
		}
	})

	t.Run("relative path reported as given", func(t *testing.T) {
		t.Chdir(dir)
		got, msg, _ := run(t, nil, `yaml.source({"r": 1}).write_file("rel.yaml")`, `yaml.file("rel.yaml").decode()`)
		if msg != "" || got != `{"r": 1}` {
			t.Fatalf("= %s (%s)", got, msg)
		}
		_, msg, _ = run(t, nil, "", `yaml.file("nope.yaml").decode()`)
		if msg != "yaml.file.decode: open nope.yaml: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
	})
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.yaml")
	if err := os.WriteFile(existing, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "out.yaml")
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	cases := []struct {
		name    string
		cfg     *libkite.Config
		expr    string
		wantErr []string // substrings of the raised permission error
		want    string   // prefix of the result
	}{
		{name: "write denied", cfg: deny, expr: `yaml.source({"a": 1}).write_file(` + quote(target) + `)`,
			wantErr: []string{"permission denied: fs.write write(" + quote(target) + ")"}},
		{name: "list write denied", cfg: deny, expr: `yaml.source([1, 2]).write_file(` + quote(target) + `)`,
			wantErr: []string{"permission denied: fs.write write("}},
		{name: "write denied in dry run", cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions(), DryRun: true},
			expr: `yaml.source(1).write_file(` + quote(target) + `)`, wantErr: []string{"permission denied: fs.write write("}},
		{name: "try_write_file denied", cfg: deny, expr: `yaml.source(1).try_write_file(` + quote(target) + `)`,
			want: `Result(ok=False, error="permission denied: fs.write write(`},
		{name: "decode denied", cfg: deny, expr: `yaml.file(` + quote(existing) + `).decode()`,
			wantErr: []string{"permission denied: fs.read read_file(" + quote(existing) + ")"}},
		{name: "decode_all denied", cfg: deny, expr: `yaml.file(` + quote(existing) + `).decode_all()`,
			wantErr: []string{"permission denied: fs.read read_file("}},
		{name: "decode denied in dry run", cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions(), DryRun: true},
			expr: `yaml.file(` + quote(existing) + `).decode()`, wantErr: []string{"permission denied: fs.read read_file("}},
		{name: "try_decode denied", cfg: deny, expr: `yaml.file(` + quote(existing) + `).try_decode()`,
			want: `Result(ok=False, error="permission denied: fs.read read_file(`},
		{name: "try_decode_all denied", cfg: deny, expr: `yaml.file(` + quote(existing) + `).try_decode_all()`,
			want: `Result(ok=False, error="permission denied: fs.read read_file(`},
		{name: "deny rule on writes", cfg: &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")},
			expr: `yaml.source(1).write_file(` + quote(target) + `)`, wantErr: []string{"blocked by deny rule: fs.write"}},
		{name: "deny rule leaves reads", cfg: &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")},
			expr: `yaml.file(` + quote(existing) + `).decode()`, want: `{"a": 1}`},
		{name: "in-memory codec ungated", cfg: deny, expr: `yaml.decode(yaml.encode_all([{"a": [1]}]))`, want: `{"a": [1]}`},
		{name: "factories ungated", cfg: deny, expr: `[yaml.file("x").path, yaml.source(1).data]`, want: `["x", 1]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, msg, err := run(t, c.cfg, "", c.expr)
			if c.wantErr != nil {
				for _, s := range c.wantErr {
					if !strings.Contains(msg, s) {
						t.Fatalf("error %q lacks %q", msg, s)
					}
				}
				if !strings.HasPrefix(msg, "permission denied") || !libkite.IsPermissionError(err) {
					t.Fatalf("not an unprefixed *PermissionError: %T %v", err, err)
				}
			} else if msg != "" || !strings.HasPrefix(got, c.want) {
				t.Fatalf("= %s (%s), want prefix %s", got, msg, c.want)
			}
			if _, err := os.Stat(target); !os.IsNotExist(err) {
				t.Fatalf("%s exists after a denied write", target)
			}
		})
	}
}

func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.yaml")
	if err := os.WriteFile(existing, []byte("a: 1\n---\nb: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "out.yaml")
	runCases(t, &libkite.Config{DryRun: true}, []evalCase{
		{name: "write skipped", expr: `yaml.source({"a": 1}).write_file(` + quote(target) + `)`, want: `None`},
		{name: "list write skipped", expr: `yaml.source([1, 2]).write_file(` + quote(target) + `)`, want: `None`},
		{name: "try_write skipped", expr: `yaml.source({"a": 1}).try_write_file(` + quote(target) + `)`, want: `Result(ok=True, value=None)`},
		{name: "encode error still raised", expr: `yaml.source(yaml).write_file(` + quote(target) + `)`, err: `yaml.writer.write_file: unsupported type: module`},
		{name: "decode returns None", expr: `yaml.file(` + quote(existing) + `).decode()`, want: `None`},
		{name: "decode_all returns []", expr: `yaml.file(` + quote(existing) + `).decode_all()`, want: `[]`},
		{name: "missing file is not read", expr: `yaml.file(` + quote(filepath.Join(dir, "nope")) + `).try_decode_all()`, want: `Result(ok=True, value=[])`},
		{name: "in-memory unaffected", expr: `yaml.decode("[1]")`, want: `[1]`},
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
			n := string(rune('0' + i))
			p := filepath.Join(dir, "c"+n+".yaml")
			got, msg, _ := run(t, nil, `yaml.source([{"i": `+n+`}, {"j": 1}]).write_file(`+quote(p)+`)`,
				`yaml.file(`+quote(p)+`).decode_all()[0]["i"] == `+n+` and yaml.decode(yaml.encode([1, "x"])) == [1, "x"]`)
			if msg != "" || got != "True" {
				t.Errorf("goroutine %d: %s (%s)", i, got, msg)
			}
		}()
	}
	wg.Wait()
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
	rt := newRuntime(t, &libkite.Config{ScriptPath: path})
	kitetest.RunConformance(t, rt, path, 10)
}
