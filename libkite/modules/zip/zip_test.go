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
	return writeFile(t, path, buf.String())
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
	runCases(t, nil, []evalCase{
		{expr: `type(zip.file("/a.zip"))`, want: `zip.archive`},
		{expr: `str(zip.file("/a.zip"))`, want: `zip.file("/a.zip")`},
		{expr: `bool(zip.file("x")), bool(zip.file(""))`, want: `(True, False)`},
		{expr: `{zip.file("x"): 1}`, err: `unhashable type: zip.archive`},
		{expr: `dir(zip.file("x"))`, want: `["namelist", "read", "read_all", "try_namelist", "try_read", "try_read_all", "try_write", "try_write_all", "write", "write_all"]`},
		{expr: `hasattr(zip.file("x"), "path")`, want: `False`},
		{expr: `zip.file(1)`, err: `zip.file: for parameter path: got int, want string`},
		{expr: `zip.file()`, err: `zip.file: missing required argument: path`},
		{expr: `type(zip.try_file("/no/such.zip").value)`, want: `zip.archive`},
		{expr: `zip.try_file(1)`, want: `Result(ok=False, error="zip.file: for parameter path: got int, want string")`},
		{expr: `dir(zip)`, want: `["file", "try_file"]`},
	})
}

func TestModule(t *testing.T) {
	m := zip.New()
	if m.Name() != "zip" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestReading(t *testing.T) {
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	arc := lit(makeZip(t, p("a.zip"),
		entry{"docs/", ""}, entry{"docs/readme.txt", "read me"}, entry{"/abs/dir/a.txt", "abs"},
		entry{"main.go", "package main"}, entry{"dup.txt", "first"}, entry{"dup.txt", "second"}, entry{"bin", "\x00\x01"}))
	empty := lit(makeZip(t, p("empty.zip")))
	writeFile(t, p("not.zip"), "this is not a zip file at all")
	missing := p("missing.zip")
	runCases(t, nil, []evalCase{
		{expr: `zip.file(` + arc + `).namelist()`, want: `["docs/", "docs/readme.txt", "/abs/dir/a.txt", "main.go", "dup.txt", "dup.txt", "bin"]`},
		{name: "match base name", expr: `zip.file(` + arc + `).namelist(match="*.txt")`, want: `["docs/readme.txt", "/abs/dir/a.txt", "dup.txt", "dup.txt"]`},
		{name: "match full name", expr: `zip.file(` + arc + `).namelist(match="docs/*")`, want: `["docs/", "docs/readme.txt"]`},
		{name: "match directory base", expr: `zip.file(` + arc + `).namelist(match="docs")`, want: `["docs/"]`},
		{expr: `zip.file(` + empty + `).namelist()`, want: `[]`},
		{expr: `zip.file(` + arc + `).namelist(match="[")`, err: `zip.namelist: invalid match pattern: syntax error in pattern`},
		{expr: `zip.file(` + empty + `).namelist(match="a[")`, err: `zip.namelist: invalid match pattern: syntax error in pattern`},
		{expr: `zip.file(` + arc + `).namelist("*.txt")`, err: `zip.namelist: unexpected positional argument at index 0`},
		{expr: `zip.file(` + arc + `).namelist(pattern="*")`, err: `zip.namelist: unknown keyword argument: pattern`},
		{expr: `zip.file(` + lit(missing) + `).namelist()`, err: `zip.namelist: open ` + missing + `: no such file or directory`},
		{expr: `zip.file(` + lit(p("not.zip")) + `).namelist()`, err: `zip.namelist: zip: not a valid zip file`},
		{expr: `zip.file(` + lit(dir) + `).namelist()`, err: `zip.namelist: read ` + dir + `: is a directory`},
		{expr: `zip.file(` + arc + `).try_namelist(match="main*")`, want: `Result(ok=True, value=["main.go"])`},
		{expr: `zip.file(` + lit(missing) + `).try_namelist()`, want: `Result(ok=False, error="zip.namelist: open ` + missing + `: no such file or directory")`},

		{expr: `zip.file(` + arc + `).read("docs/readme.txt")`, want: `b"read me"`},
		{expr: `zip.file(` + arc + `).read("bin")`, want: `b"\x00\x01"`},
		{name: "first of duplicates", expr: `zip.file(` + arc + `).read("dup.txt")`, want: `b"first"`},
		{name: "exact name only", expr: `zip.file(` + arc + `).read("readme.txt")`, err: `zip.read: file "readme.txt" not found in archive`},
		{expr: `zip.file(` + arc + `).read(name="main.go")`, want: `b"package main"`},
		{expr: `zip.file(` + arc + `).read()`, err: `zip.read: missing required argument: name`},
		{expr: `zip.file(` + arc + `).read(1)`, err: `zip.read: for parameter name: got int, want string`},
		{expr: `zip.file(` + lit(missing) + `).read("x")`, err: `zip.read: open ` + missing + `: no such file or directory`},
		{expr: `zip.file(` + lit(p("not.zip")) + `).read("x")`, err: `zip.read: zip: not a valid zip file`},
		{expr: `zip.file(` + arc + `).try_read("main.go")`, want: `Result(ok=True, value=b"package main")`},
		{expr: `zip.file(` + arc + `).try_read("nonexistent.txt")`, want: `Result(ok=False, error="zip.read: file \"nonexistent.txt\" not found in archive")`},

		{name: "read_all skips dirs, archive order, last duplicate wins", expr: `zip.file(` + arc + `).read_all()`,
			want: `{"docs/readme.txt": b"read me", "/abs/dir/a.txt": b"abs", "main.go": b"package main", "dup.txt": b"second", "bin": b"\x00\x01"}`},
		{expr: `zip.file(` + arc + `).read_all(match="*.go")`, want: `{"main.go": b"package main"}`},
		{expr: `zip.file(` + arc + `).read_all(files=["bin", "docs/readme.txt", "absent"])`, want: `{"docs/readme.txt": b"read me", "bin": b"\x00\x01"}`},
		{name: "files names exact", expr: `zip.file(` + arc + `).read_all(files=["a.txt"])`, want: `{}`},
		{name: "empty files means all", expr: `zip.file(` + arc + `).read_all(files=[], match="bin")`, want: `{"bin": b"\x00\x01"}`},
		{expr: `zip.file(` + arc + `).read_all(match="*.go", files=["bin"])`, err: `zip.read_all: match and files are mutually exclusive`},
		{expr: `zip.file(` + arc + `).read_all(files=[1])`, err: `zip.read_all: files[0]: got int, want string`},
		{expr: `zip.file(` + arc + `).read_all(files="bin")`, err: `zip.read_all: for parameter "files": got string, want list`},
		{expr: `zip.file(` + arc + `).read_all("*")`, err: `zip.read_all: unexpected positional argument at index 0`},
		{expr: `zip.file(` + arc + `).read_all(match="[")`, err: `zip.read_all: invalid match pattern: syntax error in pattern`},
		{expr: `zip.file(` + lit(missing) + `).read_all()`, err: `zip.read_all: open ` + missing + `: no such file or directory`},
		{expr: `zip.file(` + arc + `).try_read_all(files=["bin"])`, want: `Result(ok=True, value={"bin": b"\x00\x01"})`},
		{expr: `zip.file(` + arc + `).try_read_all(match="a", files=["b"])`, want: `Result(ok=False, error="zip.read_all: match and files are mutually exclusive")`},
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
		bad := writeFile(t, p("bad.zip"), string(b))
		_, msg, _ := eval(t, nil, "", `zip.file(`+lit(bad)+`).read("main.go")`)
		if msg != "zip.read: flate: corrupt input before offset 5" {
			t.Fatalf("error = %q", msg)
		}
		_, msg, _ = eval(t, nil, "", `zip.file(`+lit(bad)+`).read_all()`)
		if msg != "zip.read_all: flate: corrupt input before offset 5" {
			t.Fatalf("error = %q", msg)
		}
	})
}

// TestNoZipSlip: hostile entry names are only reported; reading never
// writes anything.
func TestNoZipSlip(t *testing.T) {
	root := tempDir(t)
	dir := filepath.Join(root, "work")
	os.Mkdir(dir, 0o755)
	arc := makeZip(t, filepath.Join(dir, "evil.zip"),
		entry{"../../evil.txt", "x"}, entry{"/tmp/evil-abs.txt", "y"}, entry{"a/../../b", "z"}, entry{`..\win.txt`, "w"})
	before := snapshot(t, root)
	t.Chdir(dir)
	runCases(t, nil, []evalCase{
		{expr: `zip.file(` + lit(arc) + `).namelist()`, want: `["../../evil.txt", "/tmp/evil-abs.txt", "a/../../b", "..\\win.txt"]`},
		{expr: `zip.file(` + lit(arc) + `).read_all()`, want: `{"../../evil.txt": b"x", "/tmp/evil-abs.txt": b"y", "a/../../b": b"z", "..\\win.txt": b"w"}`},
		{expr: `zip.file(` + lit(arc) + `).read("../../evil.txt")`, want: `b"x"`},
	})
	sameSnapshot(t, before, snapshot(t, root))
	if _, err := os.Stat("/tmp/evil-abs.txt"); err == nil {
		t.Fatal("an entry was written to disk")
	}
}

func TestWrite(t *testing.T) {
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	writeFile(t, p("a.txt"), "alpha")
	writeFile(t, p("b.txt"), "beta")
	arc := lit(p("w.zip"))
	runCases(t, nil, []evalCase{
		{expr: `zip.file(` + arc + `).write(` + lit(p("a.txt")) + `)`, want: `None`},
		{expr: `zip.file(` + arc + `).namelist()`, want: `["a.txt"]`},
		{expr: `str(zip.file(` + arc + `).read("a.txt"))`, want: `alpha`},
		{name: "rewrite replaces", pre: `zip.file(` + arc + `).write(` + lit(p("b.txt")) + `, name="custom.txt")`,
			expr: `zip.file(` + arc + `).read_all()`, want: `{"custom.txt": b"beta"}`},
		{expr: `zip.file(` + arc + `).write(` + lit(p("a.txt")) + `, "n")`, err: `zip.write: unexpected positional argument at index 1`},
		{expr: `zip.file(` + arc + `).write()`, err: `zip.write: missing required argument: source`},
		{expr: `zip.file(` + arc + `).write(source=` + lit(p("a.txt")) + `, level=1)`, err: `zip.write: unknown keyword argument: level`},
		{expr: `zip.file(` + lit(p("t.zip")) + `).try_write(` + lit(p("a.txt")) + `, name="x/y.txt")`, want: `Result(ok=True, value=None)`},
		{expr: `zip.file(` + lit(p("no/dir.zip")) + `).write(` + lit(p("a.txt")) + `)`, err: `zip.write: open ` + p("no/dir.zip") + `: no such file or directory`},
	})
	if names, content := readZip(t, p("t.zip")); len(names) != 1 || content["x/y.txt"] != "alpha" {
		t.Fatalf("t.zip = %v", content)
	}

	t.Run("failure keeps previous archive", func(t *testing.T) {
		before := snapshot(t, dir)
		for _, src := range []string{p("missing.txt"), dir} {
			_, msg, _ := eval(t, nil, "", `zip.file(`+arc+`).write(`+lit(src)+`)`)
			want := "zip.write: open " + src + ": no such file or directory"
			if src == dir {
				want = "zip.write: read " + dir + ": is a directory"
			}
			if msg != want {
				t.Fatalf("error = %q, want %q", msg, want)
			}
		}
		sameSnapshot(t, before, snapshot(t, dir))
	})
}

func TestWriteAll(t *testing.T) {
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	os.MkdirAll(p("src/sub/deep"), 0o755)
	writeFile(t, p("src/a.txt"), "A")
	writeFile(t, p("src/b.go"), "B")
	writeFile(t, p("src/sub/c.txt"), "C")
	writeFile(t, p("src/sub/deep/d.txt"), "D")
	writeFile(t, p("src/sub/e.md"), "E")
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
			got, msg, _ := eval(t, nil, "", `zip.file(`+lit(arc)+`).write_all(`+c.args+`)`)
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
		_, msg, _ := eval(t, nil, "", `zip.file("rel.zip").write_all(match="**/*.txt")`)
		if msg != "" {
			t.Fatal(msg)
		}
		names, content := readZip(t, filepath.Join(src, "rel.zip"))
		if strings.Join(names, "|") != "a.txt|sub/c.txt|sub/deep/d.txt" || content["sub/deep/d.txt"] != "D" {
			t.Fatalf("%q %v", names, content)
		}
		_, msg, _ = eval(t, nil, "", `zip.file("rel2.zip").write_all(files=["a.txt", "nope.txt"])`)
		if msg != "zip.write_all: open nope.txt: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
	})

	t.Run("failure keeps previous archive", func(t *testing.T) {
		makeZip(t, arc, entry{"old.txt", "old"})
		before := snapshot(t, dir)
		for _, args := range []string{
			`files=[` + lit(p("src/a.txt")) + `, ` + lit(p("missing")) + `]`,
			`match=` + lit(src+"/*"),
		} {
			r, _, _ := eval(t, nil, "", `zip.file(`+lit(arc)+`).try_write_all(`+args+`)`)
			if !strings.HasPrefix(r, `Result(ok=False, error="zip.write_all: `) {
				t.Fatalf("= %s", r)
			}
		}
		sameSnapshot(t, before, snapshot(t, dir)) // old archive intact, no temp files
		if _, content := readZip(t, arc); content["old.txt"] != "old" || len(content) != 1 {
			t.Fatalf("archive = %v", content)
		}
	})

	t.Run("unreadable source keeps previous archive", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads everything")
		}
		makeZip(t, arc, entry{"old.txt", "old"})
		secret := writeFile(t, p("secret.txt"), "s")
		os.Chmod(secret, 0)
		defer os.Chmod(secret, 0o644)
		_, msg, _ := eval(t, nil, "", `zip.file(`+lit(arc)+`).write_all(files=[`+lit(p("src/a.txt"))+`, `+lit(secret)+`])`)
		if msg != "zip.write_all: open "+secret+": permission denied" {
			t.Fatalf("error = %q", msg)
		}
		if _, content := readZip(t, arc); content["old.txt"] != "old" {
			t.Fatalf("archive = %v", content)
		}
	})

	t.Run("round trip through the module", func(t *testing.T) {
		got, msg, _ := eval(t, nil, `a = zip.file(`+lit(arc)+`)
a.write_all(match=`+lit(src+"/**")+`, base_dir=`+lit(src)+`)`, `a.read_all(match="*.txt")`)
		if msg != "" || got != `{"a.txt": b"A", "sub/c.txt": b"C", "sub/deep/d.txt": b"D"}` {
			t.Fatalf("= %s %s", got, msg)
		}
	})
}

