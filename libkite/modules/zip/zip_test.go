package zip_test

import (
	stdzip "archive/zip"
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/zip"
)

// entry is one entry of an archive built by makeZip; a name ending in
// "/" is a directory.
type entry struct{ name, content string }

func makeZip(t testing.TB, path string, entries ...entry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := stdzip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&stdzip.FileHeader{Name: e.name, Method: stdzip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return kitetest.WriteFile(t, path, buf.String())
}

// readZip returns an archive's entries (name → content) in order, and
// fails unless every entry is Deflate.
func readZip(t testing.TB, path string) ([]string, map[string]string) {
	t.Helper()
	zr, err := stdzip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	content := map[string]string{}
	for _, f := range zr.File {
		if f.Method != stdzip.Deflate {
			t.Errorf("%s: method %d, want Deflate", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		content[f.Name] = string(b)
	}
	return names, content
}

func TestFactory(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(zip.file("/a.zip"))`, Want: `zip.archive`},
		{Expr: `str(zip.file("/a.zip"))`, Want: `zip.file("/a.zip")`},
		{Expr: `bool(zip.file("x")), bool(zip.file(""))`, Want: `(True, False)`},
		{Expr: `{zip.file("x"): 1}`, Err: `unhashable type: zip.archive`},
		{Expr: `dir(zip.file("x"))`, Want: `["namelist", "read", "read_all", "try_namelist", "try_read", "try_read_all", "try_write", "try_write_all", "write", "write_all"]`},
		{Expr: `hasattr(zip.file("x"), "path")`, Want: `False`},
		{Expr: `zip.file(1)`, Err: `zip.file: for parameter path: got int, want string`},
		{Expr: `zip.file()`, Err: `zip.file: missing required argument: path`},
		{Expr: `type(zip.try_file("/no/such.zip").value)`, Want: `zip.archive`},
		{Expr: `zip.try_file(1)`, Want: `Result(ok=False, error="zip.file: for parameter path: got int, want string")`},
		{Expr: `dir(zip)`, Want: `["file", "try_file"]`},
	})
}

func TestModule(t *testing.T) {
	m := zip.New()
	if m.Name() != "zip" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestReading(t *testing.T) {
	dir := kitetest.TempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	arc := lit(makeZip(t, p("a.zip"),
		entry{"docs/", ""}, entry{"docs/readme.txt", "read me"}, entry{"/abs/dir/a.txt", "abs"},
		entry{"main.go", "package main"}, entry{"dup.txt", "first"}, entry{"dup.txt", "second"}, entry{"bin", "\x00\x01"}))
	empty := lit(makeZip(t, p("empty.zip")))
	kitetest.WriteFile(t, p("not.zip"), "this is not a zip file at all")
	missing := p("missing.zip")
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `zip.file(` + arc + `).namelist()`, Want: `["docs/", "docs/readme.txt", "/abs/dir/a.txt", "main.go", "dup.txt", "dup.txt", "bin"]`},
		{Name: "match base name", Expr: `zip.file(` + arc + `).namelist(match="*.txt")`, Want: `["docs/readme.txt", "/abs/dir/a.txt", "dup.txt", "dup.txt"]`},
		{Name: "match full name", Expr: `zip.file(` + arc + `).namelist(match="docs/*")`, Want: `["docs/", "docs/readme.txt"]`},
		{Name: "match directory base", Expr: `zip.file(` + arc + `).namelist(match="docs")`, Want: `["docs/"]`},
		{Expr: `zip.file(` + empty + `).namelist()`, Want: `[]`},
		{Expr: `zip.file(` + arc + `).namelist(match="[")`, Err: `zip.namelist: invalid match pattern: syntax error in pattern`},
		{Expr: `zip.file(` + empty + `).namelist(match="a[")`, Err: `zip.namelist: invalid match pattern: syntax error in pattern`},
		{Expr: `zip.file(` + arc + `).namelist("*.txt")`, Err: `zip.namelist: unexpected positional argument at index 0`},
		{Expr: `zip.file(` + arc + `).namelist(pattern="*")`, Err: `zip.namelist: unknown keyword argument: pattern`},
		{Expr: `zip.file(` + lit(missing) + `).namelist()`, Err: `zip.namelist: open ` + missing + `: no such file or directory`},
		{Expr: `zip.file(` + lit(p("not.zip")) + `).namelist()`, Err: `zip.namelist: zip: not a valid zip file`},
		{Expr: `zip.file(` + lit(dir) + `).namelist()`, Err: `zip.namelist: read ` + dir + `: is a directory`},
		{Expr: `zip.file(` + arc + `).try_namelist(match="main*")`, Want: `Result(ok=True, value=["main.go"])`},
		{Expr: `zip.file(` + lit(missing) + `).try_namelist()`, Want: `Result(ok=False, error="zip.namelist: open ` + missing + `: no such file or directory")`},

		{Expr: `zip.file(` + arc + `).read("docs/readme.txt")`, Want: `b"read me"`},
		{Expr: `zip.file(` + arc + `).read("bin")`, Want: `b"\x00\x01"`},
		{Name: "first of duplicates", Expr: `zip.file(` + arc + `).read("dup.txt")`, Want: `b"first"`},
		{Name: "exact name only", Expr: `zip.file(` + arc + `).read("readme.txt")`, Err: `zip.read: file "readme.txt" not found in archive`},
		{Expr: `zip.file(` + arc + `).read(name="main.go")`, Want: `b"package main"`},
		{Expr: `zip.file(` + arc + `).read()`, Err: `zip.read: missing required argument: name`},
		{Expr: `zip.file(` + arc + `).read(1)`, Err: `zip.read: for parameter name: got int, want string`},
		{Expr: `zip.file(` + lit(missing) + `).read("x")`, Err: `zip.read: open ` + missing + `: no such file or directory`},
		{Expr: `zip.file(` + lit(p("not.zip")) + `).read("x")`, Err: `zip.read: zip: not a valid zip file`},
		{Expr: `zip.file(` + arc + `).try_read("main.go")`, Want: `Result(ok=True, value=b"package main")`},
		{Expr: `zip.file(` + arc + `).try_read("nonexistent.txt")`, Want: `Result(ok=False, error="zip.read: file \"nonexistent.txt\" not found in archive")`},

		{Name: "read_all skips dirs, archive order, last duplicate wins", Expr: `zip.file(` + arc + `).read_all()`,
			Want: `{"docs/readme.txt": b"read me", "/abs/dir/a.txt": b"abs", "main.go": b"package main", "dup.txt": b"second", "bin": b"\x00\x01"}`},
		{Expr: `zip.file(` + arc + `).read_all(match="*.go")`, Want: `{"main.go": b"package main"}`},
		{Expr: `zip.file(` + arc + `).read_all(files=["bin", "docs/readme.txt", "absent"])`, Want: `{"docs/readme.txt": b"read me", "bin": b"\x00\x01"}`},
		{Name: "files names exact", Expr: `zip.file(` + arc + `).read_all(files=["a.txt"])`, Want: `{}`},
		{Name: "empty files means all", Expr: `zip.file(` + arc + `).read_all(files=[], match="bin")`, Want: `{"bin": b"\x00\x01"}`},
		{Expr: `zip.file(` + arc + `).read_all(match="*.go", files=["bin"])`, Err: `zip.read_all: match and files are mutually exclusive`},
		{Expr: `zip.file(` + arc + `).read_all(files=[1])`, Err: `zip.read_all: files[0]: got int, want string`},
		{Expr: `zip.file(` + arc + `).read_all(files="bin")`, Err: `zip.read_all: for parameter "files": got string, want list`},
		{Expr: `zip.file(` + arc + `).read_all("*")`, Err: `zip.read_all: unexpected positional argument at index 0`},
		{Expr: `zip.file(` + arc + `).read_all(match="[")`, Err: `zip.read_all: invalid match pattern: syntax error in pattern`},
		{Expr: `zip.file(` + lit(missing) + `).read_all()`, Err: `zip.read_all: open ` + missing + `: no such file or directory`},
		{Expr: `zip.file(` + arc + `).try_read_all(files=["bin"])`, Want: `Result(ok=True, value={"bin": b"\x00\x01"})`},
		{Expr: `zip.file(` + arc + `).try_read_all(match="a", files=["b"])`, Want: `Result(ok=False, error="zip.read_all: match and files are mutually exclusive")`},
	})

	t.Run("corrupt entry", func(t *testing.T) {
		// damage the compressed bytes of main.go
		b, _ := os.ReadFile(p("a.zip"))
		zr, _ := stdzip.NewReader(bytes.NewReader(b), int64(len(b)))
		var off int64
		for _, f := range zr.File {
			if f.Name == "main.go" {
				off, _ = f.DataOffset()
			}
		}
		b[off] ^= 0xff
		bad := kitetest.WriteFile(t, p("bad.zip"), string(b))
		_, msg, _ := kit.Eval(t, nil, "", `zip.file(`+lit(bad)+`).read("main.go")`)
		if msg != "zip.read: flate: corrupt input before offset 5" {
			t.Fatalf("error = %q", msg)
		}
		_, msg, _ = kit.Eval(t, nil, "", `zip.file(`+lit(bad)+`).read_all()`)
		if msg != "zip.read_all: flate: corrupt input before offset 5" {
			t.Fatalf("error = %q", msg)
		}
	})
}

// TestNoZipSlip: hostile entry names are only reported; reading never
// writes anything.
func TestNoZipSlip(t *testing.T) {
	root := kitetest.TempDir(t)
	dir := filepath.Join(root, "work")
	kitetest.MkdirAll(t, dir)
	arc := makeZip(t, filepath.Join(dir, "evil.zip"),
		entry{"../../evil.txt", "x"}, entry{"/tmp/evil-abs.txt", "y"}, entry{"a/../../b", "z"}, entry{`..\win.txt`, "w"})
	before := kitetest.Snapshot(t, root)
	t.Chdir(dir)
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `zip.file(` + lit(arc) + `).namelist()`, Want: `["../../evil.txt", "/tmp/evil-abs.txt", "a/../../b", "..\\win.txt"]`},
		{Expr: `zip.file(` + lit(arc) + `).read_all()`, Want: `{"../../evil.txt": b"x", "/tmp/evil-abs.txt": b"y", "a/../../b": b"z", "..\\win.txt": b"w"}`},
		{Expr: `zip.file(` + lit(arc) + `).read("../../evil.txt")`, Want: `b"x"`},
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, root))
	if _, err := os.Stat("/tmp/evil-abs.txt"); err == nil {
		t.Fatal("an entry was written to disk")
	}
}

func TestWrite(t *testing.T) {
	dir := kitetest.TempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	kitetest.WriteFile(t, p("a.txt"), "alpha")
	kitetest.WriteFile(t, p("b.txt"), "beta")
	arc := lit(p("w.zip"))
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `zip.file(` + arc + `).write(` + lit(p("a.txt")) + `)`, Want: `None`},
		{Expr: `zip.file(` + arc + `).namelist()`, Want: `["a.txt"]`},
		{Expr: `str(zip.file(` + arc + `).read("a.txt"))`, Want: `alpha`},
		{Name: "rewrite replaces", Pre: `zip.file(` + arc + `).write(` + lit(p("b.txt")) + `, name="custom.txt")`,
			Expr: `zip.file(` + arc + `).read_all()`, Want: `{"custom.txt": b"beta"}`},
		{Expr: `zip.file(` + arc + `).write(` + lit(p("a.txt")) + `, "n")`, Err: `zip.write: unexpected positional argument at index 1`},
		{Expr: `zip.file(` + arc + `).write()`, Err: `zip.write: missing required argument: source`},
		{Expr: `zip.file(` + arc + `).write(source=` + lit(p("a.txt")) + `, level=1)`, Err: `zip.write: unknown keyword argument: level`},
		{Expr: `zip.file(` + lit(p("t.zip")) + `).try_write(` + lit(p("a.txt")) + `, name="x/y.txt")`, Want: `Result(ok=True, value=None)`},
		{Expr: `zip.file(` + lit(p("no/dir.zip")) + `).write(` + lit(p("a.txt")) + `)`, Err: `zip.write: open ` + p("no/dir.zip") + `: no such file or directory`},
	})
	if names, content := readZip(t, p("t.zip")); len(names) != 1 || content["x/y.txt"] != "alpha" {
		t.Fatalf("t.zip = %v", content)
	}

	t.Run("failure keeps previous archive", func(t *testing.T) {
		before := kitetest.Snapshot(t, dir)
		for _, src := range []string{p("missing.txt"), dir} {
			_, msg, _ := kit.Eval(t, nil, "", `zip.file(`+arc+`).write(`+lit(src)+`)`)
			want := "zip.write: open " + src + ": no such file or directory"
			if src == dir {
				want = "zip.write: read " + dir + ": is a directory"
			}
			if msg != want {
				t.Fatalf("error = %q, want %q", msg, want)
			}
		}
		kitetest.SameSnapshot(t, before.IgnoringDirTimes(), kitetest.Snapshot(t, dir).IgnoringDirTimes())
	})
}

func TestWriteAll(t *testing.T) {
	dir := kitetest.TempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	kitetest.MkdirAll(t, p("src/sub/deep"))
	kitetest.WriteFile(t, p("src/a.txt"), "A")
	kitetest.WriteFile(t, p("src/b.go"), "B")
	kitetest.WriteFile(t, p("src/sub/c.txt"), "C")
	kitetest.WriteFile(t, p("src/sub/deep/d.txt"), "D")
	kitetest.WriteFile(t, p("src/sub/e.md"), "E")
	arc := p("all.zip")
	src := p("src")
	cases := []struct {
		name, args string
		entries    []string
		err        string
	}{
		{name: "files in order", args: `files=[` + lit(p("src/b.go")) + `, ` + lit(p("src/a.txt")) + `]`,
			entries: []string{p("src/b.go"), p("src/a.txt")}},
		{name: "glob sorted", args: `match=` + lit(src+"/*.*"), entries: []string{p("src/a.txt"), p("src/b.go")}},
		{name: "glob with base_dir", args: `match=` + lit(src+"/*/*.txt") + `, base_dir=` + lit(src), entries: []string{"sub/c.txt"}},
		{name: "double star by base name", args: `match=` + lit(src+"/**/*.txt") + `, base_dir=` + lit(src),
			entries: []string{"a.txt", "sub/c.txt", "sub/deep/d.txt"}},
		{name: "double star keeps all files", args: `match=` + lit(src+"/sub/**"),
			entries: []string{p("src/sub/c.txt"), p("src/sub/deep/d.txt"), p("src/sub/e.md")}},
		{name: "base_dir spec example", args: `files=[` + lit(p("src/sub/c.txt")) + `], base_dir=` + lit(src), entries: []string{"sub/c.txt"}},
		{name: "base_dir outside", args: `files=[` + lit(p("src/a.txt")) + `], base_dir=` + lit(p("src/sub")), entries: []string{"../a.txt"}},
		{name: "base_dir Rel fails", args: `files=[` + lit(p("src/a.txt")) + `], base_dir="relative"`, entries: []string{p("src/a.txt")}},
		{name: "no matches gives empty archive", args: `match=` + lit(src+"/*.none"), entries: nil},
		{name: "double star missing root", args: `match=` + lit(p("nope")+"/**"), entries: nil},
		{name: "level 9", args: `files=[` + lit(p("src/a.txt")) + `], level=9`, entries: []string{p("src/a.txt")}},
		{name: "level 0", args: `files=[` + lit(p("src/a.txt")) + `], level=0`, entries: []string{p("src/a.txt")}},
		{name: "level -2", args: `files=[` + lit(p("src/a.txt")) + `], level=-2`, entries: []string{p("src/a.txt")}},
		{name: "neither", args: ``, err: `zip.write_all: must specify match or files`},
		{name: "empty files", args: `files=[]`, err: `zip.write_all: must specify match or files`},
		{name: "both", args: `match="*.txt", files=["a.txt"]`, err: `zip.write_all: match and files are mutually exclusive`},
		{name: "bad level", args: `files=["a"], level=42`, err: `zip.write_all: flate: invalid compression level 42: want value in range [-2, 9]`},
		{name: "bad glob", args: `match="[" `, err: `zip.write_all: syntax error in pattern`},
		{name: "keyword-only", args: `"*.txt"`, err: `zip.write_all: unexpected positional argument at index 0`},
		{name: "unknown keyword", args: `files=["a"], recursive=True`, err: `zip.write_all: unknown keyword argument: recursive`},
		{name: "files of int", args: `files=[1]`, err: `zip.write_all: files[0]: got int, want string`},
		{name: "missing source", args: `files=[` + lit(p("src/a.txt")) + `, ` + lit(p("missing")) + `]`,
			err: `zip.write_all: open ` + p("missing") + `: no such file or directory`},
		{name: "glob matching a directory", args: `match=` + lit(src+"/*"), err: `zip.write_all: read ` + p("src/sub") + `: is a directory`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(arc)
			got, msg, _ := kit.Eval(t, nil, "", `zip.file(`+lit(arc)+`).write_all(`+c.args+`)`)
			if msg != c.err {
				t.Fatalf("error = %q\nwant    %q", msg, c.err)
			}
			if c.err != "" {
				if _, err := os.Stat(arc); err == nil {
					t.Fatal("failed write_all left an archive")
				}
				return
			}
			if got != "None" {
				t.Fatalf("= %s", got)
			}
			names, _ := readZip(t, arc)
			if strings.Join(names, "|") != strings.Join(c.entries, "|") {
				t.Fatalf("entries %q\nwant    %q", names, c.entries)
			}
		})
	}

	t.Run("content and relative double star", func(t *testing.T) {
		t.Chdir(src)
		_, msg, _ := kit.Eval(t, nil, "", `zip.file("rel.zip").write_all(match="**/*.txt")`)
		if msg != "" {
			t.Fatal(msg)
		}
		names, content := readZip(t, filepath.Join(src, "rel.zip"))
		if strings.Join(names, "|") != "a.txt|sub/c.txt|sub/deep/d.txt" || content["sub/deep/d.txt"] != "D" {
			t.Fatalf("%q %v", names, content)
		}
		_, msg, _ = kit.Eval(t, nil, "", `zip.file("rel2.zip").write_all(files=["a.txt", "nope.txt"])`)
		if msg != "zip.write_all: open nope.txt: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
	})

	t.Run("failure keeps previous archive", func(t *testing.T) {
		makeZip(t, arc, entry{"old.txt", "old"})
		before := kitetest.Snapshot(t, dir)
		for _, args := range []string{
			`files=[` + lit(p("src/a.txt")) + `, ` + lit(p("missing")) + `]`,
			`match=` + lit(src+"/*"),
		} {
			r, _, _ := kit.Eval(t, nil, "", `zip.file(`+lit(arc)+`).try_write_all(`+args+`)`)
			if !strings.HasPrefix(r, `Result(ok=False, error="zip.write_all: `) {
				t.Fatalf("= %s", r)
			}
		}
		kitetest.SameSnapshot(t, before.IgnoringDirTimes(), kitetest.Snapshot(t, dir).IgnoringDirTimes()) // old archive intact, no temp files
		if _, content := readZip(t, arc); content["old.txt"] != "old" || len(content) != 1 {
			t.Fatalf("archive = %v", content)
		}
	})

	t.Run("unreadable source keeps previous archive", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads everything")
		}
		makeZip(t, arc, entry{"old.txt", "old"})
		secret := kitetest.WriteFile(t, p("secret.txt"), "s")
		os.Chmod(secret, 0)
		defer os.Chmod(secret, 0o644)
		_, msg, _ := kit.Eval(t, nil, "", `zip.file(`+lit(arc)+`).write_all(files=[`+lit(p("src/a.txt"))+`, `+lit(secret)+`])`)
		if msg != "zip.write_all: open "+secret+": permission denied" {
			t.Fatalf("error = %q", msg)
		}
		if _, content := readZip(t, arc); content["old.txt"] != "old" {
			t.Fatalf("archive = %v", content)
		}
	})

	t.Run("round trip through the module", func(t *testing.T) {
		got, msg, _ := kit.Eval(t, nil, `a = zip.file(`+lit(arc)+`)
a.write_all(match=`+lit(src+"/**")+`, base_dir=`+lit(src)+`)`, `a.read_all(match="*.txt")`)
		if msg != "" || got != `{"a.txt": b"A", "sub/c.txt": b"C", "sub/deep/d.txt": b"D"}` {
			t.Fatalf("= %s %s", got, msg)
		}
	})
}

