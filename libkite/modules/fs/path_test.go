//go:build unix

package fs_test

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/kitetest"
	kitefs "github.com/project-starkite/starkite/libkite/modules/fs"
)

// ioMethods are the 29 I/O methods whose try_ twins dir() lists.
var ioMethods = strings.Fields(`append_bytes append_text chmod chown copy_to disk_usage exists glob group
	hardlink_to is_dir is_file is_symlink listdir mkdir move_to owner read_bytes read_text readlink remove
	rename stat symlink_to touch truncate walk write_bytes write_text`)

var pureMethods = strings.Fields(`clean expanduser is_absolute is_relative_to join match relative_to resolve with_name with_suffix`)

func TestModule(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(fs)`, Want: "module"},
		{Expr: `dir(fs)`, Want: `["path", "try_path"]`},
		{Expr: `fs.path("/x")`, Want: `path("/x")`},
		{Name: "global alias is the same builtin", Expr: `path("/x").string == fs.path("/x").string and str(path) == str(fs.path)`, Want: "True"},
		{Name: "keywords ignored", Expr: `fs.path("a", bogus=1)`, Want: `path("a")`},
		{Name: "empty allowed", Expr: `fs.path("")`, Want: `path("")`},
		{Name: "no arguments", Expr: `fs.path()`, Err: "fs.path: takes exactly 1 argument (path string)"},
		{Name: "two arguments", Expr: `path("a", "b")`, Err: "fs.path: takes exactly 1 argument (path string)"},
		{Name: "Path argument", Expr: `fs.path(fs.path("a"))`, Err: "fs.path: argument must be a string, got fs.path"},
		{Name: "int argument", Expr: `path(1)`, Err: "fs.path: argument must be a string, got int"},
		{Name: "keyword only", Expr: `path(p="a")`, Err: "fs.path: takes exactly 1 argument (path string)"},
		{Name: "try_path ok", Expr: `fs.try_path("a")`, Want: `Result(ok=True, value=path("a"))`},
		{Name: "try_path error", Expr: `fs.try_path(1)`, Want: `Result(ok=False, error="fs.path: argument must be a string, got int")`},
		{Name: "no try_ globals", Expr: `try_read_text`, Err: "undefined: try_read_text", ErrContains: true},
		{Name: "no other module members", Expr: `fs.read_text`, Err: "module has no .read_text field or method"},
		{Name: "unknown try_", Expr: `fs.try_nope`, Err: "module has no .try_nope field or method"},
	})
}

func TestPathValue(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(path("/a"))`, Want: "fs.path"},
		{Expr: `str(path("/var/log"))`, Want: `path("/var/log")`},
		{Expr: `repr(path("/var/log"))`, Want: `path("/var/log")`},
		{Name: "Go quoting", Expr: `str(path("a\"b\n"))`, Want: `path("a\"b\n")`},
		{Expr: `bool(path(""))`, Want: "False"},
		{Expr: `bool(path("."))`, Want: "True"},
		{Name: "dict key", Expr: `{path("a"): 1}[path("a")]`, Want: "1"},
		{Name: "equal by string", Expr: `path("a") == path("a")`, Want: "True"},
		{Name: "not cleaned for equality", Expr: `path("a/") == path("a")`, Want: "False"},
		{Expr: `path("a") != path("b")`, Want: "True"},
		{Name: "ordered by string", Expr: `sorted([path("b"), path("a")])`, Want: `[path("a"), path("b")]`},
		{Name: "not equal to str", Expr: `path("a") == "a"`, Want: "False"},
		{Expr: `path("a") / "b" / "c"`, Want: `path("a/b/c")`},
		{Expr: `fs.path("/etc") / fs.path("nginx")`, Want: `path("/etc/nginx")`},
		{Name: "absolute right side does not reset", Expr: `path("a") / "/b"`, Want: `path("a/b")`},
		{Name: "join cleans", Expr: `path("a/") / "./b/../c"`, Want: `path("a/c")`},
		{Name: "str / path unsupported", Expr: `"a" / path("b")`, Err: "unknown binary op: string / fs.path"},
		{Name: "path / int unsupported", Expr: `path("a") / 1`, Err: "unknown binary op: fs.path / int"},
		{Name: "no other operators", Expr: `path("a") + "b"`, Err: "unknown binary op: fs.path + string"},
		{Name: "property has no try_", Expr: `path("a").try_name`, Err: "fs.path has no .try_name field or method", ErrContains: true},
		{Name: "unknown attribute", Expr: `path("a").nope`, Err: "fs.path has no .nope field or method"},
		{Name: "unknown try_", Expr: `path("a").try_nope`, Err: "fs.path has no .try_nope field or method"},
		{Name: "method value", Expr: `str(path("a").join)`, Want: "<built-in method fs.path.join of fs.path value>"},
		{Name: "frozen path still usable", Pre: `P = [path("x")]`, Expr: `P[0].name`, Want: "x"},
	})
}

