package gzip_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/gzip"
)

func gz(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := stdgzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func gunzip(t testing.TB, data []byte) string {
	t.Helper()
	r, err := stdgzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func blit(b string) string { return starlark.Bytes(b).String() }

func TestFactories(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `gzip.text("hello").data`, want: `b"hello"`},
		{expr: `gzip.text(b"x")`, err: `gzip.text: for parameter s: got bytes, want string`},
		{expr: `gzip.text()`, err: `gzip.text: missing required argument: s`},
		{expr: `gzip.bytes(b"\x00\x01").data`, want: `b"\x00\x01"`},
		{expr: `gzip.bytes("abc").data`, want: `b"abc"`},
		{expr: `gzip.bytes(1)`, err: `gzip.bytes: argument must be bytes or string, got int`},
		{expr: `gzip.file(1)`, err: `gzip.file: for parameter path: got int, want string`},
		{expr: `type(gzip.try_file("/x.gz").value)`, want: `gzip.file`},
		{expr: `type(gzip.try_text("x").value)`, want: `gzip.source`},
		{expr: `type(gzip.try_bytes(b"x").value)`, want: `gzip.source`},
		{expr: `gzip.try_bytes(1)`, want: `Result(ok=False, error="gzip.bytes: argument must be bytes or string, got int")`},
		{expr: `dir(gzip)`, want: `["bytes", "file", "text", "try_bytes", "try_file", "try_text"]`},
	})
}

func TestModule(t *testing.T) {
	m := gzip.New()
	if m.Name() != "gzip" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestObjects(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `type(gzip.text("x")), type(gzip.bytes(b"x")), type(gzip.file("x"))`, want: `("gzip.source", "gzip.source", "gzip.file")`},
		{expr: `str(gzip.text("hello"))`, want: `gzip.source(5 bytes)`},
		{expr: `str(gzip.file("/t/x.gz"))`, want: `gzip.file("/t/x.gz")`},
		{expr: `bool(gzip.text("x")), bool(gzip.text("")), bool(gzip.file("x")), bool(gzip.file(""))`, want: `(True, False, True, False)`},
		{expr: `{gzip.text("x"): 1}`, err: `unhashable type: gzip.source`},
		{expr: `{gzip.file("x"): 1}`, err: `unhashable type: gzip.file`},
		{expr: `dir(gzip.text("x"))`, want: `["compress", "data", "decompress", "try_compress", "try_decompress"]`},
		{expr: `dir(gzip.file("x"))`, want: `["compress", "decompress", "try_compress", "try_decompress"]`},
		{name: "no path property", expr: `hasattr(gzip.file("x"), "path")`, want: `False`},
	})
}

