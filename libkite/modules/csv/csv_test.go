package csv_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/csv"
)

func TestFactories(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `csv.file("/some/path.csv").path`, Want: `/some/path.csv`},
		{Expr: `csv.file(path="/k.csv").path`, Want: `/k.csv`},
		{Expr: `csv.file(1)`, Err: `csv.file: for parameter path: got int, want string`},
		{Expr: `csv.file()`, Err: `csv.file: missing required argument: path`},
		{Expr: `csv.file("a", "b")`, Err: `csv.file: unexpected positional argument at index 1`},
		{Expr: `csv.file("a", sep=",")`, Err: `csv.file: unknown keyword argument: sep`},
		{Expr: `csv.try_file("/p.csv").value.path`, Want: `/p.csv`},
		{Expr: `csv.try_file(None)`, Want: `Result(ok=False, error="csv.file: for parameter path: got NoneType, want string")`},
		{Expr: `type(csv.file("x"))`, Want: `csv.file`},
		{Expr: `str(csv.file("/a.csv"))`, Want: `csv.file("/a.csv")`},
		{Expr: `dir(csv.file("x"))`, Want: `["path", "read", "try_read"]`},
		{Expr: `bool(csv.file(""))`, Want: `False`},
		{Expr: `bool(csv.file("x"))`, Want: `True`},
		{Expr: `{csv.file("x"): 1}`, Err: `unhashable type: csv.file`},
		{Expr: `csv.file("x").try_path`, Err: `csv.file has no .try_path field or method (did you mean .path?)`},

		{Expr: `csv.source([["a", "b"]]).data`, Want: `[["a", "b"]]`},
		{Name: "data is the same list", Pre: `rows = [["a"]]`, Expr: `csv.source(rows).data.append(["b"]) or rows`, Want: `[["a"], ["b"]]`},
		{Expr: `csv.source()`, Err: `csv.source: missing required argument: data`},
		{Expr: `csv.source(data=[])`, Err: `csv.source: missing required argument: data`},
		{Expr: `csv.source([], [])`, Err: `csv.source: expected 1 argument, got 2`},
		{Expr: `csv.source(("a",))`, Err: `csv.source: data must be a list, got tuple`},
		{Expr: `csv.source("not a list")`, Err: `csv.source: data must be a list, got string`},
		{Expr: `csv.try_source([["a", "b"]]).ok`, Want: `True`},
		{Expr: `csv.try_source("not a list")`, Want: `Result(ok=False, error="csv.source: data must be a list, got string")`},
		{Expr: `type(csv.source([]))`, Want: `csv.writer`},
		{Expr: `str(csv.source([[1], [2]]))`, Want: `csv.writer(2 rows)`},
		{Expr: `str(csv.source([]))`, Want: `csv.writer(0 rows)`},
		{Expr: `dir(csv.source([]))`, Want: `["data", "try_write_file", "write_file"]`},
		{Expr: `bool(csv.source([]))`, Want: `False`},
		{Expr: `bool(csv.source([[]]))`, Want: `True`},
		{Expr: `{csv.source([]): 1}`, Err: `unhashable type: csv.writer`},

		{Name: "namespace", Expr: `dir(csv)`, Want: `["file", "source", "try_file", "try_source"]`},
		{Expr: `type(csv)`, Want: `module`},
		{Expr: `csv.encode`, Err: `module has no .encode field or method`},
	})
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	w := func(name, content string) string {
		return quote(kitetest.WriteFile(t, filepath.Join(dir, name), content))
	}
	basic := w("basic.csv", "name,value\nfoo,1\nbar,2")
	fruit := w("fruit.csv", "name,qty\napple,3\npear,5\n")
	missing := filepath.Join(dir, "missing.csv")
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "rows", Expr: `csv.file(` + basic + `).read()`, Want: `[["name", "value"], ["foo", "1"], ["bar", "2"]]`},
		{Name: "spec example", Expr: `csv.file(` + fruit + `).read()`, Want: `[["name", "qty"], ["apple", "3"], ["pear", "5"]]`},
		{Name: "header", Expr: `csv.file(` + fruit + `).read(header=True)`, Want: `[{"name": "apple", "qty": "3"}, {"name": "pear", "qty": "5"}]`},
		{Name: "header key order", Expr: `list(csv.file(` + w("order.csv", "z,a,m\n1,2,3\n") + `).read(header=True)[0].keys())`, Want: `["z", "a", "m"]`},
		{Name: "skip", Expr: `csv.file(` + basic + `).read(skip=1)`, Want: `[["foo", "1"], ["bar", "2"]]`},
		{Name: "skip all", Expr: `csv.file(` + basic + `).read(skip=3)`, Want: `[]`},
		{Name: "skip beyond", Expr: `csv.file(` + basic + `).read(skip=10)`, Want: `[]`},
		{Name: "negative skip", Expr: `csv.file(` + basic + `).read(skip=-1)`, Want: `[["name", "value"], ["foo", "1"], ["bar", "2"]]`},
		{Name: "skip then header", Expr: `csv.file(` + w("pre.csv", "# generated\nname,qty\napple,3\n") + `).read(skip=1, header=True)`, Want: `[{"name": "apple", "qty": "3"}]`},
		{Name: "header only", Expr: `csv.file(` + w("hdr.csv", "a,b\n") + `).read(header=True)`, Want: `[]`},
		{Name: "header on empty", Expr: `csv.file(` + w("empty.csv", "") + `).read(header=True)`, Want: `[]`},
		{Name: "empty", Expr: `csv.file(` + w("empty2.csv", "") + `).read()`, Want: `[]`},
		{Name: "short and long rows", Expr: `csv.file(` + w("ragged.csv", "a,b,c\n1\n1,2,3,4\n") + `).read(header=True)`,
			Want: `[{"a": "1", "b": "", "c": ""}, {"a": "1", "b": "2", "c": "3"}]`},
		{Name: "ragged rows", Expr: `csv.file(` + w("ragged2.csv", "a,b,c\n1\n1,2,3,4\n") + `).read()`, Want: `[["a", "b", "c"], ["1"], ["1", "2", "3", "4"]]`},
		{Name: "sep", Expr: `csv.file(` + w("semi.csv", "name;value\nfoo;1") + `).read(sep=";")`, Want: `[["name", "value"], ["foo", "1"]]`},
		{Name: "sep first char", Expr: `csv.file(` + w("semi2.csv", "a;b") + `).read(sep=";;")`, Want: `[["a", "b"]]`},
		{Name: "empty sep is comma", Expr: `csv.file(` + w("c.csv", "a,b") + `).read(sep="")`, Want: `[["a", "b"]]`},
		{Name: "tab sep", Expr: `csv.file(` + w("tab.csv", "a\tb c\n") + `).read(sep="\t")`, Want: `[["a", "b c"]]`},
		{Name: "unicode sep", Expr: `csv.file(` + w("u.csv", "a§b\n") + `).read(sep="§")`, Want: `[["a", "b"]]`},
		{Name: "comment", Expr: `csv.file(` + w("comment.csv", "a,b\n#comment\n1,2\n") + `).read(comment="#")`, Want: `[["a", "b"], ["1", "2"]]`},
		{Name: "no comment by default", Expr: `csv.file(` + w("comment2.csv", "#x\n") + `).read()`, Want: `[["#x"]]`},
		{Name: "quoting", Expr: `csv.file(` + w("q.csv", "\"a, b\",\"say \"\"hi\"\"\",\"multi\nline\"\n") + `).read()`, Want: `[["a, b", "say \"hi\"", "multi\nline"]]`},
		{Name: "blank lines and crlf", Expr: `csv.file(` + w("crlf.csv", "a,b\r\n\r\n1,2\r\n\n") + `).read()`, Want: `[["a", "b"], ["1", "2"]]`},
		{Name: "no trimming", Expr: `csv.file(` + w("sp.csv", " a , b \n") + `).read()`, Want: `[[" a ", " b "]]`},
		{Name: "strict quotes", Expr: `csv.file(` + w("bare.csv", "a,b\nxy\"z\n") + `).read()`,
			Err: `csv.file.read: parse error on line 2, column 3: bare " in non-quoted-field`},
		{Name: "error in skipped record", Expr: `csv.file(` + w("bare2.csv", "a\"b\nc\n") + `).read(skip=1)`,
			Err: `csv.file.read: parse error on line 1, column 2: bare " in non-quoted-field`},
		{Name: "unterminated quote", Expr: `csv.file(` + w("open.csv", "\"abc\n") + `).read()`,
			Err: `csv.file.read: parse error on line 1, column 6: extraneous or missing " in quoted-field`},
		{Name: "bad sep", Expr: `csv.file(` + basic + `).read(sep="\n")`, Err: `csv.file.read: csv: invalid field or comment delimiter`},
		{Name: "sep equals comment", Expr: `csv.file(` + basic + `).read(sep="#", comment="#")`, Err: `csv.file.read: csv: invalid field or comment delimiter`},
		{Name: "missing", Expr: `csv.file(` + quote(missing) + `).read()`, Err: `csv.file.read: open ` + missing + `: no such file or directory`},
		{Name: "directory", Expr: `csv.file(` + quote(dir) + `).read()`, Err: `csv.file.read: read ` + dir + `: is a directory`},
		{Name: "positional", Expr: `csv.file(` + basic + `).read("x")`, Err: `csv.file.read: unexpected positional argument at index 0`},
		{Name: "unknown keyword", Expr: `csv.file(` + basic + `).read(delimiter=";")`, Err: `csv.file.read: unknown keyword argument: delimiter`},
		{Name: "skip type", Expr: `csv.file(` + basic + `).read(skip="1")`, Err: `csv.file.read: for parameter "skip": got string, want int`},
		{Name: "header type", Expr: `csv.file(` + basic + `).read(header=1)`, Err: `csv.file.read: for parameter "header": got int, want bool`},
		{Name: "sep type", Expr: `csv.file(` + basic + `).read(sep=None)`, Err: `csv.file.read: for parameter "sep": got NoneType, want string`},
		{Name: "try_read", Expr: `len(csv.file(` + basic + `).try_read(skip=1).value)`, Want: `2`},
		{Name: "try_read missing", Expr: `csv.file(` + quote(missing) + `).try_read()`,
			Want: `Result(ok=False, error="csv.file.read: open ` + missing + `: no such file or directory")`},
		{Name: "try_read binding", Expr: `csv.file(` + basic + `).try_read(1)`, Want: `Result(ok=False, error="csv.file.read: unexpected positional argument at index 0")`},
	})

	t.Run("relative path reported as given", func(t *testing.T) {
		t.Chdir(dir)
		got, msg, _ := kit.Eval(t, nil, "", `csv.file("basic.csv").read(skip=2)`)
		if msg != "" || got != `[["bar", "2"]]` {
			t.Fatalf("= %s (%s)", got, msg)
		}
		_, msg, _ = kit.Eval(t, nil, "", `csv.file("nope.csv").read()`)
		if msg != "csv.file.read: open nope.csv: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
	})
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, data, kw, want string
	}{
		{"rows", `[["a", "b"], ["1", "2"]]`, ``, "a,b\n1,2\n"},
		{"spec quoting example", `[["a", 1], ["x,y", 'q"q']]`, ``, "a,1\n\"x,y\",\"q\"\"q\"\n"},
		{"sep", `[["a", "b"], ["1", "2"]]`, `, sep=";"`, "a;b\n1;2\n"},
		{"sep first char", `[["a", "b"]]`, `, sep=";;"`, "a;b\n"},
		{"empty sep", `[["a", "b"]]`, `, sep=""`, "a,b\n"},
		{"quote when sep present", `[["a;b", "c,d"]]`, `, sep=";"`, "\"a;b\";c,d\n"},
		{"newline and leading space quoted", `[["l1\nl2", " x", "\tt", "cr\r"]]`, ``, "\"l1\nl2\",\" x\",\"\tt\",\"cr\r\"\n"},
		{"cell text", `[[1, 2.5, True, None, b"by", ("t",)]]`, ``, "1,2.5,True,None,by,\"(\"\"t\"\",)\"\n"},
		{"empty data", `[]`, ``, ""},
		{"empty rows", `[[], []]`, ``, "\n\n"},
		{"headers ignored for rows", `[["a", "b"]]`, `, headers=["x", "y"]`, "a,b\n"},
		{"dict mode", `[{"name": "foo", "value": "1"}, {"value": 2, "name": "bar"}]`, ``, "name,value\nfoo,1\nbar,2\n"},
		{"dict mode absent and extra keys", `[{"a": 1, "b": 2}, {"b": 3, "c": 4}]`, ``, "a,b\n1,2\n,3\n"},
		{"headers select columns", `[{"name": "foo", "extra": "x"}]`, `, headers=["name"]`, "name\nfoo\n"},
		{"headers order columns", `[{"a": 1, "b": 2}]`, `, headers=["b", "missing", "a"]`, "b,missing,a\n2,,1\n"},
		{"empty headers use first keys", `[{"a": 1}]`, `, headers=[]`, "a\n1\n"},
		{"non-list headers ignored", `[{"a": 1}]`, `, headers="b"`, "a\n1\n"},
		{"tuple headers ignored", `[{"a": 1}]`, `, headers=("b",)`, "a\n1\n"},
		{"non-str keys", `[{1: "one", None: "n"}]`, ``, "1,None\none,n\n"},
		{"dict mode sep", `[{"a": "x;y"}]`, `, sep=";"`, "a\n\"x;y\"\n"},
		{"path keyword", `[["k"]]`, ``, "k\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".csv")
			call := `.write_file(` + quote(p) + c.kw + `)`
			if c.name == "path keyword" {
				call = `.write_file(path=` + quote(p) + `)`
			}
			got, msg, _ := kit.Eval(t, nil, "", `csv.source(`+c.data+`)`+call)
			if msg != "" || got != "None" {
				t.Fatalf("= %s (%s)", got, msg)
			}
			kitetest.WantFile(t, p, c.want)
		})
	}

	bad := quote(filepath.Join(dir, "bad.csv"))
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "dict then list", Expr: `csv.source([{"a": 1}, ["x"]]).write_file(` + bad + `)`, Err: `csv.writer.write_file: expected dict, got list`},
		{Name: "list then dict", Expr: `csv.source([["x"], {"a": 1}]).write_file(` + bad + `)`, Err: `csv.writer.write_file: expected list of lists, got dict`},
		{Name: "tuple row", Expr: `csv.source([("x",)]).write_file(` + bad + `)`, Err: `csv.writer.write_file: expected list of lists, got tuple`},
		{Name: "scalar row", Expr: `csv.source(["x"]).write_file(` + bad + `)`, Err: `csv.writer.write_file: expected list of lists, got string`},
		{Name: "bad sep", Expr: `csv.source([["x"]]).write_file(` + bad + `, sep="\n")`, Err: `csv.writer.write_file: csv: invalid field or comment delimiter`},
		{Name: "no path", Expr: `csv.source([]).write_file()`, Err: `csv.writer.write_file: missing required argument: path`},
		{Name: "path type", Expr: `csv.source([]).write_file(1)`, Err: `csv.writer.write_file: for parameter path: got int, want string`},
		{Name: "sep positional", Expr: `csv.source([]).write_file("p", ";")`, Err: `csv.writer.write_file: unexpected positional argument at index 1`},
		{Name: "sep type", Expr: `csv.source([]).write_file("p", sep=1)`, Err: `csv.writer.write_file: for parameter "sep": got int, want string`},
		{Name: "unknown keyword", Expr: `csv.source([]).write_file("p", header=True)`, Err: `csv.writer.write_file: unknown keyword argument: header`},
		{Name: "missing dir", Expr: `csv.source([["x"]]).write_file(` + quote(filepath.Join(dir, "no", "x.csv")) + `)`,
			Err: `csv.writer.write_file: open ` + filepath.Join(dir, "no", "x.csv") + `: no such file or directory`},
		{Name: "try_write_file", Expr: `csv.source([["x"]]).try_write_file(` + quote(filepath.Join(dir, "try.csv")) + `)`, Want: `Result(ok=True, value=None)`},
		{Name: "try_write_file error", Expr: `csv.source([1]).try_write_file(` + bad + `)`, Want: `Result(ok=False, error="csv.writer.write_file: expected list of lists, got int")`},
	})
	kitetest.NoFile(t, filepath.Join(dir, "bad.csv")) // a failed write creates no file

	t.Run("failed write keeps old content", func(t *testing.T) {
		p := kitetest.WriteFile(t, filepath.Join(dir, "keep.csv"), "old\n")
		if _, msg, _ := kit.Eval(t, nil, "", `csv.source([["new"], 1]).write_file(`+quote(p)+`)`); msg == "" {
			t.Fatal("no error")
		}
		if b, _ := os.ReadFile(p); string(b) != "old\n" {
			t.Fatalf("file = %q", b)
		}
	})

	t.Run("round trips", func(t *testing.T) {
		p := quote(filepath.Join(dir, "rt.csv"))
		pre := `rows = [["name", "note"], ["a, b", 'say "hi"'], ["multi\nline", " lead"], ["", "x"]]
csv.source(rows).write_file(` + p + `)
back = csv.file(` + p + `).read()
dicts = [{"name": "foo", "value": "1"}, {"name": "bar", "value": "2"}]
csv.source(dicts).write_file(` + p + `, sep=";")
dback = csv.file(` + p + `).read(sep=";", header=True)`
		got, msg, _ := kit.Eval(t, nil, pre, `back == rows and dback == dicts`)
		if msg != "" || got != "True" {
			t.Fatalf("= %s (%s)", got, msg)
		}
	})
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	existing := kitetest.WriteFile(t, filepath.Join(dir, "existing.csv"), "a,b\n")
	target := filepath.Join(dir, "out.csv")
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	denyDry := &libkite.Config{Permissions: libkite.DenyAllPermissions(), DryRun: true}
	cases := []kitetest.PermCase{
		{Name: "write denied", Cfg: deny, Expr: `csv.source([["a"]]).write_file(` + quote(target) + `)`, ErrPrefix: `permission denied: fs.write write(` + quote(target) + `)`},
		{Name: "dict write denied", Cfg: deny, Expr: `csv.source([{"a": 1}]).write_file(` + quote(target) + `, sep=";")`, ErrPrefix: `permission denied: fs.write write(`},
		{Name: "write denied in dry run", Cfg: denyDry, Expr: `csv.source([]).write_file(` + quote(target) + `)`, ErrPrefix: `permission denied: fs.write write(`},
		{Name: "try_write_file denied", Cfg: deny, Expr: `csv.source([]).try_write_file(` + quote(target) + `)`, Want: `Result(ok=False, error="permission denied: fs.write write(`},
		{Name: "read denied", Cfg: deny, Expr: `csv.file(` + quote(existing) + `).read()`, ErrPrefix: `permission denied: fs.read read_file(` + quote(existing) + `)`},
		{Name: "read denied in dry run", Cfg: denyDry, Expr: `csv.file(` + quote(existing) + `).read()`, ErrPrefix: `permission denied: fs.read read_file(`},
		{Name: "try_read denied", Cfg: deny, Expr: `csv.file(` + quote(existing) + `).try_read(header=True)`, Want: `Result(ok=False, error="permission denied: fs.read read_file(`},
		{Name: "deny rule on writes", Cfg: &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")},
			Expr: `csv.source([]).write_file(` + quote(target) + `)`, ErrPrefix: `permission denied: fs.write write(`},
		{Name: "deny rule leaves reads", Cfg: &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")},
			Expr: `csv.file(` + quote(existing) + `).read()`, Want: `[["a", "b"]]`},
		{Name: "factories ungated", Cfg: deny, Expr: `[csv.file("x").path, csv.source([1]).data]`, Want: `["x", [1]]`},
	}
	kitetest.RunPermCases(t, kit.Runtime, cases, func(t *testing.T) { kitetest.NoFile(t, target) })
}

