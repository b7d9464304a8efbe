//go:build unix

package fs_test

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	kitefs "github.com/project-starkite/starkite/libkite/modules/fs"
)

// ioMethods are the 29 I/O methods whose try_ twins dir() lists.
var ioMethods = strings.Fields(`append_bytes append_text chmod chown copy_to disk_usage exists glob group
	hardlink_to is_dir is_file is_symlink listdir mkdir move_to owner read_bytes read_text readlink remove
	rename stat symlink_to touch truncate walk write_bytes write_text`)

var pureMethods = strings.Fields(`clean expanduser is_absolute is_relative_to join match relative_to resolve with_name with_suffix`)

func TestModule(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `type(fs)`, want: "module"},
		{expr: `dir(fs)`, want: `["path", "try_path"]`},
		{expr: `fs.path("/x")`, want: `path("/x")`},
		{name: "global alias is the same builtin", expr: `path("/x").string == fs.path("/x").string and str(path) == str(fs.path)`, want: "True"},
		{name: "keywords ignored", expr: `fs.path("a", bogus=1)`, want: `path("a")`},
		{name: "empty allowed", expr: `fs.path("")`, want: `path("")`},
		{name: "no arguments", expr: `fs.path()`, err: "fs.path: takes exactly 1 argument (path string)"},
		{name: "two arguments", expr: `path("a", "b")`, err: "fs.path: takes exactly 1 argument (path string)"},
		{name: "Path argument", expr: `fs.path(fs.path("a"))`, err: "fs.path: argument must be a string, got fs.path"},
		{name: "int argument", expr: `path(1)`, err: "fs.path: argument must be a string, got int"},
		{name: "keyword only", expr: `path(p="a")`, err: "fs.path: takes exactly 1 argument (path string)"},
		{name: "try_path ok", expr: `fs.try_path("a")`, want: `Result(ok=True, value=path("a"))`},
		{name: "try_path error", expr: `fs.try_path(1)`, want: `Result(ok=False, error="fs.path: argument must be a string, got int")`},
		{name: "no try_ globals", expr: `try_read_text`, err: "undefined: try_read_text", errSub: true},
		{name: "no other module members", expr: `fs.read_text`, err: "module has no .read_text field or method"},
		{name: "unknown try_", expr: `fs.try_nope`, err: "module has no .try_nope field or method"},
	})
}

func TestPathValue(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `type(path("/a"))`, want: "fs.path"},
		{expr: `str(path("/var/log"))`, want: `path("/var/log")`},
		{expr: `repr(path("/var/log"))`, want: `path("/var/log")`},
		{name: "Go quoting", expr: `str(path("a\"b\n"))`, want: `path("a\"b\n")`},
		{expr: `bool(path(""))`, want: "False"},
		{expr: `bool(path("."))`, want: "True"},
		{name: "dict key", expr: `{path("a"): 1}[path("a")]`, want: "1"},
		{name: "equal by string", expr: `path("a") == path("a")`, want: "True"},
		{name: "not cleaned for equality", expr: `path("a/") == path("a")`, want: "False"},
		{expr: `path("a") != path("b")`, want: "True"},
		{name: "ordered by string", expr: `sorted([path("b"), path("a")])`, want: `[path("a"), path("b")]`},
		{name: "not equal to str", expr: `path("a") == "a"`, want: "False"},
		{expr: `path("a") / "b" / "c"`, want: `path("a/b/c")`},
		{expr: `fs.path("/etc") / fs.path("nginx")`, want: `path("/etc/nginx")`},
		{name: "absolute right side does not reset", expr: `path("a") / "/b"`, want: `path("a/b")`},
		{name: "join cleans", expr: `path("a/") / "./b/../c"`, want: `path("a/c")`},
		{name: "str / path unsupported", expr: `"a" / path("b")`, err: "unknown binary op: string / fs.path"},
		{name: "path / int unsupported", expr: `path("a") / 1`, err: "unknown binary op: fs.path / int"},
		{name: "no other operators", expr: `path("a") + "b"`, err: "unknown binary op: fs.path + string"},
		{name: "property has no try_", expr: `path("a").try_name`, err: "fs.path has no .try_name field or method", errSub: true},
		{name: "unknown attribute", expr: `path("a").nope`, err: "fs.path has no .nope field or method"},
		{name: "unknown try_", expr: `path("a").try_nope`, err: "fs.path has no .try_nope field or method"},
		{name: "method value", expr: `str(path("a").join)`, want: "<built-in method fs.path.join of fs.path value>"},
		{name: "frozen path still usable", pre: `P = [path("x")]`, expr: `P[0].name`, want: "x"},
	})
}