func TestInMemory(t *testing.T) {
	hello := gz(t, "hello")
	two := gz(t, "ab") + gz(t, "cd")
	runCases(t, nil, []evalCase{
		{expr: `type(gzip.text("hello").compress())`, want: `bytes`},
		{expr: `gzip.bytes(gzip.text("hello").compress()).decompress()`, want: `b"hello"`},
		{expr: `str(gzip.bytes(gzip.text("hello").compress()).decompress())`, want: `hello`},
		{name: "empty round trip", expr: `gzip.bytes(gzip.text("").compress()).decompress()`, want: `b""`},
		{name: "binary round trip", expr: `gzip.bytes(gzip.bytes(b"\x00\x01\x02").compress()).decompress()`, want: `b"\x00\x01\x02"`},
		{name: "spec example", expr: `gzip.bytes(gzip.text("abc").compress(level=9)).decompress() == b"abc"`, want: `True`},
		{name: "levels", expr: `[gzip.bytes(gzip.text("abc" * 50).compress(level=l)).decompress() == bytes("abc" * 50) for l in range(-2, 10)]`,
			want: `[True, True, True, True, True, True, True, True, True, True, True, True]`},
		{name: "level 9 not longer than level 1", expr: `len(gzip.text("x" * 1000).compress(level=9)) <= len(gzip.text("x" * 1000).compress(level=1))`, want: `True`},
		{name: "compresses", expr: `len(gzip.text("x" * 10000).compress()) < 10000`, want: `True`},
		{name: "deterministic", expr: `gzip.text("same").compress() == gzip.text("same").compress()`, want: `True`},
		{name: "no name, zero mtime", expr: `gzip.text("x").compress()[:10]`, want: `b"\x1f\x8b\b\x00\x00\x00\x00\x00\x00\xff"`},
		{name: "level 9 header", expr: `gzip.text("x").compress(level=9)[:10]`, want: `b"\x1f\x8b\b\x00\x00\x00\x00\x00\x02\xff"`},
		{name: "decompress foreign stream", expr: `gzip.bytes(` + blit(hello) + `).decompress()`, want: `b"hello"`},
		{name: "members joined", expr: `gzip.bytes(` + blit(two) + `).decompress()`, want: `b"abcd"`},
		{name: "str input", expr: `gzip.bytes("not gzip data").decompress()`, err: `gzip.decompress: gzip: invalid header`},
		{expr: `gzip.text("not gzip data").decompress()`, err: `gzip.decompress: gzip: invalid header`},
		{name: "shorter than a header", expr: `gzip.bytes(b"\x1f\x8b").decompress()`, err: `gzip.decompress: unexpected EOF`},
		{name: "empty input", expr: `gzip.bytes(b"").decompress()`, err: `gzip.decompress: unexpected EOF`},
		{name: "truncated body", expr: `gzip.bytes(` + blit(hello[:len(hello)-6]) + `).decompress()`, err: `gzip.decompress: unexpected EOF`},
		{name: "bad checksum", expr: `gzip.bytes(` + blit(hello[:len(hello)-8]+"\x00\x00\x00\x00"+hello[len(hello)-4:]) + `).decompress()`, err: `gzip.decompress: gzip: invalid checksum`},
		{name: "trailing garbage", expr: `gzip.bytes(` + blit(hello+"junk after the member") + `).decompress()`, err: `gzip.decompress: gzip: invalid header`},
		{name: "short trailing garbage", expr: `gzip.bytes(` + blit(hello+"junk") + `).decompress()`, err: `gzip.decompress: unexpected EOF`},
		{expr: `gzip.text("test").compress(level=99)`, err: `gzip.compress: invalid compression level 99 (must be -2 to 9)`},
		{expr: `gzip.text("test").compress(level=-3)`, err: `gzip.compress: invalid compression level -3 (must be -2 to 9)`},
		{expr: `gzip.text("test").compress(level="9")`, err: `gzip.compress: for parameter "level": got string, want int`},
		{expr: `gzip.text("test").compress(level=True)`, err: `gzip.compress: for parameter "level": got bool, want int`},
		{name: "level keyword-only", expr: `gzip.text("x").compress("/x.gz", 9)`, err: `gzip.compress: unexpected positional argument at index 1`},
		{expr: `gzip.text("x").compress(fast=True)`, err: `gzip.compress: unknown keyword argument: fast`},
		{expr: `gzip.text("x").compress(dest=1)`, err: `gzip.compress: for parameter "dest": got int, want string`},
		{expr: `gzip.text("x").decompress("a", "b")`, err: `gzip.decompress: unexpected positional argument at index 1`},
		{expr: `gzip.text("x").decompress(level=1)`, err: `gzip.decompress: unknown keyword argument: level`},
		{expr: `type(gzip.text("hello").try_compress().value)`, want: `bytes`},
		{expr: `gzip.text("test").try_compress(level=99)`, want: `Result(ok=False, error="gzip.compress: invalid compression level 99 (must be -2 to 9)")`},
		{expr: `gzip.bytes(` + blit(hello) + `).try_decompress()`, want: `Result(ok=True, value=b"hello")`},
		{expr: `gzip.text("not gzip data").try_decompress()`, want: `Result(ok=False, error="gzip.decompress: gzip: invalid header")`},
	})
}