func TestDir(t *testing.T) {
	want := []string{"name", "parent", "parts", "stem", "string", "suffix"}
	want = append(want, pureMethods...)
	for _, m := range ioMethods {
		want = append(want, m, "try_"+m)
	}
	got, msg, _ := kit.Eval(t, nil, "", `dir(path("a"))`)
	if msg != "" {
		t.Fatal(msg)
	}
	var list []string
	for _, s := range strings.Split(strings.Trim(got, "[]"), ", ") {
		list = append(list, strings.Trim(s, `"`))
	}
	if len(ioMethods) != 29 || len(pureMethods) != 10 || len(list) != 6+39+29 {
		t.Fatalf("counts: io %d pure %d dir %d", len(ioMethods), len(pureMethods), len(list))
	}
	sortedWant := append([]string(nil), want...)
	sortStrings(sortedWant)
	if strings.Join(list, " ") != strings.Join(sortedWant, " ") {
		t.Fatalf("dir(path) =\n%v\nwant\n%v", list, sortedWant)
	}
	// every method and every try_ twin (pure ones too) is reachable
	for _, m := range append(append([]string(nil), pureMethods...), ioMethods...) {
		for _, name := range []string{m, "try_" + m} {
			got, msg, _ := kit.Eval(t, nil, "", `type(getattr(path("a"), "`+name+`"))`)
			if msg != "" || got != "builtin_function_or_method" {
				t.Errorf("%s: %q %q", name, got, msg)
			}
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestProperties(t *testing.T) {
	cases := []struct {
		path                       string
		name, parent, stem, suffix string
		parts                      string
	}{
		{"/var/log/app.log", "app.log", "/var/log", "app", ".log", `["/", "var", "log", "app.log"]`},
		{"/var/log/syslog", "syslog", "/var/log", "syslog", "", `["/", "var", "log", "syslog"]`},
		{"/etc/hostname", "hostname", "/etc", "hostname", "", `["/", "etc", "hostname"]`},
		{"/home/u/.bashrc", ".bashrc", "/home/u", ".bashrc", ".bashrc", `["/", "home", "u", ".bashrc"]`},
		{".hidden", ".hidden", ".", ".hidden", ".hidden", `[".hidden"]`},
		{"app.tar.gz", "app.tar.gz", ".", "app.tar", ".gz", `["app.tar.gz"]`},
		{"x", "x", ".", "x", "", `["x"]`},
		{"", ".", ".", ".", "", `[]`},
		{".", ".", ".", ".", ".", `[]`}, // Go: Ext(".") == "."
		{"/", "/", "/", "/", "", `["/"]`},
		{"a/b/", "b", "a/b", "b", "", `["a", "b"]`},
		{"a/./b/../c", "c", "a", "c", "", `["a", "c"]`}, // Dir cleans
		{"//x//y", "y", "/x", "y", "", `["/", "x", "y"]`},
		{"a.b/c", "c", "a.b", "c", "", `["a.b", "c"]`},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			p := "path(" + lit(c.path) + ")"
			got, msg, _ := kit.Eval(t, nil, "p = "+p, `[p.name, p.parent.string, p.stem, p.suffix, p.string, p.parts, type(p.parent), type(p.parts)]`)
			want := "[" + strings.Join([]string{lit(c.name), lit(c.parent), lit(c.stem), lit(c.suffix), lit(c.path), c.parts, `"fs.path"`, `"list"`}, ", ") + "]"
			if msg != "" || got != want {
				t.Fatalf("got %s (%s)\nwant %s", got, msg, want)
			}
		})
	}
	t.Run("parent chain", func(t *testing.T) {
		got, _, _ := kit.Eval(t, nil, "", `path("/var/log/syslog").parent.parent`)
		if got != `path("/var")` {
			t.Fatal(got)
		}
	})
}

func TestPureMethods(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	kit.RunCases(t, nil, []kitetest.Case{
		// join
		{Expr: `path("/etc").join("nginx", "nginx.conf")`, Want: `path("/etc/nginx/nginx.conf")`},
		{Expr: `path("a//b/").join()`, Want: `path("a/b")`},
		{Expr: `path("a").join("/b", "c/")`, Want: `path("a/b/c")`},
		{Expr: `path("a").join(path("b"))`, Err: "fs.path.join: expected string arguments, got fs.path"},
		{Expr: `path("a").join("b", 1)`, Err: "fs.path.join: expected string arguments, got int"},
		{Expr: `path("a").join(x="b")`, Err: "fs.path.join: unknown keyword argument: x"},
		{Expr: `path("a").try_join("b")`, Want: `Result(ok=True, value=path("a/b"))`},
		{Expr: `path("a").try_join(1)`, Want: `Result(ok=False, error="fs.path.join: expected string arguments, got int")`},
		// with_name
		{Expr: `path("/var/log/syslog").with_name("messages")`, Want: `path("/var/log/messages")`},
		{Expr: `path("x").with_name("y")`, Want: `path("y")`},
		{Expr: `path("x").with_name(name="y")`, Want: `path("y")`},
		{Expr: `path("x").with_name()`, Err: "fs.path.with_name: missing required argument: name"},
		{Expr: `path("x").with_name("a", "b")`, Err: "fs.path.with_name: unexpected positional argument at index 1"},
		{Expr: `path("x").with_name(n="a")`, Err: "fs.path.with_name: unknown keyword argument: n"},
		{Expr: `path("x").with_name(None)`, Err: "fs.path.with_name: for parameter name: got NoneType, want string"},
		// with_suffix
		{Expr: `path("/a/app.log").with_suffix(".txt")`, Want: `path("/a/app.txt")`},
		{Expr: `path("/a/b.tar.gz").with_suffix(".zip")`, Want: `path("/a/b.tar.zip")`},
		{Expr: `path("/a/b").with_suffix(".txt")`, Want: `path("/a/b.txt")`},
		{Expr: `path("/a/b.txt").with_suffix("")`, Want: `path("/a/b")`},
		{Expr: `path("b").with_suffix(b".x")`, Err: "fs.path.with_suffix: for parameter suffix: got bytes, want string"},
		// resolve
		{Expr: `path("/var/log").resolve()`, Want: `path("/var/log")`},
		{Expr: `path("/var//log/../x").resolve()`, Want: `path("/var/x")`},
		{Expr: `path(".").resolve()`, Want: "path(" + lit(cwd) + ")"},
		{Expr: `path("rel/x").resolve()`, Want: "path(" + lit(filepath.Join(cwd, "rel/x")) + ")"},
		{Name: "resolve ignores args", Expr: `path("/a").resolve(1, x=2)`, Want: `path("/a")`},
		// clean
		{Expr: `path("/var//log/../log/syslog").clean()`, Want: `path("/var/log/syslog")`},
		{Expr: `path("a//b/../c").clean()`, Want: `path("a/c")`},
		{Expr: `path("").clean()`, Want: `path(".")`},
		{Name: "clean ignores args", Expr: `path("a/").clean("x")`, Want: `path("a")`},
		// is_absolute
		{Expr: `path("/a").is_absolute()`, Want: "True"},
		{Expr: `path("a").is_absolute()`, Want: "False"},
		{Expr: `path("").is_absolute(1)`, Want: "False"},
		// is_relative_to
		{Expr: `path("/var/log/x").is_relative_to("/var")`, Want: "True"},
		{Expr: `path("/var/log/x").is_relative_to("/etc")`, Want: "False"},
		{Expr: `path("/var").is_relative_to("/var")`, Want: "True"},
		{Expr: `path("/var/x").is_relative_to("var")`, Want: "False"},
		{Expr: `path("var/x").is_relative_to("/var")`, Want: "False"},
		{Name: "dot-dot prefixed name is inside", Expr: `path("/a/..b").is_relative_to("/a")`, Want: "True"},
		{Expr: `path("/a/b").is_relative_to(path("/a"))`, Want: "True"},
		{Expr: `path("/a").is_relative_to(1)`, Err: "fs.path.is_relative_to: for parameter other: got int, want string or fs.path"},
		{Expr: `path("/a").is_relative_to()`, Err: "fs.path.is_relative_to: missing required argument: other"},
		// relative_to
		{Expr: `path("/var/log/syslog").relative_to("/var")`, Want: `path("log/syslog")`},
		{Expr: `path("/var").relative_to("/var")`, Want: `path(".")`},
		{Expr: `path("/var/log").relative_to("/etc")`, Err: `fs.path.relative_to: "/var/log" is not relative to "/etc"`},
		{Expr: `path("/var/log").relative_to("etc")`, Err: `fs.path.relative_to: Rel: can't make /var/log relative to etc`},
		{Expr: `path("/var/log").try_relative_to("/etc").error`, Want: `fs.path.relative_to: "/var/log" is not relative to "/etc"`},
		// match
		{Expr: `path("file.txt").match("*.txt")`, Want: "True"},
		{Expr: `path("file.txt").match("*.log")`, Want: "False"},
		{Expr: `path("/x/file.txt").match("x/*.txt")`, Want: "False"},
		{Expr: `path("/x/file.txt").match("*.txt")`, Want: "True"},
		{Expr: `path("File.TXT").match("*.txt")`, Want: "False"},
		{Expr: `path("a").match("[")`, Err: "syntax error in pattern"},
		{Expr: `path("a").try_match("[").error`, Want: "syntax error in pattern"},
		{Expr: `path("a").match()`, Err: "fs.path.match: missing required argument: pattern"},
		// expanduser
		{Expr: `path("~").expanduser()`, Want: "path(" + lit(home) + ")"},
		{Expr: `path("~/Documents").expanduser()`, Want: "path(" + lit(filepath.Join(home, "Documents")) + ")"},
		{Expr: `path("~` + me.Username + `/x").expanduser()`, Want: "path(" + lit(filepath.Join(me.HomeDir, "x")) + ")"},
		{Expr: `path("~` + me.Username + `").expanduser()`, Want: "path(" + lit(me.HomeDir) + ")"},
		{Expr: `path("/a/~").expanduser()`, Want: `path("/a/~")`},
		{Expr: `path("~kite_no_such_user/x").expanduser()`, Err: "fs.path.expanduser: user: unknown user kite_no_such_user"},
		{Expr: `path("~kite_no_such_user").try_expanduser().ok`, Want: "False"},
		{Name: "expanduser ignores args", Expr: `path("x").expanduser(1)`, Want: `path("x")`},
	})
	t.Run("expanduser uses HOME", func(t *testing.T) {
		t.Setenv("HOME", "/kite/home")
		got, msg, _ := kit.Eval(t, nil, "", `path("~/a").expanduser()`)
		if msg != "" || got != `path("/kite/home/a")` {
			t.Fatal(got, msg)
		}
	})
}

// TestGoAPI covers the exported Go surface.
func TestGoAPI(t *testing.T) {
	p := kitefs.NewPath("a/b")
	if p.Text() != "a/b" || p.String() != `path("a/b")` || p.Type() != "fs.path" || !bool(p.Truth()) {
		t.Fatal(p)
	}
	h1, _ := p.Hash()
	h2, _ := starlark.String("a/b").Hash()
	if h1 != h2 {
		t.Fatal("hash")
	}
	if eq, err := starlark.Equal(p, kitefs.NewPath("a/b")); err != nil || !eq {
		t.Fatal("equal", err)
	}
	m := kitefs.New()
	if m.Name() != "fs" || len(m.Aliases()) != 7 {
		t.Fatalf("module %s aliases %v", m.Name(), m.Aliases())
	}
	for _, n := range []string{"path", "read_text", "read_bytes", "write_text", "write_bytes", "exists", "glob"} {
		if m.Aliases()[n] == nil {
			t.Errorf("alias %s missing", n)
		}
	}
}