func TestDir(t *testing.T) {
	want := []string{"name", "parent", "parts", "stem", "string", "suffix"}
	want = append(want, pureMethods...)
	for _, m := range ioMethods {
		want = append(want, m, "try_"+m)
	}
	got, msg := eval(t, nil, "", `dir(path("a"))`)
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
			got, msg := eval(t, nil, "", `type(getattr(path("a"), "`+name+`"))`)
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
			got, msg := eval(t, nil, "p = "+p, `[p.name, p.parent.string, p.stem, p.suffix, p.string, p.parts, type(p.parent), type(p.parts)]`)
			want := "[" + strings.Join([]string{lit(c.name), lit(c.parent), lit(c.stem), lit(c.suffix), lit(c.path), c.parts, `"fs.path"`, `"list"`}, ", ") + "]"
			if msg != "" || got != want {
				t.Fatalf("got %s (%s)\nwant %s", got, msg, want)
			}
		})
	}
	t.Run("parent chain", func(t *testing.T) {
		got, _ := eval(t, nil, "", `path("/var/log/syslog").parent.parent`)
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
	runCases(t, nil, []evalCase{
		// join
		{expr: `path("/etc").join("nginx", "nginx.conf")`, want: `path("/etc/nginx/nginx.conf")`},
		{expr: `path("a//b/").join()`, want: `path("a/b")`},
		{expr: `path("a").join("/b", "c/")`, want: `path("a/b/c")`},
		{expr: `path("a").join(path("b"))`, err: "fs.path.join: expected string arguments, got fs.path"},
		{expr: `path("a").join("b", 1)`, err: "fs.path.join: expected string arguments, got int"},
		{expr: `path("a").join(x="b")`, err: "fs.path.join: unknown keyword argument: x"},
		{expr: `path("a").try_join("b")`, want: `Result(ok=True, value=path("a/b"))`},
		{expr: `path("a").try_join(1)`, want: `Result(ok=False, error="fs.path.join: expected string arguments, got int")`},
		// with_name
		{expr: `path("/var/log/syslog").with_name("messages")`, want: `path("/var/log/messages")`},
		{expr: `path("x").with_name("y")`, want: `path("y")`},
		{expr: `path("x").with_name(name="y")`, want: `path("y")`},
		{expr: `path("x").with_name()`, err: "fs.path.with_name: missing required argument: name"},
		{expr: `path("x").with_name("a", "b")`, err: "fs.path.with_name: unexpected positional argument at index 1"},
		{expr: `path("x").with_name(n="a")`, err: "fs.path.with_name: unknown keyword argument: n"},
		{expr: `path("x").with_name(None)`, err: "fs.path.with_name: for parameter name: got NoneType, want string"},
		// with_suffix
		{expr: `path("/a/app.log").with_suffix(".txt")`, want: `path("/a/app.txt")`},
		{expr: `path("/a/b.tar.gz").with_suffix(".zip")`, want: `path("/a/b.tar.zip")`},
		{expr: `path("/a/b").with_suffix(".txt")`, want: `path("/a/b.txt")`},
		{expr: `path("/a/b.txt").with_suffix("")`, want: `path("/a/b")`},
		{expr: `path("b").with_suffix(b".x")`, err: "fs.path.with_suffix: for parameter suffix: got bytes, want string"},
		// resolve
		{expr: `path("/var/log").resolve()`, want: `path("/var/log")`},
		{expr: `path("/var//log/../x").resolve()`, want: `path("/var/x")`},
		{expr: `path(".").resolve()`, want: "path(" + lit(cwd) + ")"},
		{expr: `path("rel/x").resolve()`, want: "path(" + lit(filepath.Join(cwd, "rel/x")) + ")"},
		{name: "resolve ignores args", expr: `path("/a").resolve(1, x=2)`, want: `path("/a")`},
		// clean
		{expr: `path("/var//log/../log/syslog").clean()`, want: `path("/var/log/syslog")`},
		{expr: `path("a//b/../c").clean()`, want: `path("a/c")`},
		{expr: `path("").clean()`, want: `path(".")`},
		{name: "clean ignores args", expr: `path("a/").clean("x")`, want: `path("a")`},
		// is_absolute
		{expr: `path("/a").is_absolute()`, want: "True"},
		{expr: `path("a").is_absolute()`, want: "False"},
		{expr: `path("").is_absolute(1)`, want: "False"},
		// is_relative_to
		{expr: `path("/var/log/x").is_relative_to("/var")`, want: "True"},
		{expr: `path("/var/log/x").is_relative_to("/etc")`, want: "False"},
		{expr: `path("/var").is_relative_to("/var")`, want: "True"},
		{expr: `path("/var/x").is_relative_to("var")`, want: "False"},
		{expr: `path("var/x").is_relative_to("/var")`, want: "False"},
		{name: "dot-dot prefixed name is inside", expr: `path("/a/..b").is_relative_to("/a")`, want: "True"},
		{expr: `path("/a/b").is_relative_to(path("/a"))`, want: "True"},
		{expr: `path("/a").is_relative_to(1)`, err: "fs.path.is_relative_to: for parameter other: got int, want string or fs.path"},
		{expr: `path("/a").is_relative_to()`, err: "fs.path.is_relative_to: missing required argument: other"},
		// relative_to
		{expr: `path("/var/log/syslog").relative_to("/var")`, want: `path("log/syslog")`},
		{expr: `path("/var").relative_to("/var")`, want: `path(".")`},
		{expr: `path("/var/log").relative_to("/etc")`, err: `fs.path.relative_to: "/var/log" is not relative to "/etc"`},
		{expr: `path("/var/log").relative_to("etc")`, err: `fs.path.relative_to: Rel: can't make /var/log relative to etc`},
		{expr: `path("/var/log").try_relative_to("/etc").error`, want: `fs.path.relative_to: "/var/log" is not relative to "/etc"`},
		// match
		{expr: `path("file.txt").match("*.txt")`, want: "True"},
		{expr: `path("file.txt").match("*.log")`, want: "False"},
		{expr: `path("/x/file.txt").match("x/*.txt")`, want: "False"},
		{expr: `path("/x/file.txt").match("*.txt")`, want: "True"},
		{expr: `path("File.TXT").match("*.txt")`, want: "False"},
		{expr: `path("a").match("[")`, err: "syntax error in pattern"},
		{expr: `path("a").try_match("[").error`, want: "syntax error in pattern"},
		{expr: `path("a").match()`, err: "fs.path.match: missing required argument: pattern"},
		// expanduser
		{expr: `path("~").expanduser()`, want: "path(" + lit(home) + ")"},
		{expr: `path("~/Documents").expanduser()`, want: "path(" + lit(filepath.Join(home, "Documents")) + ")"},
		{expr: `path("~` + me.Username + `/x").expanduser()`, want: "path(" + lit(filepath.Join(me.HomeDir, "x")) + ")"},
		{expr: `path("~` + me.Username + `").expanduser()`, want: "path(" + lit(me.HomeDir) + ")"},
		{expr: `path("/a/~").expanduser()`, want: `path("/a/~")`},
		{expr: `path("~kite_no_such_user/x").expanduser()`, err: "fs.path.expanduser: user: unknown user kite_no_such_user"},
		{expr: `path("~kite_no_such_user").try_expanduser().ok`, want: "False"},
		{name: "expanduser ignores args", expr: `path("x").expanduser(1)`, want: `path("x")`},
	})
	t.Run("expanduser uses HOME", func(t *testing.T) {
		t.Setenv("HOME", "/kite/home")
		got, msg := eval(t, nil, "", `path("~/a").expanduser()`)
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