func TestDest(t *testing.T) {
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	hello := gz(t, "hello")
	runCases(t, nil, []evalCase{
		{name: "compress to dest", expr: `gzip.text("to file").compress(` + lit(p("a.gz")) + `)`, want: `None`},
		{name: "compress to dest keyword", expr: `gzip.text("kw").compress(dest=` + lit(p("b.gz")) + `, level=1)`, want: `None`},
		{name: "decompress to dest", expr: `gzip.bytes(` + blit(hello) + `).decompress(dest=` + lit(p("c.txt")) + `)`, want: `None`},
		{name: "try compress to dest", expr: `gzip.text("t").try_compress(` + lit(p("d.gz")) + `)`, want: `Result(ok=True, value=None)`},
		{name: "missing directory", expr: `gzip.text("x").compress(` + lit(p("no/x.gz")) + `)`, err: `gzip.compress: open ` + p("no/x.gz") + `: no such file or directory`},
	})
	check := func(name, want string, zipped bool) {
		t.Helper()
		b, err := os.ReadFile(p(name))
		if err != nil {
			t.Fatal(err)
		}
		got := string(b)
		if zipped {
			got = gunzip(t, b)
		}
		if got != want {
			t.Fatalf("%s = %q, want %q", name, got, want)
		}
		if info, _ := os.Stat(p(name)); info.Mode().Perm()&^0o644 != 0 {
			t.Fatalf("%s mode %v", name, info.Mode())
		}
	}
	check("a.gz", "to file", true)
	check("b.gz", "kw", true)
	check("c.txt", "hello", false)
	check("d.gz", "t", true)

	t.Run("failed decompress keeps dest", func(t *testing.T) {
		writeFile(t, p("keep.txt"), "previous")
		before := snapshot(t, dir)
		_, msg, _ := eval(t, nil, "", `gzip.bytes(`+blit(hello[:len(hello)-6])+`).decompress(`+lit(p("keep.txt"))+`)`)
		if msg != "gzip.decompress: unexpected EOF" {
			t.Fatalf("error = %q", msg)
		}
		sameSnapshot(t, before, snapshot(t, dir)) // no temp file left behind either
	})
}