func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	existing := kitetest.WriteFile(t, filepath.Join(dir, "existing.csv"), "a,b\n1,2\n")
	target := filepath.Join(dir, "out.csv")
	kit.RunCases(t, &libkite.Config{DryRun: true}, []kitetest.Case{
		{Name: "write skipped", Expr: `csv.source([["a"]]).write_file(` + quote(target) + `)`, Want: `None`},
		{Name: "try_write skipped", Expr: `csv.source([{"a": 1}]).try_write_file(` + quote(target) + `)`, Want: `Result(ok=True, value=None)`},
		{Name: "row error still raised", Expr: `csv.source([1]).write_file(` + quote(target) + `)`, Err: `csv.writer.write_file: expected list of lists, got int`},
		{Name: "read returns []", Expr: `csv.file(` + quote(existing) + `).read(header=True)`, Want: `[]`},
		{Name: "missing not read", Expr: `csv.file(` + quote(filepath.Join(dir, "nope")) + `).try_read()`, Want: `Result(ok=True, value=[])`},
		{Name: "binding still checked", Expr: `csv.file(` + quote(existing) + `).read(1)`, Err: `csv.file.read: unexpected positional argument at index 0`},
	})
	kitetest.NoFile(t, target)
}

func TestConcurrentRuntimes(t *testing.T) {
	dir := t.TempDir()
	kitetest.EvalConcurrently(t, 8, kit.With(nil), func(i int) (string, string) {
		n := string(rune('0' + i))
		p := quote(filepath.Join(dir, "c"+n+".csv"))
		return `csv.source([{"i": ` + n + `}]).write_file(` + p + `)`, `csv.file(` + p + `).read(header=True) == [{"i": "` + n + `"}]`
	})
}

func TestModule(t *testing.T) {
	m := csv.New()
	if m.Name() != "csv" || m.FactoryMethod() != "" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestConformance(t *testing.T) {
	path := filepath.Join("..", "..", "..", "tests", "csv_test.star")
	rt := kit.Runtime(t, &libkite.Config{ScriptPath: path})
	kitetest.RunConformance(t, rt, path, 10)
}
