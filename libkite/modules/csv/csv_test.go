package csv_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/csv"
)

func TestFactories(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `csv.file("/some/path.csv").path`, want: `/some/path.csv`},
		{expr: `csv.file(path="/k.csv").path`, want: `/k.csv`},
		{expr: `csv.file(1)`, err: `csv.file: for parameter path: got int, want string`},
		{expr: `csv.file()`, err: `csv.file: missing required argument: path`},
		{expr: `csv.file("a", "b")`, err: `csv.file: unexpected positional argument at index 1`},
		{expr: `csv.file("a", sep=",")`, err: `csv.file: unknown keyword argument: sep`},
		{expr: `csv.try_file("/p.csv").value.path`, want: `/p.csv`},
		{expr: `csv.try_file(None)`, want: `Result(ok=False, error="csv.file: for parameter path: got NoneType, want string")`},
		{expr: `type(csv.file("x"))`, want: `csv.file`},
		{expr: `str(csv.file("/a.csv"))`, want: `csv.file("/a.csv")`},
		{expr: `dir(csv.file("x"))`, want: `["path", "read", "try_read"]`},
		{expr: `bool(csv.file(""))`, want: `False`},
		{expr: `bool(csv.file("x"))`, want: `True`},
		{expr: `{csv.file("x"): 1}`, err: `unhashable type: csv.file`},
		{expr: `csv.file("x").try_path`, err: `csv.file has no .try_path field or method (did you mean .path?)`},

		{expr: `csv.source([["a", "b"]]).data`, want: `[["a", "b"]]`},
		{name: "data is the same list", pre: `rows = [["a"]]`, expr: `csv.source(rows).data.append(["b"]) or rows`, want: `[["a"], ["b"]]`},
		{expr: `csv.source()`, err: `csv.source: missing required argument: data`},
		{expr: `csv.source(data=[])`, err: `csv.source: missing required argument: data`},
		{expr: `csv.source([], [])`, err: `csv.source: expected 1 argument, got 2`},
		{expr: `csv.source(("a",))`, err: `csv.source: data must be a list, got tuple`},
		{expr: `csv.source("not a list")`, err: `csv.source: data must be a list, got string`},
		{expr: `csv.try_source([["a", "b"]]).ok`, want: `True`},
		{expr: `csv.try_source("not a list")`, want: `Result(ok=False, error="csv.source: data must be a list, got string")`},
		{expr: `type(csv.source([]))`, want: `csv.writer`},
		{expr: `str(csv.source([[1], [2]]))`, want: `csv.writer(2 rows)`},
		{expr: `str(csv.source([]))`, want: `csv.writer(0 rows)`},
		{expr: `dir(csv.source([]))`, want: `["data", "try_write_file", "write_file"]`},
		{expr: `bool(csv.source([]))`, want: `False`},
		{expr: `bool(csv.source([[]]))`, want: `True`},
		{expr: `{csv.source([]): 1}`, err: `unhashable type: csv.writer`},

		{name: "namespace", expr: `dir(csv)`, want: `["file", "source", "try_file", "try_source"]`},
		{expr: `type(csv)`, want: `module`},
		{expr: `csv.encode`, err: `module has no .encode field or method`},
	})
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	w := func(name, content string) string { return quote(writeFile(t, dir, name, content)) }
	basic := w("basic.csv", "name,value\nfoo,1\nbar,2")
	fruit := w("fruit.csv", "name,qty\napple,3\npear,5\n")
	missing := filepath.Join(dir, "missing.csv")
	runCases(t, nil, []evalCase{
		{name: "rows", expr: `csv.file(` + basic + `).read()`, want: `[["name", "value"], ["foo", "1"], ["bar", "2"]]`},
		{name: "spec example", expr: `csv.file(` + fruit + `).read()`, want: `[["name", "qty"], ["apple", "3"], ["pear", "5"]]`},
		{name: "header", expr: `csv.file(` + fruit + `).read(header=True)`, want: `[{"name": "apple", "qty": "3"}, {"name": "pear", "qty": "5"}]`},
		{name: "header key order", expr: `list(csv.file(` + w("order.csv", "z,a,m\n1,2,3\n") + `).read(header=True)[0].keys())`, want: `["z", "a", "m"]`},
		{name: "skip", expr: `csv.file(` + basic + `).read(skip=1)`, want: `[["foo", "1"], ["bar", "2"]]`},
		{name: "skip all", expr: `csv.file(` + basic + `).read(skip=3)`, want: `[]`},
		{name: "skip beyond", expr: `csv.file(` + basic + `).read(skip=10)`, want: `[]`},
		{name: "negative skip", expr: `csv.file(` + basic + `).read(skip=-1)`, want: `[["name", "value"], ["foo", "1"], ["bar", "2"]]`},
		{name: "skip then header", expr: `csv.file(` + w("pre.csv", "# generated\nname,qty\napple,3\n") + `).read(skip=1, header=True)`, want: `[{"name": "apple", "qty": "3"}]`},
		{name: "header only", expr: `csv.file(` + w("hdr.csv", "a,b\n") + `).read(header=True)`, want: `[]`},
		{name: "header on empty", expr: `csv.file(` + w("empty.csv", "") + `).read(header=True)`, want: `[]`},
		{name: "empty", expr: `csv.file(` + w("empty2.csv", "") + `).read()`, want: `[]`},
		{name: "short and long rows", expr: `csv.file(` + w("ragged.csv", "a,b,c\n1\n1,2,3,4\n") + `).read(header=True)`,
			want: `[{"a": "1", "b": "", "c": ""}, {"a": "1", "b": "2", "c": "3"}]`},
		{name: "ragged rows", expr: `csv.file(` + w("ragged2.csv", "a,b,c\n1\n1,2,3,4\n") + `).read()`, want: `[["a", "b", "c"], ["1"], ["1", "2", "3", "4"]]`},
		{name: "sep", expr: `csv.file(` + w("semi.csv", "name;value\nfoo;1") + `).read(sep=";")`, want: `[["name", "value"], ["foo", "1"]]`},
		{name: "sep first char", expr: `csv.file(` + w("semi2.csv", "a;b") + `).read(sep=";;")`, want: `[["a", "b"]]`},
		{name: "empty sep is comma", expr: `csv.file(` + w("c.csv", "a,b") + `).read(sep="")`, want: `[["a", "b"]]`},
		{name: "tab sep", expr: `csv.file(` + w("tab.csv", "a\tb c\n") + `).read(sep="\t")`, want: `[["a", "b c"]]`},
		{name: "unicode sep", expr: `csv.file(` + w("u.csv", "a§b\n") + `).read(sep="§")`, want: `[["a", "b"]]`},
		{name: "comment", expr: `csv.file(` + w("comment.csv", "a,b\n#comment\n1,2\n") + `).read(comment="#")`, want: `[["a", "b"], ["1", "2"]]`},
		{name: "no comment by default", expr: `csv.file(` + w("comment2.csv", "#x\n") + `).read()`, want: `[["#x"]]`},
		{name: "quoting", expr: `csv.file(` + w("q.csv", "\"a, b\",\"say \"\"hi\"\"\",\"multi\nline\"\n") + `).read()`, want: `[["a, b", "say \"hi\"", "multi\nline"]]`},
		{name: "blank lines and crlf", expr: `csv.file(` + w("crlf.csv", "a,b\r\n\r\n1,2\r\n\n") + `).read()`, want: `[["a", "b"], ["1", "2"]]`},
		{name: "no trimming", expr: `csv.file(` + w("sp.csv", " a , b \n") + `).read()`, want: `[[" a ", " b "]]`},
		{name: "strict quotes", expr: `csv.file(` + w("bare.csv", "a,b\nxy\"z\n") + `).read()`,
			err: `csv.file.read: parse error on line 2, column 3: bare " in non-quoted-field`},
		{name: "error in skipped record", expr: `csv.file(` + w("bare2.csv", "a\"b\nc\n") + `).read(skip=1)`,
			err: `csv.file.read: parse error on line 1, column 2: bare " in non-quoted-field`},
		{name: "unterminated quote", expr: `csv.file(` + w("open.csv", "\"abc\n") + `).read()`,
			err: `csv.file.read: parse error on line 1, column 6: extraneous or missing " in quoted-field`},
		{name: "bad sep", expr: `csv.file(` + basic + `).read(sep="\n")`, err: `csv.file.read: csv: invalid field or comment delimiter`},
		{name: "sep equals comment", expr: `csv.file(` + basic + `).read(sep="#", comment="#")`, err: `csv.file.read: csv: invalid field or comment delimiter`},
		{name: "missing", expr: `csv.file(` + quote(missing) + `).read()`, err: `csv.file.read: open ` + missing + `: no such file or directory`},
		{name: "directory", expr: `csv.file(` + quote(dir) + `).read()`, err: `csv.file.read: read ` + dir + `: is a directory`},
		{name: "positional", expr: `csv.file(` + basic + `).read("x")`, err: `csv.file.read: unexpected positional argument at index 0`},
		{name: "unknown keyword", expr: `csv.file(` + basic + `).read(delimiter=";")`, err: `csv.file.read: unknown keyword argument: delimiter`},
		{name: "skip type", expr: `csv.file(` + basic + `).read(skip="1")`, err: `csv.file.read: for parameter "skip": got string, want int`},
		{name: "header type", expr: `csv.file(` + basic + `).read(header=1)`, err: `csv.file.read: for parameter "header": got int, want bool`},
		{name: "sep type", expr: `csv.file(` + basic + `).read(sep=None)`, err: `csv.file.read: for parameter "sep": got NoneType, want string`},
		{name: "try_read", expr: `len(csv.file(` + basic + `).try_read(skip=1).value)`, want: `2`},
		{name: "try_read missing", expr: `csv.file(` + quote(missing) + `).try_read()`,
			want: `Result(ok=False, error="csv.file.read: open ` + missing + `: no such file or directory")`},
		{name: "try_read binding", expr: `csv.file(` + basic + `).try_read(1)`, want: `Result(ok=False, error="csv.file.read: unexpected positional argument at index 0")`},
	})

	t.Run("relative path reported as given", func(t *testing.T) {
		t.Chdir(dir)
		got, msg, _ := run(t, nil, "", `csv.file("basic.csv").read(skip=2)`)
		if msg != "" || got != `[["bar", "2"]]` {
			t.Fatalf("= %s (%s)", got, msg)
		}
		_, msg, _ = run(t, nil, "", `csv.file("nope.csv").read()`)
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
			got, msg, _ := run(t, nil, "", `csv.source(`+c.data+`)`+call)
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

	bad := quote(filepath.Join(dir, "bad.csv"))
	runCases(t, nil, []evalCase{
		{name: "dict then list", expr: `csv.source([{"a": 1}, ["x"]]).write_file(` + bad + `)`, err: `csv.writer.write_file: expected dict, got list`},
		{name: "list then dict", expr: `csv.source([["x"], {"a": 1}]).write_file(` + bad + `)`, err: `csv.writer.write_file: expected list of lists, got dict`},
		{name: "tuple row", expr: `csv.source([("x",)]).write_file(` + bad + `)`, err: `csv.writer.write_file: expected list of lists, got tuple`},
		{name: "scalar row", expr: `csv.source(["x"]).write_file(` + bad + `)`, err: `csv.writer.write_file: expected list of lists, got string`},
		{name: "bad sep", expr: `csv.source([["x"]]).write_file(` + bad + `, sep="\n")`, err: `csv.writer.write_file: csv: invalid field or comment delimiter`},
		{name: "no path", expr: `csv.source([]).write_file()`, err: `csv.writer.write_file: missing required argument: path`},
		{name: "path type", expr: `csv.source([]).write_file(1)`, err: `csv.writer.write_file: for parameter path: got int, want string`},
		{name: "sep positional", expr: `csv.source([]).write_file("p", ";")`, err: `csv.writer.write_file: unexpected positional argument at index 1`},
		{name: "sep type", expr: `csv.source([]).write_file("p", sep=1)`, err: `csv.writer.write_file: for parameter "sep": got int, want string`},
		{name: "unknown keyword", expr: `csv.source([]).write_file("p", header=True)`, err: `csv.writer.write_file: unknown keyword argument: header`},
		{name: "missing dir", expr: `csv.source([["x"]]).write_file(` + quote(filepath.Join(dir, "no", "x.csv")) + `)`,
			err: `csv.writer.write_file: open ` + filepath.Join(dir, "no", "x.csv") + `: no such file or directory`},
		{name: "try_write_file", expr: `csv.source([["x"]]).try_write_file(` + quote(filepath.Join(dir, "try.csv")) + `)`, want: `Result(ok=True, value=None)`},
		{name: "try_write_file error", expr: `csv.source([1]).try_write_file(` + bad + `)`, want: `Result(ok=False, error="csv.writer.write_file: expected list of lists, got int")`},
	})
	if _, err := os.Stat(filepath.Join(dir, "bad.csv")); !os.IsNotExist(err) {
		t.Fatal("a failed write created its file")
	}

	t.Run("failed write keeps old content", func(t *testing.T) {
		p := writeFile(t, dir, "keep.csv", "old\n")
		if _, msg, _ := run(t, nil, "", `csv.source([["new"], 1]).write_file(`+quote(p)+`)`); msg == "" {
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
		got, msg, _ := run(t, nil, pre, `back == rows and dback == dicts`)
		if msg != "" || got != "True" {
			t.Fatalf("= %s (%s)", got, msg)
		}
	})
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	existing := writeFile(t, dir, "existing.csv", "a,b\n")
	target := filepath.Join(dir, "out.csv")
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	denyDry := &libkite.Config{Permissions: libkite.DenyAllPermissions(), DryRun: true}
	cases := []struct {
		name    string
		cfg     *libkite.Config
		expr    string
		wantErr string // prefix of the raised permission error
		want    string // prefix of the result
	}{
		{name: "write denied", cfg: deny, expr: `csv.source([["a"]]).write_file(` + quote(target) + `)`, wantErr: `permission denied: fs.write write(` + quote(target) + `)`},
		{name: "dict write denied", cfg: deny, expr: `csv.source([{"a": 1}]).write_file(` + quote(target) + `, sep=";")`, wantErr: `permission denied: fs.write write(`},
		{name: "write denied in dry run", cfg: denyDry, expr: `csv.source([]).write_file(` + quote(target) + `)`, wantErr: `permission denied: fs.write write(`},
		{name: "try_write_file denied", cfg: deny, expr: `csv.source([]).try_write_file(` + quote(target) + `)`, want: `Result(ok=False, error="permission denied: fs.write write(`},
		{name: "read denied", cfg: deny, expr: `csv.file(` + quote(existing) + `).read()`, wantErr: `permission denied: fs.read read_file(` + quote(existing) + `)`},
		{name: "read denied in dry run", cfg: denyDry, expr: `csv.file(` + quote(existing) + `).read()`, wantErr: `permission denied: fs.read read_file(`},
		{name: "try_read denied", cfg: deny, expr: `csv.file(` + quote(existing) + `).try_read(header=True)`, want: `Result(ok=False, error="permission denied: fs.read read_file(`},
		{name: "deny rule on writes", cfg: &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")},
			expr: `csv.source([]).write_file(` + quote(target) + `)`, wantErr: `permission denied: fs.write write(`},
		{name: "deny rule leaves reads", cfg: &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")},
			expr: `csv.file(` + quote(existing) + `).read()`, want: `[["a", "b"]]`},
		{name: "factories ungated", cfg: deny, expr: `[csv.file("x").path, csv.source([1]).data]`, want: `["x", [1]]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, msg, err := run(t, c.cfg, "", c.expr)
			if c.wantErr != "" {
				if !strings.HasPrefix(msg, c.wantErr) || !libkite.IsPermissionError(err) {
					t.Fatalf("error = %q (%T), want prefix %q", msg, err, c.wantErr)
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
	existing := writeFile(t, dir, "existing.csv", "a,b\n1,2\n")
	target := filepath.Join(dir, "out.csv")
	runCases(t, &libkite.Config{DryRun: true}, []evalCase{
		{name: "write skipped", expr: `csv.source([["a"]]).write_file(` + quote(target) + `)`, want: `None`},
		{name: "try_write skipped", expr: `csv.source([{"a": 1}]).try_write_file(` + quote(target) + `)`, want: `Result(ok=True, value=None)`},
		{name: "row error still raised", expr: `csv.source([1]).write_file(` + quote(target) + `)`, err: `csv.writer.write_file: expected list of lists, got int`},
		{name: "read returns []", expr: `csv.file(` + quote(existing) + `).read(header=True)`, want: `[]`},
		{name: "missing not read", expr: `csv.file(` + quote(filepath.Join(dir, "nope")) + `).try_read()`, want: `Result(ok=True, value=[])`},
		{name: "binding still checked", expr: `csv.file(` + quote(existing) + `).read(1)`, err: `csv.file.read: unexpected positional argument at index 0`},
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
			p := quote(filepath.Join(dir, "c"+n+".csv"))
			got, msg, _ := run(t, nil, `csv.source([{"i": `+n+`}]).write_file(`+p+`)`, `csv.file(`+p+`).read(header=True) == [{"i": "`+n+`"}]`)
			if msg != "" || got != "True" {
				t.Errorf("goroutine %d: %s (%s)", i, got, msg)
			}
		}()
	}
	wg.Wait()
}

func TestModule(t *testing.T) {
	m := csv.New()
	if m.Name() != "csv" || m.FactoryMethod() != "" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestConformance(t *testing.T) {
	path := filepath.Join("..", "..", "..", "tests", "csv_test.star")
	rt := newRuntime(t, &libkite.Config{ScriptPath: path})
	kitetest.RunConformance(t, rt, path, 10)
}