// TestLargeFiles streams multi-megabyte sources in and entries out.
func TestLargeFiles(t *testing.T) {
	dir := tempDir(t)
	big := make([]byte, 8<<20)
	rand.Read(big[:3<<20])
	src := writeFile(t, filepath.Join(dir, "big.bin"), string(big))
	small := writeFile(t, filepath.Join(dir, "small.txt"), "small")
	arc := filepath.Join(dir, "big.zip")
	rt := newRuntime(t, nil)
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
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	writeFile(t, p("a.txt"), "A")
	arc := makeZip(t, p("a.zip"), entry{"a.txt", "A"})
	before := snapshot(t, dir)
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	noSource := &libkite.Config{Permissions: libkite.AllowPermissions("fs.read(read_file:" + p("a.txt") + ")")}
	cases := []struct {
		name string
		cfg  *libkite.Config
		expr string
		want string
	}{
		{"namelist", deny, `zip.file(` + lit(arc) + `).namelist()`, denied("read", "read_file", arc)},
		{"read", deny, `zip.file(` + lit(arc) + `).read("a.txt")`, denied("read", "read_file", arc)},
		{"read_all", deny, `zip.file(` + lit(arc) + `).read_all()`, denied("read", "read_file", arc)},
		{"write checks the archive first", deny, `zip.file(` + lit(arc) + `).write(` + lit(p("a.txt")) + `)`, denied("write", "write", arc)},
		{"write_all checks the archive first", deny, `zip.file(` + lit(arc) + `).write_all(files=[` + lit(p("a.txt")) + `])`, denied("write", "write", arc)},
		{"write source denied", noSource, `zip.file(` + lit(arc) + `).write(` + lit(p("a.txt")) + `)`,
			"permission denied: fs.read read_file(" + lit(p("a.txt")) + ") - blocked by deny rule"},
		{"write_all source denied", noSource, `zip.file(` + lit(arc) + `).write_all(match=` + lit(dir+"/*.txt") + `)`,
			"permission denied: fs.read read_file(" + lit(p("a.txt")) + ") - blocked by deny rule"},
		{"dry run still checks", &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()},
			`zip.file(` + lit(arc) + `).write_all(files=[` + lit(p("a.txt")) + `])`, denied("write", "write", arc)},
		{"dry run checks sources", &libkite.Config{DryRun: true, Permissions: noSource.Permissions},
			`zip.file(` + lit(arc) + `).write_all(files=[` + lit(p("a.txt")) + `])`, "permission denied: fs.read read_file("},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, msg, err := eval(t, c.cfg, "", c.expr)
			if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, c.want) {
				t.Fatalf("error = %q\nwant prefix %q", msg, c.want)
			}
		})
	}
	runCases(t, deny, []evalCase{
		{name: "try form captures denial", expr: `zip.file(` + lit(arc) + `).try_namelist().error.startswith("permission denied: fs.read read_file(")`, want: `True`},
		{name: "try write_all captures denial", expr: `zip.file(` + lit(arc) + `).try_write_all(files=["x"]).error.startswith("permission denied: fs.write write(")`, want: `True`},
		{name: "argument errors before permission", expr: `zip.file(` + lit(arc) + `).write_all()`, err: `zip.write_all: must specify match or files`},
	})
	sameSnapshot(t, before, snapshot(t, dir))
}