// TestLargeFiles streams multi-megabyte sources in and entries out.
func TestLargeFiles(t *testing.T) {
	dir := kitetest.TempDir(t)
	big := make([]byte, 8<<20)
	rand.Read(big[:3<<20])
	src := kitetest.WriteFile(t, filepath.Join(dir, "big.bin"), string(big))
	small := kitetest.WriteFile(t, filepath.Join(dir, "small.txt"), "small")
	arc := filepath.Join(dir, "big.zip")
	rt := kit.Runtime(t, nil)
	if _, err := rt.Eval(t.Context(), `zip.file(`+lit(arc)+`).write_all(files=[`+lit(src)+`, `+lit(small)+`], base_dir=`+lit(dir)+`, level=1)`); err != nil {
		t.Fatal(err)
	}
	_, content := readZip(t, arc)
	if content["big.bin"] != string(big) || content["small.txt"] != "small" {
		t.Fatal("archive content differs")
	}
	v, err := rt.Eval(t.Context(), `zip.file(`+lit(arc)+`).read("big.bin") == zip.file(`+lit(arc)+`).read_all()["big.bin"]`)
	if err != nil || v.String() != "True" {
		t.Fatalf("%v %v", v, err)
	}
	v, err = rt.Eval(t.Context(), `len(zip.file(`+lit(arc)+`).read("big.bin"))`)
	if err != nil || v.String() != "8388608" {
		t.Fatalf("%v %v", v, err)
	}
	if _, err := rt.Eval(t.Context(), `zip.file(`+lit(arc)+`).write(`+lit(src)+`)`); err != nil {
		t.Fatal(err)
	}
	if _, content := readZip(t, arc); content["big.bin"] != string(big) || len(content) != 1 {
		t.Fatal("write of a large file")
	}
}