func TestFiles(t *testing.T) {
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	writeFile(t, p("src.txt"), "file content\n")
	writeFile(t, p("x.txt.gz"), gz(t, "derived"))
	writeFile(t, p("X.GZ"), gz(t, "upper"))
	writeFile(t, p("bad.gz"), "this is not gzip")
	writeFile(t, p("short.gz"), "\x1f\x8b\x08")
	writeFile(t, p("empty.gz"), "")
	runCases(t, nil, []evalCase{
		{expr: `gzip.file(` + lit(p("out.gz")) + `).compress(` + lit(p("src.txt")) + `)`, want: `None`},
		{expr: `gzip.file(` + lit(p("out.gz")) + `).decompress(` + lit(p("back.txt")) + `)`, want: `None`},
		{expr: `gzip.file(` + lit(p("out9.gz")) + `).compress(source=` + lit(p("src.txt")) + `, level=9)`, want: `None`},
		{name: "derived dest", expr: `gzip.file(` + lit(p("x.txt.gz")) + `).decompress()`, want: `None`},
		{name: "suffix is case-sensitive", expr: `gzip.file(` + lit(p("X.GZ")) + `).decompress()`,
			err: `gzip.file.decompress: cannot derive output path (no .gz suffix); specify destination explicitly`},
		{expr: `gzip.file(` + lit(p("X.GZ")) + `).decompress(` + lit(p("upper.txt")) + `)`, want: `None`},
		{expr: `gzip.file(` + lit(p("out.gz")) + `).compress()`, err: `gzip.file.compress: missing required argument: source`},
		{expr: `gzip.file(` + lit(p("out.gz")) + `).compress("a", 9)`, err: `gzip.file.compress: unexpected positional argument at index 1`},
		{expr: `gzip.file(` + lit(p("out.gz")) + `).compress(` + lit(p("src.txt")) + `, level=10)`,
			err: `gzip.file.compress: invalid compression level 10 (must be -2 to 9)`},
		{expr: `gzip.file(` + lit(p("o.gz")) + `).compress(` + lit(p("missing.txt")) + `)`,
			err: `gzip.file.compress: open ` + p("missing.txt") + `: no such file or directory`},
		{name: "directory source", expr: `gzip.file(` + lit(p("o.gz")) + `).compress(` + lit(dir) + `)`,
			err: `gzip.file.compress: read ` + dir + `: is a directory`},
		{expr: `gzip.file(` + lit(p("missing.gz")) + `).decompress()`,
			err: `gzip.file.decompress: open ` + p("missing.gz") + `: no such file or directory`},
		{expr: `gzip.file(` + lit(p("bad.gz")) + `).decompress(` + lit(p("bad.txt")) + `)`, err: `gzip.file.decompress: gzip: invalid header`},
		{expr: `gzip.file(` + lit(p("short.gz")) + `).decompress()`, err: `gzip.file.decompress: unexpected EOF`},
		{expr: `gzip.file(` + lit(p("empty.gz")) + `).decompress()`, err: `gzip.file.decompress: unexpected EOF`},
		{expr: `gzip.file(` + lit(p("out.gz")) + `).decompress(` + lit(p("no/dir/x")) + `)`,
			err: `gzip.file.decompress: open ` + p("no/dir/x") + `: no such file or directory`},
		{expr: `gzip.file(` + lit(p("t.gz")) + `).try_compress(` + lit(p("src.txt")) + `)`, want: `Result(ok=True, value=None)`},
		{expr: `gzip.file(` + lit(p("t.gz")) + `).try_decompress(` + lit(p("t.txt")) + `)`, want: `Result(ok=True, value=None)`},
		{expr: `gzip.file(` + lit(p("bad.gz")) + `).try_decompress(` + lit(p("b2.txt")) + `)`, want: `Result(ok=False, error="gzip.file.decompress: gzip: invalid header")`},
		{expr: `gzip.file(` + lit(p("t.gz")) + `).try_compress()`, want: `Result(ok=False, error="gzip.file.compress: missing required argument: source")`},
	})
	for name, want := range map[string]string{"back.txt": "file content\n", "x.txt": "derived", "upper.txt": "upper", "t.txt": "file content\n"} {
		if b, err := os.ReadFile(p(name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	for _, name := range []string{"bad.txt", "b2.txt", "short", "empty", "o.gz"} {
		if _, err := os.Stat(p(name)); err == nil {
			t.Errorf("failed call left %s", name)
		}
	}
	b, _ := os.ReadFile(p("out9.gz"))
	if gunzip(t, b) != "file content\n" {
		t.Error("level 9 output")
	}

	t.Run("failed decompress keeps existing dest", func(t *testing.T) {
		writeFile(t, p("keep.txt"), "previous")
		before := snapshot(t, dir)
		_, msg, _ := eval(t, nil, "", `gzip.file(`+lit(p("bad.gz"))+`).decompress(`+lit(p("keep.txt"))+`)`)
		if msg != "gzip.file.decompress: gzip: invalid header" {
			t.Fatalf("error = %q", msg)
		}
		sameSnapshot(t, before, snapshot(t, dir))
	})
	t.Run("compress in place", func(t *testing.T) {
		writeFile(t, p("inplace"), "same file")
		if _, msg, _ := eval(t, nil, "", `gzip.file(`+lit(p("inplace"))+`).compress(`+lit(p("inplace"))+`)`); msg != "" {
			t.Fatal(msg)
		}
		b, _ := os.ReadFile(p("inplace"))
		if gunzip(t, b) != "same file" {
			t.Fatal("in-place compress")
		}
	})
	t.Run("relative paths named as given", func(t *testing.T) {
		t.Chdir(dir)
		_, msg, _ := eval(t, nil, "", `gzip.file("r.gz").compress("nope.txt")`)
		if msg != "gzip.file.compress: open nope.txt: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
		got, msg, _ := eval(t, nil, `gzip.file("r.gz").compress("src.txt")`+"\n"+`gzip.file("r.gz").decompress("r.txt")`, `str(gzip.bytes(gzip.text("").compress()).decompress()) + "ok"`)
		if msg != "" || got != "ok" {
			t.Fatalf("%q %q", got, msg)
		}
		if b, _ := os.ReadFile(p("r.txt")); string(b) != "file content\n" {
			t.Fatalf("r.txt = %q", b)
		}
	})
}

// TestLargeFiles streams multi-megabyte files both ways.
func TestLargeFiles(t *testing.T) {
	dir := tempDir(t)
	data := make([]byte, 8<<20)
	rand.Read(data[:4<<20]) // half random, half compressible
	src := writeFile(t, filepath.Join(dir, "big.bin"), string(data))
	gzPath := filepath.Join(dir, "big.bin.gz")
	rt := newRuntime(t, nil)
	if _, err := rt.Eval(t.Context(), `gzip.file(`+lit(gzPath)+`).compress(`+lit(src)+`, level=1)`); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(gzPath)
	if err != nil {
		t.Fatal(err)
	}
	if gunzip(t, b) != string(data) {
		t.Fatal("compressed file does not round-trip")
	}
	os.Remove(src)
	if _, err := rt.Eval(t.Context(), `gzip.file(`+lit(gzPath)+`).decompress()`); err != nil {
		t.Fatal(err)
	}
	if back, _ := os.ReadFile(src); !bytes.Equal(back, data) {
		t.Fatal("decompressed file differs")
	}
	// in memory, through a source
	v, err := rt.Eval(t.Context(), `len(gzip.bytes(gzip.text("kite" * 2000000).compress()).decompress())`)
	if err != nil || v.String() != "8000000" {
		t.Fatalf("in-memory round trip: %v, %v", v, err)
	}
}

func TestPermissions(t *testing.T) {
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	writeFile(t, p("src.txt"), "data")
	writeFile(t, p("in.gz"), gz(t, "zipped"))
	writeFile(t, p("existing.gz"), "old")
	before := snapshot(t, dir)
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	readOnly := &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")}
	cases := []struct {
		name string
		cfg  *libkite.Config
		expr string
		want string // prefix of the denial
	}{
		{"source compress dest", deny, `gzip.text("x").compress(` + lit(p("existing.gz")) + `)`, denied("write", "write", p("existing.gz"))},
		{"source decompress dest", deny, `gzip.bytes(` + blit(gz(t, "x")) + `).decompress(dest=` + lit(p("new.txt")) + `)`, denied("write", "write", p("new.txt"))},
		{"file compress reads first", deny, `gzip.file(` + lit(p("existing.gz")) + `).compress(` + lit(p("src.txt")) + `)`, denied("read", "read_file", p("src.txt"))},
		{"file decompress reads first", deny, `gzip.file(` + lit(p("in.gz")) + `).decompress(` + lit(p("out.txt")) + `)`, denied("read", "read_file", p("in.gz"))},
		{"file compress write denied", readOnly, `gzip.file(` + lit(p("existing.gz")) + `).compress(` + lit(p("src.txt")) + `)`, "permission denied: fs.write write(" + lit(p("existing.gz")) + ") - blocked by deny rule: fs.write"},
		{"file decompress write denied", readOnly, `gzip.file(` + lit(p("in.gz")) + `).decompress()`, "permission denied: fs.write write(" + lit(p("in")) + ") - blocked by deny rule: fs.write"},
		{"dry run still checks", &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()},
			`gzip.file(` + lit(p("in.gz")) + `).decompress(` + lit(p("out.txt")) + `)`, denied("read", "read_file", p("in.gz"))},
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
		{name: "level checked before permission", expr: `gzip.file(` + lit(p("x.gz")) + `).compress(` + lit(p("src.txt")) + `, level=99)`,
			err: `gzip.file.compress: invalid compression level 99 (must be -2 to 9)`},
		{name: "in-memory allowed", expr: `gzip.bytes(gzip.text("hi").compress()).decompress()`, want: `b"hi"`},
		{name: "try form captures denial", expr: `gzip.file(` + lit(p("in.gz")) + `).try_decompress().error.startswith("permission denied: fs.read read_file(")`, want: `True`},
		{name: "source try form captures denial", expr: `gzip.text("x").try_compress(` + lit(p("y.gz")) + `).error.startswith("permission denied: fs.write write(")`, want: `True`},
	})
	sameSnapshot(t, before, snapshot(t, dir))
}

func TestDryRun(t *testing.T) {
	dir := tempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	writeFile(t, p("src.txt"), "data")
	writeFile(t, p("in.gz"), gz(t, "zipped"))
	writeFile(t, p("existing.gz"), "old")
	before := snapshot(t, dir)
	runCases(t, &libkite.Config{DryRun: true}, []evalCase{
		{expr: `gzip.text("x").compress(` + lit(p("existing.gz")) + `)`, want: `None`},
		{expr: `gzip.text("x").try_compress(` + lit(p("new.gz")) + `)`, want: `Result(ok=True, value=None)`},
		{expr: `gzip.bytes(` + blit(gz(t, "x")) + `).decompress(` + lit(p("new.txt")) + `)`, want: `None`},
		{name: "without dest compresses normally", expr: `gzip.bytes(gzip.text("x").compress()).decompress()`, want: `b"x"`},
		{expr: `gzip.file(` + lit(p("existing.gz")) + `).compress(` + lit(p("src.txt")) + `)`, want: `None`},
		{name: "nothing read", expr: `gzip.file(` + lit(p("o.gz")) + `).compress(` + lit(p("missing.txt")) + `)`, want: `None`},
		{expr: `gzip.file(` + lit(p("in.gz")) + `).decompress()`, want: `None`},
		{expr: `gzip.file(` + lit(p("in.gz")) + `).try_decompress(` + lit(p("o.txt")) + `)`, want: `Result(ok=True, value=None)`},
		{name: "level still validated", expr: `gzip.text("x").compress(` + lit(p("new.gz")) + `, level=42)`, err: `gzip.compress: invalid compression level 42 (must be -2 to 9)`},
		{name: "suffix still required", expr: `gzip.file(` + lit(p("src.txt")) + `).decompress()`, err: `gzip.file.decompress: cannot derive output path (no .gz suffix); specify destination explicitly`},
	})
	sameSnapshot(t, before, snapshot(t, dir))
}

// TestConformance runs tests/gzip_test.star in trust mode from this
// directory, then as `kitecmd test --permissions=allow-all tests/` does:
// from the repository root under an allow-all policy.
func TestConformance(t *testing.T) {
	suite, err := filepath.Abs(filepath.Join("..", "..", "..", "tests", "gzip_test.star"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("trusted", func(t *testing.T) {
		rt := newRuntime(t, &libkite.Config{ScriptPath: suite})
		kitetest.RunConformance(t, rt, suite, 10)
	})
	t.Run("allow-all from repo root", func(t *testing.T) {
		t.Chdir(filepath.Join(filepath.Dir(suite), ".."))
		rt := newRuntime(t, &libkite.Config{ScriptPath: "tests/gzip_test.star", Permissions: libkite.AllowAllPermissions()})
		kitetest.RunConformance(t, rt, "tests/gzip_test.star", 10)
	})
}