func TestDryRun(t *testing.T) {
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	writeFile(t, p("a.txt"), "A")
	arc := makeZip(t, p("a.zip"), entry{"old.txt", "old"})
	before := snapshot(t, dir)
	runCases(t, &libkite.Config{DryRun: true}, []evalCase{
		{expr: `zip.file(` + lit(arc) + `).write(` + lit(p("a.txt")) + `)`, want: `None`},
		{name: "nothing read", expr: `zip.file(` + lit(p("new.zip")) + `).write(` + lit(p("missing")) + `)`, want: `None`},
		{expr: `zip.file(` + lit(arc) + `).write_all(match=` + lit(dir+"/*.txt") + `)`, want: `None`},
		{expr: `zip.file(` + lit(p("new.zip")) + `).try_write_all(files=[` + lit(p("missing")) + `])`, want: `Result(ok=True, value=None)`},
		{name: "reads are real", expr: `zip.file(` + lit(arc) + `).read_all()`, want: `{"old.txt": b"old"}`},
		{name: "arguments still checked", expr: `zip.file(` + lit(arc) + `).write_all(match="a", files=["b"])`, err: `zip.write_all: match and files are mutually exclusive`},
	})
	sameSnapshot(t, before, snapshot(t, dir))
}

// TestConformance runs tests/zip_test.star in trust mode from this
// directory, then as `kitecmd test --permissions=allow-all tests/` does:
// from the repository root under an allow-all policy.
func TestConformance(t *testing.T) {
	suite, err := filepath.Abs(filepath.Join("..", "..", "..", "tests", "zip_test.star"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("trusted", func(t *testing.T) {
		rt := newRuntime(t, &libkite.Config{ScriptPath: suite})
		kitetest.RunConformance(t, rt, suite, 10)
	})
	t.Run("allow-all from repo root", func(t *testing.T) {
		t.Chdir(filepath.Join(filepath.Dir(suite), ".."))
		rt := newRuntime(t, &libkite.Config{ScriptPath: "tests/zip_test.star", Permissions: libkite.AllowAllPermissions()})
		kitetest.RunConformance(t, rt, "tests/zip_test.star", 10)
	})
}