func TestPermissions(t *testing.T) {
	dir := kitetest.TempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	kitetest.WriteFile(t, p("a.txt"), "A")
	arc := makeZip(t, p("a.zip"), entry{"a.txt", "A"})
	before := kitetest.Snapshot(t, dir)
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	noSource := &libkite.Config{Permissions: libkite.AllowPermissions("fs.read(read_file:" + p("a.txt") + ")")}
	cases := []kitetest.PermCase{
		{Name: "namelist", Cfg: deny, Expr: `zip.file(` + lit(arc) + `).namelist()`, ErrPrefix: kitetest.Denied("fs.read", "read_file", arc)},
		{Name: "read", Cfg: deny, Expr: `zip.file(` + lit(arc) + `).read("a.txt")`, ErrPrefix: kitetest.Denied("fs.read", "read_file", arc)},
		{Name: "read_all", Cfg: deny, Expr: `zip.file(` + lit(arc) + `).read_all()`, ErrPrefix: kitetest.Denied("fs.read", "read_file", arc)},
		{Name: "write checks the archive first", Cfg: deny, Expr: `zip.file(` + lit(arc) + `).write(` + lit(p("a.txt")) + `)`, ErrPrefix: kitetest.Denied("fs.write", "write", arc)},
		{Name: "write_all checks the archive first", Cfg: deny, Expr: `zip.file(` + lit(arc) + `).write_all(files=[` + lit(p("a.txt")) + `])`, ErrPrefix: kitetest.Denied("fs.write", "write", arc)},
		{Name: "write source denied", Cfg: noSource, Expr: `zip.file(` + lit(arc) + `).write(` + lit(p("a.txt")) + `)`,
			ErrPrefix: "permission denied: fs.read read_file(" + lit(p("a.txt")) + ") - blocked by deny rule"},
		{Name: "write_all source denied", Cfg: noSource, Expr: `zip.file(` + lit(arc) + `).write_all(match=` + lit(dir+"/*.txt") + `)`,
			ErrPrefix: "permission denied: fs.read read_file(" + lit(p("a.txt")) + ") - blocked by deny rule"},
		{Name: "dry run still checks", Cfg: &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()},
			Expr: `zip.file(` + lit(arc) + `).write_all(files=[` + lit(p("a.txt")) + `])`, ErrPrefix: kitetest.Denied("fs.write", "write", arc)},
		{Name: "dry run checks sources", Cfg: &libkite.Config{DryRun: true, Permissions: noSource.Permissions},
			Expr: `zip.file(` + lit(arc) + `).write_all(files=[` + lit(p("a.txt")) + `])`, ErrPrefix: "permission denied: fs.read read_file("},
	}
	kitetest.RunPermCases(t, kit.Runtime, cases, nil)
	kit.RunCases(t, deny, []kitetest.Case{
		{Name: "try form captures denial", Expr: `zip.file(` + lit(arc) + `).try_namelist().error.startswith("permission denied: fs.read read_file(")`, Want: `True`},
		{Name: "try write_all captures denial", Expr: `zip.file(` + lit(arc) + `).try_write_all(files=["x"]).error.startswith("permission denied: fs.write write(")`, Want: `True`},
		{Name: "argument errors before permission", Expr: `zip.file(` + lit(arc) + `).write_all()`, Err: `zip.write_all: must specify match or files`},
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
}

func TestDryRun(t *testing.T) {
	dir := kitetest.TempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	kitetest.WriteFile(t, p("a.txt"), "A")
	arc := makeZip(t, p("a.zip"), entry{"old.txt", "old"})
	before := kitetest.Snapshot(t, dir)
	kit.RunCases(t, &libkite.Config{DryRun: true}, []kitetest.Case{
		{Expr: `zip.file(` + lit(arc) + `).write(` + lit(p("a.txt")) + `)`, Want: `None`},
		{Name: "nothing read", Expr: `zip.file(` + lit(p("new.zip")) + `).write(` + lit(p("missing")) + `)`, Want: `None`},
		{Expr: `zip.file(` + lit(arc) + `).write_all(match=` + lit(dir+"/*.txt") + `)`, Want: `None`},
		{Expr: `zip.file(` + lit(p("new.zip")) + `).try_write_all(files=[` + lit(p("missing")) + `])`, Want: `Result(ok=True, value=None)`},
		{Name: "reads are real", Expr: `zip.file(` + lit(arc) + `).read_all()`, Want: `{"old.txt": b"old"}`},
		{Name: "arguments still checked", Expr: `zip.file(` + lit(arc) + `).write_all(match="a", files=["b"])`, Err: `zip.write_all: match and files are mutually exclusive`},
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
}

// TestConformance runs tests/zip_test.star in trust mode from this
// directory, then as `kitecmd test --permissions=allow-all tests/` does:
// from the repository root under an allow-all policy.
func TestConformance(t *testing.T) {
	kitetest.RunSuite(t, kit.Runtime, filepath.Join("..", "..", "..", "tests", "zip_test.star"), 10)
}
